package idcsim

// Identity Center as a SAML service provider: the external identity source setting (the IdP's
// metadata), the SP metadata Identity Center publishes, AuthnRequests and the ACS that validates a
// Response. Signatures are checked with goxmldsig directly (not crewjam/saml, which warden's IdP
// signs with).

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

const (
	nsSAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsSAML  = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsMD    = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsDS    = "http://www.w3.org/2000/09/xmldsig#"

	nameIDEmail     = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	bindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	bindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	statusSuccess   = "urn:oasis:names:tc:SAML:2.0:status:Success"
	cmBearer        = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

	// MaxIdPMetadata is the most characters of IdP metadata Identity Center takes (AWS: 75,000).
	MaxIdPMetadata = 75_000
	// maxSAMLResponse bounds a posted SAMLResponse (base64), far above any real one.
	maxSAMLResponse = 256 << 10
	// samlSkew is the clock skew allowed on every time of a Response (AWS does not document its own).
	samlSkew = time.Minute
	// requestLifetime is how long an AuthnRequest the simulator sent may be answered.
	requestLifetime = 15 * time.Minute
	// portalSessionLifetime is the access portal's session (Identity Center's default: 8 hours).
	portalSessionLifetime = 8 * time.Hour
)

// idpSetting is the external identity source setting as the snapshot keeps it.
type idpSetting struct {
	Metadata string
	SetAt    float64
}

// idpMetadata is an IdP's metadata, parsed.
type idpMetadata struct {
	EntityID string
	Certs    []*x509.Certificate
	// SSO are the SingleSignOnService locations by binding.
	SSO map[string]string
}

// IdPInfo is the external identity source setting as GET /_sim/saml/idp-metadata shows it.
type IdPInfo struct {
	EntityID string `json:"entity_id"`
	// Certificates are the signing certificates' SHA-256 fingerprints (hex) with their expiry.
	Certificates []IdPCertificate  `json:"certificates"`
	SSO          map[string]string `json:"single_sign_on_services"`
}

