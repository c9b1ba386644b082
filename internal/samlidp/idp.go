package samlidp

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Bounds and windows.
const (
	// MaxRedirectQuery bounds the query of an HTTP-Redirect AuthnRequest.
	MaxRedirectQuery = 16 << 10
	// MaxPostBody bounds the form of an HTTP-POST AuthnRequest.
	MaxPostBody = 128 << 10
	// MaxRequestXML bounds an AuthnRequest's XML, inflated or decoded: a request is a few hundred
	// bytes, so inflating stops at 64 KiB whatever the compressed size (a DEFLATE bomb is refused
	// after reading 64 KiB of it).
	MaxRequestXML = 64 << 10
	// MaxRelayState bounds a RelayState (the SAML bindings ask senders for 80 bytes at most; AWS's
	// may be longer).
	MaxRelayState = resource.MaxSAMLRelayState
	// ResponseWindow is how long an assertion may be presented (bearer NotOnOrAfter, and the
	// Conditions): five minutes at most, as Identity Center's window of minutes asks.
	ResponseWindow = 5 * time.Minute
	// ClockSkew is how far before now an assertion's NotBefore lies.
	ClockSkew = 30 * time.Second
	// DefaultSessionDuration is the SessionNotOnOrAfter given when config saml.session_duration
	// is not set: the access portal session lasts at most this long after a sign-on.
	DefaultSessionDuration = 8 * time.Hour
	// AppName is the service provider resource of Identity Center, and the app people see.
	AppName = "aws-identity-center"
)

// Config is what the identity provider needs to know.
type Config struct {
	// BaseURL is warden's public URL: the entity id is BaseURL/saml/metadata, the SSO URL
	// BaseURL/saml/sso.
	BaseURL string
	// SessionDuration is the SessionNotOnOrAfter of every assertion, from now (default 8h).
	SessionDuration time.Duration
	// StartURL is the access portal start URL (config saml.start_url); a service provider's own
	// start_url wins.
	StartURL string
	// RequireProvisioned refuses people whom the sync has not provisioned to Identity Center (set
	// when the sync is on: warden then knows who is there).
	RequireProvisioned bool
}

// IdP is warden's SAML identity provider.
type IdP struct {
	st   store.Store
	keys *Keys
	cfg  Config
	now  func() time.Time
}

// Option configures an IdP.
type Option func(*IdP)

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(p *IdP) { p.now = now } }

// New makes the identity provider over st, its keys sealed with box.
func New(st store.Store, box *secret.Box, cfg Config, opts ...Option) *IdP {
	p := &IdP{st: st, cfg: cfg, now: time.Now}
	p.cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if p.cfg.SessionDuration == 0 {
		p.cfg.SessionDuration = DefaultSessionDuration
	}
	for _, o := range opts {
		o(p)
	}
	p.keys = NewKeys(st, box, func() time.Time { return p.now() })
	return p
}

// Keys is the signing key set.
func (p *IdP) Keys() *Keys { return p.keys }

// Config is the identity provider's configuration.
func (p *IdP) Config() Config { return p.cfg }

// EntityID is the identity provider's entity id (its metadata's URL).
func (p *IdP) EntityID() string { return p.cfg.BaseURL + "/saml/metadata" }

// SSOURL is where service providers send AuthnRequests.
func (p *IdP) SSOURL() string { return p.cfg.BaseURL + "/saml/sso" }

// LoginURL is the IdP-initiated sign-on URL of an app.
func (p *IdP) LoginURL(app string) string { return p.cfg.BaseURL + "/saml/idp-initiated/" + app }

func mustURL(s string) url.URL {
	u, _ := url.Parse(s)
	if u == nil {
		return url.URL{}
	}
	return *u
}

