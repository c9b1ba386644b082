package idcsim_test

// The simulator as Identity Center's SAML service provider and access portal. Responses are built
// and signed here by a test IdP of its own (goxmldsig signing with a test key; xmlsec1 too when it
// is installed), then attacked.

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/wardenhq/warden/internal/fuzzcheck"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/testenv"
)

const (
	tNSP     = "urn:oasis:names:tc:SAML:2.0:protocol"
	tNSA     = "urn:oasis:names:tc:SAML:2.0:assertion"
	tEmail   = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	tIdPID   = "https://idp.example.test/saml/metadata"
	tSSOPath = "/saml/sso"
)

// testKey is an RSA key and its self-signed certificate.
type testKey struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

var (
	keysOnce sync.Once
	idpKeys  [2]testKey
)

// testKeys are two IdP keys (made once: RSA generation is slow on shared cores).
func testKeys(t testing.TB) [2]testKey {
	keysOnce.Do(func() {
		for i := range idpKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: fmt.Sprintf("test idp %d", i)},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
			if err != nil {
				panic(err)
			}
			c, _ := x509.ParseCertificate(der)
			idpKeys[i] = testKey{k, c}
		}
	})
	return idpKeys
}

// idpMetadata is IdP metadata naming the certificates and SSO URL given.
func idpMetadata(sso string, extra string, certs ...*x509.Certificate) []byte {
	var kd strings.Builder
	for _, c := range certs {
		fmt.Fprintf(&kd, `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
			base64.StdEncoding.EncodeToString(c.Raw))
	}
	return []byte(fmt.Sprintf(`<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="%s">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">%s%s
<md:NameIDFormat>%s</md:NameIDFormat>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s"/>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="%s"/>
</md:IDPSSODescriptor></md:EntityDescriptor>`, tIdPID, kd.String(), extra, tEmail, sso, sso))
}

// portalEnv is a simulator trusting a test IdP, behind an httptest server.
type portalEnv struct {
	t     testing.TB
	sim   *idcsim.Sim
	srv   *httptest.Server
	clock *clock
	ep    idcsim.SAMLEndpoints
	keys  [2]testKey
}

func newPortalEnv(t testing.TB) *portalEnv {
	t.Helper()
	c := &clock{t: time.Now()}
	return newPortalEnvClock(t, c, c.Now)
}

// newPortalEnvClock is newPortalEnv with the simulator on the clock now (time.Now for peers that
// wait in real time); c dates the test IdP's Responses.
func newPortalEnvClock(t testing.TB, c *clock, now func() time.Time, opts ...func(*idcsim.Options)) *portalEnv {
	t.Helper()
	o := idcsim.Options{Seed: 1, Now: now}
	for _, f := range opts {
		f(&o)
	}
	sim := idcsim.New(o)
	if err := sim.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	sim.SetPublicURL(srv.URL)
	k := testKeys(t)
	if err := sim.SetIdPMetadata(idpMetadata("https://idp.example.test"+tSSOPath, "", k[0].cert)); err != nil {
		t.Fatal(err)
	}
	return &portalEnv{t: t, sim: sim, srv: srv, clock: c, ep: sim.Endpoints(srv.URL), keys: k}
}

// resp describes a Response to build.
type resp struct {
	nameID, format            string
	audience, recipient, dest string
	inResponseTo              string
	issuer                    string
	notBefore, notOnOrAfter   time.Time
	scdNotOnOrAfter           time.Time
	assertionID               string
	signAssertion, signResp   bool
	key                       int
	sha1                      bool
	status                    string
	sessionNotOnOrAfter       time.Time
}

// good is a Response the simulator must take: for alice, signed twice, IdP-initiated.
func (e *portalEnv) good() resp {
	now := e.clock.Now()
	return resp{nameID: "alice@example.com", format: tEmail, audience: e.ep.EntityID, recipient: e.ep.ACS, dest: e.ep.ACS,
		issuer: tIdPID, notBefore: now.Add(-30 * time.Second), notOnOrAfter: now.Add(5 * time.Minute), scdNotOnOrAfter: now.Add(5 * time.Minute),
		signAssertion: true, signResp: true, status: "urn:oasis:names:tc:SAML:2.0:status:Success"}
}

var idCounter atomic.Int64

func newID() string { return fmt.Sprintf("_id%d_%d", time.Now().UnixNano(), idCounter.Add(1)) }

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// signer is a goxmldsig signing context with exclusive C14N, as crewjam signs.
func (e *portalEnv) signer(r resp) *dsig.SigningContext {
	k := e.keys[r.key]
	ctx, err := dsig.NewSigningContext(k.key, [][]byte{k.cert.Raw})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	method := dsig.RSASHA256SignatureMethod
	if r.sha1 {
		method = dsig.RSASHA1SignatureMethod
	}
	if err := ctx.SetSignatureMethod(method); err != nil {
		e.t.Fatal(err)
	}
	return ctx
}

// assertion builds the assertion element of r, signed when asked.
func (e *portalEnv) assertion(r resp) *etree.Element {
	if r.assertionID == "" {
		r.assertionID = newID()
	}
	now := e.clock.Now()
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", tNSA)
	a.CreateAttr("ID", r.assertionID)
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", ts(now))
	a.CreateElement("saml:Issuer").SetText(r.issuer)
	sub := a.CreateElement("saml:Subject")
	nid := sub.CreateElement("saml:NameID")
	if r.format != "" {
		nid.CreateAttr("Format", r.format)
	}
	nid.SetText(r.nameID)
	sc := sub.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	if r.inResponseTo != "" {
		scd.CreateAttr("InResponseTo", r.inResponseTo)
	}
	scd.CreateAttr("NotOnOrAfter", ts(r.scdNotOnOrAfter))
	scd.CreateAttr("Recipient", r.recipient)
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", ts(r.notBefore))
	cond.CreateAttr("NotOnOrAfter", ts(r.notOnOrAfter))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(r.audience)
	as := a.CreateElement("saml:AuthnStatement")
	as.CreateAttr("AuthnInstant", ts(now))
	if !r.sessionNotOnOrAfter.IsZero() {
		as.CreateAttr("SessionNotOnOrAfter", ts(r.sessionNotOnOrAfter))
	}
	as.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
	if r.signAssertion {
		signed, err := e.signer(r).SignEnveloped(a)
		if err != nil {
			e.t.Fatal(err)
		}
		return signed
	}
	return a
}

// response builds r's Response around assertion a (several, or none, for attacks).
func (e *portalEnv) response(r resp, as ...*etree.Element) *etree.Element {
	p := etree.NewElement("samlp:Response")
	p.CreateAttr("xmlns:samlp", tNSP)
	p.CreateAttr("xmlns:saml", tNSA)
	p.CreateAttr("ID", newID())
	p.CreateAttr("Version", "2.0")
	p.CreateAttr("IssueInstant", ts(e.clock.Now()))
	p.CreateAttr("Destination", r.dest)
	if r.inResponseTo != "" {
		p.CreateAttr("InResponseTo", r.inResponseTo)
	}
	p.CreateElement("saml:Issuer").SetText(r.issuer)
	p.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", r.status)
	for _, a := range as {
		p.AddChild(a)
	}
	return p
}

func (e *portalEnv) signResponse(r resp, p *etree.Element) *etree.Element {
	signed, err := e.signer(r).SignEnveloped(p)
	if err != nil {
		e.t.Fatal(err)
	}
	return signed
}

// build is r's Response, signed as r says.
func (e *portalEnv) build(r resp) *etree.Element {
	p := e.response(r, e.assertion(r))
	if r.signResp {
		p = e.signResponse(r, p)
	}
	return p
}

func encode(t testing.TB, el *etree.Element) string {
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// client is a browser: cookies kept, redirects not followed.
func (e *portalEnv) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// post posts a SAMLResponse to the ACS and returns the answer's status and body.
func (e *portalEnv) post(c *http.Client, samlResponse string) (*http.Response, string) {
	e.t.Helper()
	res, err := c.PostForm(e.ep.ACS, url.Values{"SAMLResponse": {samlResponse}})
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (e *portalEnv) get(c *http.Client, u string) (*http.Response, string) {
	e.t.Helper()
	res, err := c.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// startSP visits the start URL anonymously and returns the AuthnRequest's ID, checking the
// redirect: to the IdP's HTTP-Redirect SSO URL, an unsigned, deflated AuthnRequest for the ACS.
func (e *portalEnv) startSP(c *http.Client) string {
	e.t.Helper()
	res, _ := e.get(c, e.ep.StartURL)
	if res.StatusCode != http.StatusFound {
		e.t.Fatalf("anonymous start URL: %d, want 302", res.StatusCode)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Host != "idp.example.test" || loc.Path != tSSOPath {
		e.t.Fatalf("redirected to %s, not the IdP's SSO URL", res.Header.Get("Location"))
	}
	q := loc.Query()
	if q.Has("Signature") || q.Has("SigAlg") {
		e.t.Errorf("the AuthnRequest is signed; Identity Center's are not (AuthnRequestsSigned=false)")
	}
	z, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
	if err != nil {
		e.t.Fatal(err)
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(z)))
	if err != nil {
		e.t.Fatalf("SAMLRequest is not raw DEFLATE: %v", err)
	}
	var ar struct {
		XMLName     xml.Name
		ID          string `xml:"ID,attr"`
		ACS         string `xml:"AssertionConsumerServiceURL,attr"`
		Destination string `xml:"Destination,attr"`
		Binding     string `xml:"ProtocolBinding,attr"`
		Issuer      string `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
		Policy      struct {
			Format string `xml:"Format,attr"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:protocol NameIDPolicy"`
	}
	if err := xml.Unmarshal(raw, &ar); err != nil {
		e.t.Fatal(err)
	}
	if ar.XMLName.Space != tNSP || ar.XMLName.Local != "AuthnRequest" || ar.ID == "" || ar.ACS != e.ep.ACS ||
		ar.Issuer != e.ep.EntityID || ar.Policy.Format != tEmail || ar.Destination != "https://idp.example.test"+tSSOPath ||
		ar.Binding != "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" {
		e.t.Fatalf("AuthnRequest %s", raw)
	}
	return ar.ID
}

// signIn posts a good Response for user and returns the browser signed in.
func (e *portalEnv) signIn(user string) *http.Client {
	e.t.Helper()
	c := e.client()
	r := e.good()
	r.inResponseTo = e.startSP(c)
	r.nameID = user
	res, body := e.post(c, encode(e.t, e.build(r)))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/start" {
		e.t.Fatalf("sign-in of %s: %d %s", user, res.StatusCode, body)
	}
	return c
}

// portal reads the portal's list: account id -> permission sets.
func (e *portalEnv) portal(c *http.Client) map[string][]string {
	e.t.Helper()
	res, body := e.get(c, e.ep.StartURL)
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("portal: %d %s", res.StatusCode, body)
	}
	doc := etree.NewDocument()
	// The page is HTML; the list is well-formed enough to read with a tolerant parse.
	doc.ReadSettings.Permissive = true
	doc.ReadSettings.AutoClose = []string{"meta", "br", "input"}
	doc.ReadSettings.Entity = map[string]string{"nbsp": " "}
	if err := doc.ReadFromString(strings.TrimPrefix(body, "\n<!DOCTYPE html>\n")); err != nil {
		e.t.Fatalf("portal page: %v\n%s", err, body)
	}
	out := map[string][]string{}
	for _, li := range doc.FindElements("//li[@class='account']") {
		id := li.SelectAttrValue("data-account-id", "")
		out[id] = []string{}
		for _, ps := range li.FindElements(".//li[@class='permission-set']") {
			out[id] = append(out[id], ps.SelectAttrValue("data-permission-set", ""))
		}
	}
	return out
}

