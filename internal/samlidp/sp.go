package samlidp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/wardenhq/warden/internal/resource"
)

// MaxSPMetadata bounds a service provider's metadata document (Identity Center's is about 3 KB).
const MaxSPMetadata = 256 << 10

// ParseSPMetadata reads a service provider's metadata (Identity Center's "Download metadata file")
// into the spec of a saml_service_provider: its entity id and every HTTP-POST assertion consumer
// service. Keys, encryption settings and anything else in it are not kept: warden never encrypts,
// and attribute mapping is warden's own (the spec's attributes). The result is validated.
func ParseSPMetadata(doc []byte) (*resource.SAMLServiceProviderSpec, error) {
	if len(doc) > MaxSPMetadata {
		return nil, fmt.Errorf("the metadata is %d bytes; at most %d", len(doc), MaxSPMetadata)
	}
	if bytes.Contains(doc, []byte("<!DOCTYPE")) || bytes.Contains(doc, []byte("<!ENTITY")) {
		return nil, errors.New("the metadata holds a document type declaration: refused")
	}
	ed, err := samlsp.ParseMetadata(doc)
	if err != nil {
		return nil, fmt.Errorf("the metadata does not parse as SAML metadata: %w", err)
	}
	if len(ed.SPSSODescriptors) == 0 {
		return nil, errors.New("the metadata describes no service provider (no SPSSODescriptor): is it the identity provider's?")
	}
	spec := &resource.SAMLServiceProviderSpec{EntityID: ed.EntityID}
	var skipped []string
	for _, d := range ed.SPSSODescriptors {
		for _, e := range d.AssertionConsumerServices {
			if e.Binding != saml.HTTPPostBinding {
				skipped = append(skipped, e.Binding)
				continue
			}
			spec.ACS = append(spec.ACS, resource.SAMLEndpoint{URL: e.Location, Binding: e.Binding, Index: e.Index, IsDefault: e.IsDefault != nil && *e.IsDefault})
		}
	}
	if len(spec.ACS) == 0 {
		return nil, fmt.Errorf("the metadata has no HTTP-POST assertion consumer service (bindings found: %v)", skipped)
	}
	o := resource.New(resource.KindSAMLServiceProvider, AppName)
	o.Spec = spec
	if err := resource.Validate(o); err != nil {
		return nil, err
	}
	return spec, nil
}

// FetchSPMetadata fetches metadata from an https URL (http on a loopback host, for the simulator),
// at most MaxSPMetadata bytes, within 15 seconds, following no redirect to anything but https.
func FetchSPMetadata(ctx context.Context, rawURL string) ([]byte, error) {
	if err := resource.CheckSAMLURL(rawURL); err != nil {
		return nil, fmt.Errorf("--metadata-url: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	client := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		return resource.CheckSAMLURL(req.URL.String())
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", rawURL, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxSPMetadata+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxSPMetadata {
		return nil, fmt.Errorf("GET %s: more than %d bytes", rawURL, MaxSPMetadata)
	}
	return b, nil
}
