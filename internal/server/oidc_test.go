package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/oidc"
	"github.com/wardenhq/warden/internal/auth/oidc/oidctest"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

const (
	oidcClientID  = "warden"
	oidcSecret    = "s3cr3t-warden-client"
	oidcSecretEnv = "WARDEN_TEST_OIDC_CORP_SECRET"
)

// oidcEnv is the whole server, with sessions, over real HTTP, and a real OpenID Connect provider
// (npm oidc-provider) with warden registered as a client.
type oidcEnv struct {
	t     *testing.T
	ctx   context.Context
	url   string
	store store.Store
	srv   *server.Server
	p     *oidctest.Provider
	cfg   oidc.Config
	retry *clock.Fake
	ready <-chan struct{}
}

// newOIDCEnv starts the provider and the server; the connector "corp" creates users at
// example.com. With down, the provider is unreachable when the server starts.
func newOIDCEnv(t *testing.T, down bool) *oidcEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ln, base := oidctest.Listen(t)
	p := oidctest.Start(t, oidctest.Client{ID: oidcClientID, Secret: oidcSecret, Redirect: server.OIDCRedirectURL(base, "corp")})
	p.SetAccounts(t, map[string]map[string]any{
		"alice": {"email": "alice@example.com", "email_verified": true, "name": "Alice", "_amr": []string{"pwd", "otp"}},
		"bob":   {"email": "bob@example.com", "email_verified": true, "name": "Bob"},
		"eve":   {"email": "eve@elsewhere.example", "email_verified": true},
	})
	p.Down(down)
	t.Setenv(oidcSecretEnv, oidcSecret)

	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := server.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.SetSessions(auth.NewSessions(st, auth.SessionConfig{}))
	hs := httptest.NewUnstartedServer(srv)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)

	cfg := oidc.Config{Name: "corp", Issuer: p.Issuer, ClientID: oidcClientID, ClientSecretEnv: oidcSecretEnv,
		AllowedDomains: []string{"example.com"}, CreateUsers: true}
	e := &oidcEnv{t: t, ctx: ctx, url: base, store: st, srv: srv, p: p, cfg: cfg, retry: clock.NewFake(time.Now())}
	e.ready = srv.StartOIDC(ctx, server.OIDCSetup{Connectors: []oidc.Config{cfg}, BaseURL: base, Retry: e.retry})
	if !down {
		e.waitReady()
	}
	return e
}

func (e *oidcEnv) waitReady() {
	e.t.Helper()
	select {
	case <-e.ready:
	case <-time.After(30 * time.Second):
		e.t.Fatal("the connector did not become ready")
	}
}

// noRedirect is a browser that stops at the first redirect, to look at it.
func noRedirect(b *http.Client) *http.Client {
	c := *b
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// begin starts a sign-in in browser and signs in at the provider as login, stopping at warden's
// callback: the callback's URL, not yet visited.
func (e *oidcEnv) begin(browser *http.Client, login, next string) *url.URL {
	e.t.Helper()
	return e.beginAt(browser, login, "/login/oidc/corp?next="+url.QueryEscape(next))
}

// beginAt is begin from path.
func (e *oidcEnv) beginAt(browser *http.Client, login, path string) *url.URL {
	e.t.Helper()
	var callback *url.URL
	stop := *browser
	stop.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), e.url+"/login/oidc/corp/callback") {
			callback = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := stop.Get(e.url + path)
	if err != nil {
		e.t.Fatal(err)
	}
	resp = e.p.Login(e.t, &stop, resp, login)
	resp.Body.Close()
	if callback == nil {
		e.t.Fatalf("no redirect to warden's callback: %s at %s", resp.Status, resp.Request.URL)
	}
	return callback
}

func get(t *testing.T, c *http.Client, u string) (int, string, *http.Response) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp
}

func (e *oidcEnv) whoami(c *http.Client) (int, map[string]any) {
	e.t.Helper()
	code, body, _ := get(e.t, c, e.url+"/v1/whoami")
	var p map[string]any
	json.Unmarshal([]byte(body), &p)
	return code, p
}

func (e *oidcEnv) auditDetails(action string) []string {
	e.t.Helper()
	entries, err := audit.List(e.ctx, e.store, audit.Filter{Kind: resource.KindOIDCFlow})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		if en.Action == action {
			out = append(out, en.Detail)
		}
	}
	return out
}