func TestPortalSPInitiatedSignIn(t *testing.T) {
	e := newPortalEnv(t)
	c := e.signIn("alice@example.com")
	// The session cookie: random, HttpOnly, expiring, server-side.
	u, _ := url.Parse(e.srv.URL)
	var cookie *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "x-amz-sso_authn" {
			cookie = ck
		}
	}
	if cookie == nil || len(cookie.Value) < 40 {
		t.Fatalf("no portal session cookie: %v", c.Jar.Cookies(u))
	}
	got := e.portal(c)
	if len(got) == 0 {
		t.Fatal("the portal lists nothing for alice")
	}
	// A forged cookie is a stranger.
	fake := e.client()
	fake.Jar.SetCookies(u, []*http.Cookie{{Name: "x-amz-sso_authn", Value: strings.Repeat("A", 43)}})
	if res, _ := e.get(fake, e.ep.StartURL); res.StatusCode != http.StatusFound {
		t.Errorf("a made-up session cookie: %d, want a redirect to the IdP", res.StatusCode)
	}
	// Sign-out ends the session on the server.
	res, err := c.PostForm(e.srv.URL+"/start/signout", nil)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("sign-out: %v %v", res, err)
	}
	res.Body.Close()
	stolen := e.client()
	stolen.Jar.SetCookies(u, []*http.Cookie{cookie})
	if res, _ := e.get(stolen, e.ep.StartURL); res.StatusCode != http.StatusFound {
		t.Errorf("the cookie of a signed-out session still opens the portal: %d", res.StatusCode)
	}
	if ev := e.sim.SignInEvents(); len(ev) != 1 || ev[0].Outcome != "Success" || ev[0].UserName != "alice@example.com" {
		t.Errorf("events %+v", ev)
	}
}

