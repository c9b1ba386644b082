package main

// Browser tests of the sign-in pages, in headless Chromium (internal/web/browsertest), against the
// real binary (`warden serve`, every part built in) and a real OpenID Connect provider (npm
// oidc-provider, internal/auth/oidc/oidctest). Each page of warden's is checked with axe-core as it
// is shown; any JavaScript error or CSP violation on warden's pages fails the test.

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/auth/oidc/oidctest"
	"github.com/wardenhq/warden/internal/testenv"
	"github.com/wardenhq/warden/internal/web/browsertest"
)

const browserOIDCSecret = "s3cr3t-browser-client"

// browserEnv is `warden serve` with an OIDC connector "corp" to a running provider, its admin CLI,
// and a browser.
type browserEnv struct {
	t    *testing.T
	srv  *serveProc
	base string
	cli  []string
	p    *oidctest.Provider
	b    *browsertest.Browser
}

func newBrowserEnv(t *testing.T) *browserEnv {
	t.Helper()
	return newBrowserEnvDown(t, false)
}

// newBrowserEnvDown is newBrowserEnv with, when down, the provider unreachable as warden starts.
func newBrowserEnvDown(t *testing.T, down bool) *browserEnv {
	t.Helper()
	browsertest.Require(t)
	// The callback URL is registered at the provider before warden starts: warden listens where
	// the test reserved.
	ln, _ := oidctest.Listen(t)
	addr := ln.Addr().String()
	ln.Close()
	// localhost, not the address: a host name is a WebAuthn relying party, so the pages show their
	// passkey parts too, and axe-core checks them.
	_, port, _ := net.SplitHostPort(addr)
	base := "http://localhost:" + port
	p := oidctest.Start(t, oidctest.Client{ID: "warden", Secret: browserOIDCSecret, Redirect: base + "/login/oidc/corp/callback"})
	p.SetAccounts(t, map[string]map[string]any{
		"carol": {"email": "carol@example.com", "email_verified": true, "name": "Carol", "_amr": []string{"pwd", "otp"}},
		"erin":  {"email": "erin@example.com", "email_verified": true, "name": "Erin"},
		"mal":   {"email": "mal@elsewhere.example", "email_verified": true},
	})
	p.Down(down)
	dataDir := t.TempDir()
	cfg := fmt.Sprintf(`listen: %s
public_url: %s
auth:
  lockout:
    account_failures: 5
    base_delay: 10ms
  oidc:
    - name: corp
      issuer: %s
      client_id: warden
      client_secret_env: WARDEN_TEST_BROWSER_OIDC_SECRET
      allowed_domains: [example.com]
      create_users: true
`, addr, base, p.Issuer)
	cfgPath := filepath.Join(t.TempDir(), "warden.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := cleanEnv(t, "WARDEN_DATA_DIR="+dataDir, "WARDEN_TEST_BROWSER_OIDC_SECRET="+browserOIDCSecret)
	srv := startServe(t, env, "--config", cfgPath)
	token, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	e := &browserEnv{t: t, srv: srv, base: base, p: p,
		cli: append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_TOKEN="+strings.TrimSpace(string(token)))}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("warden serve's log:\n%s", srv.log())
		}
	})
	e.b = browsertest.New(t)
	return e
}

// invite makes user name and returns their enrolment link.
func (e *browserEnv) invite(name string) string {
	e.t.Helper()
	f := writeFile(e.t, e.t.TempDir(), "user.yaml", "kind: user\nversion: v1\nmetadata: {name: "+name+"}\nspec: {}\n")
	mustRun(e.t, e.cli, "", "create", "-f", f)
	link := strings.TrimSpace(mustRun(e.t, e.cli, "", "user", "invite", name))
	if !strings.HasPrefix(link, e.base+"/") {
		e.t.Fatalf("invite link %q is not at %s", link, e.base)
	}
	return link
}

// page checks the page shown: warden's, accessible (axe-core: no serious or critical violation).
func (e *browserEnv) page(what string) {
	e.t.Helper()
	if u := e.b.URL(); !strings.HasPrefix(u, e.base+"/") {
		e.t.Fatalf("%s: the browser is at %s, not warden", what, u)
	}
	e.b.CheckAccessibility()
}

// totp is the RFC 6238 code (SHA-1, 6 digits, 30 s) of the base32 key at step: computed here,
// independently of warden's own implementation.
func totp(t *testing.T, key string, step int64) string {
	t.Helper()
	k, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(strings.ReplaceAll(key, " ", ""), "=")))
	if err != nil {
		t.Fatalf("TOTP key %q: %v", key, err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, k)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", code%1000000)
}

