package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/local"
	"github.com/wardenhq/warden/internal/auth/throttle"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/web"
)

// The sign-in pages of local accounts (package auth/local) and the administrators' API for them:
//
//	GET  /                       the signed-in person's session (else to /login)
//	GET  /login, POST /login     user name and password
//	GET|POST /login/second-factor  a TOTP or recovery code (passkeys: package passkey)
//	GET|POST /login/step-up      a second factor again, for a signed-in person (Sessions.AddFactor)
//	POST /logout                 sign out; POST /logout/everywhere: every session of the person
//	GET|POST /enroll/{token}     enrolment: a password, then TOTP (or skip, when optional)
//	POST /v1/auth/invites        administrators: an enrolment link for a user
//	POST /v1/auth/unlock         administrators: lift a user's sign-in lock
//
// Every form carries a CSRF token: the session's, or before a session exists a token bound to the
// browser (a random cookie) and to the flow (login, the login's id, the invitation's id); every
// POST checks it. Every failure of a password says the same thing whether the user exists or not,
// and costs the same work; the throttle is asked before any check and told after.

// LocalAuth is what the sign-in pages of local accounts need.
type LocalAuth struct {
	Accounts *local.Service
	Throttle *throttle.Throttle
	// TrustedProxies (auth.trusted_proxies) are the proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// BaseURL is where people reach warden (config BaseURL), for enrolment links.
	BaseURL string
	// Secure: served over TLS (cookies Secure, with the __Host- prefix).
	Secure bool
	// HasPasskey, when set, says whether a user has a passkey: a second factor package local does
	// not hold (default: the server's passkey service, when it has one).
	HasPasskey func(ctx context.Context, user string) (bool, error)
}

// SetLocalAuth turns the local accounts' sign-in on.
func (s *Server) SetLocalAuth(la *LocalAuth) { s.local = la }

// LocalAuth is the local accounts' sign-in, or nil.
func (s *Server) LocalAuth() *LocalAuth { return s.local }

// Pages renders the server's HTML pages.
func (s *Server) Pages() *web.Pages { return s.pages }

// Limits of a sign-in form.
const (
	maxFormBody = 16 << 10
	maxNext     = 2048
)

func (s *Server) signinRoutes() {
	s.mux.Handle("GET /assets/", s.pages.Assets())
	s.handle("GET /account", s.ui(web.SectionAccount, s.account))
	s.handle("GET /login", s.loginForm)
	s.handle("POST /login", s.loginSubmit)
	s.handle("GET /login/second-factor", s.secondFactorForm)
	s.handle("POST /login/second-factor", s.secondFactorSubmit)
	s.handle("GET /login/step-up", s.stepUpForm)
	s.handle("POST /login/step-up", s.stepUpSubmit)
	s.handle("POST /logout", s.logout)
	s.handle("POST /logout/everywhere", s.logoutEverywhere)
	s.handle("GET /enroll/{token}", s.enrolForm)
	s.handle("POST /enroll/{token}", s.enrolSubmit)
	s.handle("POST /v1/auth/invites", s.authed(s.invite))
	s.handle("POST /v1/auth/unlock", s.authed(s.unlock))
}

// ---- helpers ----

// SafeNext is next when it is a path on this server ("/requests?x=1"), else "/": never another
// host ("//evil.example", "https://...", "/\evil.example"), never a scheme, never control
// characters.
func SafeNext(next string) string {
	if next == "" || len(next) > maxNext || next[0] != '/' || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\x00\r\n\t") {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

func (s *Server) cookieName(base string) string {
	if s.local != nil && s.local.Secure {
		return "__Host-" + base
	}
	return base
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(name), Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.local != nil && s.local.Secure, SameSite: http.SameSiteLaxMode})
}

func (s *Server) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(s.cookieName(name))
	if err != nil || len(c.Value) > 128 {
		return ""
	}
	return c.Value
}

// browserToken is the random value of this browser's pre-session cookie, set when missing.
func (s *Server) browserToken(w http.ResponseWriter, r *http.Request) string {
	if v := s.cookie(r, "warden_csrf"); len(v) == 43 {
		return v
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	s.setCookie(w, "warden_csrf", v, 0)
	// The request made now reads it too (the form rendered with it).
	r.AddCookie(&http.Cookie{Name: s.cookieName("warden_csrf"), Value: v})
	return v
}

func flowCSRF(browser, binding string) string {
	sum := sha256.Sum256([]byte("warden flow csrf\x00" + browser + "\x00" + binding))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// checkFlowCSRF checks a pre-session form's csrf field against the browser's cookie and the flow.
func (s *Server) checkFlowCSRF(r *http.Request, binding string) bool {
	b := s.cookie(r, "warden_csrf")
	got := r.PostFormValue("csrf")
	return b != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(flowCSRF(b, binding))) == 1
}

// parseForm reads a form body of at most maxFormBody.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	return r.ParseForm()
}

