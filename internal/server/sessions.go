package server

// Browser sessions on the API, CSRF, and step-up.
//
// A request with no Authorization header may be carried by a session cookie (package auth's
// Sessions): its caller is the session's user (administrator or not as the user is now, read
// afresh each time as for tokens). A request so carried that changes anything (any method but
// GET, HEAD and OPTIONS) must also carry the session's CSRF token, in the X-CSRF-Token header or
// the form field csrf, or it is refused 403: a page of another site can make the browser send the
// cookie, never the token. A request with a bearer token is judged by the token alone.
//
// Step-up: approving an access request and every administrative change (every write only an
// administrator may make) need a second factor used within auth.step_up (SetStepUp; 10m by
// default): a session's latest second factor, or the one a `warden login` token carries from the
// session that confirmed it. Tokens an administrator minted carry none: they pass only when
// auth.step_up_exempt_tokens is set (automation). The bootstrap admin token always passes. The
// refusal is 403 {"error": "step-up needed: ...", "step_up": true}.

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// DefaultStepUp is how recent a second factor must be when SetStepUp was not called
// (config.DefaultStepUp).
const DefaultStepUp = 10 * time.Minute

// Sessions is the server's session service.
func (s *Server) Sessions() *auth.Sessions { return s.sessions }

// SetSessions makes the server accept ss's session cookies (serve builds it from auth.session_*
// and runs it). Until it is called the server has its own, with the default timeouts, uncached.
func (s *Server) SetSessions(ss *auth.Sessions) { s.sessions = ss }

// SetStepUp sets how recently a second factor must have been used to approve an access request or
// make an administrative change (auth.step_up; <= 0: DefaultStepUp), and whether API tokens an
// administrator minted pass without one (auth.step_up_exempt_tokens).
func (s *Server) SetStepUp(window time.Duration, exemptTokens bool) {
	if window <= 0 {
		window = DefaultStepUp
	}
	s.stepUpWindow.Store(int64(window))
	s.stepUpExempt.Store(exemptTokens)
}

// serverClock is the server's clock as it is when read (SetClock may change it after New).
type serverClock struct{ s *Server }

func (c serverClock) Now() time.Time                         { return c.s.now() }
func (c serverClock) NewTimer(d time.Duration) clock.Timer   { return c.s.clk().NewTimer(d) }
func (c serverClock) NewTicker(d time.Duration) clock.Ticker { return c.s.clk().NewTicker(d) }

func (s *Server) hasSessionCookie(r *http.Request) bool {
	if s.sessions == nil {
		return false
	}
	_, err := r.Cookie(s.sessions.CookieName())
	return err == nil
}

// safeMethod: a request that changes nothing, which needs no CSRF token.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sessionKey holds, in a request's context, the session the request was made with.
type sessionKey struct{}

// sessionOf is the session r was made with, if any.
func sessionOf(r *http.Request) *auth.Session {
	ss, _ := r.Context().Value(sessionKey{}).(*auth.Session)
	return ss
}

// sessionPrincipal authenticates r by its session cookie, or answers (401, 403) and returns nil.
func (s *Server) sessionPrincipal(w http.ResponseWriter, r *http.Request) (*auth.Principal, *auth.Session) {
	sess, err := s.sessions.Current(r)
	if err != nil {
		s.fail(w, r, err)
		return nil, nil
	}
	if sess == nil {
		writeError(w, http.StatusUnauthorized, fmt.Errorf("the session has ended (signed out, revoked, idle or expired): sign in again at /login: %w", auth.ErrUnauthenticated))
		return nil, nil
	}
	exists, admin, err := s.sessions.User(r.Context(), sess.User)
	if err != nil {
		s.fail(w, r, err)
		return nil, nil
	}
	if !exists {
		writeError(w, http.StatusUnauthorized, fmt.Errorf("the session's user %q no longer exists: %w", sess.User, auth.ErrUnauthenticated))
		return nil, nil
	}
	p := &auth.Principal{User: sess.User, Admin: admin, Method: auth.MethodSession,
		Session: sess.ID, SecondFactorAt: sess.SecondFactorAt, Expires: sess.Expires}
	if !safeMethod(r.Method) && !s.sessions.CheckCSRF(r, sess) {
		writeError(w, http.StatusForbidden, fmt.Errorf("missing or wrong CSRF token: a %s carried by the session cookie must send the session's CSRF token in the %s header or the form field %q (GET /v1/whoami gives it as csrf_token)", r.Method, auth.CSRFHeader, auth.CSRFField))
		return nil, nil
	}
	return p, sess
}