// IdPCertificate is one signing certificate of the IdP.
type IdPCertificate struct {
	SHA256   string    `json:"sha256"`
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"not_after"`
}

func (m *idpMetadata) info() IdPInfo {
	in := IdPInfo{EntityID: m.EntityID, SSO: m.SSO}
	for _, c := range m.Certs {
		sum := sha256.Sum256(c.Raw)
		in.Certificates = append(in.Certificates, IdPCertificate{SHA256: hex.EncodeToString(sum[:]), Subject: c.Subject.String(), NotAfter: c.NotAfter})
	}
	return in
}

// checkNoDTD reads an XML document's tokens and refuses a document type declaration (so no
// entity is ever declared, let alone expanded), more than maxDepth levels of elements, and text
// that is not well-formed XML.
func checkNoDTD(b []byte) error {
	const maxDepth = 64
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	depth := 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			if depth != 0 {
				return errors.New("the XML ends inside an element")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %v", err)
		}
		switch tok.(type) {
		case xml.Directive:
			return errors.New("the XML has a document type declaration (DOCTYPE): refused, no entity is expanded")
		case xml.StartElement:
			depth++
			if depth > maxDepth {
				return fmt.Errorf("the XML nests elements more than %d deep", maxDepth)
			}
		case xml.EndElement:
			depth--
		}
	}
}

// parseIdPMetadata reads an IdP's SAML metadata as Identity Center's "Manage authentication" takes
// it: at most 75,000 characters, one EntityDescriptor with an IDPSSODescriptor, an entityID, at
// least one signing certificate (several during a rotation), no encryption key, and
// SingleSignOnService locations (https; http only on a loopback host).
func parseIdPMetadata(b []byte) (*idpMetadata, error) {
	if len([]rune(string(b))) > MaxIdPMetadata {
		return nil, fmt.Errorf("the metadata is over %d characters", MaxIdPMetadata)
	}
	if err := checkNoDTD(b); err != nil {
		return nil, err
	}
	type keyDescriptor struct {
		Use   string   `xml:"use,attr"`
		Certs []string `xml:"KeyInfo>X509Data>X509Certificate"`
	}
	type endpoint struct {
		Binding  string `xml:"Binding,attr"`
		Location string `xml:"Location,attr"`
	}
	var ed struct {
		XMLName xml.Name
		Entity  string `xml:"entityID,attr"`
		IDP     []struct {
			XMLName   xml.Name
			Protocols string          `xml:"protocolSupportEnumeration,attr"`
			Keys      []keyDescriptor `xml:"KeyDescriptor"`
			SSO       []endpoint      `xml:"SingleSignOnService"`
		} `xml:"IDPSSODescriptor"`
	}
	if err := xml.Unmarshal(b, &ed); err != nil {
		return nil, fmt.Errorf("not SAML metadata: %v", err)
	}
	if ed.XMLName.Space != nsMD || ed.XMLName.Local != "EntityDescriptor" {
		return nil, fmt.Errorf("the document is %s %s, not an EntityDescriptor of SAML 2.0 metadata", ed.XMLName.Space, ed.XMLName.Local)
	}
	if strings.TrimSpace(ed.Entity) == "" {
		return nil, errors.New("the EntityDescriptor has no entityID")
	}
	if len(ed.IDP) != 1 || ed.IDP[0].XMLName.Space != nsMD {
		return nil, fmt.Errorf("the metadata has %d IDPSSODescriptor elements, not one", len(ed.IDP))
	}
	idp := ed.IDP[0]
	if !strings.Contains(idp.Protocols, nsSAMLP) {
		return nil, errors.New("the IDPSSODescriptor does not support the SAML 2.0 protocol (protocolSupportEnumeration)")
	}
	m := &idpMetadata{EntityID: strings.TrimSpace(ed.Entity), SSO: map[string]string{}}
	for _, k := range idp.Keys {
		switch k.Use {
		case "", "signing":
		case "encryption":
			return nil, errors.New("the metadata has an encryption KeyDescriptor: Identity Center does not take encrypted assertions and refuses such metadata")
		default:
			return nil, fmt.Errorf("KeyDescriptor use=%q is neither signing nor encryption", k.Use)
		}
		for _, c := range k.Certs {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c), ""))
			if err != nil {
				return nil, fmt.Errorf("a signing certificate is not base64: %v", err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("a signing certificate does not parse: %v", err)
			}
			dup := false
			for _, o := range m.Certs {
				dup = dup || o.Equal(cert)
			}
			if !dup {
				m.Certs = append(m.Certs, cert)
			}
		}
	}
	if len(m.Certs) == 0 {
		return nil, errors.New("the metadata has no signing certificate")
	}
	for _, e := range idp.SSO {
		if e.Binding != bindingRedirect && e.Binding != bindingPOST {
			continue
		}
		if err := checkEndpointURL(e.Location); err != nil {
			return nil, fmt.Errorf("SingleSignOnService %s: %v", e.Location, err)
		}
		if _, ok := m.SSO[e.Binding]; !ok {
			m.SSO[e.Binding] = e.Location
		}
	}
	if len(m.SSO) == 0 {
		return nil, errors.New("the metadata has no SingleSignOnService for the HTTP-Redirect or HTTP-POST binding")
	}
	return m, nil
}

// checkEndpointURL accepts an absolute https URL, or http on a loopback host.
func checkEndpointURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return nil
		}
		return errors.New("http is taken on a loopback host only; use https")
	}
	return fmt.Errorf("scheme %q: use https", u.Scheme)
}

// FetchIdPMetadata reads IdP metadata from an http(s) URL: ten seconds at most, at most
// MaxIdPMetadata characters' worth of bytes.
func FetchIdPMetadata(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", rawURL)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml, text/xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", rawURL, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4*MaxIdPMetadata+1)) // a character is at most 4 bytes
	if err != nil {
		return nil, err
	}
	if len(b) > 4*MaxIdPMetadata {
		return nil, fmt.Errorf("GET %s: the metadata is over %d characters", rawURL, MaxIdPMetadata)
	}
	return b, nil
}

// SetIdPMetadata makes the IdP described by metadata Identity Center's external identity source
// (the console's "Change identity source" to an external IdP, or "Manage authentication" to import
// new metadata). Portal sessions already open stay.
func (s *Sim) SetIdPMetadata(metadata []byte) error {
	m, err := parseIdPMetadata(metadata)
	if err != nil {
		return fmt.Errorf("idcsim: IdP metadata: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ExternalIdP = &idpSetting{Metadata: string(metadata), SetAt: epoch(s.now())}
	s.idp = m
	return nil
}

// ClearIdP removes the external identity source setting.
func (s *Sim) ClearIdP() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ExternalIdP = nil
	s.idp = nil
}

// IdP is the external identity source setting, if one is set.
func (s *Sim) IdP() (IdPInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idp == nil {
		return IdPInfo{}, false
	}
	return s.idp.info(), true
}

// SetPublicURL sets the base URL (scheme, host and port) the simulator is reached at, which its
// SAML entity id, ACS URL and start URL are formed on. Unset, each request's own host is used.
func (s *Sim) SetPublicURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.PublicURL = strings.TrimRight(u, "/")
}

// baseURL is the public URL, or the request's scheme and host.
func (s *Sim) baseURL(r *http.Request) string {
	s.mu.Lock()
	pub := s.opts.PublicURL
	s.mu.Unlock()
	if pub != "" || r == nil {
		return pub
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// SAMLEndpoints are Identity Center's side of the trust, on the simulator's host.
type SAMLEndpoints struct {
	// EntityID is the "IAM Identity Center issuer URL", the Audience an assertion must name:
	// BASE/platform/saml/<identity store id> (AWS: https://<region>.signin.aws.amazon.com/platform/saml/d-xxxxxxxxxx).
	EntityID string `json:"saml_issuer_url"`
	// ACS is the "IAM Identity Center ACS URL", the Recipient and Destination:
	// BASE/platform/saml/acs/<tenant id> (AWS: https://<region>.signin.aws/platform/saml/acs/<tenant id>).
	ACS string `json:"saml_acs_url"`
	// Metadata is where the SP metadata file is downloaded.
	Metadata string `json:"saml_metadata_url"`
	// StartURL is the access portal's start URL (AWS: https://d-xxxxxxxxxx.awsapps.com/start).
	StartURL string `json:"start_url"`
}

// Endpoints are the SAML and portal URLs on base (the simulator's URL, e.g. http://127.0.0.1:8421).
func (s *Sim) Endpoints(base string) SAMLEndpoints {
	base = strings.TrimRight(base, "/")
	s.mu.Lock()
	storeID, tenant := s.st.Instance.IdentityStoreId, s.tenantID()
	s.mu.Unlock()
	return SAMLEndpoints{
		EntityID: base + "/platform/saml/" + storeID,
		ACS:      base + acsPathPrefix + tenant,
		Metadata: base + "/_sim/saml/sp-metadata",
		StartURL: base + "/start",
	}
}

const acsPathPrefix = "/platform/saml/acs/"

// tenantID is the ACS URL's tenant id: a UUID derived from the instance, so the same instance has
// the same ACS URL across restarts (and no id is drawn from the generator for it).
func (s *Sim) tenantID() string {
	sum := sha256.Sum256([]byte("idcsim-acs|" + s.st.Instance.InstanceArn))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// SPMetadata is Identity Center's SAML metadata as its console's "Download metadata file" gives
// it, on base.
func (s *Sim) SPMetadata(base string) []byte {
	e := s.Endpoints(base)
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<md:EntityDescriptor xmlns:md="%s" entityID="%s">`+"\n", nsMD, xmlEscape(e.EntityID))
	fmt.Fprintf(&b, `  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="%s">`+"\n", nsSAMLP)
	fmt.Fprintf(&b, "    <md:NameIDFormat>%s</md:NameIDFormat>\n", nameIDEmail)
	fmt.Fprintf(&b, `    <md:AssertionConsumerService Binding="%s" Location="%s" index="0" isDefault="true"/>`+"\n", bindingPOST, xmlEscape(e.ACS))
	b.WriteString("  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n")
	return b.Bytes()
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func randomID() string {
	var b [20]byte
	rand.Read(b[:])
	return "_" + hex.EncodeToString(b[:])
}

