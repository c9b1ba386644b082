package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/local"
	"github.com/wardenhq/warden/internal/auth/passkey"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/web"
)

// The passkey routes of the sign-in pages. /assets/passkey.js posts begin (JSON, the CSRF token in
// X-CSRF-Token) and then the page's own form to finish (the credential in the field "credential",
// the CSRF token in "csrf"), so that finish answers as every form does: a redirect, the next page,
// or the page again with what went wrong.
//
//	POST /enroll/passkey/begin|finish  a passkey for the enrolment named by the field "enrolment"
//	                                   (its link's path), completing it; or, without one, another
//	                                   passkey for the signed-in person (a recent second factor
//	                                   needed when they have one)
//	POST /login/passkey/begin|finish   mode "2fa": the second factor of the sign-in in progress;
//	                                   "step-up": a fresh second factor for the session; "discover":
//	                                   a sign-in with no user name (user verification required)
//
// Ceremonies are bound to the sign-in flow ("2fa:<id>"), the enrolment ("enrol:<id>"), the session
// ("session:<id>") or, for discover, the browser's CSRF cookie.

// Bounds of the passkey routes' bodies: begin's few fields; finish's form, the credential (at most
// passkey.MaxResponse) and those fields.
const (
	maxPasskeyBegin  = 4 << 10
	maxPasskeyFinish = passkey.MaxResponse + 8<<10
)

// passkeyRequest is what begin reads (JSON) and finish reads (form fields).
type passkeyRequest struct {
	Mode      string `json:"mode"`
	Next      string `json:"next"`
	Label     string `json:"label"`
	Enrolment string `json:"enrolment"`
}

func (s *Server) passkeyPageRoutes() {
	s.handle("POST /enroll/passkey/begin", s.passkeyEnrolBegin)
	s.handle("POST /enroll/passkey/finish", s.passkeyEnrolFinish)
	s.handle("POST /login/passkey/begin", s.passkeyLoginBegin)
	s.handle("POST /login/passkey/finish", s.passkeyLoginFinish)
	s.handle("POST /passkeys/remove", s.passkeyRemove)
}

// homePasskeys fills the home page's passkey section.
func (s *Server) homePasskeys(r *http.Request, d *homeData) error {
	if s.passkeys == nil {
		return nil
	}
	d.PasskeysOn = true
	list, err := s.passkeys.List(r.Context(), d.User)
	if err != nil {
		return err
	}
	for _, o := range list {
		d.Passkeys = append(d.Passkeys, passkeyInfo(o))
	}
	return nil
}