// WhoAmI is GET /v1/whoami's answer: the caller (auth.Principal's fields), their standing roles,
// whether step-up is satisfied now, and for a session its CSRF token (for scripts of warden's own
// pages).
type WhoAmI struct {
	*auth.Principal
	CSRFToken string `json:"csrf_token,omitempty"`
	// Roles are the user's standing roles (spec.roles of the user resource); StepUp, whether
	// step-up is satisfied now (clilogin.go).
	Roles  []string    `json:"roles"`
	StepUp StepUpState `json:"step_up"`
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	out := WhoAmI{Principal: p}
	var err error
	if out.Roles, out.StepUp, err = s.whoamiDetails(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	if ss := sessionOf(r); ss != nil {
		out.CSRFToken = s.sessions.CSRFToken(ss)
	}
	writeJSON(w, http.StatusOK, out)
}

// stepUpError: the caller needs a recent second factor first (403, "step_up": true).
type stepUpError struct{ msg string }

func (e *stepUpError) Error() string { return e.msg }
func (e *stepUpError) Unwrap() error { return errForbidden }

// stepUp decides whether p may do what (an approval or an administrative change) now, as to the
// second factor: nil, or a *stepUpError saying how to get one.
func (s *Server) stepUp(p *auth.Principal, what string) error {
	window := time.Duration(s.stepUpWindow.Load())
	switch {
	case p.Method == auth.MethodBootstrap:
		return nil
	case !p.SecondFactorAt.IsZero() && s.now().Sub(p.SecondFactorAt) < window:
		return nil
	case p.Method != auth.MethodSession && p.Login == "" && s.stepUpExempt.Load():
		return nil // a token an administrator minted, for automation, exempted by configuration
	}
	need := fmt.Sprintf("step-up needed: %s needs a second factor used within the last %s (auth.step_up)", what, auth.FormatDuration(window))
	switch {
	case p.Method == auth.MethodSession:
		return &stepUpError{need + "; confirm your second factor at /login/step-up, then try again"}
	case p.Login != "":
		return &stepUpError{need + "; run `warden login` again (the token carries the second factor of the browser session that confirms it), or in a browser go to /login/step-up"}
	default:
		return &stepUpError{need + "; a token an administrator minted carries none (and auth.step_up_exempt_tokens is off): run `warden login`, or in a browser go to /login/step-up"}
	}
}

// requireStepUp answers the refusal and returns false when p needs a recent second factor for what.
func (s *Server) requireStepUp(w http.ResponseWriter, r *http.Request, p *auth.Principal, what string) bool {
	if err := s.stepUp(p, what); err != nil {
		s.fail(w, r, err)
		return false
	}
	return true
}

// ---- /v1/sessions ----

// SessionInfo is a session as the API shows it (never its secret nor its hash).
type SessionInfo struct {
	ID             string           `json:"id"`
	User           string           `json:"user"`
	Created        time.Time        `json:"created"`
	LastSeen       time.Time        `json:"last_seen"`
	Expires        time.Time        `json:"expires"`
	Methods        []auth.MethodUse `json:"methods,omitempty"`
	SecondFactorAt time.Time        `json:"second_factor_at,omitzero"`
	Address        string           `json:"address,omitempty"`
	UserAgent      string           `json:"user_agent,omitempty"`
	// Current: the session this request was made with.
	Current bool `json:"current,omitempty"`
}

// SessionList is GET /v1/sessions.
type SessionList struct {
	Items []SessionInfo `json:"items"`
}

// SessionsRevoked is POST /v1/sessions/revoke-all: how many sessions of User ended.
type SessionsRevoked struct {
	User    string `json:"user"`
	Revoked int    `json:"revoked"`
}

func sessionInfo(ss *auth.Session, p *auth.Principal) SessionInfo {
	return SessionInfo{ID: ss.ID, User: ss.User, Created: ss.Created, LastSeen: ss.LastSeen, Expires: ss.Expires,
		Methods: ss.Methods, SecondFactorAt: ss.SecondFactorAt, Address: ss.Address, UserAgent: ss.UserAgent,
		Current: p != nil && p.Session == ss.ID}
}

func (s *Server) sessionRoutes() {
	s.handle("GET /v1/sessions", s.authed(s.listSessions))
	s.handle("POST /v1/sessions/revoke-all", s.authed(s.revokeAllSessions))
	s.handle("DELETE /v1/sessions/{id}", s.authed(s.revokeSession))
}

// sessionsUser reads ?user= (and ?all=true for a listing): the caller's own unless an
// administrator names someone (or everyone: "").
func sessionsUser(r *http.Request, p *auth.Principal, allowAll bool) (string, error) {
	q := r.URL.Query()
	for key := range q {
		if key != "user" && !(allowAll && key == "all") {
			return "", &resource.FieldError{Field: key, Message: "sessions are chosen with user" + map[bool]string{true: " and all", false: ""}[allowAll]}
		}
	}
	user, all := q.Get("user"), q.Get("all")
	if all != "" && all != "true" && all != "false" {
		return "", &resource.FieldError{Field: "all", Message: fmt.Sprintf("%s is not true or false", quoted(all))}
	}
	if all == "true" && user != "" {
		return "", &resource.FieldError{Field: "all", Message: "give user or all, not both"}
	}
	if !p.Admin {
		if all == "true" || (user != "" && user != p.User) {
			return "", forbidden("%s may see and end only their own sessions", p.User)
		}
		return p.User, nil
	}
	if all == "true" {
		return "", nil
	}
	if user == "" {
		return p.User, nil
	}
	return user, nil
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	user, err := sessionsUser(r, p, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.sessions.List(r.Context(), user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := SessionList{Items: []SessionInfo{}}
	for _, ss := range list {
		out.Items = append(out.Items, sessionInfo(ss, p))
	}
	writeJSON(w, http.StatusOK, out)
}

// revokeSession ends one session: the caller's own, or anyone's for an administrator (an
// administrative change: step-up).
func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	old, err := s.endSession(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionInfo(old, nil))
}

// endSession ends session id for p: their own, or anyone's for an administrator (an administrative
// change: step-up): DELETE /v1/sessions/{id} and the user page's "End".
func (s *Server) endSession(ctx context.Context, p *auth.Principal, id string) (*auth.Session, error) {
	ss, err := s.sessions.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if ss.User != p.User {
		if !p.Admin {
			// Someone else's session is as good as absent: its id tells nothing to a stranger.
			return nil, &store.ObjectError{Kind: resource.KindSession, Name: id, Err: store.ErrNotFound}
		}
		if err := s.stepUp(p, "ending someone else's session"); err != nil {
			return nil, err
		}
	}
	return s.sessions.Revoke(ctx, p, id)
}

// revokeAllSessions ends every session of the caller ("sign out everywhere"), or of ?user= for an
// administrator (step-up).
func (s *Server) revokeAllSessions(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	user, err := sessionsUser(r, p, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if user != p.User {
		if err := s.stepUp(p, "ending someone else's sessions"); err != nil {
			s.fail(w, r, err)
			return
		}
		if _, err := s.store.Get(r.Context(), resource.KindUser, user); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	n, err := s.sessions.EndAllBy(r.Context(), p, user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SessionsRevoked{User: user, Revoked: n})
}