func step(now time.Time) int64 { return now.Unix() / 30 }

// nextCode is a TOTP code warden accepts after the one of step used: the current step's, or the
// next one when the current step is the one used (warden accepts ±1 step, never a used one again).
func nextCode(t *testing.T, key string, used int64) string {
	return totp(t, key, max(step(time.Now()), used+1))
}

const alicePassword = "correct horse battery staple 42"

// enrol goes through the enrolment link in the browser (password, then TOTP) and returns the TOTP
// key and the TOTP step used.
func (e *browserEnv) enrol(link, password string) (key string, used int64) {
	e.t.Helper()
	b := e.b
	b.Navigate(link)
	e.page("enrolment: password")
	// A password too short is refused, the field says why.
	b.Fill("#password", "short")
	b.Fill("#confirm", "short")
	b.Submit("#password")
	b.WaitVisible("#password-error")
	e.page("enrolment: a password refused")
	if v, _ := b.Attr("#password", "aria-invalid"); v != "true" {
		e.t.Errorf("the refused password field is not marked invalid")
	}
	b.Fill("#password", password)
	b.Fill("#confirm", password)
	b.Submit("#password")
	b.WaitVisible("#code")
	e.page("enrolment: second factor")
	key = strings.TrimSpace(strings.Trim(string(b.Eval(`document.querySelector("details code").textContent`)), `"`))
	used = step(time.Now())
	b.Fill("#code", totp(e.t, key, used))
	b.Submit("#code")
	b.WaitVisible("ol.codes")
	e.page("enrolment: done")
	if n := b.Count("ol.codes li"); n != 10 {
		e.t.Fatalf("%d recovery codes shown, want 10", n)
	}
	return key, used
}

// signIn submits the sign-in form.
func (e *browserEnv) signIn(user, password string) {
	e.t.Helper()
	b := e.b
	b.Navigate(e.base + "/login")
	b.Fill("#user", user)
	b.Fill("#password", password)
	b.Submit("#password")
}

// Enrolment from an invitation (password and TOTP, the code computed here), sign-in with password
// and TOTP, and sign out, every page checked with axe-core.
func TestBrowserEnrolSignInSignOut(t *testing.T) {
	e := newBrowserEnv(t)
	b := e.b
	key, used := e.enrol(e.invite("alice"), alicePassword)

	b.Click("a.button[href='/login']")
	b.WaitVisible("#user")
	// Passkeys are on (public_url names a host): passkey.js shows the usernameless sign-in, and
	// axe-core checks it with the rest of the page.
	b.WaitVisible("#passkey-signin")
	e.page("sign-in")
	b.Fill("#user", "alice")
	b.Fill("#password", alicePassword)
	b.Submit("#password")
	b.WaitVisible("#code")
	e.page("second factor")
	// The enrolment's code is used: the next step's (accepted: ±1 step) signs in.
	b.Fill("#code", nextCode(t, key, used))
	b.Submit("#code")
	b.WaitVisible("#signed-in-as") // signed in: on My access
	b.Navigate(e.base + "/account")
	b.WaitVisible("#home-title")
	e.page("home")
	if got := b.Text("#home-title"); got != "Hello, alice" {
		t.Fatalf("home: %q", got)
	}
	if got := b.Text("header.site .who"); !strings.Contains(got, "Signed in as alice") {
		t.Fatalf("header: %q", got)
	}

	b.Submit("header.site form[action='/logout']")
	b.WaitVisible("#user")
	e.page("signed out")
	if got := b.Text("main"); !strings.Contains(got, "signed out") {
		t.Fatalf("after signing out: %q", got)
	}
	b.Navigate(e.base + "/")
	if b.Count("#home-title") != 0 {
		t.Fatal("the home page is still shown after signing out")
	}
}

// A wrong password is said on the page; repeated failures lock the account, and the page says so.
func TestBrowserWrongPasswordAndLockout(t *testing.T) {
	e := newBrowserEnv(t)
	b := e.b
	e.enrol(e.invite("bob"), alicePassword)

	e.signIn("bob", "not the password at all")
	b.WaitVisible("#login-error")
	e.page("wrong password")
	if got := b.Text("#login-error"); got != "User name or password is wrong." {
		t.Fatalf("error shown: %q", got)
	}
	// The same answer for a user that does not exist.
	e.signIn("nobody", "not the password at all")
	if got := b.Text("#login-error"); got != "User name or password is wrong." {
		t.Fatalf("error shown for an unknown user: %q", got)
	}
	locked := false
	for i := 0; i < 10 && !locked; i++ {
		e.signIn("bob", "not the password at all")
		locked = strings.Contains(b.Text("#login-error"), "locked")
	}
	if !locked {
		t.Fatalf("no lock after repeated failures: %q", b.Text("#login-error"))
	}
	e.page("locked")
	// Locked: even the right password is refused, with the same message.
	e.signIn("bob", alicePassword)
	if got := b.Text("#login-error"); !strings.Contains(got, "locked") {
		t.Fatalf("the right password while locked: %q", got)
	}
	// An administrator lifts the lock; the right password leads to the second factor.
	mustRun(t, e.cli, "", "user", "unlock", "bob")
	e.signIn("bob", alicePassword)
	b.WaitVisible("#code")
}