func TestPortalSessionCookieAndExpiry(t *testing.T) {
	e := newPortalEnv(t)
	c := e.client()
	r := e.good()
	r.sessionNotOnOrAfter = e.clock.Now().Add(time.Hour)
	res, _ := e.post(c, encode(t, e.build(r)))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatal(res.Status)
	}
	sc := res.Header.Get("Set-Cookie")
	for _, want := range []string{"x-amz-sso_authn=", "HttpOnly", "Path=/", "Expires=", "SameSite=Lax"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %s", sc, want)
		}
	}
	if len(e.portal(c)) == 0 {
		t.Fatal("nothing listed")
	}
	e.clock.Advance(time.Hour + time.Second) // SessionNotOnOrAfter shortens the 8-hour session
	if res, _ := e.get(c, e.ep.StartURL); res.StatusCode != http.StatusFound {
		t.Errorf("past SessionNotOnOrAfter the portal answers %d, want a new sign-in", res.StatusCode)
	}
}

// TestACSRefusals holds the ACS to what Identity Center demands, one fault at a time.
func TestACSRefusals(t *testing.T) {
	e := newPortalEnv(t)
	other := resp{}
	_ = other
	cases := []struct {
		name     string
		change   func(r *resp)
		headline string
		reason   string
	}{
		{"unsigned", func(r *resp) { r.signAssertion, r.signResp = false, false }, "It's not you, it's us", "is not signed"},
		{"signed by a key the IdP's metadata does not have", func(r *resp) { r.key = 1 }, "It's not you, it's us", "not valid with any certificate"},
		{"RSA-SHA1", func(r *resp) { r.sha1 = true }, "It's not you, it's us", "signature method"},
		{"another audience", func(r *resp) { r.audience = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-0000000000" }, "It's not you, it's us", "Audience"},
		{"another recipient", func(r *resp) { r.recipient = e.srv.URL + "/platform/saml/acs/other" }, "It's not you, it's us", "Recipient"},
		{"another destination", func(r *resp) { r.dest = e.srv.URL + "/platform/saml/acs/other" }, "It's not you, it's us", "Destination"},
		{"no destination", func(r *resp) { r.dest = "" }, "It's not you, it's us", "Destination"},
		{"expired confirmation", func(r *resp) { r.scdNotOnOrAfter = e.clock.Now().Add(-2 * time.Minute) }, "It's not you, it's us", "expired"},
		{"expired conditions", func(r *resp) { r.notOnOrAfter = e.clock.Now().Add(-2 * time.Minute) }, "It's not you, it's us", "expired"},
		{"not valid yet", func(r *resp) { r.notBefore = e.clock.Now().Add(5 * time.Minute) }, "It's not you, it's us", "not valid yet"},
		{"unknown InResponseTo", func(r *resp) { r.inResponseTo = "_never-sent" }, "It's not you, it's us", "InResponseTo"},
		{"NameID format unspecified", func(r *resp) { r.format = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified" }, "It's not you, it's us", "invalid name id policy format"},
		{"NameID without format", func(r *resp) { r.format = "" }, "It's not you, it's us", "invalid name id policy format"},
		{"NameID not an address", func(r *resp) { r.nameID = "alice" }, "It's not you, it's us", "not an email address"},
		{"user not provisioned", func(r *resp) { r.nameID = "mallory@example.com" }, "An unexpected error has occurred", "no user"},
		{"userName in another case", func(r *resp) { r.nameID = "Alice@example.com" }, "An unexpected error has occurred", "not exactly"},
		{"another issuer", func(r *resp) { r.issuer = "https://evil.example.test" }, "It's not you, it's us", "Issuer"},
		{"IdP answered failure", func(r *resp) { r.status = "urn:oasis:names:tc:SAML:2.0:status:Responder" }, "It's not you, it's us", "status"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.good()
			tc.change(&r)
			res, body := e.post(e.client(), encode(t, e.build(r)))
			checkRefused(t, res, body, tc.headline, tc.reason)
		})
	}
	// Within the skew is fine.
	r := e.good()
	r.notBefore = e.clock.Now().Add(30 * time.Second)
	if res, body := e.post(e.client(), encode(t, e.build(r))); res.StatusCode != http.StatusSeeOther {
		t.Errorf("NotBefore 30 s ahead (within the skew): %d %s", res.StatusCode, body)
	}
}

func checkRefused(t *testing.T, res *http.Response, body, headline, reason string) {
	t.Helper()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("answered %d, want 400 refused\n%s", res.StatusCode, body)
	}
	if !strings.Contains(body, "<h1>"+htmlEsc(headline)+"</h1>") {
		t.Errorf("page lacks the headline %q:\n%s", headline, body)
	}
	if !strings.Contains(body, htmlEsc(reason)) {
		t.Errorf("page lacks the reason %q:\n%s", reason, body)
	}
	if len(res.Cookies()) != 0 {
		t.Errorf("a refused Response set cookies: %v", res.Cookies())
	}
}

// htmlEsc is s as html/template escapes it in text.
func htmlEsc(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "'", "&#39;"), `"`, "&#34;")
}

