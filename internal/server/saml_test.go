package server_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/samlidp"
	"github.com/wardenhq/warden/internal/server"
)

const (
	idcEntity = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-1234567890"
	idcACS    = "https://us-east-1.signin.aws/platform/saml/acs/0a1b2c3d-0000-1111-2222-333344445555"
	idcACS2   = "https://us-east-1.sso.signin.aws/platform/saml/acs/0a1b2c3d-0000-1111-2222-333344445555"
	startURL  = "https://d-1234567890.awsapps.com/start"
)

// idcMetadata is SP metadata shaped like Identity Center's "Download metadata file".
var idcMetadata = `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + idcEntity + `">
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + idcACS + `" index="0" isDefault="true"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + idcACS2 + `" index="1"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>`

func newSAMLEnv(t *testing.T) *signinEnv {
	t.Helper()
	e := newSigninEnv(t, "required")
	box, err := secret.LoadOrCreateBox(filepath.Join(t.TempDir(), "auth.key"))
	if err != nil {
		t.Fatal(err)
	}
	idp := samlidp.New(e.store, box, samlidp.Config{BaseURL: e.url, StartURL: startURL})
	if _, err := idp.Keys().Ensure(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.SetSAML(idp, true)
	e.srv.SetClock(e.clk.Now) // the server's bounds (the kept requests' rate) on the test's clock
	var sp resource.Object
	if err := e.admin.Do(e.ctx, "PUT", "/v1/saml/sp", server.SetSPRequest{Metadata: idcMetadata}, &sp); err != nil {
		t.Fatal(err)
	}
	return e
}

func samlDoc(id, acs string) string {
	return fmt.Sprintf(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="%s" Version="2.0" IssueInstant="%s" AssertionConsumerServiceURL="%s" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>%s</saml:Issuer></samlp:AuthnRequest>`,
		id, time.Now().UTC().Format(time.RFC3339), acs, idcEntity)
}

func samlRedirect(id, acs string) string {
	doc := samlDoc(id, acs)
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	w.Write([]byte(doc))
	w.Close()
	return "/saml/sso?" + url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(buf.Bytes())}, "RelayState": {"rs"}}.Encode()
}

var (
	formRE     = regexp.MustCompile(`<form method="post" action="([^"]+)" id="saml-post">`)
	responseRE = regexp.MustCompile(`name="SAMLResponse" value="([^"]+)"`)
)

// postedResponse checks the auto-posting page and returns the Response it carries.
func postedResponse(t *testing.T, p page, acs string) []byte {
	t.Helper()
	if p.status != 200 {
		t.Fatalf("SAML page %d:\n%s", p.status, p.body)
	}
	if m := formRE.FindStringSubmatch(p.body); m == nil || html.UnescapeString(m[1]) != acs {
		t.Fatalf("the form does not post to %s:\n%s", acs, p.body)
	}
	if !strings.Contains(p.body, `<script src="/assets/saml-post.js" defer></script>`) || !strings.Contains(p.body, `<button type="submit">Continue</button>`) {
		t.Errorf("the page lacks the asset script or the Continue button:\n%s", p.body)
	}
	if strings.Contains(p.body, "<script>") {
		t.Error("the page has an inline script")
	}
	u, _ := url.Parse(acs)
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+u.Scheme+"://"+u.Host+";") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	m := responseRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatal("no SAMLResponse")
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func responseFields(t *testing.T, raw []byte) (inResponseTo, nameID, destination string) {
	t.Helper()
	var r struct {
		InResponseTo string `xml:"InResponseTo,attr"`
		Destination  string `xml:"Destination,attr"`
		NameID       string `xml:"Assertion>Subject>NameID"`
	}
	if err := xml.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r.InResponseTo, r.NameID, r.Destination
}