// passkeyRemove removes one of the signed-in person's passkeys (the home page's form), audited.
func (s *Server) passkeyRemove(w http.ResponseWriter, r *http.Request) {
	if !s.passkeysOn(w, r, false) {
		return
	}
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	sess := s.session(r)
	if sess == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if !s.Sessions().CheckCSRF(r, sess) {
		s.page(w, r, sess, http.StatusForbidden, "error", web.ErrorData{Title: "Passkey not removed",
			Message: "This form expired or did not come from warden: try again from your account page.", Back: "/account"})
		return
	}
	p := &auth.Principal{User: sess.User, Method: auth.MethodSession, Session: sess.ID}
	if _, err := s.passkeys.Remove(r.Context(), p, sess.User, r.PostFormValue("name")); err != nil {
		if msg, ok := passkeyMessage(err); ok {
			s.page(w, r, sess, http.StatusNotFound, "error", web.ErrorData{Title: "Passkey not removed", Message: msg, Back: "/account"})
			return
		}
		s.pageFail(w, r, err)
		return
	}
	web.SetSecurityHeaders(w.Header())
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

// passkeyJSONError answers begin's failures.
func (s *Server) passkeyJSONError(w http.ResponseWriter, r *http.Request, err error) {
	var re *passkey.RefusedError
	var fe *resource.FieldError
	switch {
	case errors.As(err, &re), errors.As(err, &fe), errors.Is(err, passkey.ErrTooMany):
		writeError(w, http.StatusBadRequest, err)
	case errors.Is(err, passkey.ErrNoPasskey):
		writeError(w, http.StatusBadRequest, err)
	case errors.Is(err, local.ErrInvalidLink):
		writeError(w, http.StatusGone, errors.New("this enrolment link is not valid: it was used, replaced by a newer one, or it expired"))
	case errors.Is(err, local.ErrFlowGone):
		writeError(w, http.StatusBadRequest, errors.New("this sign-in expired or ended: sign in again"))
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) passkeysOn(w http.ResponseWriter, r *http.Request, json bool) bool {
	if s.passkeys != nil && s.local != nil && s.Sessions() != nil {
		return true
	}
	if json {
		writeError(w, http.StatusNotFound, errPasskeysOff)
	} else {
		s.pageError(w, r, http.StatusNotFound, "Passkeys are not available on this warden.")
	}
	return false
}

func readPasskeyBegin(w http.ResponseWriter, r *http.Request) (passkeyRequest, error) {
	var req passkeyRequest
	b, err := readBody(r, maxPasskeyBegin)
	if err != nil {
		return req, err
	}
	if len(b) == 0 {
		return req, nil
	}
	return req, decodeJSON(b, &req, `{"mode": "...", "next": "...", "label": "...", "enrolment": "..."}`)
}

func readPasskeyFinish(w http.ResponseWriter, r *http.Request) (passkeyRequest, []byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPasskeyFinish)
	if err := r.ParseForm(); err != nil {
		return passkeyRequest{}, nil, err
	}
	req := passkeyRequest{Mode: r.PostFormValue("mode"), Next: r.PostFormValue("next"), Label: r.PostFormValue("label"),
		Enrolment: r.PostFormValue("enrolment")}
	cred := r.PostFormValue("credential")
	if len(cred) > passkey.MaxResponse {
		return req, nil, fmt.Errorf("credential: larger than %d bytes", passkey.MaxResponse)
	}
	return req, []byte(cred), nil
}

// enrolmentOf reads the enrolment a passkey request names: its link's path ("/enroll/<token>")
// or its token.
func (s *Server) enrolmentOf(r *http.Request, ref string) (*local.Enrolment, error) {
	tok := strings.TrimPrefix(ref, "/enroll/")
	if tok == "" || strings.Contains(tok, "/") {
		return nil, local.ErrInvalidLink
	}
	return s.local.Accounts.Enrolment(r.Context(), tok)
}

// mayAddPasskey says whether sess may add a passkey: when its person has a second factor, one
// used within the step-up window.
func (s *Server) mayAddPasskey(r *http.Request, sess *auth.Session) (bool, error) {
	ctx := r.Context()
	acct, err := s.local.Accounts.Lookup(ctx, sess.User)
	if err != nil {
		return false, err
	}
	pk, err := s.hasPasskey(ctx, sess.User)
	if err != nil {
		return false, err
	}
	if (acct == nil || !acct.HasSecondFactor()) && !pk {
		return true, nil
	}
	return !sess.SecondFactorAt.IsZero() && s.now().Sub(sess.SecondFactorAt) < time.Duration(s.stepUpWindow.Load()), nil
}

func (s *Server) passkeyEnrolBegin(w http.ResponseWriter, r *http.Request) {
	if !s.passkeysOn(w, r, true) {
		return
	}
	req, err := readPasskeyBegin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var user, binding string
	if req.Enrolment != "" {
		e, err := s.enrolmentOf(r, req.Enrolment)
		if err != nil {
			s.passkeyJSONError(w, r, err)
			return
		}
		binding = "enrol:" + e.ID
		if !s.CheckFlowCSRF(r, binding) {
			writeError(w, http.StatusForbidden, errors.New("this page expired or did not come from warden: reload it"))
			return
		}
		if !e.PasswordSet {
			writeError(w, http.StatusBadRequest, errors.New("choose the password first"))
			return
		}
		user = e.User
	} else {
		sess := s.session(r)
		if sess == nil {
			writeError(w, http.StatusUnauthorized, errors.New("sign in first"))
			return
		}
		if !s.Sessions().CheckCSRF(r, sess) {
			writeError(w, http.StatusForbidden, errors.New("this page expired or did not come from warden: reload it"))
			return
		}
		ok, err := s.mayAddPasskey(r, sess)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !ok {
			writeError(w, http.StatusForbidden, errors.New("adding a passkey needs a second factor used in the last few minutes: confirm it is you first (/login/step-up)"))
			return
		}
		user, binding = sess.User, "session:"+sess.ID
	}
	opts, err := s.passkeys.BeginRegistration(ctx, user, binding, req.Label)
	if err != nil {
		s.passkeyJSONError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, opts)
}

func (s *Server) passkeyEnrolFinish(w http.ResponseWriter, r *http.Request) {
	if !s.passkeysOn(w, r, false) {
		return
	}
	req, cred, err := readPasskeyFinish(w, r)
	if err != nil {
		s.pageError(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	ctx := r.Context()
	if req.Enrolment == "" {
		s.passkeyAddFinish(w, r, cred)
		return
	}
	e, err := s.enrolmentOf(r, req.Enrolment)
	if errors.Is(err, local.ErrInvalidLink) {
		s.pageError(w, r, http.StatusGone, "This enrolment link is not valid: it was used, replaced by a newer one, or it expired. Ask an administrator for a new invitation.")
		return
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	binding := "enrol:" + e.ID
	again := func(status int, msg string) { s.enrolPage(w, r.WithContext(ctx), e, status, enrolData{Error: msg}) }
	r.SetPathValue("token", strings.TrimPrefix(req.Enrolment, "/enroll/")) // enrolPage builds the form's action from it
	if !s.CheckFlowCSRF(r, binding) {
		again(http.StatusForbidden, "This form expired or did not come from warden: try again.")
		return
	}
	if !e.PasswordSet {
		again(http.StatusBadRequest, "Choose the password first.")
		return
	}
	if _, err := s.passkeys.FinishRegistration(ctx, nil, e.User, binding, cred, passkey.DuringEnrolment(e.ID)); err != nil {
		if msg, ok := passkeyMessage(err); ok {
			again(http.StatusBadRequest, msg)
			return
		}
		s.pageFail(w, r, err)
		return
	}
	done, err := s.local.Accounts.CompleteWithPasskey(ctx, e)
	if errors.Is(err, local.ErrInvalidLink) {
		s.pageError(w, r, http.StatusGone, "This enrolment link is not valid: it was used, replaced by a newer one, or it expired. Ask an administrator for a new invitation.")
		return
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	s.Enrolled(w, r, done)
}

// passkeyAddFinish registers another passkey for the signed-in person, and returns home.
func (s *Server) passkeyAddFinish(w http.ResponseWriter, r *http.Request, cred []byte) {
	ctx := r.Context()
	sess := s.session(r)
	if sess == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if !s.Sessions().CheckCSRF(r, sess) {
		s.page(w, r, sess, http.StatusForbidden, "error", web.ErrorData{Title: "Passkey not added",
			Message: "This form expired or did not come from warden: try again from your account page.", Back: "/account"})
		return
	}
	p := &auth.Principal{User: sess.User, Method: auth.MethodSession, Session: sess.ID}
	if _, err := s.passkeys.FinishRegistration(ctx, p, sess.User, "session:"+sess.ID, cred); err != nil {
		if msg, ok := passkeyMessage(err); ok {
			s.page(w, r, sess, http.StatusBadRequest, "error", web.ErrorData{Title: "Passkey not added", Message: msg, Back: "/account"})
			return
		}
		s.pageFail(w, r, err)
		return
	}
	web.SetSecurityHeaders(w.Header())
	http.Redirect(w, r, "/account?passkey=added", http.StatusSeeOther)
}

// passkeyMessage is what a person is told of a refused ceremony (ok), or false for warden's own
// failures.
func passkeyMessage(err error) (string, bool) {
	var re *passkey.RefusedError
	var fe *resource.FieldError
	switch {
	case errors.Is(err, passkey.ErrCeremony), errors.Is(err, passkey.ErrCloneWarning), errors.Is(err, passkey.ErrNoPasskey),
		errors.Is(err, passkey.ErrTooMany):
		return capitalise(err.Error()) + ".", true
	case errors.As(err, &re):
		return capitalise(re.Error()) + ".", true
	case errors.As(err, &fe):
		return capitalise(fe.Error()), true
	case errors.Is(err, store.ErrNotFound):
		return "That passkey is not registered here.", true
	}
	return "", false
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (s *Server) passkeyLoginBegin(w http.ResponseWriter, r *http.Request) {
	if !s.passkeysOn(w, r, true) {
		return
	}
	req, err := readPasskeyBegin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	stale := errors.New("this page expired or did not come from warden: reload it")
	switch req.Mode {
	case "2fa":
		lf, err := s.LoginFlowOf(r)
		if err != nil {
			s.passkeyJSONError(w, r, err)
			return
		}
		if !s.CheckFlowCSRF(r, "2fa:"+lf.ID) {
			writeError(w, http.StatusForbidden, stale)
			return
		}
		opts, err := s.passkeys.BeginLogin(ctx, lf.User, "2fa:"+lf.ID)
		if err != nil {
			s.passkeyJSONError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, opts)
	case "step-up":
		sess := s.session(r)
		if sess == nil {
			writeError(w, http.StatusUnauthorized, errors.New("sign in first"))
			return
		}
		if !s.Sessions().CheckCSRF(r, sess) {
			writeError(w, http.StatusForbidden, stale)
			return
		}
		opts, err := s.passkeys.BeginLogin(ctx, sess.User, "session:"+sess.ID)
		if err != nil {
			s.passkeyJSONError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, opts)
	case "discover":
		browser := s.cookie(r, "warden_csrf")
		if browser == "" || !s.CheckFlowCSRF(r, "login") {
			writeError(w, http.StatusForbidden, stale)
			return
		}
		opts, err := s.passkeys.BeginDiscover(ctx, "discover:"+browser)
		if err != nil {
			s.passkeyJSONError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, opts)
	default:
		s.fail(w, r, &resource.FieldError{Field: "mode", Message: fmt.Sprintf("%s is not 2fa, step-up or discover", quoted(req.Mode))})
	}
}

func (s *Server) passkeyLoginFinish(w http.ResponseWriter, r *http.Request) {
	if !s.passkeysOn(w, r, false) {
		return
	}
	req, cred, err := readPasskeyFinish(w, r)
	if err != nil {
		s.pageError(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	switch req.Mode {
	case "2fa":
		s.passkeySecondFactor(w, r, cred)
	case "step-up":
		s.passkeyStepUp(w, r, SafeNext(req.Next), cred)
	case "discover":
		s.passkeyDiscover(w, r, SafeNext(req.Next), cred)
	default:
		s.pageError(w, r, http.StatusBadRequest, "That form is not one of warden's: start again from the sign-in page.")
	}
}

func (s *Server) passkeySecondFactor(w http.ResponseWriter, r *http.Request, cred []byte) {
	ctx := r.Context()
	lf, err := s.LoginFlowOf(r)
	if err != nil {
		s.flowGone(w, r, err)
		return
	}
	binding := "2fa:" + lf.ID
	d, err := s.secondFactorData(ctx, lf.User)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	d.Action, d.Next = "/login/second-factor", lf.Next
	again := func(status int, msg string) {
		d.Error = msg
		d.FlowCSRF = s.FlowCSRF(w, r, binding)
		s.flowPage(w, r, binding, status, "second_factor", d)
	}
	if !s.CheckFlowCSRF(r, binding) {
		again(http.StatusForbidden, "This form expired or did not come from warden: try again.")
		return
	}
	source := s.source(r)
	if s.throttled(w, r, lf.User, source, again) {
		return
	}
	use, err := s.passkeys.FinishLogin(ctx, lf.User, binding, cred)
	if err != nil {
		msg, ok := passkeyMessage(err)
		if !ok {
			s.pageFail(w, r, err)
			return
		}
		s.local.Accounts.Audit(ctx, lf.User, "signin.failed", lf.User, "sign-in failed from "+source+": the password was right, the passkey was refused: "+msg)
		if err := s.local.Accounts.LoginFailed(ctx, lf); err != nil {
			s.flowGone(w, r, err)
			return
		}
		again(http.StatusUnauthorized, msg)
		return
	}
	s.FinishSecondFactor(w, r, lf, source, auth.MethodUse{Method: auth.MethodPasskey, At: use.Passkey.Spec.(*resource.PasskeySpec).LastUsed})
}

func (s *Server) passkeyStepUp(w http.ResponseWriter, r *http.Request, next string, cred []byte) {
	ctx := r.Context()
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
	use, err := s.passkeys.FinishLogin(ctx, sess.User, "session:"+sess.ID, cred)
	if err != nil {
		msg, ok := passkeyMessage(err)
		if !ok {
			s.pageFail(w, r, err)
			return
		}
		s.local.Accounts.Audit(ctx, sess.User, "stepup.failed", sess.User, "step-up failed from "+source+": the passkey was refused: "+msg)
		again(http.StatusUnauthorized, msg)
		return
	}
	if err := s.Sessions().AddFactor(ctx, sess, auth.MethodUse{Method: auth.MethodPasskey, At: use.Passkey.Spec.(*resource.PasskeySpec).LastUsed}); err != nil {
		s.pageFail(w, r, err)
		return
	}
	web.SetSecurityHeaders(w.Header())
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) passkeyDiscover(w http.ResponseWriter, r *http.Request, next string, cred []byte) {
	ctx := r.Context()
	again := func(status int, msg string) {
		s.flowPage(w, r, "login", status, "login", loginData{Next: next, Error: msg, Passkey: true})
	}
	browser := s.cookie(r, "warden_csrf")
	if browser == "" || !s.CheckFlowCSRF(r, "login") {
		again(http.StatusForbidden, "This form expired or did not come from warden: try again.")
		return
	}
	use, err := s.passkeys.FinishDiscover(ctx, "discover:"+browser, cred)
	if err != nil {
		msg, ok := passkeyMessage(err)
		if !ok {
			s.pageFail(w, r, err)
			return
		}
		s.local.Accounts.Audit(ctx, "anonymous", "signin.failed", "", "passkey sign-in failed from "+s.source(r)+": "+msg)
		again(http.StatusUnauthorized, msg)
		return
	}
	source := s.source(r)
	if s.throttled(w, r, use.User, source, again) {
		return
	}
	at := use.Passkey.Spec.(*resource.PasskeySpec).LastUsed
	s.finishSignIn(w, r, use.User, source, next, auth.MethodUse{Method: auth.MethodPasskey, At: at})
}
