package resource

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// The SAML identity provider's kinds (package samlidp).
const (
	// KindSAMLServiceProvider is public: a service provider warden signs people in to (Identity
	// Center), as its metadata describes it, with the attributes warden sends it. Administrators
	// read and write it; `warden saml sp set` makes it from the provider's metadata.
	KindSAMLServiceProvider Kind = "saml_service_provider"
	// KindSAMLKey is internal: the identity provider's signing keys (one object, "signing", holding
	// the active, next and old keys), each private key sealed with the auth key (secret.Box).
	KindSAMLKey Kind = "saml_key"
	// KindSAMLRequest is internal: an AuthnRequest waiting while its person signs in, kept server
	// side for ten minutes and used once (package server).
	KindSAMLRequest Kind = "saml_request"
)

func init() {
	kinds[KindSAMLServiceProvider] = kindInfo{func() Spec { return new(SAMLServiceProviderSpec) }, true}
	kinds[KindSAMLKey] = kindInfo{func() Spec { return new(SAMLKeySpec) }, false}
	kinds[KindSAMLRequest] = kindInfo{func() Spec { return new(SAMLRequestSpec) }, false}
}

// SAML bindings and the NameID format warden issues.
const (
	SAMLBindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	SAMLNameIDEmail     = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	SAMLAccessControlNS = "https://aws.amazon.com/SAML/Attributes/AccessControl:"
)

// Bounds of a service provider.
const (
	MaxSAMLACS        = 32
	MaxSAMLURL        = 1024
	MaxSAMLAttributes = 50 // Identity Center's limit on AccessControl attributes
)

// SAMLServiceProviderSpec is one service provider. metadata.name is the app it is ("aws-identity-center").
type SAMLServiceProviderSpec struct {
	// EntityID is the provider's entity id: the Audience of every assertion made for it.
	EntityID string `json:"entity_id"`
	// ACS are its assertion consumer services (HTTP-POST only), in its metadata's order.
	ACS []SAMLEndpoint `json:"acs"`
	// Attributes are the AccessControl attributes sent (ABAC), each from a user trait. They are
	// warden's, kept beside the provider's metadata and never written into any metadata.
	Attributes []SAMLAttribute `json:"attributes,omitempty"`
	// StartURL is the access portal's start URL, where "Log in" on the app sends people (through
	// IdP-initiated sign-on, as its RelayState). Empty: config saml.start_url.
	StartURL string `json:"start_url,omitempty"`
}

// SAMLEndpoint is an assertion consumer service.
type SAMLEndpoint struct {
	URL       string `json:"url"`
	Binding   string `json:"binding"`
	Index     int    `json:"index,omitempty"`
	IsDefault bool   `json:"is_default,omitempty"`
}

// SAMLAttribute maps a user trait to the attribute https://aws.amazon.com/SAML/Attributes/AccessControl:<Key>.
type SAMLAttribute struct {
	Key   string `json:"key"`
	Trait string `json:"trait"`
}

// Name is the attribute's SAML name.
func (a SAMLAttribute) Name() string { return SAMLAccessControlNS + a.Key }

// tagKeyRE is an AWS tag key: what an AccessControl attribute's key may be.
var tagKeyRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)

func (s *SAMLServiceProviderSpec) index(*Metadata) []IndexEntry { return nil }

func (s *SAMLServiceProviderSpec) validate(v *validator, m *Metadata) {
	checkName(v, "metadata.name", m.Name)
	if s.EntityID == "" {
		v.add("spec.entity_id", "required: the service provider's entity id (its metadata's entityID)")
	} else if err := CheckSAMLEntityID(s.EntityID); err != nil {
		v.add("spec.entity_id", "%v", err)
	}
	if len(s.ACS) == 0 {
		v.add("spec.acs", "required: at least one assertion consumer service")
	}
	if len(s.ACS) > MaxSAMLACS {
		v.add("spec.acs", "%d assertion consumer services; at most %d", len(s.ACS), MaxSAMLACS)
	}
	seen := map[string]bool{}
	for i, e := range s.ACS {
		f := fmt.Sprintf("spec.acs[%d]", i)
		if err := CheckSAMLURL(e.URL); err != nil {
			v.add(f+".url", "%v", err)
		}
		if seen[e.URL] {
			v.add(f+".url", "%q is listed twice", e.URL)
		}
		seen[e.URL] = true
		if e.Binding != SAMLBindingPOST {
			v.add(f+".binding", "%q is not HTTP-POST (%s), the only binding warden sends responses with", e.Binding, SAMLBindingPOST)
		}
		if e.Index < 0 || e.Index > 65535 {
			v.add(f+".index", "%d is not from 0 to 65535", e.Index)
		}
	}
	if len(s.Attributes) > MaxSAMLAttributes {
		v.add("spec.attributes", "%d attributes; Identity Center takes at most %d", len(s.Attributes), MaxSAMLAttributes)
	}
	keys := map[string]bool{}
	for i, a := range s.Attributes {
		f := fmt.Sprintf("spec.attributes[%d]", i)
		if !tagKeyRE.MatchString(a.Key) {
			v.add(f+".key", "%q is not a tag key: 1-128 letters, digits, spaces or _.:/=+-@", a.Key)
		}
		if keys[a.Key] {
			v.add(f+".key", "%q is listed twice (Identity Center refuses duplicate attributes)", a.Key)
		}
		keys[a.Key] = true
		if !ValidTraitName(a.Trait) {
			v.add(f+".trait", "%q is not a trait name", a.Trait)
		}
	}
	if s.StartURL != "" {
		if err := CheckSAMLURL(s.StartURL); err != nil {
			v.add("spec.start_url", "%v", err)
		}
	}
}

