package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testIdPMetadataXML is IdP metadata with a fresh self-signed certificate and the SSO URL given.
func testIdPMetadataXML(t *testing.T, sso string) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test idp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(fmt.Sprintf(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.test/saml/metadata">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s"/>
</md:IDPSSODescriptor></md:EntityDescriptor>`, base64.StdEncoding.EncodeToString(der), sso))
}

func TestSimIdPMetadata(t *testing.T) {
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	check := func(t *testing.T, src string) {
		endpoint, _, out := startSim(t, "--idp-metadata", src)
		for _, want := range []string{"identity provider:  https://idp.example.test/saml/metadata", "access portal:      " + endpoint + "/start",
			"SAML ACS URL:       " + endpoint + "/platform/saml/acs/", "SAML issuer URL:    " + endpoint + "/platform/saml/d-"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("banner lacks %q:\n%s", want, out.String())
			}
		}
		res, err := noRedirect.Get(endpoint + "/start")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "https://idp.example.test/sso?SAMLRequest=") {
			t.Errorf("start URL: %d %s", res.StatusCode, loc)
		}
	}
	md := testIdPMetadataXML(t, "https://idp.example.test/sso")
	t.Run("file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "idp.xml")
		os.WriteFile(f, md, 0o600)
		check(t, f)
	})
	t.Run("url", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(md) }))
		defer srv.Close()
		check(t, srv.URL+"/metadata")
	})
	t.Run("refused", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "idp.xml")
		os.WriteFile(f, append([]byte(`<!DOCTYPE x [<!ENTITY e "x">]>`), md...), 0o600)
		r := run(t, cleanEnv(t), "", "sim", "--listen", "127.0.0.1:0", "--idp-metadata", f)
		if r.code == 0 || !strings.Contains(r.err, "--idp-metadata") || !strings.Contains(r.err, "DOCTYPE") {
			t.Errorf("metadata with a DOCTYPE: exit %d %s", r.code, r.err)
		}
		r = run(t, cleanEnv(t), "", "sim", "--listen", "127.0.0.1:0", "--idp-metadata", filepath.Join(t.TempDir(), "missing.xml"))
		if r.code == 0 || !strings.Contains(r.err, "--idp-metadata") {
			t.Errorf("missing file: exit %d %s", r.code, r.err)
		}
	})
}