// SP-initiated sign-on for someone not signed in: to the sign-in with the request kept, back,
// and the Response posted to the ACS the request named; the kept request is used once and
// only by the browser that brought it.
func TestSAMLSignOnThroughSignIn(t *testing.T) {
	e := newSAMLEnv(t)
	b := e.browser()
	key, _ := e.enrol(b, e.invite("alice"), alicePassword)

	p := b.get(samlRedirect("_idc-1", idcACS2))
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login?next=%2Fsaml%2Fsso%2Fcontinue%2F") {
		t.Fatalf("not signed in: %d %q\n%s", p.status, p.location, p.body)
	}
	next, _ := url.QueryUnescape(strings.TrimPrefix(p.location, "/login?next="))
	if strings.Contains(next, "SAMLRequest") || len(next) > 60 {
		t.Errorf("the return path carries more than the kept request's id: %s", next)
	}
	p = e.signIn(b, "alice", alicePassword, next)
	if p.location != "/login/second-factor" {
		t.Fatalf("password: %d %q", p.status, p.location)
	}
	e.clk.Advance(30 * time.Second)
	p = e.secondFactor(b, totpCode(t, key, e.clk.Now()))
	if p.status != http.StatusSeeOther || p.location != next {
		t.Fatalf("second factor: %d %q, want %s", p.status, p.location, next)
	}
	// Another browser cannot resume it.
	if p := e.browser().get(next); p.status != http.StatusBadRequest || !strings.Contains(p.body, "expired") {
		t.Fatalf("another browser: %d\n%s", p.status, p.body)
	}
	raw := postedResponse(t, b.get(next), idcACS2)
	irt, nameID, dest := responseFields(t, raw)
	if irt != "_idc-1" || nameID != "alice" || dest != idcACS2 {
		t.Errorf("InResponseTo %q NameID %q Destination %q", irt, nameID, dest)
	}
	// Used once.
	if p := b.get(next); p.status != http.StatusBadRequest {
		t.Fatalf("resumed twice: %d", p.status)
	}
	// Signed in: answered at once.
	raw = postedResponse(t, b.get(samlRedirect("_idc-2", idcACS)), idcACS)
	if irt, _, _ := responseFields(t, raw); irt != "_idc-2" {
		t.Errorf("InResponseTo %q", irt)
	}
	// An ACS URL the provider does not have: refused, no assertion.
	if p := b.get(samlRedirect("_idc-3", "https://evil.example/acs")); p.status != http.StatusBadRequest || strings.Contains(p.body, "SAMLResponse") {
		t.Fatalf("foreign ACS: %d\n%s", p.status, p.body)
	}
	// IdP-initiated: the start URL is the only RelayState.
	raw = postedResponse(t, b.get("/saml/idp-initiated/aws-identity-center"), idcACS)
	if irt, nameID, _ := responseFields(t, raw); irt != "" || nameID != "alice" {
		t.Errorf("IdP-initiated: InResponseTo %q NameID %q", irt, nameID)
	}
	if p := b.get("/saml/idp-initiated/aws-identity-center?RelayState=" + url.QueryEscape("https://evil.example/")); p.status != http.StatusBadRequest {
		t.Fatalf("foreign RelayState: %d", p.status)
	}
	// HTTP-POST binding from a browser whose cookies do not come along (a cross-site POST sends no
	// SameSite=Lax cookie): to the continue URL, whose GET carries them.
	nb := e.browser()
	p = nb.post("/saml/sso", url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString([]byte(samlDoc("_idc-5", idcACS)))}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/saml/sso/continue/") {
		t.Fatalf("POST binding without cookies: %d %q", p.status, p.location)
	}
	if p := nb.get(p.location); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login?next=") {
		t.Fatalf("continue without a session: %d %q", p.status, p.location)
	}
	// A disabled user gets a page saying so, and no assertion.
	u, _ := e.admin.Get(e.ctx, resource.KindUser, "alice")
	u.Spec.(*resource.UserSpec).Disabled = true
	if _, err := e.admin.Update(e.ctx, u); err != nil {
		t.Fatal(err)
	}
	if p := b.get(samlRedirect("_idc-4", idcACS)); p.status != http.StatusForbidden || !strings.Contains(p.body, "disabled") || strings.Contains(p.body, "SAMLResponse") {
		t.Fatalf("disabled: %d\n%s", p.status, p.body)
	}
	// Every assertion audited, never the assertion.
	entries, err := e.admin.AuditFiltered(e.ctx, map[string]string{"kind": string(resource.KindSAMLServiceProvider)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, en := range entries {
		if en.Action == "saml.assertion" {
			n++
			if en.Actor != "alice" || len(en.After) != 0 || !strings.Contains(en.Detail, idcEntity) {
				t.Errorf("audit entry %+v", en)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d assertions audited, want 3", n)
	}
}

func TestSAMLMetadataAndAdmin(t *testing.T) {
	e := newSAMLEnv(t)
	resp, err := http.Get(e.url + "/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/samlmetadata+xml" || !strings.Contains(buf.String(), `entityID="`+e.url+`/saml/metadata"`) {
		t.Fatalf("metadata %d %s:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), buf.String())
	}
	sp, err := e.admin.Get(e.ctx, resource.KindSAMLServiceProvider, samlidp.AppName)
	if err != nil {
		t.Fatal(err)
	}
	spec := sp.Spec.(*resource.SAMLServiceProviderSpec)
	if spec.EntityID != idcEntity || len(spec.ACS) != 2 || spec.ACS[1].URL != idcACS2 {
		t.Errorf("service provider %+v", spec)
	}
	// The mapping is kept when the metadata is set again.
	spec.Attributes = []resource.SAMLAttribute{{Key: "CostCenter", Trait: "cost_center"}}
	if _, err := e.admin.Update(e.ctx, sp); err != nil {
		t.Fatal(err)
	}
	var again resource.Object
	if err := e.admin.Do(e.ctx, "PUT", "/v1/saml/sp", server.SetSPRequest{Metadata: idcMetadata}, &again); err != nil {
		t.Fatal(err)
	}
	if a := again.Spec.(*resource.SAMLServiceProviderSpec).Attributes; len(a) != 1 {
		t.Errorf("attributes after set: %v", a)
	}
	for name, md := range map[string]string{
		"plain http ACS": strings.ReplaceAll(idcMetadata, "https://us-east-1.signin.aws/", "http://us-east-1.signin.aws/"),
		"javascript ACS": strings.ReplaceAll(idcMetadata, idcACS, "javascript:alert(1)"),
		"no entity id":   strings.ReplaceAll(idcMetadata, `entityID="`+idcEntity+`"`, ""),
		"markup in ACS":  strings.ReplaceAll(idcMetadata, idcACS, "https://x.example/&lt;script&gt;"),
		"entities":       `<!DOCTYPE x [<!ENTITY a "b">]>` + idcMetadata,
		"not metadata":   "hello",
	} {
		if err := e.admin.Do(e.ctx, "PUT", "/v1/saml/sp", server.SetSPRequest{Metadata: md}, nil); err == nil || err.(*client.Error).Status != 400 {
			t.Errorf("%s: %v, want 400", name, err)
		}
	}
	for _, step := range []string{"rotate", "finish", "cleanup"} {
		var out server.RotateResponse
		if err := e.admin.Do(e.ctx, "POST", "/v1/saml/rotate", server.RotateRequest{Step: step}, &out); err != nil || out.Detail == "" {
			t.Errorf("%s: %v %q", step, err, out.Detail)
		}
	}
	if err := e.admin.Do(e.ctx, "POST", "/v1/saml/rotate", server.RotateRequest{Step: "finish"}, nil); err == nil || err.(*client.Error).Status != 409 {
		t.Errorf("finish without next: %v, want 409", err)
	}
	// Apps: bob holds an assignment (through ops), alice none.
	for user, want := range map[string]int{"bob": 1, "alice": 0} {
		tok, err := e.admin.CreateToken(e.ctx, user, "1h")
		if err != nil {
			t.Fatal(err)
		}
		var apps server.AppsResponse
		if err := client.New(e.url, tok.Token).Do(e.ctx, "GET", "/v1/apps", nil, &apps); err != nil {
			t.Fatal(err)
		}
		if len(apps.Items) != want {
			t.Errorf("%s: apps %+v, want %d", user, apps.Items, want)
		} else if want == 1 && (apps.Items[0].LoginURL != e.url+"/saml/idp-initiated/aws-identity-center" || apps.Items[0].StartURL != startURL) {
			t.Errorf("%s: app %+v", user, apps.Items[0])
		}
		if want == 1 {
			u, _ := e.admin.Get(e.ctx, resource.KindUser, user)
			u.Spec.(*resource.UserSpec).Disabled = true
			if _, err := e.admin.Update(e.ctx, u); err != nil {
				t.Fatal(err)
			}
			var none server.AppsResponse
			if err := client.New(e.url, tok.Token).Do(e.ctx, "GET", "/v1/apps", nil, &none); err != nil || len(none.Items) != 0 {
				t.Errorf("%s disabled: apps %+v, %v", user, none.Items, err)
			}
		}
		// Not administrators: no rotation.
		if err := client.New(e.url, tok.Token).Do(e.ctx, "POST", "/v1/saml/rotate", server.RotateRequest{Step: "rotate"}, nil); err == nil || err.(*client.Error).Status != 403 {
			t.Errorf("%s rotating: %v, want 403", user, err)
		}
	}
}

// A session without a second factor is sent to step up when auth.second_factor is required; an
// IdP-initiated sign-on of someone not signed in waits for their sign-in too; anonymous visitors
// keep requests at a bounded rate.
func TestSAMLStepUpIdPInitiatedAndBounds(t *testing.T) {
	e := newSAMLEnv(t)
	rec := httptest.NewRecorder()
	if _, err := e.srv.Sessions().Issue(e.ctx, rec, httptest.NewRequest("POST", "/login", nil), "alice",
		auth.MethodUse{Method: auth.MethodPassword, At: e.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	u, _ := url.Parse(e.url)
	b.c.Jar.SetCookies(u, rec.Result().Cookies())
	p := b.get(samlRedirect("_su", idcACS))
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login/step-up?next=%2Fsaml%2Fsso%2Fcontinue%2F") {
		t.Fatalf("password-only session: %d %q", p.status, p.location)
	}

	anon := e.browser()
	p = anon.get("/saml/idp-initiated/aws-identity-center")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login?next=%2Fsaml%2Fsso%2Fcontinue%2F") {
		t.Fatalf("IdP-initiated, not signed in: %d %q", p.status, p.location)
	}
	n, refused := 0, 0
	for range 150 {
		switch p := e.browser().get(samlRedirect(fmt.Sprintf("_b%d", n), idcACS)); p.status {
		case http.StatusSeeOther:
			n++
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("%d", p.status)
		}
	}
	if refused == 0 || n > 130 {
		t.Errorf("%d kept, %d refused: want the rate bounded (20 a second, bursts of 100)", n, refused)
	}
}
