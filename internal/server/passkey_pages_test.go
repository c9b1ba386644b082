package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth/passkey"
	"github.com/wardenhq/warden/internal/auth/passkey/passkeytest"
	"github.com/wardenhq/warden/internal/resource"
)

// pkOrigin is the origin the passkey tests' browser is at: a host name (an IP address cannot be a
// relying party); the server checks the origin the browser signed, not the address it was reached
// at.
func (e *signinEnv) passkeysOn() string {
	e.t.Helper()
	origin := strings.Replace(e.url, "127.0.0.1", "localhost", 1)
	svc, err := passkey.New(e.store, origin, passkey.WithClock(e.clk))
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv.SetPasskeys(svc)
	e.srv.SetClock(e.clk.Now) // the step-up window is judged by the server's clock
	return origin
}

// begin posts a passkey begin (JSON, the CSRF token in the header) and returns the status and body.
func (b *browser) begin(path, csrf string, fields map[string]string) (int, []byte) {
	b.t.Helper()
	body, _ := json.Marshal(fields)
	req, _ := http.NewRequest("POST", b.url(path), strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	p := b.do(req)
	return p.status, []byte(p.body)
}

// The whole way with a passkey: enrolment with a passkey (recovery codes shown), sign-in with the
// password and the passkey, step-up with the passkey, usernameless sign-in; refused without the
// CSRF token, with a replayed answer, and without a password first.
func TestPasskeyPagesWholeFlow(t *testing.T) {
	e := newSigninEnv(t, "required")
	origin := e.passkeysOn()
	key := passkeytest.New(origin)
	link := e.invite("alice")
	enrolPath := strings.TrimPrefix(link, e.url)

	b := e.browser()
	p := b.get(link)
	// Before the password: no passkey yet.
	if code, _ := b.begin("/enroll/passkey/begin", csrfOf(t, p), map[string]string{"enrolment": enrolPath}); code != http.StatusBadRequest {
		t.Fatalf("begin before the password: %d", code)
	}
	p = b.post(link, url.Values{"csrf": {csrfOf(t, p)}, "step": {"password"}, "password": {alicePassword}, "confirm": {alicePassword}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("password step %d:\n%s", p.status, p.body)
	}
	p = b.get(link)
	if !strings.Contains(p.body, `data-passkey="register"`) || !strings.Contains(p.body, `name="enrolment" value="`+enrolPath+`"`) {
		t.Fatalf("enrolment page without its passkey block:\n%s", p.body)
	}
	csrf := csrfOf(t, p)
	if code, _ := b.begin("/enroll/passkey/begin", "", map[string]string{"enrolment": enrolPath}); code != http.StatusForbidden {
		t.Fatalf("begin without the CSRF token: %d", code)
	}
	code, opts := b.begin("/enroll/passkey/begin", csrf, map[string]string{"enrolment": enrolPath, "label": "key one"})
	if code != http.StatusOK {
		t.Fatalf("begin: %d %s", code, opts)
	}
	cred, _, err := key.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	finish := url.Values{"csrf": {csrf}, "enrolment": {enrolPath}, "label": {"key one"}, "credential": {string(cred)}}
	p = b.post("/enroll/passkey/finish", finish)
	if p.status != http.StatusOK || !strings.Contains(p.body, "recovery codes") || len(codeLI.FindAllStringSubmatch(p.body, -1)) != 10 {
		t.Fatalf("enrolment with a passkey: %d\n%s", p.status, p.body)
	}
	list, _ := e.srv.Passkeys().List(e.ctx, "alice")
	if len(list) != 1 || list[0].Spec.(*resource.PasskeySpec).Label != "key one" {
		t.Fatalf("alice's passkeys: %v", list)
	}
	// The same answer again: the link is used, the ceremony too.
	if p = b.post("/enroll/passkey/finish", finish); p.status != http.StatusGone {
		t.Fatalf("replayed enrolment: %d", p.status)
	}

	// Sign in: password, then the passkey.
	b = e.browser()
	p = e.signIn(b, "alice", alicePassword, "/requests")
	if p.status != http.StatusSeeOther || p.location != "/login/second-factor" {
		t.Fatalf("password: %d %s", p.status, p.location)
	}
	p = b.get("/login/second-factor")
	if !strings.Contains(p.body, `data-passkey="login"`) || !strings.Contains(p.body, `name="mode" value="2fa"`) {
		t.Fatalf("second factor page without its passkey block:\n%s", p.body)
	}
	csrf = csrfOf(t, p)
	code, opts = b.begin("/login/passkey/begin", csrf, map[string]string{"mode": "2fa", "next": "/requests"})
	if code != http.StatusOK || !strings.Contains(string(opts), "allowCredentials") {
		t.Fatalf("begin 2fa: %d %s", code, opts)
	}
	assertion, err := key.Get(opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"csrf": {csrf}, "mode": {"2fa"}, "next": {"/requests"}, "credential": {string(assertion)}}
	if p = b.post("/login/passkey/finish", url.Values{"mode": {"2fa"}, "credential": {string(assertion)}}); p.status != http.StatusForbidden {
		t.Fatalf("finish without the CSRF token: %d", p.status)
	}
	// That attempt used the ceremony up: begin again.
	_, opts = b.begin("/login/passkey/begin", csrf, map[string]string{"mode": "2fa"})
	assertion, _ = key.Get(opts, nil)
	form.Set("credential", string(assertion))
	p = b.post("/login/passkey/finish", form)
	if p.status != http.StatusSeeOther || p.location != "/requests" {
		t.Fatalf("passkey second factor: %d %s\n%s", p.status, p.location, p.body)
	}
	status, who := b.whoami()
	if status != 200 || who["user"] != "alice" || who["method"] != "session" || who["second_factor_at"] == nil {
		t.Fatalf("whoami after the passkey: %d %v", status, who)
	}
	// The sign-in flow is over: the same answer again finds nothing.
	if p = b.post("/login/passkey/finish", form); p.status == http.StatusSeeOther {
		t.Fatalf("replayed second factor: %d", p.status)
	}

	// Step-up with the passkey.
	e.clk.Advance(20 * 60e9)
	p = b.get("/login/step-up?next=/x")
	if !strings.Contains(p.body, `name="mode" value="step-up"`) {
		t.Fatalf("step-up page without its passkey block:\n%s", p.body)
	}
	csrf = csrfOf(t, p)
	code, opts = b.begin("/login/passkey/begin", csrf, map[string]string{"mode": "step-up", "next": "/x"})
	if code != http.StatusOK {
		t.Fatalf("begin step-up: %d %s", code, opts)
	}
	assertion, _ = key.Get(opts, nil)
	p = b.post("/login/passkey/finish", url.Values{"csrf": {csrf}, "mode": {"step-up"}, "next": {"/x"}, "credential": {string(assertion)}})
	if p.status != http.StatusSeeOther || p.location != "/x" {
		t.Fatalf("step-up: %d %s\n%s", p.status, p.location, p.body)
	}
	_, who = b.whoami()
	if sf, _ := who["second_factor_at"].(string); !strings.HasPrefix(sf, e.clk.Now().UTC().Format("2006-01-02T15:04")) {
		t.Fatalf("step-up not recorded: %v (now %s)", who["second_factor_at"], e.clk.Now().UTC())
	}

	// A signed-in person adds another passkey (the step-up above is recent).
	p = b.get("/account")
	csrf = csrfOf(t, p)
	code, opts = b.begin("/enroll/passkey/begin", csrf, map[string]string{"label": "spare"})
	if code != http.StatusOK {
		t.Fatalf("begin adding: %d %s", code, opts)
	}
	spare := passkeytest.New(origin)
	cred, _, _ = spare.Create(opts)
	p = b.post("/enroll/passkey/finish", url.Values{"csrf": {csrf}, "label": {"spare"}, "credential": {string(cred)}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("adding a passkey: %d\n%s", p.status, p.body)
	}
	if list, _ := e.srv.Passkeys().List(e.ctx, "alice"); len(list) != 2 {
		t.Fatalf("%d passkeys", len(list))
	}
	// The account page lists them, and removes one.
	p = b.get("/account")
	if !strings.Contains(p.body, "<strong>spare</strong>") || !strings.Contains(p.body, "<strong>key one</strong>") || !strings.Contains(p.body, `id="passkey-add"`) {
		t.Fatalf("home page's passkeys:\n%s", p.body)
	}
	spareName := passkey.Name("alice", spare.Creds[0].ID)
	if p = b.post("/passkeys/remove", url.Values{"name": {spareName}}); p.status != http.StatusForbidden {
		t.Fatalf("removing without the CSRF token: %d", p.status)
	}
	if p = b.post("/passkeys/remove", url.Values{"csrf": {csrf}, "name": {"bob:" + strings.Repeat("0", 32)}}); p.status != http.StatusNotFound {
		t.Fatalf("removing someone else's: %d", p.status)
	}
	if p = b.post("/passkeys/remove", url.Values{"csrf": {csrf}, "name": {spareName}}); p.status != http.StatusSeeOther {
		t.Fatalf("removing: %d\n%s", p.status, p.body)
	}
	if list, _ := e.srv.Passkeys().List(e.ctx, "alice"); len(list) != 1 {
		t.Fatalf("%d passkeys after removal", len(list))
	}
	// Add it again for the usernameless sign-in below.
	_, opts = b.begin("/enroll/passkey/begin", csrf, map[string]string{"label": "spare"})
	spare.Creds = nil
	cred, _, _ = spare.Create(opts)
	if p = b.post("/enroll/passkey/finish", url.Values{"csrf": {csrf}, "label": {"spare"}, "credential": {string(cred)}}); p.status != http.StatusSeeOther {
		t.Fatalf("adding again: %d", p.status)
	}

	// Once the second factor is old, adding one needs a step-up first.
	e.clk.Advance(20 * 60e9)
	if code, body := b.begin("/enroll/passkey/begin", csrf, map[string]string{"label": "third"}); code != http.StatusForbidden {
		t.Fatalf("adding with an old second factor: %d %s", code, body)
	}

	// Usernameless: a new browser, no name, no password.
	b = e.browser()
	p = b.get("/login?next=/y")
	if !strings.Contains(p.body, `name="mode" value="discover"`) {
		t.Fatalf("login page without its passkey block:\n%s", p.body)
	}
	csrf = csrfOf(t, p)
	code, opts = b.begin("/login/passkey/begin", csrf, map[string]string{"mode": "discover", "next": "/y"})
	if code != http.StatusOK || strings.Contains(string(opts), "allowCredentials") {
		t.Fatalf("begin discover: %d %s", code, opts)
	}
	assertion, _ = spare.Get(opts, nil)
	p = b.post("/login/passkey/finish", url.Values{"csrf": {csrf}, "mode": {"discover"}, "next": {"/y"}, "credential": {string(assertion)}})
	if p.status != http.StatusSeeOther || p.location != "/y" {
		t.Fatalf("usernameless sign-in: %d %s\n%s", p.status, p.location, p.body)
	}
	if _, who = b.whoami(); who["user"] != "alice" || who["second_factor_at"] == nil {
		t.Fatalf("whoami after a usernameless sign-in: %v", who)
	}

	// Audited: the registrations and uses.
	var acts []string
	for _, en := range e.entries(audit.Filter{Kind: resource.KindPasskey}) {
		acts = append(acts, en.Action)
	}
	if got := strings.Join(acts, " "); got != "passkey.register passkey.use passkey.use passkey.register passkey.remove passkey.register passkey.use" {
		t.Errorf("passkey audit: %s", got)
	}
}

// A usernameless sign-in without user verification is refused, and so is a passkey second factor
// begun without a password first.
func TestPasskeyPagesRefusals(t *testing.T) {
	e := newSigninEnv(t, "required")
	origin := e.passkeysOn()
	b := e.browser()
	p := b.get("/login")
	csrf := csrfOf(t, p)
	if code, body := b.begin("/login/passkey/begin", csrf, map[string]string{"mode": "2fa"}); code != http.StatusBadRequest {
		t.Fatalf("2fa without a password: %d %s", code, body)
	}
	if code, _ := b.begin("/login/passkey/begin", csrf, map[string]string{"mode": "step-up"}); code != http.StatusUnauthorized {
		t.Fatalf("step-up without a session: %d", code)
	}
	if code, _ := b.begin("/login/passkey/begin", csrf, map[string]string{"mode": "what"}); code != http.StatusBadRequest {
		t.Fatalf("unknown mode: %d", code)
	}
	if code, _ := b.begin("/login/passkey/begin", csrf, map[string]string{"mode": "discover", "extra": "x"}); code != http.StatusBadRequest {
		t.Fatalf("unknown field: %d", code)
	}
	// A big begin body is refused before it is parsed.
	if code, _ := b.begin("/login/passkey/begin", csrf, map[string]string{"mode": "discover", "next": strings.Repeat("a", 8<<10)}); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("big begin: %d", code)
	}
	// No UV: refused, the login page again.
	key := passkeytest.New(origin)
	key.UV = false
	_, opts := b.begin("/login/passkey/begin", csrf, map[string]string{"mode": "discover"})
	assertion, err := key.Assert(&passkeytest.Credential{ID: []byte("nope"), Key: mustKey(t), UserHandle: []byte("h")}, "localhost", passkeytest.Challenge(opts), 1)
	if err != nil {
		t.Fatal(err)
	}
	p = b.post("/login/passkey/finish", url.Values{"csrf": {csrf}, "mode": {"discover"}, "credential": {string(assertion)}})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "not accepted") {
		t.Fatalf("unknown passkey: %d\n%s", p.status, p.body)
	}
	// An oversized credential field.
	p = b.post("/login/passkey/finish", url.Values{"csrf": {csrf}, "mode": {"discover"}, "credential": {strings.Repeat("A", passkey.MaxResponse+1)}})
	if p.status != http.StatusBadRequest {
		t.Fatalf("oversized credential: %d", p.status)
	}
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