// CheckSAMLEntityID checks an entity id: an absolute URI (or URN) of at most 1024 bytes, printable,
// without markup or white space.
func CheckSAMLEntityID(id string) error {
	if len(id) > MaxSAMLURL {
		return fmt.Errorf("is %d bytes long; at most %d", len(id), MaxSAMLURL)
	}
	if !printableURI(id) {
		return fmt.Errorf("%q holds white space, control characters or markup", id)
	}
	u, err := url.Parse(id)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("%q is not an absolute URI", id)
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "http", "urn":
	default:
		return fmt.Errorf("%q: the scheme %q is not https, http or urn", id, u.Scheme)
	}
	return nil
}

// CheckSAMLURL checks a URL warden sends people's browsers to with an assertion: https, or http on
// a loopback host only (the simulator); never javascript:, data: or any other scheme; no user
// information, fragment, white space, control characters or markup; at most 1024 bytes.
func CheckSAMLURL(raw string) error {
	if len(raw) > MaxSAMLURL {
		return fmt.Errorf("is %d bytes long; at most %d", len(raw), MaxSAMLURL)
	}
	if !printableURI(raw) {
		return fmt.Errorf("%q holds white space, control characters or markup", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
	case u.Scheme == "http":
		return fmt.Errorf("%q is plain http: only https, or http on a loopback host (127.0.0.1, ::1, localhost)", raw)
	default:
		return fmt.Errorf("%q: the scheme %q is not https", raw, u.Scheme)
	}
	if u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q has no host", raw)
	}
	if u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q may have no user information nor fragment", raw)
	}
	return nil
}

// IsLoopbackHost: localhost, or a loopback IP address.
func IsLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func printableURI(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if c <= 0x20 || c == 0x7f || c > 0x7e || strings.ContainsRune(`<>"'\`+"`{}|^\\", c) {
			return false
		}
	}
	return true
}

// SAMLKeySpec is the identity provider's signing key set. Its one object is named "signing".
type SAMLKeySpec struct {
	Keys []SAMLKey `json:"keys"`
}

// Signing key states: the active key signs; the next is published beside it (warden saml rotate)
// until it becomes active (--finish), when the active one becomes old, kept until --cleanup.
const (
	SAMLKeyActive = "active"
	SAMLKeyNext   = "next"
	SAMLKeyOld    = "old"
)

// SAMLKey is one signing key: its certificate (PEM) and its private key (PKCS #8), sealed with the
// auth key, bound to the key's id.
type SAMLKey struct {
	ID          string    `json:"id"`
	State       string    `json:"state"`
	Certificate string    `json:"certificate"`
	SealedKey   string    `json:"sealed_key"`
	Created     time.Time `json:"created"`
	NotAfter    time.Time `json:"not_after"`
}

func (s *SAMLKeySpec) index(*Metadata) []IndexEntry { return nil }

func (s *SAMLKeySpec) validate(v *validator, m *Metadata) {
	if m.Name == "" {
		v.add("metadata.name", "required")
	}
	n := map[string]int{}
	for i, k := range s.Keys {
		f := fmt.Sprintf("spec.keys[%d]", i)
		if k.ID == "" || len(k.ID) > 64 {
			v.add(f+".id", "required, at most 64 bytes")
		}
		checkOneOf(v, f+".state", k.State, []string{SAMLKeyActive, SAMLKeyNext, SAMLKeyOld})
		n[k.State]++
		if !strings.HasPrefix(k.Certificate, "-----BEGIN CERTIFICATE-----") {
			v.add(f+".certificate", "required: a PEM certificate")
		}
		if k.SealedKey == "" {
			v.add(f+".sealed_key", "required")
		}
	}
	if len(s.Keys) > 0 && n[SAMLKeyActive] != 1 {
		v.add("spec.keys", "%d active keys; exactly one signs", n[SAMLKeyActive])
	}
	if n[SAMLKeyNext] > 1 || n[SAMLKeyOld] > 1 {
		v.add("spec.keys", "at most one next key and one old key")
	}
}

// SAMLRequestSpec is an AuthnRequest waiting for its person to sign in. metadata.name is its id
// (the only thing the sign-in's return path carries).
type SAMLRequestSpec struct {
	// ServiceProvider names the saml_service_provider the request came from.
	ServiceProvider string `json:"service_provider"`
	// Request is the AuthnRequest's XML, base64 (absent for an IdP-initiated sign-on).
	Request    string `json:"request,omitempty"`
	RelayState string `json:"relay_state,omitempty"`
	// Browser is the SHA-256 (hex) of the pre-session cookie of the browser that sent it: another
	// browser cannot resume it.
	Browser string    `json:"browser"`
	Expires time.Time `json:"expires"`
}

// MaxSAMLRequest bounds a kept AuthnRequest (base64), MaxSAMLRelayState its RelayState.
const (
	MaxSAMLRequest    = 128 << 10
	MaxSAMLRelayState = 4096
)

func (s *SAMLRequestSpec) index(*Metadata) []IndexEntry { return nil }

func (s *SAMLRequestSpec) validate(v *validator, m *Metadata) {
	if m.Name == "" {
		v.add("metadata.name", "required")
	}
	checkName(v, "spec.service_provider", s.ServiceProvider)
	if len(s.Request) > MaxSAMLRequest {
		v.add("spec.request", "is %d bytes; at most %d", len(s.Request), MaxSAMLRequest)
	}
	if len(s.RelayState) > MaxSAMLRelayState {
		v.add("spec.relay_state", "is %d bytes; at most %d", len(s.RelayState), MaxSAMLRelayState)
	}
	if s.Browser == "" {
		v.add("spec.browser", "required")
	}
	if s.Expires.IsZero() {
		v.add("spec.expires", "required")
	}
}