// Sign-in through the company's identity provider, on its own pages, in the browser.
func TestBrowserOIDCSignIn(t *testing.T) {
	e := newBrowserEnv(t)
	b := e.b
	b.Navigate(e.base + "/login?next=" + url.QueryEscape("/"))
	e.page("sign-in with a connector")
	if got := b.Text("a[href^='/login/oidc/corp']"); got != "Sign in with corp" {
		t.Fatalf("connector button: %q", got)
	}
	b.ClickAndWait("a[href^='/login/oidc/corp']")
	if u := b.URL(); !strings.HasPrefix(u, e.p.Issuer+"/") {
		t.Fatalf("not at the provider: %s", u)
	}
	b.Fill("input[name=login]", "carol")
	b.Fill("input[name=password]", "any")
	b.Submit("input[name=password]")
	b.WaitVisible("#signed-in-as") // signed in: on My access
	b.Navigate(e.base + "/account")
	b.WaitVisible("#home-title")
	e.page("home after OIDC")
	if got := b.Text("#home-title"); got != "Hello, carol@example.com" {
		t.Fatalf("home: %q", got)
	}
	// How the session was made: through the connector, and with the second factor the provider
	// asserted (amr pwd, otp).
	if got := b.Text("main"); !strings.Contains(got, "corp") || strings.Contains(got, "none in this session") {
		t.Errorf("the home page does not say how the session was made: %q", got)
	}

	// Someone the connector does not admit (another domain) gets a page that says so, without
	// the provider's details, and no session.
	// (step_up=1: the provider asks who signs in, although its own session is carol's.)
	b.Submit("header.site form[action='/logout']")
	b.WaitVisible("#user")
	b.Navigate(e.base + "/login/oidc/corp?step_up=1")
	b.Fill("input[name=login]", "mal")
	b.Fill("input[name=password]", "any")
	b.Submit("input[name=password]")
	e.page("refused by the connector")
	if got := b.Text("main"); !strings.Contains(got, "may not sign in to warden") || strings.Contains(got, "elsewhere.example") {
		t.Fatalf("refusal page: %q", got)
	}
	b.Navigate(e.base + "/")
	if b.Count("#home-title") != 0 {
		t.Fatal("signed in after a refusal")
	}
}

// A provider that cannot be reached when warden starts blocks neither the start nor local sign-in;
// its button says it is unavailable, and it works once the provider answers (warden retries).
func TestBrowserProviderDownAtStart(t *testing.T) {
	e := newBrowserEnvDown(t, true)
	b := e.b
	key, used := e.enrol(e.invite("dave"), alicePassword)
	e.signIn("dave", alicePassword)
	b.WaitVisible("#code")
	b.Fill("#code", nextCode(t, key, used))
	b.Submit("#code")
	b.WaitVisible("#signed-in-as") // signed in: on My access
	b.Navigate(e.base + "/account")
	b.WaitVisible("#home-title")
	if got := b.Text("#home-title"); got != "Hello, dave" {
		t.Fatalf("home: %q", got)
	}
	b.Navigate(e.base + "/login/oidc/corp")
	e.page("connector unavailable")
	if got := b.Text("main"); !strings.Contains(got, "not available right now") {
		t.Fatalf("the connector's page while the provider is down: %q", got)
	}
	if !strings.Contains(e.srv.log(), "oidc connector not ready") {
		t.Fatalf("the failed discovery is not logged:\n%s", e.srv.log())
	}
	e.p.Down(false)
	// A longer bound than waitFor's: the connector's retries back off (1 s, 2 s, 4 s...).
	testenv.Eventually(t, 60*time.Second, "the connector to become ready", func() bool { return strings.Contains(e.srv.log(), `msg="oidc connector ready"`) })
	b.Navigate(e.base + "/login/oidc/corp?next=/")
	if u := b.URL(); !strings.HasPrefix(u, e.p.Issuer+"/") {
		t.Fatalf("not at the provider once it is up: %s", u)
	}
}

