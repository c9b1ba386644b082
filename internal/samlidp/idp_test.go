package samlidp_test

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/samlidp"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

const (
	spEntity = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-1234567890"
	spACS    = "https://us-east-1.signin.aws/platform/saml/acs/11111111-2222-3333-4444-555555555555"
	spACS2   = "https://us-east-1.sso.signin.aws/platform/saml/acs/11111111-2222-3333-4444-555555555555"
	base     = "https://warden.example.com"
)

type fixture struct {
	st  store.Store
	idp *samlidp.IdP
	box *secret.Box
	dir string
}

func newFixture(t testing.TB, cfg samlidp.Config, opts ...samlidp.Option) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, err := secret.LoadOrCreateBox(filepath.Join(dir, "auth.key"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = base
	}
	idp := samlidp.New(st, box, cfg, opts...)
	if created, err := idp.Keys().Ensure(ctx); err != nil || !created {
		t.Fatalf("Ensure = %v, %v", created, err)
	}
	f := &fixture{st: st, idp: idp, box: box, dir: dir}
	sp := resource.New(resource.KindSAMLServiceProvider, samlidp.AppName)
	sp.Spec = &resource.SAMLServiceProviderSpec{EntityID: spEntity,
		ACS:        []resource.SAMLEndpoint{{URL: spACS, Binding: resource.SAMLBindingPOST, Index: 0, IsDefault: true}, {URL: spACS2, Binding: resource.SAMLBindingPOST, Index: 1}},
		Attributes: []resource.SAMLAttribute{{Key: "CostCenter", Trait: "cost_center"}, {Key: "Teams", Trait: "teams"}}}
	f.create(t, sp)
	u := resource.New(resource.KindUser, "alice@example.com")
	u.Spec = &resource.UserSpec{DisplayName: "Alice", Traits: map[string][]string{"cost_center": {"cc-42"}, "teams": {"a", "b"}}}
	f.create(t, u)
	return f
}

