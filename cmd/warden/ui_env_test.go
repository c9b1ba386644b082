package main

// The harness of the web UI's journeys (ui_*_browser_test.go): the real binary running `warden
// demo` (its simulator, SQLite, the sample organisation imported, the sync running, every sample
// person with a demo password) and headless Chromium (internal/web/browsertest). Every page a
// journey shows is checked with axe-core (no serious or critical violation) and for a JavaScript
// error or CSP violation.

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/web/browsertest"
)

// uiEnv is one `warden demo` for one test.
type uiEnv struct {
	t *testing.T
	d *serveProc
	// base is warden's address (http://127.0.0.1:port); sim, the simulator's.
	base, sim string
	// cli is the environment of the admin CLI (the demo's bootstrap token, from its data dir).
	cli []string
	// passwords are the sample people's demo passwords, by user name.
	passwords map[string]string
	dataDir   string
}

var demoPersonRE = regexp.MustCompile(`(?m)^    (\S+@example\.com) +(\S+)  (http://\S+/login\?user=\S+)$`)

// newUIEnv starts the demo and waits until it has printed its instructions (the import is done,
// the people can sign in).
func newUIEnv(t *testing.T) *uiEnv {
	t.Helper()
	browsertest.Require(t)
	dataDir := t.TempDir()
	env := cleanEnv(t)
	d := startCmd(t, env, "demo", "--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0", "--data-dir", dataDir)
	waitFor(t, func() bool { return tourEndRE.MatchString(d.stdout.String()) }, "the demo's instructions")
	out := d.stdout.String()
	e := &uiEnv{t: t, d: d, base: d.addr, cli: append(env, "WARDEN_ADDR="+d.addr, "WARDEN_DATA_DIR="+dataDir),
		passwords: map[string]string{}, dataDir: dataDir}
	for _, m := range demoPersonRE.FindAllStringSubmatch(out, -1) {
		e.passwords[m[1]] = m[2]
	}
	if len(e.passwords) == 0 {
		t.Fatalf("the demo printed no people:\n%s", out)
	}
	if m := regexp.MustCompile(`open (http://\S+)/start in a browser`).FindStringSubmatch(out); m != nil {
		e.sim = m[1]
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the demo's log:\n%s", d.log())
		}
	})
	return e
}

// browser is a fresh headless Chromium (no cookie shared with another) for one person.
func (e *uiEnv) browser(opts ...browsertest.Option) *browsertest.Browser {
	e.t.Helper()
	return browsertest.New(e.t, append([]browsertest.Option{browsertest.WithTimeout(4 * time.Minute)}, opts...)...)
}

// signIn signs user in with their demo password alone (the demo makes the second factor optional),
// landing on My access.
func (e *uiEnv) signIn(b *browsertest.Browser, user string) {
	e.t.Helper()
	pw, ok := e.passwords[user]
	if !ok {
		e.t.Fatalf("%s is not one of the demo's people", user)
	}
	b.Navigate(e.base + "/login?user=" + user)
	b.WaitVisible("#password")
	b.Fill("#password", pw)
	b.Submit("#password")
	b.WaitVisible("#signed-in-as")
	if got := b.Text("#signed-in-as strong"); got != user {
		e.t.Fatalf("signed in as %q, want %s", got, user)
	}
}

// signInTOTP gives user a password and an authenticator app through an invitation (the demo
// password is replaced), then signs in with both, so the session has a fresh second factor:
// approvals and administrative changes need one (step-up).
func (e *uiEnv) signInTOTP(b *browsertest.Browser, user string) {
	e.t.Helper()
	e.passwords[user] = enrolAndSignInTOTP(e.t, b, e.cli, e.base, user)
}

// enrolTOTP enrols user in browser b from an invitation the admin CLI (cli) makes: a password and
// an authenticator app (its key read from the page, its codes computed by the test's own RFC 6238).
// It returns the password, the app's key and the TOTP step its enrolment used (an enrolment does
// not sign in).
func enrolTOTP(t *testing.T, b *browsertest.Browser, cli []string, user string) (password, key string, used int64) {
	t.Helper()
	link := strings.TrimSpace(mustRun(t, cli, "", "user", "invite", user))
	password = "ui journey horse battery " + strings.SplitN(user, "@", 2)[0]
	b.Navigate(link)
	b.Fill("#password", password)
	b.Fill("#confirm", password)
	b.Submit("#password")
	b.WaitVisible("#code")
	key = strings.TrimSpace(strings.Trim(string(b.Eval(`document.querySelector("details code").textContent`)), `"`))
	used = step(time.Now())
	b.Fill("#code", totp(t, key, used))
	b.Submit("#code")
	b.WaitVisible("ol.codes")
	return password, key, used
}

// enrolAndSignInTOTP is enrolTOTP, then a sign-in at base with both factors; it returns the
// password.
func enrolAndSignInTOTP(t *testing.T, b *browsertest.Browser, cli []string, base, user string) string {
	t.Helper()
	password, key, used := enrolTOTP(t, b, cli, user)
	b.Navigate(base + "/login?user=" + user)
	b.WaitVisible("#password")
	b.Fill("#password", password)
	b.Submit("#password")
	b.WaitVisible("#code")
	b.Fill("#code", nextCode(t, key, used))
	b.Submit("#code")
	b.WaitVisible("#signed-in-as")
	return password
}

// page checks the page the browser shows: warden's, and accessible.
func (e *uiEnv) page(b *browsertest.Browser, what string) {
	e.t.Helper()
	if u := b.URL(); !strings.HasPrefix(u, e.base+"/") {
		e.t.Fatalf("%s: the browser is at %s, not warden", what, u)
	}
	b.CheckAccessibility()
}