func (e *oidcEnv) flowsLeft() int {
	e.t.Helper()
	objs, err := e.store.List(e.ctx, resource.KindOIDCFlow, store.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(objs)
}

// The whole sign-in through the provider: the flow begins at warden, the person signs in at the
// provider's pages, the callback makes the user and a session, and the session works on the API.
func TestOIDCSignIn(t *testing.T) {
	e := newOIDCEnv(t, false)
	browser := oidctest.Browser()
	resp, err := browser.Get(e.url + "/login/oidc/corp?next=" + url.QueryEscape("/v1/whoami"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.Request.URL.String(), e.p.Issuer) {
		t.Fatalf("the flow did not lead to the provider: %s", resp.Request.URL)
	}
	resp = e.p.Login(t, browser, resp, "alice")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/v1/whoami" {
		t.Fatalf("after the callback: %s at %s:\n%s", resp.Status, resp.Request.URL, body)
	}
	var who map[string]any
	if err := json.Unmarshal(body, &who); err != nil || who["user"] != "alice@example.com" || who["method"] != "session" {
		t.Fatalf("whoami = %s", body)
	}
	if who["second_factor_at"] == nil {
		t.Errorf("the provider said amr [pwd otp], but the session has no second factor: %s", body)
	}
	// The user was created by the connector.
	u, err := e.store.Get(e.ctx, resource.KindUser, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Spec.(*resource.UserSpec).Origin; got != "oidc:corp" {
		t.Errorf("origin = %q", got)
	}
	// Audited, with the flow named; the flow is used up, its cookie cleared.
	if d := e.auditDetails("signin"); len(d) != 1 || !strings.Contains(d[0], "alice@example.com signed in through oidc:corp") || !strings.Contains(d[0], "a second factor") {
		t.Errorf("audit: %q", d)
	}
	if n := e.flowsLeft(); n != 0 {
		t.Errorf("%d flows left after the callback", n)
	}
	for _, c := range browser.Jar.Cookies(mustURL(t, e.url+"/login/oidc/corp/callback")) {
		if c.Name == "warden_oidc" {
			t.Errorf("the flow's cookie is still set: %v", c)
		}
	}

	// Without MFA at the provider: signed in, no second factor.
	b2 := oidctest.Browser()
	cb := e.begin(b2, "bob", "/")
	if code, body, _ := get(t, noRedirect(b2), cb.String()); code != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", code, body)
	}
	code, who := e.whoami(b2)
	if code != http.StatusOK || who["user"] != "bob@example.com" || who["second_factor_at"] != nil {
		t.Fatalf("bob's whoami: %d %v", code, who)
	}
	if d := e.auditDetails("signin"); len(d) != 2 || !strings.Contains(d[1], "no second factor") {
		t.Errorf("audit: %q", d)
	}
}

// The next the flow kept is followed only when it is a local path.
func TestOIDCNextIsLocal(t *testing.T) {
	e := newOIDCEnv(t, false)
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example"} {
		b := oidctest.Browser()
		cb := e.begin(b, "alice", next)
		code, _, resp := get(t, noRedirect(b), cb.String())
		if code != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Errorf("next %q: %d Location %q", next, code, resp.Header.Get("Location"))
		}
	}
}

// A callback whose state is not the flow's is refused, and uses the flow up: the right callback
// afterwards finds nothing.
func TestOIDCStateMismatch(t *testing.T) {
	e := newOIDCEnv(t, false)
	b := oidctest.Browser()
	cb := e.begin(b, "alice", "/")
	bad := *cb
	q := bad.Query()
	q.Set("state", "not-the-state")
	bad.RawQuery = q.Encode()
	code, body, _ := get(t, noRedirect(b), bad.String())
	if code != http.StatusBadRequest || !strings.Contains(body, "does not match") {
		t.Fatalf("a wrong state: %d\n%s", code, body)
	}
	if strings.Contains(body, "not-the-state") || strings.Contains(body, cb.Query().Get("code")) {
		t.Fatalf("the page shows the callback's values:\n%s", body)
	}
	if code, _ := e.whoami(b); code != http.StatusUnauthorized {
		t.Fatalf("a session after a wrong state: %d", code)
	}
	if d := e.auditDetails("signin.refused"); len(d) != 1 || !strings.Contains(d[0], "state") {
		t.Fatalf("audit: %q", d)
	}
	// The flow is gone (and its cookie): the genuine callback is refused too.
	if code, body, _ := get(t, noRedirect(b), cb.String()); code != http.StatusBadRequest {
		t.Fatalf("the genuine callback after a refused one: %d\n%s", code, body)
	}
	if code, _ := e.whoami(b); code != http.StatusUnauthorized {
		t.Fatalf("signed in after all: %d", code)
	}
}