// A session made through a provider that asserted no second factor has none; the step-up page
// offers to confirm through the provider, which signs the person in again, and with MFA asserted
// the new session has a second factor.
func TestBrowserOIDCStepUp(t *testing.T) {
	e := newBrowserEnv(t)
	b := e.b
	b.Navigate(e.base + "/login/oidc/corp?next=/")
	b.Fill("input[name=login]", "erin")
	b.Fill("input[name=password]", "any")
	b.Submit("input[name=password]")
	b.WaitVisible("#signed-in-as") // signed in: on My access
	b.Navigate(e.base + "/account")
	b.WaitVisible("#home-title")
	if got := b.Text("main"); !strings.Contains(got, "none in this session") {
		t.Fatalf("a session without MFA at the provider shows a second factor: %q", got)
	}
	b.Navigate(e.base + "/login/step-up?next=/")
	e.page("step-up through the provider")
	if got := b.Text("#oidc-step-up"); got != "Confirm with corp" {
		t.Fatalf("step-up link: %q", got)
	}
	// Erin now uses a security key at the provider.
	e.p.SetAccounts(t, map[string]map[string]any{
		"erin": {"email": "erin@example.com", "email_verified": true, "name": "Erin", "_amr": []string{"pwd", "hwk"}},
	})
	b.ClickAndWait("#oidc-step-up")
	if u := b.URL(); !strings.HasPrefix(u, e.p.Issuer+"/") {
		t.Fatalf("not at the provider: %s", u)
	}
	// prompt=login: the provider asks again although its session is alive.
	b.Fill("input[name=login]", "erin")
	b.Fill("input[name=password]", "any")
	b.Submit("input[name=password]")
	b.WaitVisible("#signed-in-as") // signed in: on My access
	b.Navigate(e.base + "/account")
	b.WaitVisible("#home-title")
	e.page("home after the step-up")
	if got := b.Text("main"); strings.Contains(got, "none in this session") {
		t.Fatalf("no second factor after the step-up through the provider: %q", got)
	}
}

// Sign-in with a recovery code (used once), a step-up with the app, a used enrolment link refused,
// and signing out everywhere.
func TestBrowserRecoveryStepUpSignOutEverywhere(t *testing.T) {
	e := newBrowserEnv(t)
	b := e.b
	link := e.invite("frank")
	key, used := e.enrol(link, alicePassword)
	var codes []string
	if err := json.Unmarshal(b.Eval(`[...document.querySelectorAll("ol.codes li")].map(e => e.textContent.trim())`), &codes); err != nil || len(codes) != 10 {
		t.Fatalf("recovery codes: %v %v", codes, err)
	}

	b.Navigate(link)
	e.page("a used enrolment link")
	if b.Count("#password") != 0 {
		t.Fatal("a used enrolment link shows the password form again")
	}

	e.signIn("frank", alicePassword)
	b.WaitVisible("#code")
	b.Fill("#code", codes[0])
	b.Submit("#code")
	b.WaitVisible("#signed-in-as") // signed in: on My access
	b.Navigate(e.base + "/account")
	b.WaitVisible("#home-title")
	e.page("home after a recovery code")
	if got := b.Text("main"); !strings.Contains(got, "recovery code") {
		t.Fatalf("home after a recovery code: %q", got)
	}

	// The step-up page takes the app's code.
	b.Navigate(e.base + "/login/step-up?next=/")
	b.WaitVisible("#code")
	e.page("step-up")
	b.Fill("#code", nextCode(t, key, used))
	b.Submit("#code")
	b.WaitVisible("#signed-in-as") // signed in: on My access
	b.Navigate(e.base + "/account")
	b.WaitVisible("#home-title")
	if got := b.Text("main"); !strings.Contains(got, "authenticator app") {
		t.Fatalf("home after the step-up: %q", got)
	}

	// A recovery code works once.
	b.Submit("header.site form[action='/logout']")
	b.WaitVisible("#user")
	e.signIn("frank", alicePassword)
	b.WaitVisible("#code")
	b.Fill("#code", codes[0])
	b.Submit("#code")
	b.WaitVisible("#code-error")
	e.page("a used recovery code")
	b.Fill("#code", codes[1])
	b.Submit("#code")
	b.WaitVisible("#signed-in-as") // signed in: on My access
	b.Navigate(e.base + "/account")
	b.WaitVisible("#home-title")

	b.Submit("form[action='/logout/everywhere']")
	b.WaitVisible("#user")
	e.page("signed out everywhere")
	if got := b.Text("main"); !strings.Contains(got, "signed out everywhere") {
		t.Fatalf("after signing out everywhere: %q", got)
	}
}