func TestACSSignatureShapes(t *testing.T) {
	e := newPortalEnv(t)
	for _, tc := range []struct {
		name                    string
		signAssertion, signResp bool
	}{{"assertion only", true, false}, {"response only", false, true}, {"both", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.good()
			r.signAssertion, r.signResp = tc.signAssertion, tc.signResp
			if res, body := e.post(e.client(), encode(t, e.build(r))); res.StatusCode != http.StatusSeeOther {
				t.Errorf("%d %s", res.StatusCode, body)
			}
		})
	}
	// Rotation: every certificate of the metadata is trusted.
	if err := e.sim.SetIdPMetadata(idpMetadata("https://idp.example.test"+tSSOPath, "", e.keys[0].cert, e.keys[1].cert)); err != nil {
		t.Fatal(err)
	}
	for k := range 2 {
		r := e.good()
		r.key = k
		if res, body := e.post(e.client(), encode(t, e.build(r))); res.StatusCode != http.StatusSeeOther {
			t.Errorf("signed with key %d of two in the metadata: %d %s", k, res.StatusCode, body)
		}
	}
	info, _ := e.sim.IdP()
	if len(info.Certificates) != 2 || info.EntityID != tIdPID {
		t.Errorf("IdP %+v", info)
	}
}

func TestACSAttacks(t *testing.T) {
	e := newPortalEnv(t)
	refusedWith := func(t *testing.T, p *etree.Element, reason string) {
		t.Helper()
		res, body := e.post(e.client(), encode(t, p))
		checkRefused(t, res, body, "It's not you, it's us", reason)
	}
	t.Run("wrapping: a second, unsigned assertion", func(t *testing.T) {
		r := e.good()
		r.signResp = false
		evil := r
		evil.signAssertion, evil.nameID = false, "bob@example.com"
		refusedWith(t, e.response(r, e.assertion(evil), e.assertion(r)), "2 assertions")
		refusedWith(t, e.response(r, e.assertion(r), e.assertion(evil)), "2 assertions")
	})
	t.Run("wrapping: the signed assertion moved into Extensions", func(t *testing.T) {
		r := e.good()
		r.signResp = false
		evil := r
		evil.signAssertion, evil.nameID = false, "bob@example.com"
		p := e.response(r, e.assertion(evil))
		ext := etree.NewElement("samlp:Extensions")
		ext.AddChild(e.assertion(r))
		p.InsertChildAt(2, ext)
		refusedWith(t, p, "2 assertions")
	})
	t.Run("wrapping: the signed assertion's ID on an unsigned one", func(t *testing.T) {
		r := e.good()
		r.signResp = false
		r.assertionID = newID()
		signed := e.assertion(r)
		evil := r
		evil.signAssertion, evil.nameID = false, "bob@example.com"
		unsigned := e.assertion(evil)
		// The evil assertion carries the signed one's signature: its digest does not match.
		unsigned.AddChild(signed.FindElement("Signature").Copy())
		refusedWith(t, e.response(r, unsigned), "signature")
	})
	t.Run("wrapping: an assertion added to a signed Response", func(t *testing.T) {
		r := e.good()
		p := e.build(r)
		evil := r
		evil.signAssertion, evil.nameID = false, "bob@example.com"
		p.AddChild(e.assertion(evil))
		refusedWith(t, p, "2 assertions")
	})
	t.Run("wrapping: a signed Response nested in a forged one", func(t *testing.T) {
		r := e.good()
		signed := e.build(r)
		evil := r
		evil.signAssertion, evil.signResp = false, false
		forged := e.response(evil)
		ext := etree.NewElement("samlp:Extensions")
		ext.AddChild(signed)
		forged.AddChild(ext)
		refusedWith(t, forged, "")
	})
	t.Run("tampered NameID", func(t *testing.T) {
		r := e.good()
		r.signResp = false
		a := e.assertion(r)
		a.FindElement("Subject/NameID").SetText("bob@example.com")
		refusedWith(t, e.response(r, a), "not valid with any certificate")
	})
	t.Run("comment injection in NameID", func(t *testing.T) {
		// The IdP signs for a name it really issued; the comment, which the signature does not
		// cover, must not cut it to a provisioned user's.
		for _, signResp := range []bool{false, true} {
			r := e.good()
			r.nameID = "alice@example.com.evil.test"
			r.signResp = signResp
			p := e.build(r)
			nid := p.FindElement(".//NameID")
			nid.SetText("alice@example.com")
			nid.AddChild(etree.NewComment(""))
			nid.AddChild(etree.NewText(".evil.test"))
			res, body := e.post(e.client(), encode(t, p))
			checkRefused(t, res, body, "An unexpected error has occurred", "alice@example.com.evil.test")
		}
	})
	t.Run("replay", func(t *testing.T) {
		r := e.good()
		enc := encode(t, e.build(r))
		if res, body := e.post(e.client(), enc); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("first use: %d %s", res.StatusCode, body)
		}
		res, body := e.post(e.client(), enc)
		checkRefused(t, res, body, "It's not you, it's us", "already used")
		// Even after the request window, while it has not expired.
		e.clock.Advance(4 * time.Minute)
		res, body = e.post(e.client(), enc)
		checkRefused(t, res, body, "It's not you, it's us", "")
	})
	t.Run("answering one AuthnRequest twice", func(t *testing.T) {
		c := e.client()
		id := e.startSP(c)
		r := e.good()
		r.inResponseTo = id
		if res, body := e.post(c, encode(t, e.build(r))); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		res, body := e.post(c, encode(t, e.build(r))) // a new assertion id, the same request
		checkRefused(t, res, body, "It's not you, it's us", "InResponseTo")
	})
	t.Run("encrypted assertion", func(t *testing.T) {
		r := e.good()
		r.signResp = false
		ea := etree.NewElement("saml:EncryptedAssertion")
		ea.CreateElement("xenc:EncryptedData").CreateAttr("xmlns:xenc", "http://www.w3.org/2001/04/xmlenc#")
		refusedWith(t, e.response(r, ea), "encrypted")
	})
	t.Run("no assertion", func(t *testing.T) {
		r := e.good()
		refusedWith(t, e.signResponse(r, e.response(r)), "0 assertions")
	})
	t.Run("entity expansion", func(t *testing.T) {
		doc := `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>` +
			`<samlp:Response xmlns:samlp="` + tNSP + `" ID="_x" Version="2.0"><x>&c;</x></samlp:Response>`
		res, body := e.post(e.client(), base64.StdEncoding.EncodeToString([]byte(doc)))
		checkRefused(t, res, body, "It's not you, it's us", "DOCTYPE")
		// A signed good Response with a DOCTYPE in front is refused too.
		signed := encode(t, e.build(e.good()))
		raw, _ := base64.StdEncoding.DecodeString(signed)
		withDTD := strings.Replace(string(raw), "<samlp:Response", `<!DOCTYPE samlp:Response [<!ENTITY x "y">]><samlp:Response`, 1)
		res, body = e.post(e.client(), base64.StdEncoding.EncodeToString([]byte(withDTD)))
		checkRefused(t, res, body, "It's not you, it's us", "DOCTYPE")
	})
	t.Run("not XML, not base64, empty", func(t *testing.T) {
		for _, v := range []string{"!!!", base64.StdEncoding.EncodeToString([]byte("<a>")), base64.StdEncoding.EncodeToString([]byte("<a/>"))} {
			res, body := e.post(e.client(), v)
			checkRefused(t, res, body, "It's not you, it's us", "")
		}
		res, err := e.client().PostForm(e.ep.ACS, url.Values{})
		if err != nil || res.StatusCode != http.StatusBadRequest {
			t.Errorf("no SAMLResponse: %v %v", res, err)
		}
	})
	for _, ev := range e.sim.SignInEvents() {
		if ev.EventName != "ExternalIdPDirectoryLogin" || (ev.Outcome == "Failure" && ev.ErrorMessage == "") {
			t.Errorf("event %+v", ev)
		}
	}
}

