package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/clilogin"
	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/web"
)

// `warden login` (package auth/clilogin holds the flows):
//
//	GET  /login/cli            the page "Sign in warden CLI on this computer?" (a browser session needed)
//	POST /login/cli            its confirmation (CSRF): 303 to the CLI's loopback with code and state
//	POST /v1/auth/cli/token    {code, code_verifier, redirect_uri} -> the token
//	POST /v1/auth/device       -> {device_code, user_code, verification_uri, ..., expires_in, interval}
//	GET  /device               the page to enter a user code (a browser session needed)
//	POST /device               approve or deny (CSRF)
//	POST /v1/auth/device/token {device_code} -> the token, or authorization_pending, slow_down, ...
//
// The /v1/auth endpoints take no token; their errors are OAuth's: {"error", "error_description"}.

// maxCLIForm bounds the warden login forms.
const maxCLIForm = 16 << 10

type cliLogin struct {
	svc       *clilogin.Service
	pages     *web.Pages
	publicURL string
}

// SetCLILogin configures warden login from the auth settings (cli_token_ttl) and the public URL the device flow's links name (empty: the
// address the CLI called). opts reach the clilogin service (its clock, in tests).
func (s *Server) SetCLILogin(a config.Auth, publicURL string, opts ...clilogin.Option) {
	a = a.WithDefaults()
	opts = append([]clilogin.Option{clilogin.WithClock(serverClock{s})}, opts...)
	s.cli.svc = clilogin.New(s.store, s.tokens, clilogin.Config{TokenTTL: a.CLITokenTTL}, opts...)
	s.cli.publicURL = strings.TrimRight(publicURL, "/")
}

// CLILogin is the warden login service (tests).
func (s *Server) CLILogin() *clilogin.Service { return s.cli.svc }

func (s *Server) cliLoginRoutes() {
	s.cli = &cliLogin{pages: s.pages}
	s.cli.svc = clilogin.New(s.store, s.tokens, clilogin.Config{}, clilogin.WithClock(serverClock{s}))
	s.handle("GET /login/cli", s.cliLoginPage)
	s.handle("POST /login/cli", s.cliLoginConfirm)
	s.handle("POST /v1/auth/cli/token", s.cliLoginToken)
	s.handle("POST /v1/auth/device", s.deviceStart)
	s.handle("POST /v1/auth/device/token", s.deviceToken)
	s.handle("GET /device", s.devicePage)
	s.handle("POST /device", s.deviceDecide)
}

// writeOAuthError answers err the OAuth way; an error that is not a clilogin error goes through fail.
func (s *Server) writeOAuthError(w http.ResponseWriter, r *http.Request, err error) {
	var e *clilogin.Error
	if !errors.As(err, &e) {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, e.Status, map[string]string{"error": e.Code, "error_description": e.Description})
}

// pageSession is the browser session of a page's request, with the viewer recorded for the
// layout. Without one, a GET is sent to sign in and come back; anything else gets an error page.
func (s *Server) pageSession(w http.ResponseWriter, r *http.Request) (*auth.Session, *http.Request, bool) {
	if s.Sessions() == nil {
		s.cli.pages.Error(w, r, http.StatusNotFound, "Signing in through the browser is not set up on this server: ask an administrator for an API token.")
		return nil, r, false
	}
	sess, err := s.Sessions().Current(r)
	if err != nil {
		s.log.Error("reading the browser session", "path", r.URL.Path, "err", err)
		s.cli.pages.Error(w, r, http.StatusInternalServerError, "warden could not read your session. Try again.")
		return nil, r, false
	}
	if sess == nil {
		if r.Method == http.MethodGet {
			web.SetSecurityHeaders(w.Header())
			http.Redirect(w, r, "/login?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
		} else {
			s.cli.pages.Error(w, r, http.StatusForbidden, "You are not signed in (any more). Sign in, then run warden login again.")
		}
		return nil, r, false
	}
	if web.ViewerFrom(r.Context()) == nil {
		r = r.WithContext(web.WithViewer(r.Context(), web.Viewer{User: sess.User, CSRF: s.Sessions().CSRFToken(sess)}))
	}
	return sess, r, true
}

// cliParseForm reads a bounded form body.
func cliParseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxCLIForm)
	return r.ParseForm()
}

func loopbackRequest(v url.Values) clilogin.LoopbackRequest {
	return clilogin.LoopbackRequest{RedirectURI: v.Get("redirect_uri"), CodeChallenge: v.Get("code_challenge"),
		CodeChallengeMethod: v.Get("code_challenge_method"), State: v.Get("state")}
}