// provider is a crewjam IdentityProvider for one operation: the key set in force, and the service
// providers read from the store.
func (p *IdP) provider(set *KeySet, sps *spLookup) *saml.IdentityProvider {
	idp := &saml.IdentityProvider{
		Key:             set.Signer,
		Certificate:     set.Active.Certificate,
		MetadataURL:     mustURL(p.EntityID()),
		SSOURL:          mustURL(p.SSOURL()),
		SignatureMethod: dsig.RSASHA256SignatureMethod,
		NameIDFormats:   []saml.NameIDFormat{saml.EmailAddressNameIDFormat},
		Clock:           dsig.NewFakeClockAt(p.now()),
	}
	if set.Next != nil {
		idp.ExtraCertificates = []*x509.Certificate{set.Next.Certificate}
	}
	if sps != nil {
		idp.ServiceProviderProvider = sps
	}
	return idp
}

// Metadata is the identity provider's metadata: entity id, a signing KeyDescriptor for the active
// key and one for the next key while a rotation is under way, SingleSignOnService for the
// HTTP-Redirect and HTTP-POST bindings, NameIDFormat emailAddress. No encryption KeyDescriptor
// (Identity Center refuses metadata with one), no validUntil (the file is uploaded once).
func (p *IdP) Metadata(ctx context.Context) ([]byte, error) {
	set, err := p.keys.Current(ctx)
	if err != nil {
		return nil, err
	}
	ed := p.provider(set, nil).Metadata()
	ed.ValidUntil, ed.CacheDuration = time.Time{}, 0
	for i := range ed.IDPSSODescriptors {
		d := &ed.IDPSSODescriptors[i]
		kept := d.KeyDescriptors[:0]
		for _, kd := range d.KeyDescriptors {
			if kd.Use == "signing" {
				kept = append(kept, kd)
			}
		}
		d.KeyDescriptors = kept
	}
	b, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

// spLookup answers crewjam's service provider lookups from the store, remembering which
// resource answered.
type spLookup struct {
	ctx   context.Context
	st    store.Reader
	name  string
	spec  *resource.SAMLServiceProviderSpec
	byApp string // IdP-initiated: look up this resource by name
	err   error  // the store's failure, if any
}

// GetServiceProvider finds the service provider whose entity id is id (for an IdP-initiated
// sign-on, the resource named byApp).
func (l *spLookup) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	if l.byApp != "" {
		o, err := l.st.Get(l.ctx, resource.KindSAMLServiceProvider, l.byApp)
		if errors.Is(err, store.ErrNotFound) {
			return nil, os.ErrNotExist
		} else if err != nil {
			l.err = err
			return nil, err
		}
		l.name, l.spec = o.Metadata.Name, o.Spec.(*resource.SAMLServiceProviderSpec)
		return descriptor(l.spec), nil
	}
	objs, err := l.st.List(l.ctx, resource.KindSAMLServiceProvider, store.ListOptions{})
	if err != nil {
		l.err = err
		return nil, err
	}
	for _, o := range objs {
		if s := o.Spec.(*resource.SAMLServiceProviderSpec); s.EntityID == id {
			l.name, l.spec = o.Metadata.Name, s
			return descriptor(s), nil
		}
	}
	return nil, os.ErrNotExist
}

// descriptor is the metadata crewjam is shown of a service provider: its entity id and ACS
// endpoints, and no key (so nothing is ever encrypted, and no request signature is expected).
func descriptor(s *resource.SAMLServiceProviderSpec) *saml.EntityDescriptor {
	d := saml.SPSSODescriptor{}
	d.ProtocolSupportEnumeration = "urn:oasis:names:tc:SAML:2.0:protocol"
	d.NameIDFormats = []saml.NameIDFormat{saml.EmailAddressNameIDFormat}
	for i, e := range s.ACS {
		def := e.IsDefault
		idx := e.Index
		if idx == 0 && i > 0 {
			idx = i
		}
		d.AssertionConsumerServices = append(d.AssertionConsumerServices, saml.IndexedEndpoint{Binding: e.Binding, Location: e.URL, Index: idx, IsDefault: &def})
	}
	return &saml.EntityDescriptor{EntityID: s.EntityID, SPSSODescriptors: []saml.SPSSODescriptor{d}}
}

