package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/samlidp"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/web"
)

// The SAML identity provider's routes (package samlidp; docs/saml.md):
//
//	GET  /saml/metadata                       the IdP metadata (to upload to Identity Center)
//	GET|POST /saml/sso                        SP-initiated sign-on (HTTP-Redirect, HTTP-POST)
//	GET  /saml/sso/continue/{id}              the same, once the person has signed in
//	GET  /saml/idp-initiated/{app}            IdP-initiated sign-on (RelayState: the start URL)
//	GET  /v1/apps                             the apps the caller may open
//	GET  /v1/saml/metadata, POST /v1/saml/rotate, PUT /v1/saml/sp   administrators
//
// A person not signed in is sent to /login?next=/saml/sso/continue/<id>, their AuthnRequest kept
// server side meanwhile (kind saml_request: ten minutes, one use, bound to their browser); a
// session without a second factor, when auth.second_factor is required, to /login/step-up.

// samlRequestTTL is how long an AuthnRequest waits for its person to sign in.
const samlRequestTTL = 10 * time.Minute

// samlState is the identity provider and what the routes keep.
type samlState struct {
	idp *samlidp.IdP
	// secondFactor: auth.second_factor is required, so a session needs one to be asserted.
	secondFactor bool
	// keep bounds the AuthnRequests kept for anonymous visitors (20 a second, bursts of 100), on the
	// server's clock.
	keep      *rate.Limiter
	mu        sync.Mutex
	lastSweep time.Time
}

// SetSAML turns the SAML identity provider on. secondFactorRequired is auth.second_factor ==
// required: a session without a second factor is sent to step up before an assertion is made.
func (s *Server) SetSAML(idp *samlidp.IdP, secondFactorRequired bool) {
	s.saml = &samlState{idp: idp, secondFactor: secondFactorRequired, keep: rate.NewLimiter(20, 100)}
}

// SAML is the identity provider, or nil.
func (s *Server) SAML() *samlidp.IdP {
	if s.saml == nil {
		return nil
	}
	return s.saml.idp
}

func (s *Server) samlRoutes() {
	s.handle("GET /saml/metadata", s.samlMetadata)
	s.handle("GET /saml/sso", s.samlSSO)
	s.handle("POST /saml/sso", s.samlSSO)
	s.handle("GET /saml/sso/continue/{id}", s.samlResume)
	s.handle("GET /saml/idp-initiated/{app}", s.samlIdPInitiated)
	s.handle("GET /v1/apps", s.authed(s.apps))
	s.handle("GET /v1/saml/metadata", s.authed(s.samlMetadataAPI))
	s.handle("POST /v1/saml/rotate", s.authed(s.samlRotate))
	s.handle("PUT /v1/saml/sp", s.authed(s.samlSetSP))
}

func (s *Server) samlOff(w http.ResponseWriter, r *http.Request) bool {
	if s.saml == nil {
		s.pageError(w, r, http.StatusNotFound, "The SAML identity provider is not enabled on this warden.")
		return true
	}
	return false
}

func (s *Server) samlMetadata(w http.ResponseWriter, r *http.Request) {
	if s.samlOff(w, r) {
		return
	}
	md, err := s.saml.idp.Metadata(r.Context())
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Content-Disposition", `inline; filename="warden-idp-metadata.xml"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(md)
}

func (s *Server) samlSSO(w http.ResponseWriter, r *http.Request) {
	if s.samlOff(w, r) {
		return
	}
	req, err := s.saml.idp.ReadRequest(r)
	if err != nil {
		s.samlRequestFailed(w, r, err)
		return
	}
	s.samlAnswer(w, r, req, "")
}

func (s *Server) samlRequestFailed(w http.ResponseWriter, r *http.Request, err error) {
	var br *samlidp.BadRequest
	if errors.As(err, &br) {
		s.pages.Render(w, r, http.StatusBadRequest, "error", web.ErrorData{Title: "This sign-in request cannot be used",
			Message: "The sign-in request warden received was refused: " + br.Error() + ". Go back to the AWS access portal and sign in again.", Back: "/"})
		return
	}
	if errors.Is(err, samlidp.ErrUnknownApp) {
		s.pageError(w, r, http.StatusNotFound, err.Error())
		return
	}
	s.pageFail(w, r, err)
}

