package server

// The web UI's plumbing (the pages themselves are in ui_*.go, their templates in package web).
//
// Every UI page is served through s.ui: it needs a browser session (none: a GET is sent to
// /login?next=<the page>, anything else to /login), it reads the person afresh (administrator or
// not, as for the API), and a request that changes something must carry the session's CSRF token
// in the form field csrf (a page of another site can make the browser send the cookie, never the
// token). The handler gets the same *auth.Principal the API's handlers get, so every rule the API
// applies (who may read, review, govern, administer; step-up) is the very same code.
//
// Forms post to the page's own path or a sub-path, and the answer is a redirect (303) to the page
// that shows the result, with a one-line notice in the query (flash); a refused form is rendered
// again with the error beside the field it names (uiFieldErrors). An error that belongs to no form
// becomes the error page with the API's status: 400, 403, 404, 409; a step-up refusal offers the
// step-up page, which comes back to the page the form was on.
//
// Pages that show something still moving (a request's assignments, the sync's progress) mark the
// moving part with data-live; assets/ui.js fetches the page again and swaps that part in. The
// fetch carries X-Warden-Live, which the page may use to skip work the part does not need.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/web"
)

// uiHandler serves a UI page to a signed-in person.
type uiHandler func(w http.ResponseWriter, r *http.Request, p *auth.Principal)

// maxFlash bounds the notice a redirect carries in its query.
const maxFlash = 300

// ui wraps a page: session required, CSRF checked on writes, the person in the layout's header.
func (s *Server) ui(section string, h uiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.sessions == nil {
			s.pageError(w, r, http.StatusNotFound, "Sign-in is not enabled on this warden, so neither are its pages.")
			return
		}
		sess, err := s.sessions.Current(r)
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		if sess == nil {
			target := "/login"
			if safeMethod(r.Method) && r.Header.Get("X-Warden-Live") == "" {
				target += "?next=" + url.QueryEscape(SafeNext(r.URL.RequestURI()))
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		exists, admin, err := s.sessions.User(r.Context(), sess.User)
		if err != nil {
			s.pageFail(w, r, err)
			return
		}
		if !exists {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if !safeMethod(r.Method) {
			if err := parseForm(w, r); err != nil {
				s.pageError(w, r, http.StatusRequestEntityTooLarge, "The form was too large.")
				return
			}
			if !s.sessions.CheckCSRF(r, sess) {
				s.pageError(w, r, http.StatusForbidden, "This form was not sent from warden's own page (its CSRF token is missing or stale). Go back, reload the page and send it again.")
				return
			}
		}
		p := &auth.Principal{User: sess.User, Admin: admin, Method: auth.MethodSession,
			Session: sess.ID, SecondFactorAt: sess.SecondFactorAt, Expires: sess.Expires}
		ctx := context.WithValue(context.WithValue(r.Context(), principalKey{}, p), sessionKey{}, sess)
		ctx = web.WithViewer(ctx, web.Viewer{User: sess.User, CSRF: s.sessions.CSRFToken(sess), Admin: admin, Section: section})
		h(w, r.WithContext(ctx), p)
	}
}

// uiRender renders a UI page (the viewer is already in r's context).
func (s *Server) uiRender(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	s.pages.Render(w, r, status, name, data)
}

// uiRedirect sends the browser to a page after a form, with a notice for it to show.
func uiRedirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		if len(flash) > maxFlash {
			flash = flash[:maxFlash]
		}
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "flash=" + url.QueryEscape(flash)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// uiFlash is the notice a redirect carried (bounded, shown as text).
func uiFlash(r *http.Request) string {
	f := r.URL.Query().Get("flash")
	if len(f) > maxFlash {
		f = f[:maxFlash]
	}
	return f
}

// uiFieldErrors are err's problems by field (the API's field paths: "spec.reason", "reason"...),
// when err is a bad-input error; ok is false for any other error.
func uiFieldErrors(err error) (map[string]string, bool) {
	var fes resource.Errors
	var fe *resource.FieldError
	switch {
	case errors.As(err, &fes):
		out := map[string]string{}
		for _, e := range fes {
			if _, dup := out[e.Field]; !dup {
				out[e.Field] = e.Message
			}
		}
		return out, true
	case errors.As(err, &fe):
		return map[string]string{fe.Field: fe.Message}, true
	}
	return nil, false
}

// uiFail answers an error that belongs to no form field: the error page with the API's status and
// message. A step-up refusal offers the step-up page, which returns to back (the page the person was
// on); an internal failure shows only an id to find the log line.
func (s *Server) uiFail(w http.ResponseWriter, r *http.Request, back string, err error) {
	code, body := errorBody(err)
	back = SafeNext(back)
	var su *stepUpError
	switch {
	case errors.As(err, &su):
		s.pages.Render(w, r, http.StatusForbidden, "step_up_needed", stepUpNeeded{Message: su.msg, Next: back})
	case code == http.StatusInternalServerError || code == 499:
		s.pageFail(w, r, err)
	default:
		msg := body.Error
		if body.Field != "" {
			msg = body.Field + ": " + msg
		}
		s.pages.Render(w, r, code, "error", web.ErrorData{Title: http.StatusText(code), Message: msg, Back: back})
	}
}

// stepUpNeeded is the step_up_needed page's data.
type stepUpNeeded struct {
	Message string
	// Next is where the step-up returns to.
	Next string
}

// StepUpFresh says whether p's second factor is recent enough for an approval or an administrative
// change now (pages show "confirm your second factor first" instead of a form that would be refused).
func (s *Server) stepUpFresh(p *auth.Principal) bool { return s.stepUp(p, "") == nil }

// uiRoutes registers the web UI's pages.
func (s *Server) uiRoutes() {
	s.uiAccessRoutes() // ui_access.go: My access, Request access, the request pages
	s.uiGovernRoutes() // ui_govern.go: the review inbox, access lists
	s.uiAdminRoutes()  // ui_admin.go: audit, administration, the guided integration
}