// authnRequest makes an AuthnRequest for the IdP, remembers its id, and returns the URL to send the
// browser to (HTTP-Redirect binding, unsigned as Identity Center's: AuthnRequestsSigned="false"), or
// for an IdP with only the HTTP-POST binding, the SSO URL and the encoded request to post.
//
// returnTo, a path of the portal's, is where the ACS sends the browser after the sign-in that answers
// this request (the simulator keeps it with the request and also sends it as RelayState, which it
// does not trust on the way back).
func (s *Sim) authnRequest(e SAMLEndpoints, idp *idpMetadata, returnTo string) (redirect, postURL, encoded string) {
	id := randomID()
	now := s.now().UTC()
	dest := idp.SSO[bindingRedirect]
	if dest == "" {
		dest = idp.SSO[bindingPOST]
	}
	req := fmt.Sprintf(`<samlp:AuthnRequest xmlns:samlp="%s" xmlns:saml="%s" ID="%s" Version="2.0" IssueInstant="%s" Destination="%s" AssertionConsumerServiceURL="%s" ProtocolBinding="%s"><saml:Issuer>%s</saml:Issuer><samlp:NameIDPolicy Format="%s" AllowCreate="true"/></samlp:AuthnRequest>`,
		nsSAMLP, nsSAML, id, now.Format("2006-01-02T15:04:05Z"), xmlEscape(dest), xmlEscape(e.ACS), bindingPOST, xmlEscape(e.EntityID), nameIDEmail)
	s.samlMu.Lock()
	s.pruneSAML(now)
	s.requests[id] = now
	if returnTo != "" {
		s.returnTo[id] = returnTo
	}
	s.samlMu.Unlock()
	if loc := idp.SSO[bindingRedirect]; loc != "" {
		var z bytes.Buffer
		w, _ := flate.NewWriter(&z, flate.BestCompression)
		w.Write([]byte(req))
		w.Close()
		sep := "?"
		if strings.Contains(loc, "?") {
			sep = "&"
		}
		q := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(z.Bytes())}}
		if returnTo != "" {
			q.Set("RelayState", returnTo)
		}
		return loc + sep + q.Encode(), "", ""
	}
	return "", dest, base64.StdEncoding.EncodeToString([]byte(req))
}