// BadRequest is an AuthnRequest refused: malformed, too large, from an unknown service provider,
// for an ACS the provider does not have, expired. Its message is for people.
type BadRequest struct{ Err error }

func (e *BadRequest) Error() string { return e.Err.Error() }
func (e *BadRequest) Unwrap() error { return e.Err }

func badRequest(format string, args ...any) error {
	return &BadRequest{fmt.Errorf(format, args...)}
}

// Request is an AuthnRequest checked (or an IdP-initiated sign-on), waiting for its person.
type Request struct {
	// SP names the saml_service_provider resource.
	SP, EntityID string
	// ID is the AuthnRequest's ID (the Response's InResponseTo); empty for IdP-initiated.
	ID         string
	ACS        string
	RelayState string
	// XML is the AuthnRequest (nil for IdP-initiated).
	XML  []byte
	spec *resource.SAMLServiceProviderSpec
	crew *saml.IdpAuthnRequest
}

// ReadRequest reads an AuthnRequest from r, with either binding (GET: HTTP-Redirect, DEFLATE and
// base64 in the query; POST: HTTP-POST, base64 in the form), within bounds, and checks it: its
// Issuer must be a configured service provider, its AssertionConsumerServiceURL one of that
// provider's ACS URLs, its IssueInstant recent, its Destination (when given) warden's SSO URL.
func (p *IdP) ReadRequest(r *http.Request) (*Request, error) {
	var raw []byte
	var relay string
	switch r.Method {
	case http.MethodGet:
		if len(r.URL.RawQuery) > MaxRedirectQuery {
			return nil, badRequest("the request's query is longer than %d bytes", MaxRedirectQuery)
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, badRequest("the request's query does not parse: %v", err)
		}
		if len(q["SAMLRequest"]) != 1 || len(q["RelayState"]) > 1 {
			return nil, badRequest("an HTTP-Redirect request carries one SAMLRequest (and at most one RelayState)")
		}
		compressed, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
		if err != nil {
			return nil, badRequest("SAMLRequest is not base64: %v", err)
		}
		raw, err = Inflate(compressed, MaxRequestXML)
		if err != nil {
			return nil, &BadRequest{err}
		}
		relay = q.Get("RelayState")
	case http.MethodPost:
		r.Body = http.MaxBytesReader(nil, r.Body, MaxPostBody)
		if err := r.ParseForm(); err != nil {
			return nil, badRequest("the form could not be read (at most %d bytes): %v", MaxPostBody, err)
		}
		if len(r.PostForm["SAMLRequest"]) != 1 || len(r.PostForm["RelayState"]) > 1 {
			return nil, badRequest("an HTTP-POST request carries one SAMLRequest (and at most one RelayState)")
		}
		enc := strings.Map(func(c rune) rune {
			if c == '\r' || c == '\n' {
				return -1
			}
			return c
		}, r.PostForm.Get("SAMLRequest"))
		var err error
		raw, err = base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, badRequest("SAMLRequest is not base64: %v", err)
		}
		if len(raw) > MaxRequestXML {
			return nil, badRequest("the AuthnRequest is larger than %d bytes", MaxRequestXML)
		}
		relay = r.PostForm.Get("RelayState")
	default:
		return nil, badRequest("method %s: AuthnRequests come by GET (HTTP-Redirect) or POST (HTTP-POST)", r.Method)
	}
	return p.Check(r.Context(), raw, relay)
}