// samlAnswer asserts req for the signed-in person, or sends them to sign in (or step up) first,
// keeping req under keptID (a new record when empty).
func (s *Server) samlAnswer(w http.ResponseWriter, r *http.Request, req *samlidp.Request, keptID string) {
	sess := s.session(r)
	if sess == nil || (s.saml.secondFactor && sess.SecondFactorAt.IsZero()) {
		if s.local == nil || s.Sessions() == nil {
			s.pageError(w, r, http.StatusNotFound, "Sign-in is not enabled on this warden, so it cannot sign you in to "+req.EntityID+".")
			return
		}
		id := keptID
		if id == "" {
			var err error
			if id, err = s.keepSAMLRequest(w, r, req); err != nil {
				if errors.Is(err, errTooMany) {
					s.pageError(w, r, http.StatusTooManyRequests, "Too many sign-in requests at once: try again in a moment.")
					return
				}
				s.pageFail(w, r, err)
				return
			}
		}
		next := "/saml/sso/continue/" + id
		web.SetSecurityHeaders(w.Header())
		if sess == nil && r.Method == http.MethodPost && keptID == "" {
			// An HTTP-POST AuthnRequest comes cross-site, so the browser sends no SameSite=Lax
			// cookie with it: the person may well be signed in. The redirect's GET carries them.
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		if sess == nil {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
		} else {
			http.Redirect(w, r, "/login/step-up?next="+url.QueryEscape(next), http.StatusSeeOther)
		}
		return
	}
	if keptID != "" {
		// Used once: whoever deletes it asserts it.
		if _, err := s.store.Delete(r.Context(), resource.KindSAMLRequest, keptID, 0); errors.Is(err, store.ErrNotFound) {
			s.samlGone(w, r)
			return
		} else if err != nil {
			s.pageFail(w, r, err)
			return
		}
	}
	resp, err := s.saml.idp.Issue(r.Context(), req, sess.User, authnInstant(sess), r.RemoteAddr)
	var ref *samlidp.Refusal
	if errors.As(err, &ref) {
		s.log.Info("SAML: no assertion", "user", sess.User, "sp", req.SP, "reason", ref.Reason)
		s.page(w, r, sess, http.StatusForbidden, "error", web.ErrorData{Title: ref.Title, Message: ref.Message, Back: "/"})
		return
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	u, _ := url.Parse(resp.URL)
	ctx := web.WithFormAction(r.Context(), u.Scheme+"://"+u.Host)
	s.page(w, r.WithContext(ctx), sess, http.StatusOK, "saml_post", samlPostData{App: appTitle(req.SP), URL: resp.URL,
		SAMLResponse: resp.SAMLResponse, RelayState: resp.RelayState})
}

type samlPostData struct {
	App, URL, SAMLResponse, RelayState string
}

func appTitle(sp string) string {
	if sp == samlidp.AppName {
		return "AWS IAM Identity Center"
	}
	return sp
}

// authnInstant is when the person last authenticated in this session.
func authnInstant(sess *auth.Session) time.Time {
	t := sess.Created
	for _, m := range sess.Methods {
		if m.At.After(t) {
			t = m.At
		}
	}
	return t
}

var errTooMany = errors.New("too many kept SAML requests")

func browserHash(v string) string {
	sum := sha256.Sum256([]byte("warden saml browser\x00" + v))
	return hex.EncodeToString(sum[:])
}

// keepSAMLRequest keeps req while its person signs in, bound to this browser.
func (s *Server) keepSAMLRequest(w http.ResponseWriter, r *http.Request, req *samlidp.Request) (string, error) {
	if !s.saml.keep.AllowN(s.now(), 1) {
		return "", errTooMany
	}
	ctx := r.Context()
	s.sweepSAMLRequests(ctx)
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	o := resource.New(resource.KindSAMLRequest, id)
	o.Spec = &resource.SAMLRequestSpec{ServiceProvider: req.SP, RelayState: req.RelayState,
		Browser: browserHash(s.browserToken(w, r)), Expires: s.now().Add(samlRequestTTL).UTC()}
	if req.XML != nil {
		o.Spec.(*resource.SAMLRequestSpec).Request = base64.StdEncoding.EncodeToString(req.XML)
	}
	if err := resource.Validate(o); err != nil {
		return "", err
	}
	return id, s.store.Create(ctx, o)
}

// sweepSAMLRequests deletes the expired kept requests, at most once a minute per process.
func (s *Server) sweepSAMLRequests(ctx context.Context) {
	s.saml.mu.Lock()
	if s.now().Sub(s.saml.lastSweep) < time.Minute {
		s.saml.mu.Unlock()
		return
	}
	s.saml.lastSweep = s.now()
	s.saml.mu.Unlock()
	objs, err := s.store.List(ctx, resource.KindSAMLRequest, store.ListOptions{Limit: 5000})
	if err != nil {
		s.log.Warn("SAML: listing kept requests failed", "err", err)
		return
	}
	for _, o := range objs {
		if s.now().After(o.Spec.(*resource.SAMLRequestSpec).Expires) {
			s.store.Delete(ctx, resource.KindSAMLRequest, o.Metadata.Name, o.Metadata.Revision)
		}
	}
}

func (s *Server) samlGone(w http.ResponseWriter, r *http.Request) {
	s.pages.Render(w, r, http.StatusBadRequest, "error", web.ErrorData{Title: "This sign-in request expired",
		Message: "The sign-in request from AWS expired, was already used, or was begun in another browser. Go back to the AWS access portal and sign in again.", Back: "/"})
}

func (s *Server) samlResume(w http.ResponseWriter, r *http.Request) {
	if s.samlOff(w, r) {
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	if len(id) != 32 {
		s.samlGone(w, r)
		return
	}
	o, err := s.store.Get(ctx, resource.KindSAMLRequest, id)
	if errors.Is(err, store.ErrNotFound) {
		s.samlGone(w, r)
		return
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	kept := o.Spec.(*resource.SAMLRequestSpec)
	if s.now().After(kept.Expires) || kept.Browser != browserHash(s.cookie(r, "warden_csrf")) {
		s.samlGone(w, r)
		return
	}
	var req *samlidp.Request
	if kept.Request == "" {
		req, err = s.saml.idp.Unsolicited(ctx, kept.ServiceProvider, kept.RelayState)
	} else {
		raw, derr := base64.StdEncoding.DecodeString(kept.Request)
		if derr != nil {
			s.samlGone(w, r)
			return
		}
		req, err = s.saml.idp.CheckAt(ctx, raw, kept.RelayState, kept.Expires.Add(-samlRequestTTL))
	}
	if err != nil {
		s.samlRequestFailed(w, r, err)
		return
	}
	s.samlAnswer(w, r, req, id)
}

func (s *Server) samlIdPInitiated(w http.ResponseWriter, r *http.Request) {
	if s.samlOff(w, r) {
		return
	}
	ctx := r.Context()
	app := r.PathValue("app")
	if !resource.ValidName(app) {
		s.pageError(w, r, http.StatusNotFound, "There is no such app.")
		return
	}
	relay := r.URL.Query().Get("RelayState")
	start, err := s.saml.idp.StartURL(ctx, app)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	if relay != "" && relay != start {
		s.pageError(w, r, http.StatusBadRequest, "The RelayState of an IdP-initiated sign-on may only be the access portal's start URL.")
		return
	}
	if relay == "" {
		relay = start
	}
	req, err := s.saml.idp.Unsolicited(ctx, app, relay)
	if err != nil {
		s.samlRequestFailed(w, r, err)
		return
	}
	s.samlAnswer(w, r, req, "")
}

// ---- API ----

// App is one app a person may open through warden's SAML identity provider.
type App struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// LoginURL signs the person in (IdP-initiated) and lands them at StartURL.
	LoginURL string `json:"login_url"`
	StartURL string `json:"start_url,omitempty"`
}

// AppsResponse lists the caller's apps.
type AppsResponse struct {
	Items []App `json:"items"`
}

// apps lists aws-identity-center for a caller who holds at least one account assignment: through
// their roles (policy.Holdings: standing roles and access lists) or an approved request in its
// window; not for a disabled user.
func (s *Server) apps(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	items, err := s.appsOf(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, AppsResponse{Items: items})
}

// appsOf are the apps p may open (see apps): none when the SAML identity provider is off.
func (s *Server) appsOf(ctx context.Context, p *auth.Principal) ([]App, error) {
	out := []App{}
	if s.saml == nil || !resource.ValidUserName(p.User) {
		return out, nil
	}
	if _, err := s.store.Get(ctx, resource.KindSAMLServiceProvider, samlidp.AppName); errors.Is(err, store.ErrNotFound) {
		return out, nil
	} else if err != nil {
		return nil, err
	}
	holds, err := s.holdsAssignment(ctx, p.User)
	if err != nil {
		return nil, err
	}
	if holds {
		start, err := s.saml.idp.StartURL(ctx, samlidp.AppName)
		if err != nil {
			return nil, err
		}
		out = append(out, App{Name: samlidp.AppName, Title: appTitle(samlidp.AppName),
			LoginURL: s.saml.idp.LoginURL(samlidp.AppName), StartURL: start})
	}
	return out, nil
}

func (s *Server) holdsAssignment(ctx context.Context, user string) (bool, error) {
	if u, err := s.store.Get(ctx, resource.KindUser, user); errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	} else if u.Spec.(*resource.UserSpec).Disabled {
		return false, nil // a disabled user gets no assertion: no app to open
	}
	roles, err := access.Roles(ctx, s.store, user, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, o := range roles {
		if len(o.Spec.(*resource.RoleSpec).Allow.AccountAssignments) > 0 {
			return true, nil
		}
	}
	reqs, err := s.store.List(ctx, resource.KindAccessRequest, store.ListOptions{Filters: store.Filter(resource.IndexUser, user, resource.IndexState, resource.StateApproved)})
	if err != nil {
		return false, err
	}
	now := s.now()
	for _, o := range reqs {
		rq := o.Spec.(*resource.AccessRequestSpec)
		if rq.Start != nil && rq.End != nil && !now.Before(*rq.Start) && now.Before(*rq.End) {
			if len(rq.Resources) > 0 {
				return true, nil
			}
			for _, name := range rq.Roles {
				ro, err := s.store.Get(ctx, resource.KindRole, name)
				if err == nil && len(ro.Spec.(*resource.RoleSpec).Allow.AccountAssignments) > 0 {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

func (s *Server) samlAdmin(w http.ResponseWriter, r *http.Request, p *auth.Principal, what string) bool {
	if s.saml == nil {
		writeError(w, http.StatusNotFound, errors.New("the SAML identity provider is not enabled on this warden"))
		return false
	}
	if !p.Admin {
		s.fail(w, r, forbidden("only administrators may %s", what))
		return false
	}
	return true
}

func (s *Server) samlMetadataAPI(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if s.saml == nil {
		writeError(w, http.StatusNotFound, errors.New("the SAML identity provider is not enabled on this warden"))
		return
	}
	md, err := s.saml.idp.Metadata(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Write(md)
}

// RotateRequest is a step of the signing key rotation: rotate, finish or cleanup.
type RotateRequest struct {
	Step string `json:"step"`
}

// RotateResponse says what the step did.
type RotateResponse struct {
	Detail string `json:"detail"`
}

func (s *Server) samlRotate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !s.samlAdmin(w, r, p, "rotate the SAML signing keys") || !s.requireStepUp(w, r, p, "rotating the SAML signing keys (an administrative change)") {
		return
	}
	var req RotateRequest
	if err := decodeBody(r, &req, `{"step": "rotate"|"finish"|"cleanup"}`); err != nil {
		s.fail(w, r, err)
		return
	}
	keys := s.saml.idp.Keys()
	var detail string
	var err error
	switch req.Step {
	case "rotate":
		detail, err = keys.Rotate(r.Context(), actor(p))
	case "finish":
		detail, err = keys.Finish(r.Context(), actor(p))
	case "cleanup":
		detail, err = keys.Cleanup(r.Context(), actor(p))
	default:
		err = &resource.FieldError{Field: "step", Message: fmt.Sprintf("%q is not rotate, finish or cleanup", req.Step)}
	}
	if errors.Is(err, samlidp.ErrRotation) {
		writeError(w, http.StatusConflict, err)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, RotateResponse{Detail: detail})
}

// SetSPRequest sets the aws-identity-center service provider from Identity Center's metadata.
type SetSPRequest struct {
	Metadata string `json:"metadata"`
}

// samlSetSP makes or replaces the service provider from its metadata, keeping the attribute
// mapping and start URL already set (they are warden's, not the metadata's).
func (s *Server) samlSetSP(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !s.samlAdmin(w, r, p, "set the SAML service provider") || !s.requireStepUp(w, r, p, "setting the SAML service provider (an administrative change)") {
		return
	}
	var req SetSPRequest
	b, err := readBody(r, samlidp.MaxSPMetadata*2)
	if err == nil {
		err = decodeJSON(b, &req, `{"metadata": "<the service provider's metadata XML>"}`)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	got, err := s.setSP(r.Context(), p, []byte(req.Metadata))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

// setSP makes or replaces the aws-identity-center service provider from Identity Center's SAML
// metadata (the caller checked the administrator and step-up): PUT /v1/saml/sp (warden saml sp
// set) and the guided integration's identity source step.
func (s *Server) setSP(ctx context.Context, p *auth.Principal, metadata []byte) (*resource.Object, error) {
	spec, err := samlidp.ParseSPMetadata(metadata)
	if err != nil {
		var fe resource.Errors
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, badRequest{err}
	}
	o := resource.New(resource.KindSAMLServiceProvider, samlidp.AppName)
	o.Spec = spec
	cur, err := s.store.Get(ctx, resource.KindSAMLServiceProvider, samlidp.AppName)
	switch {
	case err == nil:
		old := cur.Spec.(*resource.SAMLServiceProviderSpec)
		spec.Attributes, spec.StartURL = old.Attributes, old.StartURL
		o.Metadata = cur.Metadata
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	o.Metadata.Description = strings.TrimSpace("AWS IAM Identity Center, from its SAML metadata")
	if _, err := s.manage.Apply(ctx, actor(p), []*resource.Object{o}); err != nil {
		return nil, unwrapSingle(err)
	}
	return s.store.Get(ctx, resource.KindSAMLServiceProvider, samlidp.AppName)
}