// pruneSAML forgets expired requests, assertion ids and sessions. Under samlMu.
func (s *Sim) pruneSAML(now time.Time) {
	const most = 100_000
	if len(s.requests) > most/10 {
		for id, t := range s.requests {
			if now.Sub(t) > requestLifetime {
				delete(s.requests, id)
				delete(s.returnTo, id)
			}
		}
	}
	if len(s.seenAssertions) > most/10 {
		for id, t := range s.seenAssertions {
			if now.After(t) {
				delete(s.seenAssertions, id)
			}
		}
	}
	if len(s.sessions) > most/10 {
		for id, ps := range s.sessions {
			if now.After(ps.expires) {
				delete(s.sessions, id)
			}
		}
	}
}

// acsError is a refused Response: the page's headline (Identity Center's wording) and the reason,
// as the simulator's CloudTrail-like event log records it.
type acsError struct {
	headline string
	reason   string
}

func (e *acsError) Error() string { return e.reason }

// Identity Center's error pages. AWS documents "It's not you, it's us" for a sign-in through an
// external IdP that fails on the IdP's certificate, the NameID format or the clock, and
// "An unexpected error has occurred" for a user who has no (enabled) user in Identity Center.
const (
	headlineNotYou     = "It's not you, it's us"
	headlineUnexpected = "An unexpected error has occurred"
)