// cliLoginData is the data of cli_login.html.
type cliLoginData struct {
	User, TTL, Listener                                    string
	RedirectURI, CodeChallenge, CodeChallengeMethod, State string
}

func origin(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func (s *Server) cliLoginPage(w http.ResponseWriter, r *http.Request) {
	req := loopbackRequest(r.URL.Query())
	if err := req.Check(); err != nil {
		// Never redirected anywhere: the redirect URI itself may be what is wrong.
		s.cli.pages.Error(w, r, http.StatusBadRequest, "This warden login link is not valid ("+err.(*clilogin.Error).Description+"). Run warden login again.")
		return
	}
	sess, r, ok := s.pageSession(w, r)
	if !ok {
		return
	}
	// The confirmation's redirect goes to the loopback: the page's form-action must allow it.
	r = r.WithContext(web.WithFormAction(r.Context(), origin(req.RedirectURI)))
	s.cli.pages.Render(w, r, http.StatusOK, "cli_login", cliLoginData{User: sess.User, TTL: auth.FormatDuration(s.cli.svc.Config().TokenTTL),
		Listener: strings.TrimPrefix(origin(req.RedirectURI), "http://"), RedirectURI: req.RedirectURI, CodeChallenge: req.CodeChallenge,
		CodeChallengeMethod: req.CodeChallengeMethod, State: req.State})
}

func (s *Server) cliLoginConfirm(w http.ResponseWriter, r *http.Request) {
	if err := cliParseForm(w, r); err != nil {
		s.cli.pages.Error(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	req := loopbackRequest(r.PostForm)
	if err := req.Check(); err != nil {
		s.cli.pages.Error(w, r, http.StatusBadRequest, "This warden login form is not valid ("+err.(*clilogin.Error).Description+"). Run warden login again.")
		return
	}
	sess, r, ok := s.pageSession(w, r)
	if !ok {
		return
	}
	if !s.Sessions().CheckCSRF(r, sess) {
		s.cli.pages.Error(w, r, http.StatusForbidden, "This form was not sent from warden's own page (CSRF check failed). Run warden login again.")
		return
	}
	web.SetSecurityHeaders(w.Header(), origin(req.RedirectURI))
	switch r.PostForm.Get("action") {
	case "confirm":
		to, err := s.cli.svc.Confirm(r.Context(), req, clilogin.Confirmer{User: sess.User, Session: sess.ID, SecondFactorAt: sess.SecondFactorAt})
		if err != nil {
			s.log.Error("warden login: confirming", "user", sess.User, "err", err)
			s.cli.pages.Error(w, r, http.StatusInternalServerError, "warden could not complete the sign-in. Run warden login again.")
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	case "cancel":
		http.Redirect(w, r, clilogin.Cancelled(req), http.StatusSeeOther)
	default:
		s.cli.pages.Error(w, r, http.StatusBadRequest, "action: confirm or cancel.")
	}
}

// cliTokenRequest is the body of POST /v1/auth/cli/token.
type cliTokenRequest struct {
	Code         string `json:"code"`
	CodeVerifier string `json:"code_verifier"`
	RedirectURI  string `json:"redirect_uri"`
}

func (s *Server) cliLoginToken(w http.ResponseWriter, r *http.Request) {
	var req cliTokenRequest
	if err := decodeBody(r, &req, `{"code": "...", "code_verifier": "...", "redirect_uri": "http://127.0.0.1:PORT/callback"}`); err != nil {
		s.writeOAuthError(w, r, &clilogin.Error{Code: "invalid_request", Description: err.Error(), Status: http.StatusBadRequest})
		return
	}
	issued, err := s.cli.svc.Exchange(r.Context(), req.Code, req.CodeVerifier, req.RedirectURI)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, issued)
}

// baseURL is warden's address for links: public_url, else the one the request came to.
func (s *Server) baseURL(r *http.Request) string {
	if s.cli.publicURL != "" {
		return s.cli.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) deviceStart(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if b, err := readBody(r, 1024); err != nil {
		s.writeOAuthError(w, r, &clilogin.Error{Code: "invalid_request", Description: err.Error(), Status: http.StatusBadRequest})
		return
	} else if len(strings.TrimSpace(string(b))) > 0 {
		if err := decodeJSON(b, &req, "{}"); err != nil {
			s.writeOAuthError(w, r, &clilogin.Error{Code: "invalid_request", Description: err.Error(), Status: http.StatusBadRequest})
			return
		}
	}
	da, err := s.cli.svc.StartDevice(r.Context(), s.baseURL(r))
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, da)
}

func (s *Server) deviceToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		DeviceCode string `json:"device_code"`
	}
	if err := decodeBody(r, &req, `{"device_code": "..."}`); err != nil {
		s.writeOAuthError(w, r, &clilogin.Error{Code: "invalid_request", Description: err.Error(), Status: http.StatusBadRequest})
		return
	}
	issued, err := s.cli.svc.PollDevice(r.Context(), req.DeviceCode)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, issued)
}

