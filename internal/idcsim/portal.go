package idcsim

// The AWS access portal (the start URL) and the ACS endpoint's HTTP side, and the /_sim/saml/
// endpoints that stand in for the console's identity source settings.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// portalCookie is the access portal's session cookie.
const portalCookie = "x-amz-sso_authn"

type portalSession struct {
	userID, userName string
	expires          time.Time
	// csrf is the token the portal's forms carry; badCodes counts wrong user codes entered.
	csrf     string
	badCodes int
}

// SignInEvent is one Response the ACS took or refused, as CloudTrail records sign-ins through an
// external IdP (event ExternalIdPDirectoryLogin).
type SignInEvent struct {
	Time      time.Time `json:"eventTime"`
	EventName string    `json:"eventName"`
	// Outcome is Success or Failure.
	Outcome  string `json:"outcome"`
	UserName string `json:"userName,omitempty"`
	// ErrorMessage is why a Response was refused; Headline the error page's headline.
	ErrorMessage string `json:"errorMessage,omitempty"`
	Headline     string `json:"headline,omitempty"`
}

// SignInEvents are the last sign-in events, oldest first.
func (s *Sim) SignInEvents() []SignInEvent {
	s.samlMu.Lock()
	defer s.samlMu.Unlock()
	return append([]SignInEvent(nil), s.events...)
}

func (s *Sim) record(ev SignInEvent) {
	ev.Time, ev.EventName = s.now().UTC(), "ExternalIdPDirectoryLogin"
	s.samlMu.Lock()
	defer s.samlMu.Unlock()
	if len(s.events) >= 200 {
		s.events = append(s.events[:0], s.events[100:]...)
	}
	s.events = append(s.events, ev)
}

// PortalAccount is one account of the access portal's list with the permission sets the user may
// use in it.
type PortalAccount struct {
	ID, Name, Email string
	PermissionSets  []string
}

// PortalAccounts lists what the user may use, from the account assignments of the user and of
// every group the user is a member of, as they are now.
func (s *Sim) PortalAccounts(userID string) []PortalAccount {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	return s.portalAccounts(userID)
}