func refuse(format string, args ...any) *acsError {
	return &acsError{headline: headlineNotYou, reason: fmt.Sprintf(format, args...)}
}

// acsResult is an accepted Response.
type acsResult struct {
	userID, userName string
	// sessionEnd is the assertion's SessionNotOnOrAfter, zero when absent.
	sessionEnd time.Time
	// returnTo is the portal path the answered AuthnRequest was made for ("" : the start page).
	returnTo string
}

// children are el's child elements named ns:tag.
func children(el *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			out = append(out, c)
		}
	}
	return out
}

func child(el *etree.Element, ns, tag string) *etree.Element {
	if el == nil {
		return nil
	}
	if cs := children(el, ns, tag); len(cs) == 1 {
		return cs[0]
	}
	return nil
}

// allElements walks el's tree.
func allElements(el *etree.Element, fn func(*etree.Element)) {
	fn(el)
	for _, c := range el.ChildElements() {
		allElements(c, fn)
	}
}

// text is an element's whole character content; any child element, comment or processing
// instruction makes it !ok (a comment must not cut a NameID short).
func text(el *etree.Element) (string, bool) {
	var b strings.Builder
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.CharData:
			b.WriteString(t.Data)
		default:
			return "", false
		}
	}
	return strings.TrimSpace(b.String()), true
}

func attr(el *etree.Element, name string) string {
	if el == nil {
		return ""
	}
	return el.SelectAttrValue(name, "")
}

func parseSAMLTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an xs:dateTime", v)
	}
	return t, nil
}

// Signature algorithms taken: RSA with SHA-256 or stronger (Identity Center refuses SHA-1).
var (
	goodSignatureMethods = map[string]bool{
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": true,
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": true,
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": true,
	}
	goodDigestMethods = map[string]bool{
		"http://www.w3.org/2001/04/xmlenc#sha256":       true,
		"http://www.w3.org/2001/04/xmldsig-more#sha384": true,
		"http://www.w3.org/2001/04/xmlenc#sha512":       true,
	}
)

// verify checks el's enveloped signature (a ds:Signature child of el referencing el's ID) against
// each of the IdP's certificates, and returns the element as signed: the canonical bytes the
// digest covered, parsed again, so that nothing outside the signature is read afterwards.
func verify(el *etree.Element, certs []*x509.Certificate, now time.Time) (*etree.Element, error) {
	what := el.Tag
	sig := child(el, nsDS, "Signature")
	if sig == nil {
		return nil, fmt.Errorf("the %s is not signed", what)
	}
	si := child(sig, nsDS, "SignedInfo")
	if m := attr(child(si, nsDS, "SignatureMethod"), "Algorithm"); !goodSignatureMethods[m] {
		return nil, fmt.Errorf("the %s's signature method %q is refused: sign with RSA-SHA256", what, m)
	}
	refs := children(si, nsDS, "Reference")
	if len(refs) != 1 {
		return nil, fmt.Errorf("the %s's signature has %d references, not one", what, len(refs))
	}
	if d := attr(child(refs[0], nsDS, "DigestMethod"), "Algorithm"); !goodDigestMethods[d] {
		return nil, fmt.Errorf("the %s's digest method %q is refused: use SHA-256", what, d)
	}
	if id := attr(el, "ID"); id == "" || attr(refs[0], "URI") != "#"+id {
		return nil, fmt.Errorf("the %s's signature does not reference it by its ID", what)
	}
	nsctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, err
	}
	detached, err := etreeutils.NSDetatch(nsctx, el)
	if err != nil {
		return nil, err
	}
	var last error
	for _, c := range certs {
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c}})
		vc.Clock = dsig.NewFakeClockAt(now)
		v, err := vc.Validate(detached)
		if err == nil {
			return v, nil
		}
		last = err
	}
	return nil, fmt.Errorf("the %s's signature is not valid with any certificate of the identity provider: %v", what, last)
}