// Inflate inflates a raw DEFLATE stream, refusing one that inflates past limit bytes.
func Inflate(compressed []byte, limit int) ([]byte, error) {
	fr := flate.NewReader(bytes.NewReader(compressed))
	defer fr.Close()
	out, err := io.ReadAll(io.LimitReader(fr, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("SAMLRequest does not inflate (DEFLATE): %v", err)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("SAMLRequest inflates past %d bytes: refused (a DEFLATE bomb, or not an AuthnRequest)", limit)
	}
	return out, nil
}

// checkRelayState refuses a RelayState that is too long or holds control characters.
func checkRelayState(rs string) error {
	if len(rs) > MaxRelayState {
		return badRequest("RelayState is longer than %d bytes", MaxRelayState)
	}
	for _, c := range rs {
		if c < 0x20 || c == 0x7f {
			return badRequest("RelayState holds control characters")
		}
	}
	return nil
}

// Check checks an AuthnRequest's XML (see ReadRequest).
func (p *IdP) Check(ctx context.Context, raw []byte, relay string) (*Request, error) {
	return p.CheckAt(ctx, raw, relay, p.now())
}

// CheckAt checks an AuthnRequest received at received: the server checks again, as received, the
// request it kept while the person signed in (a sign-in takes longer than the 90 seconds a
// request's IssueInstant is good for).
func (p *IdP) CheckAt(ctx context.Context, raw []byte, relay string, received time.Time) (*Request, error) {
	if len(raw) > MaxRequestXML {
		return nil, badRequest("the AuthnRequest is larger than %d bytes", MaxRequestXML)
	}
	if err := checkRelayState(relay); err != nil {
		return nil, err
	}
	// A SAML message has no document type declaration: one is refused before any parser sees it
	// (entity expansion, external entities).
	if bytes.Contains(raw, []byte("<!")) {
		return nil, badRequest("the AuthnRequest holds a document type declaration, an entity, a comment or a CDATA section: refused")
	}
	set, err := p.keys.Current(ctx)
	if err != nil {
		return nil, err
	}
	sps := &spLookup{ctx: ctx, st: p.st}
	idp := p.provider(set, sps)
	cr := &saml.IdpAuthnRequest{IDP: idp, HTTPRequest: (&http.Request{}).WithContext(ctx), RequestBuffer: raw, RelayState: relay, Now: received}
	if err := cr.Validate(); err != nil {
		if errors.Is(err, saml.ErrUnknownServiceProvider) {
			issuer := ""
			if cr.Request.Issuer != nil {
				issuer = cr.Request.Issuer.Value
			}
			return nil, badRequest("the AuthnRequest's issuer %q is not a service provider warden knows (warden saml sp set)", clip(issuer, 200))
		}
		if errors.Is(err, saml.ErrUnknownAssertionConsumerService) {
			return nil, badRequest("the AuthnRequest's AssertionConsumerServiceURL %q is not one of the service provider's", clip(cr.Request.AssertionConsumerServiceURL, 200))
		}
		if sps.err != nil { // the store failed, not the request
			return nil, sps.err
		}
		return nil, badRequest("the AuthnRequest is refused: %v", err)
	}
	if cr.ACSEndpoint.Binding != resource.SAMLBindingPOST {
		return nil, badRequest("the AuthnRequest asks for a response at an ACS with binding %s: warden sends HTTP-POST only", cr.ACSEndpoint.Binding)
	}
	if err := resource.CheckSAMLURL(cr.ACSEndpoint.Location); err != nil {
		return nil, badRequest("the ACS URL: %v", err)
	}
	return &Request{SP: sps.name, EntityID: sps.spec.EntityID, ID: cr.Request.ID, ACS: cr.ACSEndpoint.Location, RelayState: relay,
		XML: raw, spec: sps.spec, crew: cr}, nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// ErrUnknownApp: no service provider of that name.
var ErrUnknownApp = errors.New("no such SAML app")

// Unsolicited is an IdP-initiated sign-on to app (the service provider resource of that name),
// sent to its default ACS, with relayState (which, for Identity Center, may only be its access
// portal start URL: the server checks).
func (p *IdP) Unsolicited(ctx context.Context, app, relayState string) (*Request, error) {
	if err := checkRelayState(relayState); err != nil {
		return nil, err
	}
	set, err := p.keys.Current(ctx)
	if err != nil {
		return nil, err
	}
	sps := &spLookup{ctx: ctx, st: p.st, byApp: app}
	idp := p.provider(set, sps)
	cr, err := idp.NewIdpInitiatedRequest((&http.Request{}).WithContext(ctx), app, relayState)
	if errors.Is(err, saml.ErrUnknownServiceProvider) {
		return nil, fmt.Errorf("%w %q: warden saml sp set makes it", ErrUnknownApp, app)
	}
	if err != nil {
		return nil, err
	}
	cr.Now = p.now()
	if cr.ACSEndpoint.Binding != resource.SAMLBindingPOST {
		return nil, badRequest("the service provider's default ACS has binding %s: warden sends HTTP-POST only", cr.ACSEndpoint.Binding)
	}
	return &Request{SP: sps.name, EntityID: sps.spec.EntityID, ACS: cr.ACSEndpoint.Location, RelayState: relayState, spec: sps.spec, crew: cr}, nil
}

// StartURL is the access portal start URL for app: its own start_url, else config saml.start_url.
func (p *IdP) StartURL(ctx context.Context, app string) (string, error) {
	o, err := p.st.Get(ctx, resource.KindSAMLServiceProvider, app)
	if errors.Is(err, store.ErrNotFound) {
		return p.cfg.StartURL, nil
	}
	if err != nil {
		return "", err
	}
	if s := o.Spec.(*resource.SAMLServiceProviderSpec).StartURL; s != "" {
		return s, nil
	}
	return p.cfg.StartURL, nil
}

// Refusal: no assertion for this person. Title and Message are for the page they see.
type Refusal struct {
	Reason, Title, Message string
}

func (r *Refusal) Error() string { return r.Reason + ": " + r.Message }

// Response is a signed SAML Response ready to be posted to the ACS.
type Response struct {
	URL, RelayState string
	// SAMLResponse is the Response's XML, base64 (the form's value).
	SAMLResponse string
	AssertionID  string
	SP           string
	XML          []byte
}

// Eligible says whether user may be given an assertion: they exist, are not disabled, and (when
// the sync is on) Identity Center has them. A *Refusal says why not.
func (p *IdP) Eligible(ctx context.Context, user string) (*resource.UserSpec, error) {
	o, err := p.st.Get(ctx, resource.KindUser, user)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Refusal{Reason: "deleted", Title: "Your account no longer exists",
			Message: "Your warden account (" + user + ") has been deleted, so warden cannot sign you in to AWS. Ask an administrator if this is a mistake."}
	}
	if err != nil {
		return nil, err
	}
	u := o.Spec.(*resource.UserSpec)
	if u.Disabled {
		return nil, &Refusal{Reason: "disabled", Title: "Your account is disabled",
			Message: "Your warden account (" + user + ") is disabled, so warden does not sign you in to AWS. Ask an administrator to enable it."}
	}
	if p.cfg.RequireProvisioned {
		rec, err := p.st.Get(ctx, resource.KindSyncRecord, "user:"+user)
		provisioned := false
		if err == nil {
			s := rec.Spec.(*resource.SyncRecordSpec)
			provisioned = s.Type == resource.RecordUser && s.IDCID != "" && !s.Released && s.Op != "delete"
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if !provisioned {
			return nil, &Refusal{Reason: "not provisioned", Title: "You are not in AWS IAM Identity Center yet",
				Message: "Your account (" + user + ") has not been provisioned to AWS IAM Identity Center yet, so it would refuse you. The sync adds you within minutes of your account's creation; try again shortly, or ask an administrator to run warden sync."}
		}
	}
	return u, nil
}

// Issue makes the signed Response for req, for user, who signed in at authnAt: checked with
// Eligible first, audited (who, which service provider, the assertion's id; never the assertion).
func (p *IdP) Issue(ctx context.Context, req *Request, user string, authnAt time.Time, remoteAddr string) (*Response, error) {
	u, err := p.Eligible(ctx, user)
	if err != nil {
		return nil, err
	}
	cr := req.crew
	now := p.now().UTC()
	cr.Now = now
	cr.IDP.Clock = dsig.NewFakeClockAt(now)
	attrs := p.attributes(req.spec, u)
	sessionEnd := now.Add(p.cfg.SessionDuration)
	id := "_" + randomHex(20)
	addr := hostOf(remoteAddr)
	var locality *saml.SubjectLocality
	if addr != "" {
		locality = &saml.SubjectLocality{Address: addr}
	}
	a := &saml.Assertion{
		ID: id, IssueInstant: now, Version: "2.0",
		Issuer: saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: p.EntityID()},
		Subject: &saml.Subject{
			NameID: &saml.NameID{Format: resource.SAMLNameIDEmail, Value: user},
			SubjectConfirmations: []saml.SubjectConfirmation{{
				Method: "urn:oasis:names:tc:SAML:2.0:cm:bearer",
				SubjectConfirmationData: &saml.SubjectConfirmationData{
					InResponseTo: req.ID, NotOnOrAfter: now.Add(ResponseWindow), Recipient: req.ACS,
				},
			}},
		},
		Conditions: &saml.Conditions{
			NotBefore: now.Add(-ClockSkew), NotOnOrAfter: now.Add(ResponseWindow),
			AudienceRestrictions: []saml.AudienceRestriction{{Audience: saml.Audience{Value: req.EntityID}}},
		},
		AuthnStatements: []saml.AuthnStatement{{
			AuthnInstant: authnAt.UTC(), SessionIndex: "_" + randomHex(16), SessionNotOnOrAfter: &sessionEnd,
			SubjectLocality: locality,
			AuthnContext: saml.AuthnContext{AuthnContextClassRef: &saml.AuthnContextClassRef{
				Value: "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"}},
		}},
	}
	if len(attrs) > 0 {
		a.AttributeStatements = []saml.AttributeStatement{{Attributes: attrs}}
	}
	cr.Assertion = a
	cr.AssertionEl, cr.ResponseEl = nil, nil
	if err := cr.MakeResponse(); err != nil {
		return nil, fmt.Errorf("signing the SAML response: %w", err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(cr.ResponseEl)
	b, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("SAML assertion %s for %s to %s (ACS %s)", id, user, req.EntityID, req.ACS)
	if req.ID == "" {
		detail += ", IdP-initiated"
	} else {
		detail += ", in response to " + clip(req.ID, 128)
	}
	err = p.st.Txn(ctx, func(tx store.Tx) error {
		return audit.Append(ctx, tx, audit.Entry{Actor: user, Action: "saml.assertion", Kind: resource.KindSAMLServiceProvider, Name: req.SP,
			Detail: detail, Time: now})
	})
	if err != nil {
		return nil, fmt.Errorf("auditing the assertion: %w", err)
	}
	return &Response{URL: req.ACS, RelayState: req.RelayState, SAMLResponse: base64.StdEncoding.EncodeToString(b), AssertionID: id, SP: req.SP, XML: b}, nil
}

// attributes are the service provider's AccessControl attributes from u's traits: one value each
// (a trait with no value, or with several, is left out: Identity Center refuses multi-valued
// attributes).
func (p *IdP) attributes(spec *resource.SAMLServiceProviderSpec, u *resource.UserSpec) []saml.Attribute {
	var out []saml.Attribute
	for _, m := range spec.Attributes {
		vals := u.Traits[m.Trait]
		if len(vals) != 1 {
			continue
		}
		out = append(out, saml.Attribute{Name: m.Name(), NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
			Values: []saml.AttributeValue{{Type: "xs:string", Value: vals[0]}}})
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func hostOf(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return ""
}