func (s *Sim) portalAccounts(userID string) []PortalAccount {
	st := s.st
	byAccount := map[string]map[string]bool{}
	add := func(principal, typ string) {
		for k := range st.byPrincipal[principal] {
			a := st.Assignments[k]
			if a == nil || a.PrincipalType != typ {
				continue
			}
			ps := st.PermissionSets[a.PermissionSetArn]
			if ps == nil || st.Accounts[a.AccountId] == nil {
				continue
			}
			if byAccount[a.AccountId] == nil {
				byAccount[a.AccountId] = map[string]bool{}
			}
			byAccount[a.AccountId][ps.Name] = true
		}
	}
	add(userID, "USER")
	for g := range st.userGroups[userID] {
		add(g, "GROUP")
	}
	out := make([]PortalAccount, 0, len(byAccount))
	for id, sets := range byAccount {
		acct := st.Accounts[id]
		pa := PortalAccount{ID: id, Name: acct.Name, Email: acct.Email}
		for n := range sets {
			pa.PermissionSets = append(pa.PermissionSets, n)
		}
		sort.Strings(pa.PermissionSets)
		out = append(out, pa)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// randomToken is n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// securityHeaders are sent with every portal page.
func securityHeaders(w http.ResponseWriter, formAction string) {
	h := w.Header()
	csp := "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
	if formAction != "" {
		csp += " " + formAction
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
}

var portalPages = template.Must(template.New("").Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.}}</title>
<style>body{font-family:sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}li.account{margin:.75rem 0}.muted{color:#555}.detail{font-family:monospace;color:#555}</style>
</head><body>{{end}}
{{define "portal"}}{{template "head" "AWS access portal"}}
<header><h1>AWS access portal</h1>
<p>Signed in as <strong id="user">{{.UserName}}</strong></p>
<form method="post" action="/start/signout"><button type="submit">Sign out</button></form></header>
<main><h2>AWS accounts ({{len .Accounts}})</h2>
{{if .Accounts}}<ul id="accounts">{{range .Accounts}}
<li class="account" data-account-id="{{.ID}}"><strong class="account-name">{{.Name}}</strong> <span class="muted">{{.ID}} | {{.Email}}</span>
<ul>{{range .PermissionSets}}<li class="permission-set" data-permission-set="{{.}}">{{.}}</li>{{end}}</ul></li>{{end}}
</ul>{{else}}<p id="no-accounts">You do not have access to any AWS accounts.</p>{{end}}</main>
</body></html>{{end}}
{{define "error"}}{{template "head" .Headline}}
<main><h1>{{.Headline}}</h1>
<p>We couldn't complete your request right now. Please try again later.</p>
<p class="detail" id="reason">{{.Reason}}</p>
<p><a href="/start">AWS access portal</a></p></main>
</body></html>{{end}}
{{define "signedout"}}{{template "head" "Signed out"}}
<main><h1>You have been signed out</h1><p><a href="/start">Sign in again</a></p></main>
</body></html>{{end}}
{{define "noidp"}}{{template "head" "AWS access portal"}}
<main><h1>No identity source to sign in with</h1>
<p>This simulated Identity Center has no external identity provider. Give it one: <code>warden sim --idp-metadata URL|FILE</code>, or <code>PUT /_sim/saml/idp-metadata</code> with the IdP's metadata.</p></main>
</body></html>{{end}}
{{define "post"}}{{template "head" "Signing in"}}
<form method="post" action="{{.URL}}"><input type="hidden" name="SAMLRequest" value="{{.Request}}">{{if .RelayState}}<input type="hidden" name="RelayState" value="{{.RelayState}}">{{end}}
<p>Continue to your identity provider to sign in.</p><button type="submit" autofocus>Continue</button></form>
</body></html>{{end}}
`))

func (s *Sim) renderPage(w http.ResponseWriter, status int, name string, data any) {
	securityHeaders(w, "")
	w.WriteHeader(status)
	portalPages.ExecuteTemplate(w, name, data)
}

// servePortal answers the start URL, the ACS and sign-out.
func (s *Sim) servePortal(w http.ResponseWriter, r *http.Request) {
	e := s.Endpoints(s.baseURL(r))
	switch {
	case strings.HasPrefix(r.URL.Path, acsPathPrefix):
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "the ACS takes a SAML Response by HTTP POST", http.StatusMethodNotAllowed)
			return
		}
		s.serveACS(w, r, e)
	case r.URL.Path == "/start/signout":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "sign out with POST", http.StatusMethodNotAllowed)
			return
		}
		if c, err := r.Cookie(portalCookie); err == nil {
			s.samlMu.Lock()
			delete(s.sessions, c.Value)
			s.samlMu.Unlock()
		}
		http.SetCookie(w, &http.Cookie{Name: portalCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		s.renderPage(w, http.StatusOK, "signedout", nil)
	case r.URL.Path == "/start" || r.URL.Path == "/start/":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		s.serveStart(w, r, e)
	default:
		http.NotFound(w, r)
	}
}

// session is the request's live portal session, if any. A session whose user was deleted or
// disabled since ends.
func (s *Sim) session(r *http.Request) (*portalSession, string) {
	c, err := r.Cookie(portalCookie)
	if err != nil || c.Value == "" {
		return nil, ""
	}
	now := s.now()
	s.samlMu.Lock()
	ps := s.sessions[c.Value]
	if ps != nil && !now.Before(ps.expires) {
		delete(s.sessions, c.Value)
		ps = nil
	}
	s.samlMu.Unlock()
	if ps == nil {
		return nil, ""
	}
	s.mu.Lock()
	u := s.st.Users[ps.userID]
	alive := u != nil && u.UserStatus != "DISABLED" && u.UserName == ps.userName
	s.mu.Unlock()
	if !alive {
		s.samlMu.Lock()
		delete(s.sessions, c.Value)
		s.samlMu.Unlock()
		return nil, ""
	}
	return ps, c.Value
}

func (s *Sim) serveStart(w http.ResponseWriter, r *http.Request, e SAMLEndpoints) {
	if ps, _ := s.session(r); ps != nil {
		s.renderPage(w, http.StatusOK, "portal", struct {
			UserName string
			Accounts []PortalAccount
		}{ps.userName, s.PortalAccounts(ps.userID)})
		return
	}
	s.signInFirst(w, r, e, "")
}

// signInFirst sends an anonymous visitor to the IdP, to come back to returnTo (a portal path; ""
// for the start page) once signed in.
func (s *Sim) signInFirst(w http.ResponseWriter, r *http.Request, e SAMLEndpoints, returnTo string) {
	s.mu.Lock()
	idp := s.idp
	s.mu.Unlock()
	if idp == nil {
		s.renderPage(w, http.StatusServiceUnavailable, "noidp", nil)
		return
	}
	redirect, postURL, encoded := s.authnRequest(e, idp, returnTo)
	if redirect != "" {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, redirect, http.StatusFound)
		return
	}
	securityHeaders(w, postURL)
	w.WriteHeader(http.StatusOK)
	portalPages.ExecuteTemplate(w, "post", struct{ URL, Request, RelayState string }{postURL, encoded, returnTo})
}

func (s *Sim) serveACS(w http.ResponseWriter, r *http.Request, e SAMLEndpoints) {
	if r.URL.Path != e.ACS[strings.Index(e.ACS, acsPathPrefix):] {
		http.NotFound(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 2*maxSAMLResponse)
	if err := r.ParseForm(); err != nil {
		s.acsRefused(w, refuse("the ACS could not read the form: %v", err))
		return
	}
	encoded := r.PostForm.Get("SAMLResponse")
	if encoded == "" {
		s.acsRefused(w, refuse("the POST has no SAMLResponse"))
		return
	}
	res, aerr := s.consumeResponse(encoded, e)
	if aerr != nil {
		s.acsRefused(w, aerr)
		return
	}
	now := s.now()
	expires := now.Add(portalSessionLifetime)
	if !res.sessionEnd.IsZero() && res.sessionEnd.Before(expires) {
		expires = res.sessionEnd
	}
	token := randomToken(32)
	s.samlMu.Lock()
	s.sessions[token] = &portalSession{userID: res.userID, userName: res.userName, expires: expires, csrf: randomToken(24)}
	s.samlMu.Unlock()
	s.record(SignInEvent{Outcome: "Success", UserName: res.userName})
	http.SetCookie(w, &http.Cookie{Name: portalCookie, Value: token, Path: "/", Expires: expires, HttpOnly: true,
		Secure: strings.HasPrefix(e.StartURL, "https://"), SameSite: http.SameSiteLaxMode})
	to := "/start"
	if res.returnTo != "" {
		to = res.returnTo
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (s *Sim) acsRefused(w http.ResponseWriter, e *acsError) {
	s.record(SignInEvent{Outcome: "Failure", ErrorMessage: e.reason, Headline: e.headline})
	s.renderPage(w, http.StatusBadRequest, "error", struct{ Headline, Reason string }{e.headline, e.reason})
}

// serveSAMLAdmin answers /_sim/saml/: the external identity source setting (what AWS has no public
// API for), Identity Center's SP metadata, and the sign-in events.
func (s *Sim) serveSAMLAdmin(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_sim/saml/idp-metadata":
		switch r.Method {
		case http.MethodGet:
			info, ok := s.IdP()
			if !ok {
				http.Error(w, "no external identity provider is set", http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(info)
		case http.MethodPut, http.MethodPost:
			var b []byte
			var err error
			if u := r.URL.Query().Get("url"); u != "" {
				b, err = FetchIdPMetadata(r.Context(), u)
			} else {
				b, err = io.ReadAll(io.LimitReader(r.Body, 4*MaxIdPMetadata+1))
			}
			if err == nil {
				err = s.SetIdPMetadata(b)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			info, _ := s.IdP()
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(info)
		case http.MethodDelete:
			s.ClearIdP()
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Allow", "GET, PUT, POST, DELETE")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	case "/_sim/saml/sp-metadata":
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		if r.URL.Query().Has("download") {
			w.Header().Set("Content-Disposition", `attachment; filename="Custom SAML 2.0 application_ins-metadata.xml"`)
		}
		w.Write(s.SPMetadata(s.baseURL(r)))
	case "/_sim/saml/events":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.SignInEvents())
	default:
		http.NotFound(w, r)
	}
}