// consumeResponse validates a base64 SAMLResponse posted to the ACS as Identity Center does, and
// answers the user it signs in.
func (s *Sim) consumeResponse(encoded string, e SAMLEndpoints) (*acsResult, *acsError) {
	s.mu.Lock()
	idp := s.idp
	s.mu.Unlock()
	if idp == nil {
		return nil, refuse("Identity Center's identity source is not an external identity provider")
	}
	if len(encoded) > maxSAMLResponse {
		return nil, refuse("SAMLResponse is over %d bytes", maxSAMLResponse)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(encoded), ""))
	if err != nil {
		return nil, refuse("SAMLResponse is not base64: %v", err)
	}
	if err := checkNoDTD(raw); err != nil {
		return nil, refuse("Response: %v", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, refuse("Response is not XML: %v", err)
	}
	resp := doc.Root()
	if resp == nil || resp.Tag != "Response" || resp.NamespaceURI() != nsSAMLP {
		return nil, refuse("the document is not a SAML 2.0 Response")
	}
	if attr(resp, "Version") != "2.0" {
		return nil, refuse("Response Version is %q, not 2.0", attr(resp, "Version"))
	}
	// The shape of the whole document, before any signature: one assertion in it all (a second one,
	// or the signed one moved elsewhere, is signature wrapping), none encrypted, no ID twice.
	var assertions, encrypted int
	ids := map[string]bool{}
	dupID := ""
	allElements(resp, func(el *etree.Element) {
		switch {
		case el.Tag == "Assertion" && el.NamespaceURI() == nsSAML:
			assertions++
		case el.Tag == "EncryptedAssertion" && el.NamespaceURI() == nsSAML:
			encrypted++
		}
		if id := attr(el, "ID"); id != "" {
			if ids[id] {
				dupID = id
			}
			ids[id] = true
		}
	})
	switch {
	case encrypted > 0:
		return nil, refuse("Response contains an encrypted assertion: Identity Center does not take encrypted assertions")
	case assertions != 1:
		return nil, refuse("Response contains %d assertions, not exactly one", assertions)
	case dupID != "":
		return nil, refuse("Response has two elements with ID %q", dupID)
	}
	if len(children(resp, nsSAML, "Assertion")) != 1 {
		return nil, refuse("the assertion is not a child of the Response")
	}
	now := s.now()
	// The signature: the Response's, or else the assertion's. What is read afterwards is what the
	// signature covers.
	var assertion *etree.Element
	if child(resp, nsDS, "Signature") != nil {
		v, err := verify(resp, idp.Certs, now)
		if err != nil {
			return nil, refuse("%v", err)
		}
		resp = v
		assertion = child(resp, nsSAML, "Assertion")
		if assertion == nil {
			return nil, refuse("the signed Response holds no assertion")
		}
		if child(assertion, nsDS, "Signature") != nil {
			if assertion, err = verify(assertion, idp.Certs, now); err != nil {
				return nil, refuse("%v", err)
			}
		}
	} else {
		a := children(resp, nsSAML, "Assertion")[0]
		v, err := verify(a, idp.Certs, now)
		if err != nil {
			return nil, refuse("neither the Response nor its assertion is signed by the identity provider: %v", err)
		}
		assertion = v
	}
	if st := attr(child(child(resp, nsSAMLP, "Status"), nsSAMLP, "StatusCode"), "Value"); st != statusSuccess {
		return nil, refuse("Response status is %q, not Success", st)
	}
	if d := attr(resp, "Destination"); d != e.ACS {
		return nil, refuse("Response Destination %q is not the ACS URL %s", d, e.ACS)
	}
	if iss := child(resp, nsSAML, "Issuer"); iss != nil {
		if v, _ := text(iss); v != idp.EntityID {
			return nil, refuse("Response Issuer %q is not the identity provider %s", v, idp.EntityID)
		}
	}
	if iss, _ := text(child(assertion, nsSAML, "Issuer")); child(assertion, nsSAML, "Issuer") == nil || iss != idp.EntityID {
		return nil, refuse("Assertion Issuer %q is not the identity provider %s", iss, idp.EntityID)
	}
	for _, el := range []*etree.Element{resp, assertion} {
		it, err := parseSAMLTime(attr(el, "IssueInstant"))
		if err != nil {
			return nil, refuse("%s IssueInstant: %v", el.Tag, err)
		}
		if it.After(now.Add(samlSkew)) {
			return nil, refuse("%s IssueInstant %s is in the future", el.Tag, attr(el, "IssueInstant"))
		}
	}
	// Subject: an emailAddress NameID and a bearer confirmation for this ACS.
	subject := child(assertion, nsSAML, "Subject")
	nameID := child(subject, nsSAML, "NameID")
	if nameID == nil {
		return nil, refuse("Assertion has no Subject NameID")
	}
	if f := attr(nameID, "Format"); f != nameIDEmail {
		return nil, refuse("Response contains invalid name id policy format: NameID Format %q, not %s", f, nameIDEmail)
	}
	name, ok := text(nameID)
	if !ok {
		return nil, refuse("NameID holds more than text (a comment, element or processing instruction)")
	}
	if addr, err := mail.ParseAddress(name); err != nil || addr.Address != name || addr.Name != "" {
		return nil, refuse("NameID %q is not an email address (addr-spec)", name)
	}
	var confirmed bool
	var inResponseTo string
	var confirmedUntil time.Time
	var confirmErr *acsError
	for _, sc := range children(subject, nsSAML, "SubjectConfirmation") {
		if attr(sc, "Method") != cmBearer {
			continue
		}
		scd := child(sc, nsSAML, "SubjectConfirmationData")
		if scd == nil {
			confirmErr = refuse("bearer SubjectConfirmation has no SubjectConfirmationData")
			continue
		}
		if rcp := attr(scd, "Recipient"); rcp != e.ACS {
			confirmErr = refuse("SubjectConfirmationData Recipient %q is not the ACS URL %s", rcp, e.ACS)
			continue
		}
		noa, err := parseSAMLTime(attr(scd, "NotOnOrAfter"))
		if err != nil {
			confirmErr = refuse("SubjectConfirmationData NotOnOrAfter: %v", err)
			continue
		}
		if !now.Add(-samlSkew).Before(noa) {
			confirmErr = refuse("the assertion has expired: SubjectConfirmationData NotOnOrAfter %s", attr(scd, "NotOnOrAfter"))
			continue
		}
		if nb := attr(scd, "NotBefore"); nb != "" {
			t, err := parseSAMLTime(nb)
			if err != nil || now.Add(samlSkew).Before(t) {
				confirmErr = refuse("the assertion is not valid yet: SubjectConfirmationData NotBefore %s", nb)
				continue
			}
		}
		confirmed, inResponseTo, confirmedUntil = true, attr(scd, "InResponseTo"), noa
		break
	}
	if !confirmed {
		if confirmErr != nil {
			return nil, confirmErr
		}
		return nil, refuse("Assertion has no bearer SubjectConfirmation")
	}
	// Conditions: the time window and the audience.
	cond := child(assertion, nsSAML, "Conditions")
	if cond == nil {
		return nil, refuse("Assertion has no Conditions")
	}
	if v := attr(cond, "NotBefore"); v != "" {
		t, err := parseSAMLTime(v)
		if err != nil {
			return nil, refuse("Conditions NotBefore: %v", err)
		}
		if now.Add(samlSkew).Before(t) {
			return nil, refuse("the assertion is not valid yet: Conditions NotBefore %s", v)
		}
	}
	var expires time.Time
	if v := attr(cond, "NotOnOrAfter"); v != "" {
		t, err := parseSAMLTime(v)
		if err != nil {
			return nil, refuse("Conditions NotOnOrAfter: %v", err)
		}
		if !now.Add(-samlSkew).Before(t) {
			return nil, refuse("the assertion has expired: Conditions NotOnOrAfter %s", v)
		}
		expires = t
	}
	restrictions := children(cond, nsSAML, "AudienceRestriction")
	if len(restrictions) == 0 {
		return nil, refuse("Assertion has no AudienceRestriction")
	}
	for _, ar := range restrictions {
		found := false
		var seen []string
		for _, a := range children(ar, nsSAML, "Audience") {
			v, _ := text(a)
			seen = append(seen, v)
			found = found || v == e.EntityID
		}
		if !found {
			return nil, refuse("Assertion Audience %q is not Identity Center's issuer URL %s", strings.Join(seen, " "), e.EntityID)
		}
	}
	if len(children(cond, nsSAML, "OneTimeUse")) > 1 {
		return nil, refuse("Conditions has more than one OneTimeUse")
	}
	// InResponseTo: a request the simulator sent and no one answered yet; none for IdP-initiated.
	if rt := attr(resp, "InResponseTo"); rt != "" && inResponseTo != "" && rt != inResponseTo {
		return nil, refuse("Response InResponseTo %q differs from the assertion's %q", rt, inResponseTo)
	} else if inResponseTo == "" {
		inResponseTo = rt
	}
	var sessionEnd time.Time
	if as := child(assertion, nsSAML, "AuthnStatement"); as != nil {
		if v := attr(as, "SessionNotOnOrAfter"); v != "" {
			t, err := parseSAMLTime(v)
			if err != nil {
				return nil, refuse("AuthnStatement SessionNotOnOrAfter: %v", err)
			}
			sessionEnd = t
		}
	} else {
		return nil, refuse("Assertion has no AuthnStatement")
	}
	// The user: provisioned, enabled, userName exactly the NameID.
	s.mu.Lock()
	var u *user
	if id, ok := s.st.userByName[strings.ToLower(name)]; ok {
		u = s.st.Users[id]
	}
	var userID string
	var userErr *acsError
	switch {
	case u == nil:
		userErr = &acsError{headline: headlineUnexpected, reason: fmt.Sprintf("no user in Identity Center has the userName %q", name)}
	case u.UserName != name:
		userErr = &acsError{headline: headlineUnexpected, reason: fmt.Sprintf("NameID %q is not exactly the userName %q", name, u.UserName)}
	case u.UserStatus == "DISABLED":
		userErr = &acsError{headline: headlineUnexpected, reason: fmt.Sprintf("the user %q is disabled in Identity Center", name)}
	default:
		userID = u.UserId
	}
	s.mu.Unlock()
	// Replay and the request answered, last: a refused Response consumes neither.
	assertionID := attr(assertion, "ID")
	if assertionID == "" {
		return nil, refuse("Assertion has no ID")
	}
	s.samlMu.Lock()
	defer s.samlMu.Unlock()
	s.pruneSAML(now)
	if _, ok := s.seenAssertions[assertionID]; ok {
		return nil, refuse("the assertion %s was already used (replay)", assertionID)
	}
	if inResponseTo != "" {
		at, ok := s.requests[inResponseTo]
		if !ok || now.Sub(at) > requestLifetime {
			return nil, refuse("InResponseTo %q does not answer an authentication request of Identity Center's (unknown, answered or expired)", inResponseTo)
		}
	}
	if userErr != nil {
		return nil, userErr
	}
	var returnTo string
	if inResponseTo != "" {
		delete(s.requests, inResponseTo)
		returnTo = s.returnTo[inResponseTo]
		delete(s.returnTo, inResponseTo)
	}
	// Remembered while it could be accepted: until the later of its times, and at least as long as a
	// request may be answered.
	keep := now.Add(requestLifetime)
	for _, t := range []time.Time{expires, confirmedUntil} {
		if t.After(keep) {
			keep = t
		}
	}
	s.seenAssertions[assertionID] = keep.Add(samlSkew)
	return &acsResult{userID: userID, userName: name, sessionEnd: sessionEnd, returnTo: returnTo}, nil
}