// deviceData is the data of device.html.
type deviceData struct {
	User, TTL, UserCode, Error string
	Done, Approved             bool
}

func (s *Server) devicePage(w http.ResponseWriter, r *http.Request) {
	sess, r, ok := s.pageSession(w, r)
	if !ok {
		return
	}
	code := r.URL.Query().Get("user_code")
	if n, ok := clilogin.NormalizeUserCode(code); ok {
		code = n
	} else if len(code) > 32 {
		code = ""
	}
	s.cli.pages.Render(w, r, http.StatusOK, "device", deviceData{User: sess.User, TTL: auth.FormatDuration(s.cli.svc.Config().TokenTTL), UserCode: code})
}

func (s *Server) deviceDecide(w http.ResponseWriter, r *http.Request) {
	if err := cliParseForm(w, r); err != nil {
		s.cli.pages.Error(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	sess, r, ok := s.pageSession(w, r)
	if !ok {
		return
	}
	if !s.Sessions().CheckCSRF(r, sess) {
		s.cli.pages.Error(w, r, http.StatusForbidden, "This form was not sent from warden's own page (CSRF check failed). Open /device again.")
		return
	}
	data := deviceData{User: sess.User, TTL: auth.FormatDuration(s.cli.svc.Config().TokenTTL), UserCode: r.PostForm.Get("user_code")}
	if len(data.UserCode) > 32 {
		data.UserCode = data.UserCode[:32]
	}
	var approve bool
	switch r.PostForm.Get("action") {
	case "approve":
		approve = true
	case "deny":
	default:
		s.cli.pages.Error(w, r, http.StatusBadRequest, "action: approve or deny.")
		return
	}
	err := s.cli.svc.Decide(r.Context(), data.UserCode, approve, clilogin.Confirmer{User: sess.User, Session: sess.ID, SecondFactorAt: sess.SecondFactorAt})
	var e *clilogin.Error
	switch {
	case err == nil:
		data.Done, data.Approved = true, approve
		s.cli.pages.Render(w, r, http.StatusOK, "device", data)
	case errors.As(err, &e):
		data.Error = e.Description
		if e.Wait > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int(e.Wait.Seconds())+1))
		}
		s.cli.pages.Render(w, r, e.Status, "device", data)
	default:
		s.log.Error("warden login --device: deciding", "user", sess.User, "err", err)
		s.cli.pages.Error(w, r, http.StatusInternalServerError, "warden could not record your answer. Try again.")
	}
}

// ---- whoami ----

// StepUpState says whether the caller may approve requests and make administrative changes now
// without using a second factor again (see stepUp): Until is when the second factor they used
// stops counting (Window, auth.step_up, after it); Exempt, that they pass without one (the
// bootstrap admin token, or a minted token under auth.step_up_exempt_tokens).
type StepUpState struct {
	Satisfied bool      `json:"satisfied"`
	Until     time.Time `json:"until,omitzero"`
	Window    string    `json:"window"`
	Exempt    bool      `json:"exempt,omitempty"`
}

// whoamiDetails are what whoami adds about p: their standing roles (the user resource's
// spec.roles) and the step-up state.
func (s *Server) whoamiDetails(r *http.Request, p *auth.Principal) ([]string, StepUpState, error) {
	roles := []string{}
	if p.User != auth.BootstrapUser {
		u, err := s.store.Get(r.Context(), resource.KindUser, p.User)
		if err != nil {
			return nil, StepUpState{}, err
		}
		roles = append(roles, u.Spec.(*resource.UserSpec).Roles...)
	}
	window := time.Duration(s.stepUpWindow.Load())
	st := StepUpState{Window: auth.FormatDuration(window), Satisfied: s.stepUp(p, "whoami") == nil}
	recent := false
	if !p.SecondFactorAt.IsZero() {
		st.Until = p.SecondFactorAt.Add(window)
		recent = s.now().Before(st.Until)
	}
	st.Exempt = st.Satisfied && !recent
	return roles, st, nil
}