// session is r's browser session (nil when there is none or sessions are off).
func (s *Server) session(r *http.Request) *auth.Session {
	ss := s.Sessions()
	if ss == nil {
		return nil
	}
	sess, err := ss.Current(r)
	if err != nil {
		s.log.Warn("reading the session failed", "err", err)
		return nil
	}
	return sess
}

// page renders a page for r, the signed-in person (sess) in its header.
func (s *Server) page(w http.ResponseWriter, r *http.Request, sess *auth.Session, status int, name string, data any) {
	if sess != nil {
		r = r.WithContext(web.WithViewer(r.Context(), web.Viewer{User: sess.User, CSRF: s.Sessions().CSRFToken(sess)}))
	}
	s.pages.Render(w, r, status, name, data)
}

// flowPage renders a pre-session page whose forms carry the flow-bound token.
func (s *Server) flowPage(w http.ResponseWriter, r *http.Request, binding string, status int, name string, data any) {
	tok := flowCSRF(s.browserToken(w, r), binding)
	s.pages.Render(w, r.WithContext(web.WithCSRF(r.Context(), tok)), status, name, data)
}

func (s *Server) pageError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.pages.Error(w, r, status, msg)
}

// pageFail answers an internal failure with the error page and an id to find the log line.
func (s *Server) pageFail(w http.ResponseWriter, r *http.Request, err error) {
	id := newErrorID()
	s.log.Error("page failed", "error_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
	s.pages.Error(w, r, http.StatusInternalServerError, "Something went wrong on warden's side (error id "+id+"). Try again; if it persists, give the id to an administrator.")
}

func (s *Server) signinOff(w http.ResponseWriter, r *http.Request) bool {
	if s.local == nil || s.Sessions() == nil {
		s.pageError(w, r, http.StatusNotFound, "Sign-in is not enabled on this warden.")
		return true
	}
	return false
}

func (s *Server) source(r *http.Request) string {
	return throttle.SourceAddress(r, s.local.TrustedProxies)
}

// throttled asks the throttle before a check; it answers the page itself when the attempt must
// wait (true).
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, user, source string, again func(status int, msg string)) bool {
	wait, locked, err := s.local.Throttle.Check(r.Context(), user, source)
	if err != nil {
		s.pageFail(w, r, err)
		return true
	}
	switch {
	case locked:
		// Not audited per attempt (the throttle audited the lock): a locked account hammered
		// must not grow the log.
		again(http.StatusTooManyRequests, "Too many failed sign-ins: signing in is locked for a while. An administrator can lift the lock.")
		return true
	case wait > 0:
		again(http.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins: wait %s before trying again.", roundUp(wait)))
		return true
	}
	return false
}

func roundUp(d time.Duration) string {
	if d < time.Second {
		return "1s"
	}
	return auth.FormatDuration(d.Round(time.Second))
}

func (s *Server) hasPasskey(ctx context.Context, user string) (bool, error) {
	if s.local.HasPasskey != nil {
		return s.local.HasPasskey(ctx, user)
	}
	if s.passkeys != nil {
		keys, err := s.passkeys.List(ctx, user)
		return len(keys) > 0, err
	}
	return false, nil
}

// ---- pages ----

type homeData struct {
	User                             string
	Methods                          string
	Created, Expires, SecondFactorAt time.Time
	// PasskeysOn: passkeys are on; Passkeys are the person's (part D).
	PasskeysOn bool
	Passkeys   []PasskeyInfo
}

func methodList(ms []auth.MethodUse) string {
	names := map[string]string{auth.MethodPassword: "password", auth.MethodTOTP: "authenticator app", auth.MethodRecovery: "recovery code",
		auth.MethodPasskey: "passkey", auth.MethodOIDC: "single sign-on"}
	var out []string
	for _, m := range ms {
		n := names[m.Method]
		if n == "" {
			n = m.Method
		}
		if m.Connector != "" {
			n += " (" + m.Connector + ")"
		}
		out = append(out, n)
	}
	return strings.Join(out, ", ")
}

// account is the person's own page (/account): their session, their passkeys, sign out everywhere.
func (s *Server) account(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	sess := sessionOf(r)
	d := homeData{User: sess.User, Methods: methodList(sess.Methods), Created: sess.Created,
		Expires: sess.Expires, SecondFactorAt: sess.SecondFactorAt}
	if err := s.homePasskeys(r, &d); err != nil {
		s.pageFail(w, r, err)
		return
	}
	s.uiRender(w, r, http.StatusOK, "account", d)
}

type loginData struct {
	User, Next, Error, Notice string
	// Passkey: passkeys are on, so the page offers a usernameless sign-in with one (part D).
	Passkey bool
	// OIDC are the upstream connectors offered ("Sign in with <name>"; oidc.go).
	OIDC []OIDCConnector
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if s.signinOff(w, r) {
		return
	}
	d := loginData{OIDC: s.OIDCConnectors(), Next: SafeNext(r.URL.Query().Get("next")), Passkey: s.passkeys != nil}
	if u := r.URL.Query().Get("user"); resource.ValidUserName(u) {
		d.User = u // a link may name who signs in (the demo's do)
	}
	switch r.URL.Query().Get("out") {
	case "1":
		d.Notice = "You are signed out."
	case "all":
		d.Notice = "You are signed out everywhere."
	}
	s.flowPage(w, r, "login", http.StatusOK, "login", d)
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if s.signinOff(w, r) {
		return
	}
	ctx := r.Context()
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	user := strings.TrimSpace(r.PostFormValue("user"))
	password := r.PostFormValue("password")
	d := loginData{OIDC: s.OIDCConnectors(), User: user, Next: SafeNext(r.PostFormValue("next"))}
	again := func(status int, msg string) {
		d.Error = msg
		s.flowPage(w, r, "login", status, "login", d)
	}
	if len(user) > local.MaxUserName {
		d.User = ""
	}
	if !s.checkFlowCSRF(r, "login") {
		again(http.StatusForbidden, "This form expired or did not come from warden: try again.")
		return
	}
	if user == "" || password == "" {
		again(http.StatusBadRequest, "Enter your user name and your password.")
		return
	}
	source := s.source(r)
	if s.throttled(w, r, user, source, again) {
		return
	}
	acct, err := s.local.Accounts.CheckPassword(ctx, user, password)
	if errors.Is(err, local.ErrWrongCredentials) {
		if err := s.local.Throttle.Fail(ctx, user, source); err != nil {
			s.log.Error("counting a failed sign-in failed", "err", err)
		}
		s.local.Accounts.Audit(ctx, "anonymous", "signin.failed", user, "sign-in failed from "+source+": user name or password wrong")
		again(http.StatusUnauthorized, "User name or password is wrong.")
		return
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	pk, err := s.hasPasskey(ctx, acct.User)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	if acct.HasSecondFactor() || pk {
		token, _, err := s.local.Accounts.StartLogin(ctx, acct.User, d.Next)
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		s.setCookie(w, "warden_login", token, int(local.LoginFlowTTL/time.Second))
		web.SetSecurityHeaders(w.Header())
		http.Redirect(w, r, "/login/second-factor", http.StatusSeeOther)
		return
	}
	if s.local.Accounts.SecondFactorRequired() {
		s.local.Accounts.Audit(ctx, acct.User, "signin.failed", acct.User, "sign-in refused from "+source+": the password was right, but no second factor is enrolled and auth.second_factor is required")
		again(http.StatusForbidden, "Your password is right, but your account has no second factor and this warden requires one. Ask an administrator for a new invitation (warden user invite "+acct.User+") to enrol one.")
		return
	}
	s.finishSignIn(w, r, acct.User, source, d.Next, auth.MethodUse{Method: auth.MethodPassword, At: s.local.Accounts.Now()})
}

// finishSignIn issues the session (the session service audits it), tells the throttle, and
// returns to next.
func (s *Server) finishSignIn(w http.ResponseWriter, r *http.Request, user, source, next string, methods ...auth.MethodUse) {
	ctx := r.Context()
	if _, err := s.Sessions().Issue(ctx, w, r, user, methods...); err != nil {
		s.pageFail(w, r, err)
		return
	}
	if err := s.local.Throttle.Succeed(ctx, user, source); err != nil {
		s.log.Error("clearing the failed sign-ins failed", "user", user, "err", err)
	}
	web.SetSecurityHeaders(w.Header())
	http.Redirect(w, r, SafeNext(next), http.StatusSeeOther)
}

type secondFactorData struct {
	Action, Next, Error string
	StepUp              bool
	Code                bool // TOTP or recovery codes are enrolled
	Passkey             bool // a passkey is enrolled (part D)
	// FlowCSRF is the flow-bound token, for scripts that post elsewhere (passkeys).
	FlowCSRF string
	// OIDC is the connector the session was made through, when it is ready: a step-up may be made
	// through its provider (oidc.go).
	OIDC string
}

// loginFlow is the sign-in awaiting a second factor that r's cookie names.
func (s *Server) loginFlow(r *http.Request) (*local.LoginFlow, error) {
	tok := s.cookie(r, "warden_login")
	if tok == "" {
		return nil, local.ErrFlowGone
	}
	return s.local.Accounts.Login(r.Context(), tok)
}

// LoginFlowOf is the sign-in awaiting its second factor that r's cookie names, for other second
// factors (passkeys): they check it, then call FinishSecondFactor.
func (s *Server) LoginFlowOf(r *http.Request) (*local.LoginFlow, error) { return s.loginFlow(r) }

// FlowCSRF is the pre-session token of a form bound to binding ("login", "2fa:<flow id>",
// "enrol:<flow id>"), and CheckFlowCSRF checks it (for other parts' pre-session forms).
func (s *Server) FlowCSRF(w http.ResponseWriter, r *http.Request, binding string) string {
	return flowCSRF(s.browserToken(w, r), binding)
}

// CheckFlowCSRF checks a pre-session form's csrf field (r's form must be parsed) or its
// X-CSRF-Token header.
func (s *Server) CheckFlowCSRF(r *http.Request, binding string) bool {
	if h := r.Header.Get("X-CSRF-Token"); h != "" {
		b := s.cookie(r, "warden_csrf")
		return b != "" && subtle.ConstantTimeCompare([]byte(h), []byte(flowCSRF(b, binding))) == 1
	}
	return s.checkFlowCSRF(r, binding)
}

func (s *Server) secondFactorData(ctx context.Context, user string) (secondFactorData, error) {
	acct, err := s.local.Accounts.Lookup(ctx, user)
	if err != nil {
		return secondFactorData{}, err
	}
	pk, err := s.hasPasskey(ctx, user)
	if err != nil {
		return secondFactorData{}, err
	}
	return secondFactorData{Code: acct != nil && acct.HasSecondFactor(), Passkey: pk}, nil
}

func (s *Server) secondFactorForm(w http.ResponseWriter, r *http.Request) {
	if s.signinOff(w, r) {
		return
	}
	lf, err := s.loginFlow(r)
	if err != nil {
		s.flowGone(w, r, err)
		return
	}
	d, err := s.secondFactorData(r.Context(), lf.User)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	d.Action, d.Next = "/login/second-factor", lf.Next
	d.FlowCSRF = s.FlowCSRF(w, r, "2fa:"+lf.ID)
	s.flowPage(w, r, "2fa:"+lf.ID, http.StatusOK, "second_factor", d)
}

func (s *Server) flowGone(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, local.ErrFlowGone) {
		s.setCookie(w, "warden_login", "", -1)
		s.flowPage(w, r, "login", http.StatusBadRequest, "login", loginData{OIDC: s.OIDCConnectors(), Error: "This sign-in expired or ended: sign in again."})
		return
	}
	s.pageFail(w, r, err)
}

// factorMethod is the session method of a second factor local.VerifySecondFactor accepted.
func factorMethod(kind string, at time.Time) auth.MethodUse {
	if kind == local.FactorRecovery {
		return auth.MethodUse{Method: auth.MethodRecovery, At: at}
	}
	return auth.MethodUse{Method: auth.MethodTOTP, At: at}
}

func (s *Server) secondFactorSubmit(w http.ResponseWriter, r *http.Request) {
	if s.signinOff(w, r) {
		return
	}
	ctx := r.Context()
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	lf, err := s.loginFlow(r)
	if err != nil {
		s.flowGone(w, r, err)
		return
	}
	d, err := s.secondFactorData(ctx, lf.User)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	d.Action, d.Next = "/login/second-factor", lf.Next
	binding := "2fa:" + lf.ID
	again := func(status int, msg string) {
		d.Error = msg
		d.FlowCSRF = s.FlowCSRF(w, r, binding)
		s.flowPage(w, r, binding, status, "second_factor", d)
	}
	if !s.checkFlowCSRF(r, binding) {
		again(http.StatusForbidden, "This form expired or did not come from warden: try again.")
		return
	}
	source := s.source(r)
	if s.throttled(w, r, lf.User, source, again) {
		return
	}
	kind, err := s.local.Accounts.VerifySecondFactor(ctx, lf.User, r.PostFormValue("code"))
	if errors.Is(err, local.ErrWrongCode) {
		if err := s.local.Throttle.Fail(ctx, lf.User, source); err != nil {
			s.log.Error("counting a failed sign-in failed", "err", err)
		}
		s.local.Accounts.Audit(ctx, lf.User, "signin.failed", lf.User, "sign-in failed from "+source+": the password was right, the second factor code was wrong or used")
		if err := s.local.Accounts.LoginFailed(ctx, lf); err != nil {
			s.flowGone(w, r, err)
			return
		}
		again(http.StatusUnauthorized, "That code is wrong, or was already used.")
		return
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	s.FinishSecondFactor(w, r, lf, source, factorMethod(kind, s.local.Accounts.Now()))
}

// FinishSecondFactor ends a sign-in flow whose second factor m was checked (by this file, or by
// package passkey), issues the session with the password and m, and returns to the flow's next.
func (s *Server) FinishSecondFactor(w http.ResponseWriter, r *http.Request, lf *local.LoginFlow, source string, m auth.MethodUse) {
	if err := s.local.Accounts.EndLogin(r.Context(), lf); err != nil {
		s.flowGone(w, r, err)
		return
	}
	s.setCookie(w, "warden_login", "", -1)
	if source == "" {
		source = s.source(r)
	}
	s.finishSignIn(w, r, lf.User, source, lf.Next, auth.MethodUse{Method: auth.MethodPassword, At: lf.PasswordAt}, m)
}

func (s *Server) stepUpForm(w http.ResponseWriter, r *http.Request) {
	if s.signinOff(w, r) {
		return
	}
	next := SafeNext(r.URL.Query().Get("next"))
	sess := s.session(r)
	if sess == nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	d, err := s.secondFactorData(r.Context(), sess.User)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	d.Action, d.Next, d.StepUp = "/login/step-up", next, true
	d.OIDC = s.oidcStepUp(sess)
	if !d.Code && !d.Passkey && d.OIDC == "" {
		d.Error = "You have no second factor enrolled. Ask an administrator for a new invitation to enrol one."
	}
	s.page(w, r, sess, http.StatusOK, "second_factor", d)
}

func (s *Server) stepUpSubmit(w http.ResponseWriter, r *http.Request) {
	if s.signinOff(w, r) {
		return
	}
	ctx := r.Context()
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	next := SafeNext(r.PostFormValue("next"))
	sess := s.session(r)
	if sess == nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	d, err := s.secondFactorData(ctx, sess.User)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	d.Action, d.Next, d.StepUp = "/login/step-up", next, true
	again := func(status int, msg string) {
		d.Error = msg
		s.page(w, r, sess, status, "second_factor", d)
	}
	if !s.Sessions().CheckCSRF(r, sess) {
		again(http.StatusForbidden, "This form expired or did not come from warden: try again.")
		return
	}
	source := s.source(r)
	if s.throttled(w, r, sess.User, source, again) {
		return
	}
	kind, err := s.local.Accounts.VerifySecondFactor(ctx, sess.User, r.PostFormValue("code"))
	if errors.Is(err, local.ErrWrongCode) {
		if err := s.local.Throttle.Fail(ctx, sess.User, source); err != nil {
			s.log.Error("counting a failed sign-in failed", "err", err)
		}
		s.local.Accounts.Audit(ctx, sess.User, "stepup.failed", sess.User, "step-up failed from "+source+": the code was wrong or used")
		again(http.StatusUnauthorized, "That code is wrong, or was already used.")
		return
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	if err := s.Sessions().AddFactor(ctx, sess, factorMethod(kind, s.local.Accounts.Now())); err != nil {
		s.pageFail(w, r, err)
		return
	}
	if err := s.local.Throttle.Succeed(ctx, sess.User, source); err != nil {
		s.log.Error("clearing the failed sign-ins failed", "user", sess.User, "err", err)
	}
	web.SetSecurityHeaders(w.Header())
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.endSessions(w, r, false)
}

func (s *Server) logoutEverywhere(w http.ResponseWriter, r *http.Request) {
	s.endSessions(w, r, true)
}

func (s *Server) endSessions(w http.ResponseWriter, r *http.Request, everywhere bool) {
	if s.Sessions() == nil {
		s.pageError(w, r, http.StatusNotFound, "Sign-in is not enabled on this warden.")
		return
	}
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	web.SetSecurityHeaders(w.Header())
	sess := s.session(r)
	if sess == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if !s.Sessions().CheckCSRF(r, sess) {
		s.page(w, r, sess, http.StatusForbidden, "error", web.ErrorData{Title: "Not signed out",
			Message: "This form expired or did not come from warden, so you are still signed in. Use the Sign out button of a warden page.", Back: "/"})
		return
	}
	ctx := r.Context()
	if err := s.Sessions().End(ctx, w, r); err != nil {
		s.pageFail(w, r, err)
		return
	}
	if everywhere {
		if _, err := s.Sessions().EndAll(ctx, sess.User, sess.User); err != nil {
			s.pageFail(w, r, err)
			return
		}
		http.Redirect(w, r, "/login?out=all", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login?out=1", http.StatusSeeOther)
}

// ---- enrolment ----

type enrolData struct {
	User, Action, Error string
	Errors              map[string]string
	Expires             time.Time
	// The second factor step.
	QR          template.URL
	URI, Secret string
	MaySkip     bool
	// FlowCSRF is the flow-bound token, for scripts that post elsewhere (passkeys).
	FlowCSRF string
	// Passkey: passkeys are on, so the page offers one as the second factor (part D).
	Passkey bool
}

type enrolDoneData struct {
	User          string
	RecoveryCodes []string
}

func (s *Server) enrolment(w http.ResponseWriter, r *http.Request) (*local.Enrolment, bool) {
	if s.signinOff(w, r) {
		return nil, false
	}
	e, err := s.local.Accounts.Enrolment(r.Context(), r.PathValue("token"))
	if errors.Is(err, local.ErrInvalidLink) {
		s.pageError(w, r, http.StatusGone, "This enrolment link is not valid: it was used, replaced by a newer one, or it expired. Ask an administrator for a new invitation.")
		return nil, false
	}
	if err != nil {
		s.pageFail(w, r, err)
		return nil, false
	}
	return e, true
}

func (s *Server) enrolPage(w http.ResponseWriter, r *http.Request, e *local.Enrolment, status int, d enrolData) {
	d.User, d.Expires, d.Action = e.User, e.Expires, "/enroll/"+r.PathValue("token")
	binding := "enrol:" + e.ID
	if !e.PasswordSet {
		s.flowPage(w, r, binding, status, "enroll_password", d)
		return
	}
	offer, err := s.local.Accounts.OfferTOTP(r.Context(), e)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(offer.QRPNG))
	d.URI, d.Secret, d.MaySkip = offer.URI, offer.Secret, !s.local.Accounts.SecondFactorRequired()
	d.Passkey = s.passkeys != nil
	d.FlowCSRF = s.FlowCSRF(w, r, binding)
	s.flowPage(w, r, binding, status, "enroll_factor", d)
}

func (s *Server) enrolForm(w http.ResponseWriter, r *http.Request) {
	e, ok := s.enrolment(w, r)
	if !ok {
		return
	}
	s.enrolPage(w, r, e, http.StatusOK, enrolData{})
}

func (s *Server) enrolSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	e, ok := s.enrolment(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if !s.checkFlowCSRF(r, "enrol:"+e.ID) {
		s.enrolPage(w, r, e, http.StatusForbidden, enrolData{Error: "This form expired or did not come from warden: try again."})
		return
	}
	var done *local.Enrolled
	var err error
	switch step := r.PostFormValue("step"); {
	case step == "password" && !e.PasswordSet:
		err = s.local.Accounts.SetPassword(ctx, e, r.PostFormValue("password"), r.PostFormValue("confirm"))
		if err == nil {
			web.SetSecurityHeaders(w.Header())
			http.Redirect(w, r, "/enroll/"+r.PathValue("token"), http.StatusSeeOther)
			return
		}
	case step == "totp" && e.PasswordSet:
		done, err = s.local.Accounts.ConfirmTOTP(ctx, e, r.PostFormValue("code"))
	case step == "skip" && e.PasswordSet:
		done, err = s.local.Accounts.Skip(ctx, e)
	default:
		s.enrolPage(w, r, e, http.StatusBadRequest, enrolData{Error: "That step is not the one this enrolment is at: continue from this page."})
		return
	}
	if err != nil {
		var fe *local.FieldError
		switch {
		case errors.As(err, &fe):
			s.enrolPage(w, r, e, http.StatusBadRequest, enrolData{Errors: map[string]string{fe.Field: fe.Message}})
		case errors.Is(err, local.ErrInvalidLink):
			s.pageError(w, r, http.StatusGone, "This enrolment link is not valid: it was used, replaced by a newer one, or it expired. Ask an administrator for a new invitation.")
		case errors.Is(err, local.ErrNoSecondFactor):
			s.enrolPage(w, r, e, http.StatusBadRequest, enrolData{Error: "This warden requires a second factor."})
		default:
			s.pageFail(w, r, err)
		}
		return
	}
	s.Enrolled(w, r, done)
}

// Enrolled ends the new account's earlier sessions and shows the recovery codes, once. (Package
// passkey calls it when a passkey completes an enrolment.)
func (s *Server) Enrolled(w http.ResponseWriter, r *http.Request, done *local.Enrolled) {
	if _, err := s.Sessions().EndAll(r.Context(), done.User, done.User); err != nil {
		s.log.Error("ending the sessions of a re-enrolled user failed", "user", done.User, "err", err)
	}
	s.pages.Render(w, r, http.StatusOK, "enroll_done", enrolDoneData{User: done.User, RecoveryCodes: done.RecoveryCodes})
}

// ---- the administrators' API ----

// InviteRequest asks for an enrolment link for User.
type InviteRequest struct {
	User string `json:"user"`
}

// InviteResponse carries the enrolment link, shown once.
type InviteResponse struct {
	User    string    `json:"user"`
	Link    string    `json:"link"`
	Expires time.Time `json:"expires"`
}

// UnlockRequest asks to lift User's sign-in lock.
type UnlockRequest struct {
	User string `json:"user"`
}

// adminUserRequest admits an administrator's request about one user ({"user": NAME}) to the local
// accounts: they are on, p is an administrator who may do it (verb) and has stepped up for it
// (doing), and the body names a user. It answers the refusal itself and returns ok false.
func (s *Server) adminUserRequest(w http.ResponseWriter, r *http.Request, p *auth.Principal, verb, doing string) (user string, ok bool) {
	if s.local == nil {
		writeError(w, http.StatusNotFound, errors.New("local accounts are not enabled on this server"))
		return "", false
	}
	if !p.Admin {
		s.fail(w, r, fmt.Errorf("only administrators %s: %w", verb, errForbidden))
		return "", false
	}
	if !s.requireStepUp(w, r, p, doing+" (an administrative change)") {
		return "", false
	}
	var req struct {
		User string `json:"user"`
	}
	if err := decodeBody(r, &req, `{"user": "..."}`); err != nil {
		s.fail(w, r, err)
		return "", false
	}
	switch {
	case req.User == "":
		s.fail(w, r, &resource.FieldError{Field: "user", Message: "required"})
		return "", false
	case !resource.ValidUserName(req.User):
		s.fail(w, r, &resource.FieldError{Field: "user", Message: fmt.Sprintf("%s is not a user name", quoted(req.User))})
		return "", false
	}
	return req.User, true
}

func actorOf(p *auth.Principal) local.Actor {
	return local.Actor{User: p.User, Token: p.TokenID, TokenIssuer: p.TokenIssuer()}
}

func (s *Server) invite(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	user, ok := s.adminUserRequest(w, r, p, "invite users", "inviting a user")
	if !ok {
		return
	}
	inv, err := s.local.Accounts.Invite(r.Context(), actorOf(p), user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, InviteResponse{User: inv.User, Link: strings.TrimSuffix(s.local.BaseURL, "/") + "/enroll/" + inv.Token, Expires: inv.Expires})
}

func (s *Server) unlock(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	user, ok := s.adminUserRequest(w, r, p, "unlock sign-ins", "unlocking a user's sign-in")
	if !ok {
		return
	}
	if err := s.local.Throttle.Unlock(r.Context(), user, p.User); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": user, "unlocked": true})
}