func (f *fixture) create(t testing.TB, o *resource.Object) {
	t.Helper()
	if err := resource.Validate(o); err != nil {
		t.Fatal(err)
	}
	if err := f.st.Create(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

// authnRequest is an AuthnRequest as Identity Center sends it.
func authnRequest(id, issuer, acs string, at time.Time) string {
	return fmt.Sprintf(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="%s" Version="2.0" IssueInstant="%s" Destination="%s/saml/sso" AssertionConsumerServiceURL="%s" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>%s</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="false"/></samlp:AuthnRequest>`,
		id, at.UTC().Format(time.RFC3339), base, acs, issuer)
}

func deflate(s string) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write([]byte(s))
	w.Close()
	return buf.Bytes()
}

func redirectRequest(xmlDoc, relay string) *http.Request {
	q := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(deflate(xmlDoc))}}
	if relay != "" {
		q.Set("RelayState", relay)
	}
	return httptest.NewRequest("GET", "/saml/sso?"+q.Encode(), nil)
}

func postRequest(xmlDoc, relay string) *http.Request {
	q := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString([]byte(xmlDoc))}, "RelayState": {relay}}
	r := httptest.NewRequest("POST", "/saml/sso", strings.NewReader(q.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// parsed is the Response as a service provider reads it.
type parsed struct {
	XMLName      xml.Name
	ID           string `xml:"ID,attr"`
	InResponseTo string `xml:"InResponseTo,attr"`
	Destination  string `xml:"Destination,attr"`
	Issuer       string `xml:"Issuer"`
	Signature    []struct {
		SignedInfo struct {
			C14N struct {
				Algorithm string `xml:"Algorithm,attr"`
			} `xml:"CanonicalizationMethod"`
			Method struct {
				Algorithm string `xml:"Algorithm,attr"`
			} `xml:"SignatureMethod"`
		} `xml:"SignedInfo"`
	} `xml:"http://www.w3.org/2000/09/xmldsig# Signature"`
	Status struct {
		Code struct {
			Value string `xml:"Value,attr"`
		} `xml:"StatusCode"`
	} `xml:"Status"`
	EncryptedAssertion []struct{} `xml:"EncryptedAssertion"`
	Assertion          []struct {
		ID        string `xml:"ID,attr"`
		Issuer    string `xml:"Issuer"`
		Signature []struct {
			SignedInfo struct {
				C14N struct {
					Algorithm string `xml:"Algorithm,attr"`
				} `xml:"CanonicalizationMethod"`
				Method struct {
					Algorithm string `xml:"Algorithm,attr"`
				} `xml:"SignatureMethod"`
			} `xml:"SignedInfo"`
		} `xml:"http://www.w3.org/2000/09/xmldsig# Signature"`
		Subject struct {
			NameID struct {
				Format string `xml:"Format,attr"`
				Value  string `xml:",chardata"`
			} `xml:"NameID"`
			Confirmation []struct {
				Method string `xml:"Method,attr"`
				Data   struct {
					InResponseTo string    `xml:"InResponseTo,attr"`
					NotOnOrAfter time.Time `xml:"NotOnOrAfter,attr"`
					Recipient    string    `xml:"Recipient,attr"`
				} `xml:"SubjectConfirmationData"`
			} `xml:"SubjectConfirmation"`
		} `xml:"Subject"`
		Conditions struct {
			NotBefore    time.Time `xml:"NotBefore,attr"`
			NotOnOrAfter time.Time `xml:"NotOnOrAfter,attr"`
			Audience     []string  `xml:"AudienceRestriction>Audience"`
		} `xml:"Conditions"`
		Authn struct {
			AuthnInstant        time.Time `xml:"AuthnInstant,attr"`
			SessionNotOnOrAfter time.Time `xml:"SessionNotOnOrAfter,attr"`
		} `xml:"AuthnStatement"`
		Attributes []struct {
			Name   string   `xml:"Name,attr"`
			Values []string `xml:"AttributeValue"`
		} `xml:"AttributeStatement>Attribute"`
	} `xml:"Assertion"`
}

func TestMetadata(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, samlidp.Config{})
	md, err := f.idp.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkMetadata(t, md, 1)
	// A rotation publishes the next certificate beside the active one; finish drops it from the
	// metadata once it is old.
	actor := manage.Actor{User: "admin"}
	if _, err := f.idp.Keys().Rotate(ctx, actor); err != nil {
		t.Fatal(err)
	}
	md2, _ := f.idp.Metadata(ctx)
	checkMetadata(t, md2, 2)
	if _, err := f.idp.Keys().Rotate(ctx, actor); !errors.Is(err, samlidp.ErrRotation) {
		t.Errorf("a second rotate = %v, want ErrRotation", err)
	}
	if _, err := f.idp.Keys().Cleanup(ctx, actor); !errors.Is(err, samlidp.ErrRotation) {
		t.Errorf("cleanup with no old key = %v, want ErrRotation", err)
	}
	if _, err := f.idp.Keys().Finish(ctx, actor); err != nil {
		t.Fatal(err)
	}
	md3, _ := f.idp.Metadata(ctx)
	checkMetadata(t, md3, 1)
	if _, err := f.idp.Keys().Cleanup(ctx, actor); err != nil {
		t.Fatal(err)
	}
	if _, err := f.idp.Keys().Finish(ctx, actor); !errors.Is(err, samlidp.ErrRotation) {
		t.Errorf("finish with no next key = %v, want ErrRotation", err)
	}
	entries, err := audit.List(ctx, f.st, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); !strings.Contains(got, "saml.key.create") || !strings.Contains(got, "saml.key.rotate") ||
		!strings.Contains(got, "saml.key.finish") || !strings.Contains(got, "saml.key.cleanup") {
		t.Errorf("audit actions %s: want create, rotate, finish and cleanup", got)
	}
}

func checkMetadata(t *testing.T, md []byte, certs int) {
	t.Helper()
	s := string(md)
	if len(s) >= 75000 {
		t.Errorf("metadata is %d characters; Identity Center takes under 75,000", len(s))
	}
	var ed struct {
		EntityID string `xml:"entityID,attr"`
		IDP      []struct {
			Keys []struct {
				Use  string   `xml:"use,attr"`
				Cert []string `xml:"KeyInfo>X509Data>X509Certificate"`
			} `xml:"KeyDescriptor"`
			NameIDFormat []string `xml:"NameIDFormat"`
			SSO          []struct {
				Binding  string `xml:"Binding,attr"`
				Location string `xml:"Location,attr"`
			} `xml:"SingleSignOnService"`
		} `xml:"IDPSSODescriptor"`
	}
	if err := xml.Unmarshal(md, &ed); err != nil {
		t.Fatal(err)
	}
	if ed.EntityID != base+"/saml/metadata" {
		t.Errorf("entityID %q", ed.EntityID)
	}
	if len(ed.IDP) != 1 {
		t.Fatalf("%d IDPSSODescriptors", len(ed.IDP))
	}
	d := ed.IDP[0]
	if len(d.Keys) != certs {
		t.Errorf("%d KeyDescriptors, want %d", len(d.Keys), certs)
	}
	for _, k := range d.Keys {
		if k.Use != "signing" || len(k.Cert) != 1 {
			t.Errorf("KeyDescriptor use=%q with %d certificates: want signing, one", k.Use, len(k.Cert))
		}
	}
	if strings.Contains(s, "encryption") || strings.Contains(s, "EncryptionMethod") {
		t.Error("the metadata has an encryption KeyDescriptor")
	}
	if strings.Contains(s, "validUntil") {
		t.Error("the metadata has a validUntil")
	}
	if len(d.NameIDFormat) != 1 || d.NameIDFormat[0] != resource.SAMLNameIDEmail {
		t.Errorf("NameIDFormat %v", d.NameIDFormat)
	}
	bindings := map[string]string{}
	for _, e := range d.SSO {
		bindings[e.Binding] = e.Location
	}
	if bindings["urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"] != base+"/saml/sso" || bindings[resource.SAMLBindingPOST] != base+"/saml/sso" || len(bindings) != 2 {
		t.Errorf("SingleSignOnService %v", bindings)
	}
}

func TestKeysSealed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, samlidp.Config{})
	o, err := f.st.Get(ctx, resource.KindSAMLKey, samlidp.KeySetName)
	if err != nil {
		t.Fatal(err)
	}
	k := o.Spec.(*resource.SAMLKeySpec).Keys[0]
	if strings.Contains(k.SealedKey, "PRIVATE") || !strings.HasPrefix(k.SealedKey, "v1.") {
		t.Errorf("the private key is not sealed: %.40s", k.SealedKey)
	}
	// Another auth key (another installation, or the database alone) opens nothing.
	other, _ := secret.LoadOrCreateBox(filepath.Join(t.TempDir(), "other.key"))
	if _, err := samlidp.NewKeys(f.st, other, nil).Current(ctx); err == nil {
		t.Error("the key set opened with another auth key")
	}
	// A second replica's Ensure makes nothing new.
	if created, err := samlidp.NewKeys(f.st, f.box, nil).Ensure(ctx); err != nil || created {
		t.Errorf("second Ensure = %v, %v", created, err)
	}
}

func TestIssue(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	f := newFixture(t, samlidp.Config{SessionDuration: 2 * time.Hour})
	for _, tc := range []struct {
		name string
		r    *http.Request
	}{
		{"redirect", redirectRequest(authnRequest("_req-1", spEntity, spACS2, now), "rs-1")},
		{"post", postRequest(authnRequest("_req-1", spEntity, spACS2, now), "rs-1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := f.idp.ReadRequest(tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if req.SP != samlidp.AppName || req.ACS != spACS2 || req.ID != "_req-1" || req.RelayState != "rs-1" {
				t.Fatalf("request %+v", req)
			}
			authn := now.Add(-time.Minute)
			resp, err := f.idp.Issue(ctx, req, "alice@example.com", authn, "192.0.2.7:4444")
			if err != nil {
				t.Fatal(err)
			}
			checkResponse(t, resp, "_req-1", spACS2, authn, 2*time.Hour)
		})
	}
}

func checkResponse(t *testing.T, resp *samlidp.Response, inResponseTo, acs string, authn time.Time, session time.Duration) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(resp.SAMLResponse)
	if err != nil {
		t.Fatal(err)
	}
	var p parsed
	if err := xml.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	const rsa256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	const excC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
	if p.XMLName.Local != "Response" || p.Destination != acs || p.InResponseTo != inResponseTo || p.Issuer != base+"/saml/metadata" {
		t.Errorf("Response: Destination %q InResponseTo %q Issuer %q", p.Destination, p.InResponseTo, p.Issuer)
	}
	if p.Status.Code.Value != "urn:oasis:names:tc:SAML:2.0:status:Success" {
		t.Errorf("status %q", p.Status.Code.Value)
	}
	if len(p.Signature) != 1 || p.Signature[0].SignedInfo.Method.Algorithm != rsa256 || p.Signature[0].SignedInfo.C14N.Algorithm != excC14N {
		t.Errorf("the Response's signature: %+v", p.Signature)
	}
	if len(p.EncryptedAssertion) != 0 || len(p.Assertion) != 1 {
		t.Fatalf("%d assertions, %d encrypted: want exactly one, in the clear", len(p.Assertion), len(p.EncryptedAssertion))
	}
	a := p.Assertion[0]
	if a.ID != resp.AssertionID || a.Issuer != base+"/saml/metadata" {
		t.Errorf("assertion id %q issuer %q", a.ID, a.Issuer)
	}
	if len(a.Signature) != 1 || a.Signature[0].SignedInfo.Method.Algorithm != rsa256 || a.Signature[0].SignedInfo.C14N.Algorithm != excC14N {
		t.Errorf("the Assertion's signature: %+v", a.Signature)
	}
	if a.Subject.NameID.Format != resource.SAMLNameIDEmail || a.Subject.NameID.Value != "alice@example.com" {
		t.Errorf("NameID %+v", a.Subject.NameID)
	}
	if len(a.Subject.Confirmation) != 1 {
		t.Fatalf("%d subject confirmations", len(a.Subject.Confirmation))
	}
	c := a.Subject.Confirmation[0]
	if c.Method != "urn:oasis:names:tc:SAML:2.0:cm:bearer" || c.Data.Recipient != acs || c.Data.InResponseTo != inResponseTo {
		t.Errorf("subject confirmation %+v", c)
	}
	if d := c.Data.NotOnOrAfter.Sub(now); d > 5*time.Minute+time.Second || d < 4*time.Minute {
		t.Errorf("bearer NotOnOrAfter is %s from now: want at most 5 minutes", d)
	}
	if len(a.Conditions.Audience) != 1 || a.Conditions.Audience[0] != spEntity {
		t.Errorf("Audience %v", a.Conditions.Audience)
	}
	if a.Conditions.NotOnOrAfter.Sub(now) > 5*time.Minute+time.Second || a.Conditions.NotBefore.After(now) {
		t.Errorf("Conditions %v to %v", a.Conditions.NotBefore, a.Conditions.NotOnOrAfter)
	}
	if !a.Authn.AuthnInstant.Equal(authn) {
		t.Errorf("AuthnInstant %v, want %v", a.Authn.AuthnInstant, authn)
	}
	if d := a.Authn.SessionNotOnOrAfter.Sub(now); d > session+time.Second || d < session-time.Minute {
		t.Errorf("SessionNotOnOrAfter is %s from now, want %s", d, session)
	}
	// The one single-valued trait mapped; the multi-valued one left out.
	if len(a.Attributes) != 1 || a.Attributes[0].Name != "https://aws.amazon.com/SAML/Attributes/AccessControl:CostCenter" ||
		len(a.Attributes[0].Values) != 1 || a.Attributes[0].Values[0] != "cc-42" {
		t.Errorf("attributes %+v", a.Attributes)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	f := newFixture(t, samlidp.Config{RequireProvisioned: true})
	good := authnRequest("_r", spEntity, spACS, now)
	for name, r := range map[string]*http.Request{
		"unknown issuer":       redirectRequest(authnRequest("_r", "https://evil.example/sp", spACS, now), ""),
		"foreign ACS":          redirectRequest(authnRequest("_r", spEntity, "https://evil.example/acs", now), ""),
		"expired":              redirectRequest(authnRequest("_r", spEntity, spACS, now.Add(-time.Hour)), ""),
		"no ID":                redirectRequest(authnRequest("", spEntity, spACS, now), ""),
		"comment in Issuer":    redirectRequest(strings.Replace(good, "<saml:Issuer>", "<saml:Issuer><!-- x -->", 1), ""),
		"entity expansion":     postRequest(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>`+strings.Replace(good, "<saml:Issuer>", "<saml:Issuer>&lol2;", 1), ""),
		"external entity":      postRequest(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>`+strings.Replace(good, "<saml:Issuer>", "<saml:Issuer>&x;", 1), ""),
		"deflate bomb":         bomb(),
		"oversize post":        postRequest(good+strings.Repeat(" ", samlidp.MaxPostBody), ""),
		"oversize query":       httptest.NewRequest("GET", "/saml/sso?SAMLRequest="+strings.Repeat("A", samlidp.MaxRedirectQuery+4), nil),
		"two SAMLRequests":     httptest.NewRequest("GET", "/saml/sso?SAMLRequest=a&SAMLRequest=b", nil),
		"not base64":           httptest.NewRequest("GET", "/saml/sso?SAMLRequest=%25%25", nil),
		"relay state too long": redirectRequest(good, strings.Repeat("x", samlidp.MaxRelayState+1)),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.idp.ReadRequest(r)
			var br *samlidp.BadRequest
			if !errors.As(err, &br) {
				t.Fatalf("ReadRequest = %v, want a BadRequest", err)
			}
		})
	}

	req, err := f.idp.ReadRequest(redirectRequest(good, ""))
	if err != nil {
		t.Fatal(err)
	}
	check := func(user, reason string) {
		t.Helper()
		_, err := f.idp.Issue(ctx, req, user, now, "")
		var ref *samlidp.Refusal
		if !errors.As(err, &ref) || ref.Reason != reason {
			t.Errorf("Issue(%s) = %v, want refused: %s", user, err, reason)
		}
	}
	check("nobody@example.com", "deleted")
	check("alice@example.com", "not provisioned")
	rec := resource.New(resource.KindSyncRecord, "user:alice@example.com")
	rec.Spec = &resource.SyncRecordSpec{Type: resource.RecordUser, IDCID: "u-1", Name: "alice@example.com"}
	f.create(t, rec)
	if _, err := f.idp.Issue(ctx, req, "alice@example.com", now, ""); err != nil {
		t.Fatalf("provisioned: %v", err)
	}
	u, _ := f.st.Get(ctx, resource.KindUser, "alice@example.com")
	u.Spec.(*resource.UserSpec).Disabled = true
	if err := f.st.Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	check("alice@example.com", "disabled")
}

// bomb is an HTTP-Redirect request whose SAMLRequest inflates to 100 MB.
func bomb() *http.Request {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	chunk := make([]byte, 1<<20)
	for range 100 {
		w.Write(chunk)
	}
	w.Close()
	q := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(buf.Bytes())}}
	return httptest.NewRequest("GET", "/saml/sso?"+q.Encode(), nil)
}

func TestUnsolicited(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, samlidp.Config{})
	req, err := f.idp.Unsolicited(ctx, samlidp.AppName, "https://d-1234567890.awsapps.com/start")
	if err != nil {
		t.Fatal(err)
	}
	if req.ACS != spACS || req.ID != "" {
		t.Fatalf("request %+v: want the default ACS, no ID", req)
	}
	authn := time.Now().UTC().Truncate(time.Second)
	resp, err := f.idp.Issue(ctx, req, "alice@example.com", authn, "")
	if err != nil {
		t.Fatal(err)
	}
	checkResponse(t, resp, "", spACS, authn, samlidp.DefaultSessionDuration)
	if _, err := f.idp.Unsolicited(ctx, "nope", ""); !errors.Is(err, samlidp.ErrUnknownApp) {
		t.Errorf("unknown app: %v", err)
	}
}

// BenchmarkIssue: an AuthnRequest read and checked, and its Response made and signed twice
// (Assertion, Response), audited: what /saml/sso does for a signed-in person, without HTTP.
func BenchmarkIssue(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, samlidp.Config{})
	doc := authnRequest("_bench", spEntity, spACS, time.Now())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req, err := f.idp.ReadRequest(redirectRequest(doc, ""))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.idp.Issue(ctx, req, "alice@example.com", time.Now(), ""); err != nil {
			b.Fatal(err)
		}
	}
}

// The SP metadata Identity Center gives: its entity id and every HTTP-POST ACS URL kept; fetched
// from a URL within bounds, over https (http on loopback only).
func TestSPMetadata(t *testing.T) {
	md := `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + spEntity + `"><md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="encryption"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>MIIB</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + spACS + `" index="0" isDefault="true"/><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://x.example/a" index="2"/><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + spACS2 + `" index="1"/></md:SPSSODescriptor></md:EntityDescriptor>`
	spec, err := samlidp.ParseSPMetadata([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	if spec.EntityID != spEntity || len(spec.ACS) != 2 || spec.ACS[0].URL != spACS || spec.ACS[1].URL != spACS2 || !spec.ACS[0].IsDefault {
		t.Errorf("spec %+v", spec)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Write(bytes.Repeat([]byte("x"), samlidp.MaxSPMetadata+1))
			return
		}
		w.Write([]byte(md))
	}))
	defer srv.Close()
	ctx := context.Background()
	if b, err := samlidp.FetchSPMetadata(ctx, srv.URL+"/md"); err != nil || string(b) != md {
		t.Errorf("fetch: %v", err)
	}
	if _, err := samlidp.FetchSPMetadata(ctx, srv.URL+"/big"); err == nil {
		t.Error("an oversize document was fetched")
	}
	for _, u := range []string{"http://example.com/md", "file:///etc/passwd", "javascript:alert(1)"} {
		if _, err := samlidp.FetchSPMetadata(ctx, u); err == nil {
			t.Errorf("%s fetched", u)
		}
	}
}

// BenchmarkIssueParallel: as BenchmarkIssue, from as many goroutines as GOMAXPROCS: the signed
// responses a second this machine makes (each audited: SQLite serializes those writes).
func BenchmarkIssueParallel(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, samlidp.Config{})
	doc := authnRequest("_bench", spEntity, spACS, time.Now())
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := f.idp.ReadRequest(redirectRequest(doc, ""))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.idp.Issue(ctx, req, "alice@example.com", time.Now(), ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}