// A callback is used once: replayed with the flow's cookie, or in another browser, it is refused.
func TestOIDCReplayedCallback(t *testing.T) {
	e := newOIDCEnv(t, false)
	b := oidctest.Browser()
	cb := e.begin(b, "alice", "/")
	var flowCookie *http.Cookie
	for _, c := range b.Jar.Cookies(cb) {
		if c.Name == "warden_oidc" {
			flowCookie = c
		}
	}
	if flowCookie == nil {
		t.Fatal("no flow cookie in the browser")
	}
	if code, body, _ := get(t, noRedirect(b), cb.String()); code != http.StatusSeeOther {
		t.Fatalf("callback: %d\n%s", code, body)
	}
	// The same callback again, with the cookie put back (an attacker who copied both).
	replay := oidctest.Browser()
	replay.Jar.SetCookies(cb, []*http.Cookie{{Name: flowCookie.Name, Value: flowCookie.Value, Path: "/"}})
	code, body, _ := get(t, noRedirect(replay), cb.String())
	if code != http.StatusBadRequest || !strings.Contains(body, "already used or has expired") {
		t.Fatalf("replay with the cookie: %d\n%s", code, body)
	}
	if code, _ := e.whoami(replay); code != http.StatusUnauthorized {
		t.Fatalf("the replay signed in: %d", code)
	}
	// And in a browser that never began it (login CSRF: an attacker's callback sent to a victim).
	code, body, _ = get(t, noRedirect(oidctest.Browser()), cb.String())
	if code != http.StatusBadRequest || !strings.Contains(body, "not started in this browser") {
		t.Fatalf("another browser: %d\n%s", code, body)
	}
	if d := e.auditDetails("signin"); len(d) != 1 {
		t.Fatalf("sign-ins audited: %q", d)
	}
}

// An unknown connector is refused, at the start and at the callback.
func TestOIDCUnknownConnector(t *testing.T) {
	e := newOIDCEnv(t, false)
	b := oidctest.Browser()
	for _, path := range []string{"/login/oidc/nope", "/login/oidc/nope/callback?code=x&state=y", "/login/oidc/CORP"} {
		code, body, resp := get(t, noRedirect(b), e.url+path)
		if code != http.StatusNotFound || !strings.Contains(body, "no such way to sign in") {
			t.Errorf("%s: %d\n%s", path, code, body)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no CSP on the error page", path)
		}
	}
	// A flow begun for corp, finished at another connector's callback: refused (404: not a connector).
	cb := e.begin(b, "alice", "/")
	if code, _, _ := get(t, noRedirect(b), strings.Replace(cb.String(), "/corp/", "/other/", 1)); code != http.StatusNotFound {
		t.Errorf("another connector's callback: %d", code)
	}
}

// A person the connector does not admit (an email at another domain) is refused with a page that
// says so without details, and audited.
func TestOIDCRefusedPerson(t *testing.T) {
	e := newOIDCEnv(t, false)
	b := oidctest.Browser()
	cb := e.begin(b, "eve", "/")
	code, body, _ := get(t, noRedirect(b), cb.String())
	if code != http.StatusForbidden || !strings.Contains(body, "may not sign in to warden") || strings.Contains(body, "elsewhere.example") {
		t.Fatalf("eve: %d\n%s", code, body)
	}
	if _, err := e.store.Get(e.ctx, resource.KindUser, "eve@elsewhere.example"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("eve's user: %v", err)
	}
	if d := e.auditDetails("signin.refused"); len(d) != 1 || !strings.Contains(d[0], "domain") {
		t.Fatalf("audit: %q", d)
	}
}