func TestACSDisabledUser(t *testing.T) {
	e := newPortalEnv(t)
	c := e.signIn("carol@example.com")
	if len(e.portal(c)) == 0 {
		t.Fatal("carol sees nothing")
	}
	// Disabled over SCIM, as an IdP deactivates a person: the session ends, a new Response is refused.
	id := userID(t, e.sim, "carol@example.com")
	req, _ := http.NewRequest(http.MethodPatch, e.srv.URL+"/scim/v2/Users/"+id,
		strings.NewReader(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`))
	req.Header.Set("Authorization", "Bearer "+e.sim.SCIMToken())
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("SCIM disable: %v %v", res, err)
	}
	res.Body.Close()
	if res, _ := e.get(c, e.ep.StartURL); res.StatusCode != http.StatusFound {
		t.Errorf("a disabled user's session still opens the portal: %d", res.StatusCode)
	}
	r := e.good()
	r.nameID = "carol@example.com"
	res, body := e.post(e.client(), encode(t, e.build(r)))
	checkRefused(t, res, body, "An unexpected error has occurred", "disabled")
}

func userID(t *testing.T, sim *idcsim.Sim, name string) string {
	var id string
	sim.Update(func(d *idcsim.Directory) error { id, _ = d.UserID(name); return nil })
	if id == "" {
		t.Fatalf("no user %s", name)
	}
	return id
}

// TestPortalFollowsAssignments: the list is read at request time from assignments, the user's own
// and its groups'.
func TestPortalFollowsAssignments(t *testing.T) {
	e := newPortalEnv(t)
	var uid, gid, acct1, acct2, ps1, ps2 string
	err := e.sim.Update(func(d *idcsim.Directory) error {
		var err error
		if uid, err = d.CreateUser("zoe@example.com", "Zoe", "Park", "zoe@example.com"); err != nil {
			return err
		}
		if gid, err = d.CreateGroup("Portal Testers", ""); err != nil {
			return err
		}
		acct1, acct2 = "111111111111", "222222222222"
		d.AddAccount(acct1, "Alpha", "alpha@example.com")
		d.AddAccount(acct2, "Beta", "beta@example.com")
		ps1, _ = d.CreatePermissionSet("PortalRead", "", "PT1H")
		ps2, _ = d.CreatePermissionSet("PortalAdmin", "", "PT1H")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := e.signIn("zoe@example.com")
	if got := e.portal(c); len(got) != 0 {
		t.Fatalf("zoe has no assignment yet, the portal lists %v", got)
	}
	change := func(fn func(d *idcsim.Directory) error) {
		if err := e.sim.Update(fn); err != nil {
			t.Fatal(err)
		}
	}
	direct := idcsim.Assignment{AccountID: acct1, PermissionSetARN: ps1, PrincipalType: "USER", PrincipalID: uid}
	viaGroup := idcsim.Assignment{AccountID: acct2, PermissionSetARN: ps2, PrincipalType: "GROUP", PrincipalID: gid}
	viaGroup2 := idcsim.Assignment{AccountID: acct1, PermissionSetARN: ps2, PrincipalType: "GROUP", PrincipalID: gid}
	change(func(d *idcsim.Directory) error { return d.Assign(direct) })
	change(func(d *idcsim.Directory) error { d.Assign(viaGroup); return d.Assign(viaGroup2) })
	check := func(want map[string][]string) {
		t.Helper()
		got := e.portal(c)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("portal lists %v, want %v", got, want)
		}
	}
	check(map[string][]string{acct1: {"PortalRead"}}) // not a member yet
	change(func(d *idcsim.Directory) error { _, err := d.AddMember(gid, uid); return err })
	check(map[string][]string{acct1: {"PortalAdmin", "PortalRead"}, acct2: {"PortalAdmin"}})
	change(func(d *idcsim.Directory) error { d.Unassign(direct); return nil })
	check(map[string][]string{acct1: {"PortalAdmin"}, acct2: {"PortalAdmin"}})
	change(func(d *idcsim.Directory) error { return d.RemoveMember(gid, uid) })
	check(map[string][]string{})
	// Through the API too: CreateAccountAssignment shows once it has SUCCEEDED.
	if got := e.sim.PortalAccounts(uid); len(got) != 0 {
		t.Errorf("PortalAccounts %v", got)
	}
}

func TestSPMetadataAndInfo(t *testing.T) {
	e := newPortalEnv(t)
	storeID := e.sim.IdentityStoreID()
	if e.ep.EntityID != e.srv.URL+"/platform/saml/"+storeID {
		t.Errorf("entity id %s", e.ep.EntityID)
	}
	if !strings.HasPrefix(e.ep.ACS, e.srv.URL+"/platform/saml/acs/") || len(e.ep.ACS)-len(e.srv.URL+"/platform/saml/acs/") != 36 {
		t.Errorf("ACS %s", e.ep.ACS)
	}
	res, body := e.get(e.client(), e.srv.URL+"/_sim/saml/sp-metadata?download")
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("%d %v", res.StatusCode, res.Header)
	}
	var md struct {
		XMLName xml.Name
		Entity  string `xml:"entityID,attr"`
		SP      struct {
			AuthnRequestsSigned  string `xml:"AuthnRequestsSigned,attr"`
			WantAssertionsSigned string `xml:"WantAssertionsSigned,attr"`
			NameIDFormat         string
			ACS                  []struct {
				Binding, Location string `xml:",attr"`
			} `xml:"AssertionConsumerService"`
		} `xml:"SPSSODescriptor"`
	}
	if err := xml.Unmarshal([]byte(body), &md); err != nil {
		t.Fatal(err)
	}
	if md.XMLName.Local != "EntityDescriptor" || md.Entity != e.ep.EntityID || md.SP.AuthnRequestsSigned != "false" ||
		md.SP.WantAssertionsSigned != "true" || md.SP.NameIDFormat != tEmail || len(md.SP.ACS) != 1 ||
		md.SP.ACS[0].Location != e.ep.ACS || md.SP.ACS[0].Binding != "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" {
		t.Errorf("SP metadata %+v\n%s", md, body)
	}
	_, info := e.get(e.client(), e.srv.URL+"/_sim/info")
	for _, want := range []string{e.ep.EntityID, e.ep.ACS, e.ep.StartURL} {
		if !strings.Contains(info, want) {
			t.Errorf("/_sim/info lacks %s: %s", want, info)
		}
	}
	// The same instance has the same ACS URL after a restore.
	snap, _ := e.sim.Snapshot()
	other := idcsim.New(idcsim.Options{Seed: 99})
	if err := other.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if got := other.Endpoints(e.srv.URL); got != e.ep {
		t.Errorf("restored endpoints %+v, want %+v", got, e.ep)
	}
	if info, ok := other.IdP(); !ok || info.EntityID != tIdPID {
		t.Errorf("the restored simulator lost its IdP: %+v", info)
	}
}

func TestIdPMetadataSetting(t *testing.T) {
	k := testKeys(t)
	sim := idcsim.New(idcsim.Options{})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	good := idpMetadata("https://idp.example.test/sso", "", k[0].cert)
	bad := map[string][]byte{
		"encryption key":  idpMetadata("https://idp.example.test/sso", `<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>`+base64.StdEncoding.EncodeToString(k[0].cert.Raw)+`</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`, k[0].cert),
		"no certificate":  idpMetadata("https://idp.example.test/sso", ""),
		"plain http":      idpMetadata("http://idp.example.test/sso", "", k[0].cert),
		"script URL":      idpMetadata("javascript:alert(1)", "", k[0].cert),
		"DOCTYPE":         append([]byte(`<!DOCTYPE md [<!ENTITY x SYSTEM "file:///etc/passwd">]>`), good[len(`<?xml version="1.0"?>`):]...),
		"too long":        append(good, []byte("<!--"+strings.Repeat("x", idcsim.MaxIdPMetadata)+"-->")...),
		"not metadata":    []byte(`<html/>`),
		"broken":          good[:len(good)/2],
		"no entity id":    bytes.Replace(good, []byte(`entityID="`+tIdPID+`"`), nil, 1),
		"wrong namespace": bytes.ReplaceAll(good, []byte("urn:oasis:names:tc:SAML:2.0:metadata"), []byte("urn:x")),
	}
	for name, md := range bad {
		if err := sim.SetIdPMetadata(md); err == nil {
			t.Errorf("%s: taken", name)
		}
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/_sim/saml/idp-metadata", bytes.NewReader(md))
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: PUT answered %v %v", name, res.Status, err)
		}
	}
	if _, ok := sim.IdP(); ok {
		t.Fatal("an IdP was set from bad metadata")
	}
	// Loopback http is taken (for a local IdP), by value and by URL.
	local := idpMetadata("http://127.0.0.1:9/sso", "", k[0].cert, k[1].cert)
	mdSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(local) }))
	defer mdSrv.Close()
	res, err := http.Post(srv.URL+"/_sim/saml/idp-metadata?url="+url.QueryEscape(mdSrv.URL), "", nil)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("POST ?url=: %v %v", res, err)
	}
	var info idcsim.IdPInfo
	b, _ := io.ReadAll(res.Body)
	if err := jsonUnmarshal(b, &info); err != nil || len(info.Certificates) != 2 || info.SSO["urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"] != "http://127.0.0.1:9/sso" {
		t.Errorf("IdP %s", b)
	}
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 4*idcsim.MaxIdPMetadata+10))
	}))
	defer big.Close()
	if _, err := idcsim.FetchIdPMetadata(t.Context(), big.URL); err == nil || !strings.Contains(err.Error(), "over") {
		t.Errorf("a huge metadata document: %v", err)
	}
	// No IdP: the start URL says so.
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/_sim/saml/idp-metadata", nil)
	http.DefaultClient.Do(req)
	res, _ = http.Get(srv.URL + "/start")
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("start URL without an IdP: %d", res.StatusCode)
	}
}

// TestACSXmlsec1Signed: a Response signed by xmlsec1 (a C implementation, independent of goxmldsig)
// is taken.
func TestACSXmlsec1Signed(t *testing.T) {
	xmlsec, err := exec.LookPath("xmlsec1")
	if err != nil {
		testenv.Need(t, fmt.Errorf("xmlsec1 (Debian xmlsec1; .ci/run installs it): %w", err))
	}
	e := newPortalEnv(t)
	r := e.good()
	r.signAssertion, r.signResp = false, false
	p := e.response(r, e.assertion(r))
	id := p.SelectAttrValue("ID", "")
	// A signature template for xmlsec1 to fill, after the Issuer.
	tmpl := fmt.Sprintf(`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#%s"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>`, id)
	sigDoc := etree.NewDocument()
	if err := sigDoc.ReadFromString(tmpl); err != nil {
		t.Fatal(err)
	}
	p.InsertChildAt(1, sigDoc.Root())
	doc := etree.NewDocument()
	doc.SetRoot(p)
	dir := t.TempDir()
	in, keyPEM, certPEM := filepath.Join(dir, "in.xml"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	doc.WriteToFile(in)
	os.WriteFile(keyPEM, pemBlock("PRIVATE KEY", mustPKCS8(t, e.keys[0].key)), 0o600)
	os.WriteFile(certPEM, pemBlock("CERTIFICATE", e.keys[0].cert.Raw), 0o600)
	out, err := exec.Command(xmlsec, "--sign", "--privkey-pem", keyPEM+","+certPEM, "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response", in).Output()
	if err != nil {
		t.Fatalf("xmlsec1 --sign: %v", err)
	}
	res, body := e.post(e.client(), base64.StdEncoding.EncodeToString(out))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a Response signed by xmlsec1: %d %s", res.StatusCode, body)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func mustPKCS8(t *testing.T, k *rsa.PrivateKey) []byte {
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An IdP with only the HTTP-POST binding gets the AuthnRequest by a page that posts it.
func TestPortalPOSTBindingRequest(t *testing.T) {
	e := newPortalEnv(t)
	md := idpMetadata("https://idp.example.test/post", "", e.keys[0].cert)
	md = bytes.Replace(md, []byte(`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.test/post"/>`), nil, 1)
	if err := e.sim.SetIdPMetadata(md); err != nil {
		t.Fatal(err)
	}
	res, body := e.get(e.client(), e.ep.StartURL)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `action="https://idp.example.test/post"`) || !strings.Contains(body, `name="SAMLRequest"`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://idp.example.test/post") {
		t.Errorf("CSP %q", csp)
	}
}

// BenchmarkACS is Responses validated and sessions opened per second (a signed Response holding a
// signed assertion, RSA 2048, IdP-initiated), each a new assertion.
func BenchmarkACS(b *testing.B) {
	e := newPortalEnv(b)
	bodies := make([]string, b.N)
	for i := range bodies {
		bodies[i] = url.Values{"SAMLResponse": {encode(b, e.build(e.good()))}}.Encode()
	}
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest(http.MethodPost, e.ep.ACS, strings.NewReader(bodies[i]))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		e.sim.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

// FuzzIdPMetadata: whatever metadata is given, the setting takes it or refuses it, never panics
// nor allocates without bound, and what it takes has an entity id, a certificate and an SSO URL.
func FuzzIdPMetadata(f *testing.F) {
	k := testKeys(f)
	f.Add(idpMetadata("https://idp.example.test/sso", "", k[0].cert))
	f.Add(idpMetadata("http://127.0.0.1/sso", "", k[0].cert, k[1].cert))
	f.Add([]byte(`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`))
	f.Fuzz(func(t *testing.T, md []byte) {
		sim := idcsim.New(idcsim.Options{})
		fuzzcheck.Limit(t, func() {
			if err := sim.SetIdPMetadata(md); err == nil {
				info, ok := sim.IdP()
				if !ok || info.EntityID == "" || len(info.Certificates) == 0 || len(info.SSO) == 0 {
					t.Fatalf("took %q as %+v", md, info)
				}
			}
		})
	})
}

// FuzzACS: whatever is posted to the ACS, it is refused (400) unless it is a Response the IdP
// signed, and nothing panics. Seeds: good Responses, which the fuzzer mutates.
func FuzzACS(f *testing.F) {
	e := newPortalEnv(f)
	good := e.good()
	good.nameID = "nobody@example.com" // signed, valid, for no user: every mutation is refused
	for _, signResp := range []bool{true, false} {
		r := good
		r.signResp = signResp
		raw, _ := base64.StdEncoding.DecodeString(encode(f, e.build(r)))
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		body := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(doc)}}.Encode()
		req := httptest.NewRequest(http.MethodPost, e.ep.ACS, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		fuzzcheck.Limit(t, func() { e.sim.ServeHTTP(rec, req) })
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("answered %d to %q", rec.Code, doc)
		}
	})
}