// A provider that cannot be reached when warden starts blocks nothing: the server serves at once,
// the connector says it is unavailable, and it becomes ready once the provider answers (the
// discovery retried with backoff).
func TestOIDCProviderUnreachableAtStart(t *testing.T) {
	e := newOIDCEnv(t, true)
	b := oidctest.Browser()
	if code, body, _ := get(t, b, e.url+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz: %d %s", code, body)
	}
	code, body, _ := get(t, noRedirect(b), e.url+"/login/oidc/corp")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "not available right now") {
		t.Fatalf("while the provider is down: %d\n%s", code, body)
	}
	if got := e.srv.OIDCConnectors(); len(got) != 1 || got[0].Name != "corp" || got[0].Ready {
		t.Fatalf("connectors = %+v", got)
	}
	// The retries back off: 1 s, 2 s, 4 s...
	for _, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		at := e.retry.Now().Add(wait)
		if !e.retry.WaitUntil(30*time.Second, at) {
			t.Fatalf("no retry set %s ahead (pending %v)", wait, e.retry.Pending())
		}
		e.retry.Set(at)
	}
	if !e.retry.WaitFor(30*time.Second, func(p []time.Time) bool { return len(p) == 1 }) {
		t.Fatal("no retry pending")
	}
	e.p.Down(false)
	e.retry.Advance(8 * time.Second)
	e.waitReady()
	cb := e.begin(b, "alice", "/")
	if code, body, _ := get(t, noRedirect(b), cb.String()); code != http.StatusSeeOther {
		t.Fatalf("callback once the provider is up: %d\n%s", code, body)
	}
}

// A step-up through the provider asks it to authenticate the person again, now (prompt=login,
// max_age=0), and the new session's second factor is dated when the provider says it did.
func TestOIDCStepUp(t *testing.T) {
	e := newOIDCEnv(t, false)
	b := oidctest.Browser()
	code, _, resp := get(t, noRedirect(b), e.url+"/login/oidc/corp?step_up=1")
	loc, err := url.Parse(resp.Header.Get("Location"))
	if code != http.StatusSeeOther || err != nil || loc.Query().Get("prompt") != "login" || loc.Query().Get("max_age") != "0" {
		t.Fatalf("step-up start: %d Location %q", code, resp.Header.Get("Location"))
	}

	b = oidctest.Browser()
	cb := e.begin(b, "alice", "/")
	if code, body, _ := get(t, noRedirect(b), cb.String()); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", code, body)
	}
	_, first := e.whoami(b)
	before := time.Now().Add(-time.Second).Truncate(time.Second)
	cb = e.beginAt(b, "alice", "/login/oidc/corp?step_up=1&next=/v1/whoami")
	if code, body, _ := get(t, noRedirect(b), cb.String()); code != http.StatusSeeOther {
		t.Fatalf("step-up: %d\n%s", code, body)
	}
	code, second := e.whoami(b)
	if code != http.StatusOK || second["session"] == first["session"] {
		t.Fatalf("after the step-up: %d %v (before: %v)", code, second, first)
	}
	at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(second["second_factor_at"]))
	if err != nil || at.Before(before) {
		t.Fatalf("second_factor_at %v (%v), want at or after %s", second["second_factor_at"], err, before)
	}
	if d := e.auditDetails("signin"); len(d) != 2 || !strings.Contains(d[1], "authenticated by the provider at") {
		t.Fatalf("audit: %q", d)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestOIDCMFA(t *testing.T) {
	for _, c := range []struct {
		amr  any
		want bool
	}{
		{nil, false},
		{[]any{"pwd"}, false},
		{[]any{"pwd", "mfa"}, true},
		{[]any{"pwd", "otp"}, true},
		{[]any{"hwk", "user"}, true},
		{[]any{"swk"}, true},
		{[]any{"pwd", "sms"}, true},
		{[]any{"fpt"}, false},
		{[]any{"kba", "pwd"}, false},
		{"pwd mfa", true},
		{[]any{1, 2}, false},
		{map[string]any{"mfa": true}, false},
	} {
		if got := server.OIDCMFA(c.amr); got != c.want {
			t.Errorf("OIDCMFA(%v) = %v, want %v", c.amr, got, c.want)
		}
	}
}
