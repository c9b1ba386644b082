package server_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/local"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/auth/throttle"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
)

type signinEnv struct {
	*env
	clk *clock.Fake
}

// newSigninEnv is the real server with local accounts and sessions on, time from a fake clock
// (started at the wall clock's now, so cookies' expiries mean what they say).
func newSigninEnv(t *testing.T, secondFactor string) *signinEnv {
	t.Helper()
	e := newEnv(t)
	e.apply(base)
	clk := clock.NewFake(time.Now().Truncate(time.Second))
	box, err := secret.LoadOrCreateBox(filepath.Join(t.TempDir(), "auth.key"))
	if err != nil {
		t.Fatal(err)
	}
	a := config.Auth{SecondFactor: secondFactor, Lockout: config.Lockout{AccountFailures: 5, SourceFailures: 50, BaseDelay: time.Second, LockFor: 15 * time.Minute}}.WithDefaults()
	e.srv.SetSessions(auth.NewSessions(e.store, auth.SessionConfig{Idle: a.SessionIdle, Absolute: a.SessionAbsolute}, auth.WithSessionClock(clk)))
	e.srv.SetLocalAuth(&server.LocalAuth{
		Accounts: local.New(e.store, box, a, local.WithClock(clk)),
		Throttle: throttle.New(e.store, a.Lockout, throttle.WithClock(clk)),
		BaseURL:  e.url,
	})
	return &signinEnv{env: e, clk: clk}
}

// browser is a cookie jar and a client that does not follow redirects (the test does).
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (e *signinEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, base: e.url, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, body: string(body), location: res.Header.Get("Location"), header: res.Header}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.url(path), nil)
	return b.do(req)
}

func (b *browser) url(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return b.base + path
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.url(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf in the page (%d):\n%s", p.status, p.body)
	}
	return html.UnescapeString(m[1])
}

// totpCode is the RFC 6238 code of a base32 secret at t, computed here.
func totpCode(t *testing.T, key string, at time.Time) string {
	t.Helper()
	sec, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(key))
	if err != nil {
		t.Fatal(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, sec)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1_000_000)
}

const alicePassword = "a long and unusual passphrase 7"

func (e *signinEnv) invite(user string) string {
	e.t.Helper()
	var out server.InviteResponse
	if err := e.admin.Do(e.ctx, "POST", "/v1/auth/invites", server.InviteRequest{User: user}, &out); err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(out.Link, e.url+"/enroll/") || out.User != user {
		e.t.Fatalf("invite: %+v", out)
	}
	return out.Link
}

var keyRE = regexp.MustCompile(`Key: <code>([A-Z2-7]+)</code>`)
var codeLI = regexp.MustCompile(`<li>([^<]+)</li>`)

// enrol follows an enrolment link with b: the password, then TOTP; it returns the TOTP key and
// the recovery codes.
func (e *signinEnv) enrol(b *browser, link, password string) (string, []string) {
	t := e.t
	t.Helper()
	p := b.get(link)
	if p.status != 200 || !strings.Contains(p.body, "New password") {
		t.Fatalf("enrolment page %d:\n%s", p.status, p.body)
	}
	p = b.post(link, url.Values{"csrf": {csrfOf(t, p)}, "step": {"password"}, "password": {password}, "confirm": {password}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("password step %d:\n%s", p.status, p.body)
	}
	p = b.get(link)
	m := keyRE.FindStringSubmatch(p.body)
	if m == nil || !strings.Contains(p.body, `src="data:image/png;base64,`) || !strings.Contains(p.body, "otpauth://totp/") {
		t.Fatalf("second factor page %d:\n%s", p.status, p.body)
	}
	key := m[1]
	p = b.post(link, url.Values{"csrf": {csrfOf(t, p)}, "step": {"totp"}, "code": {totpCode(t, key, e.clk.Now())}})
	if p.status != 200 || !strings.Contains(p.body, "recovery codes") {
		t.Fatalf("totp step %d:\n%s", p.status, p.body)
	}
	var codes []string
	for _, m := range codeLI.FindAllStringSubmatch(p.body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes:\n%s", len(codes), p.body)
	}
	return key, codes
}

// signIn posts the login form and returns the answer.
func (e *signinEnv) signIn(b *browser, user, password, next string) page {
	e.t.Helper()
	p := b.get("/login?next=" + url.QueryEscape(next))
	return b.post("/login", url.Values{"csrf": {csrfOf(e.t, p)}, "user": {user}, "password": {password}, "next": {next}})
}

// secondFactor posts a code to the second factor page.
func (e *signinEnv) secondFactor(b *browser, code string) page {
	e.t.Helper()
	p := b.get("/login/second-factor")
	if p.status != 200 {
		e.t.Fatalf("second factor page %d:\n%s", p.status, p.body)
	}
	return b.post("/login/second-factor", url.Values{"csrf": {csrfOf(e.t, p)}, "code": {code}})
}

func (b *browser) whoami() (int, map[string]any) {
	b.t.Helper()
	p := b.get("/v1/whoami")
	var out map[string]any
	json.Unmarshal([]byte(p.body), &out)
	return p.status, out
}

// The whole way: invite, enrol (password + TOTP), sign in with password and TOTP, the session
// works on the API, step-up, sign out; and the same again after a replayed code is refused.
func TestSigninWholeFlow(t *testing.T) {
	e := newSigninEnv(t, "required")
	b := e.browser()
	link := e.invite("alice")
	key, codes := e.enrol(b, link, alicePassword)

	// The link was used.
	if p := b.get(link); p.status != http.StatusGone {
		t.Fatalf("used link: %d", p.status)
	}

	p := e.signIn(b, "alice", alicePassword, "/requests?x=1")
	if p.status != http.StatusSeeOther || p.location != "/login/second-factor" {
		t.Fatalf("password: %d %q\n%s", p.status, p.location, p.body)
	}
	if st, _ := b.whoami(); st != http.StatusUnauthorized {
		t.Fatalf("whoami after the password alone: %d", st)
	}
	// The enrolment's code is used: refused (replay), then the next step's code passes.
	if p := e.secondFactor(b, totpCode(t, key, e.clk.Now())); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "wrong, or was already used") {
		t.Fatalf("replayed enrolment code: %d\n%s", p.status, p.body)
	}
	e.clk.Advance(30 * time.Second)
	// The throttle asks to wait after a failure: time passes.
	e.clk.Advance(10 * time.Second)
	code := totpCode(t, key, e.clk.Now())
	p = e.secondFactor(b, code)
	if p.status != http.StatusSeeOther || p.location != "/requests?x=1" {
		t.Fatalf("second factor: %d %q\n%s", p.status, p.location, p.body)
	}
	st, me := b.whoami()
	if st != 200 || me["user"] != "alice" {
		t.Fatalf("whoami with the session: %d %v", st, me)
	}
	home := b.get("/account") // the person's own page: session and passkeys
	if home.status != 200 || !strings.Contains(home.body, "Signed in as <strong>alice</strong>") || !strings.Contains(home.body, "authenticator app") {
		t.Fatalf("home %d:\n%s", home.status, home.body)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if home.header.Get(h) == "" {
			t.Errorf("home lacks %s", h)
		}
	}

	// The same code again, in another browser: refused.
	b2 := e.browser()
	if p := e.signIn(b2, "alice", alicePassword, "/"); p.status != http.StatusSeeOther {
		t.Fatalf("second browser: %d", p.status)
	}
	if p := e.secondFactor(b2, code); p.status != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d\n%s", p.status, p.body)
	}
	// A recovery code works once.
	e.clk.Advance(10 * time.Second)
	if p := e.secondFactor(b2, codes[0]); p.status != http.StatusSeeOther {
		t.Fatalf("recovery code: %d\n%s", p.status, p.body)
	}
	b3 := e.browser()
	e.signIn(b3, "alice", alicePassword, "/")
	e.clk.Advance(10 * time.Second)
	if p := e.secondFactor(b3, codes[0]); p.status != http.StatusUnauthorized {
		t.Fatalf("recovery code used twice: %d\n%s", p.status, p.body)
	}

	// Step-up: a second factor again, recorded on the session.
	e.clk.Advance(time.Minute)
	p = b.get("/login/step-up?next=/x")
	if p.status != 200 || !strings.Contains(p.body, "Confirm it is you") {
		t.Fatalf("step-up page %d:\n%s", p.status, p.body)
	}
	before := e.clk.Now()
	p = b.post("/login/step-up", url.Values{"csrf": {csrfOf(t, p)}, "code": {totpCode(t, key, e.clk.Now())}, "next": {"/x"}})
	if p.status != http.StatusSeeOther || p.location != "/x" {
		t.Fatalf("step-up: %d %q\n%s", p.status, p.location, p.body)
	}
	_, me = b.whoami()
	if at, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(me["second_factor_at"])); at.Before(before.Add(-time.Second)) {
		t.Errorf("second factor at %v after a step-up at %v (%v)", me["second_factor_at"], before, me)
	}

	// Sign out: without the token refused; with it, the session ends.
	if p := b.post("/logout", url.Values{}); p.status != http.StatusForbidden {
		t.Fatalf("logout without csrf: %d", p.status)
	}
	if st, _ := b.whoami(); st != 200 {
		t.Fatalf("signed out by a forged form: %d", st)
	}
	p = b.get("/account")
	if p = b.post("/logout", url.Values{"csrf": {csrfOf(t, p)}}); p.status != http.StatusSeeOther {
		t.Fatalf("logout: %d\n%s", p.status, p.body)
	}
	if st, _ := b.whoami(); st != http.StatusUnauthorized {
		t.Fatalf("whoami after sign-out: %d", st)
	}
	// Sign out everywhere ends b2's session too.
	if st, _ := b2.whoami(); st != 200 {
		t.Fatalf("b2: %d", st)
	}
	p = b2.get("/account")
	if p = b2.post("/logout/everywhere", url.Values{"csrf": {csrfOf(t, p)}}); p.status != http.StatusSeeOther {
		t.Fatalf("logout everywhere: %d", p.status)
	}
	if st, _ := b2.whoami(); st != http.StatusUnauthorized {
		t.Fatalf("b2 after sign-out everywhere: %d", st)
	}

	// Audited, never a secret.
	entries, err := audit.List(e.ctx, e.store, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, en := range entries {
		fmt.Fprintf(&all, "%s %s %s %s\n", en.Actor, en.Action, en.Name, en.Detail)
	}
	for _, want := range []string{"invite", "enrol", "signin.failed"} {
		if !strings.Contains(all.String(), " "+want+" ") {
			t.Errorf("no %s in the audit log:\n%s", want, all.String())
		}
	}
	for _, secretText := range []string{alicePassword, key, codes[0], link[strings.LastIndex(link, "/")+1:]} {
		if strings.Contains(all.String(), secretText) {
			t.Errorf("the audit log holds a secret %q", secretText)
		}
	}
}

// Re-enrolment (a new invite) replaces the credential and ends the user's sessions; an older
// invite, or an expired one, is refused.
func TestSigninInvitations(t *testing.T) {
	e := newSigninEnv(t, "required")
	b := e.browser()
	first := e.invite("alice")
	second := e.invite("alice")
	if p := b.get(first); p.status != http.StatusGone {
		t.Fatalf("replaced invitation: %d", p.status)
	}
	key, _ := e.enrol(b, second, alicePassword)
	e.signIn(b, "alice", alicePassword, "/")
	e.clk.Advance(30 * time.Second)
	if p := e.secondFactor(b, totpCode(t, key, e.clk.Now())); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", p.status, p.body)
	}
	// A new invitation, used in another browser: the old session ends, the old password fails.
	third := e.invite("alice")
	other := e.browser()
	e.enrol(other, third, "another long passphrase 99")
	if st, _ := b.whoami(); st != http.StatusUnauthorized {
		t.Fatalf("the session outlived re-enrolment: %d", st)
	}
	if p := e.signIn(e.browser(), "alice", alicePassword, "/"); p.status != http.StatusUnauthorized {
		t.Fatalf("the old password after re-enrolment: %d", p.status)
	}
	// An expired invitation.
	fourth := e.invite("bob")
	e.clk.Advance(24*time.Hour + time.Second)
	if p := b.get(fourth); p.status != http.StatusGone {
		t.Fatalf("expired invitation: %d", p.status)
	}
	// Only administrators invite, only existing users.
	if err := e.admin.Do(e.ctx, "POST", "/v1/auth/invites", server.InviteRequest{User: "nobody"}, nil); status(err) != 400 {
		t.Fatalf("invite of an unknown user: %v", err)
	}
	tok, err := e.admin.CreateToken(e.ctx, "bob", "1h")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := e.raw("POST", "/v1/auth/invites", tok.Token, `{"user": "bob"}`); st != 403 {
		t.Fatalf("a non-administrator invites: %d", st)
	}
	if st, _ := e.raw("POST", "/v1/auth/unlock", tok.Token, `{"user": "bob"}`); st != 403 {
		t.Fatalf("a non-administrator unlocks: %d", st)
	}
	// Enrolment checks the password next to its field.
	link := e.invite("bob")
	p := b.get(link)
	p = b.post(link, url.Values{"csrf": {csrfOf(t, p)}, "step": {"password"}, "password": {"short"}, "confirm": {"short"}})
	if p.status != 400 || !strings.Contains(p.body, `id="password-error"`) {
		t.Fatalf("short password: %d\n%s", p.status, p.body)
	}
	// And its CSRF token.
	if p := b.post(link, url.Values{"step": {"password"}, "password": {alicePassword}, "confirm": {alicePassword}}); p.status != http.StatusForbidden {
		t.Fatalf("enrolment without csrf: %d", p.status)
	}
}

// Wrong passwords, for a user who exists and one who does not, get the same answer; the account
// locks; an administrator unlocks it.
func TestSigninLockoutAndSameAnswer(t *testing.T) {
	e := newSigninEnv(t, "required")
	e.enrol(e.browser(), e.invite("alice"), alicePassword)
	b := e.browser()
	known := e.signIn(b, "alice", "not the password at all", "/")
	e.clk.Advance(time.Minute)
	unknown := e.signIn(b, "mallory", "not the password at all", "/")
	e.clk.Advance(time.Minute)
	invalid := e.signIn(b, "no such/user", "not the password at all", "/")
	for _, p := range []page{known, unknown, invalid} {
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "User name or password is wrong.") {
			t.Fatalf("%d\n%s", p.status, p.body)
		}
	}
	strip := func(s string) string {
		return csrfRE.ReplaceAllString(regexp.MustCompile(`value="[^"]*" autocomplete="username"`).ReplaceAllString(s, ""), "")
	}
	if strip(known.body) != strip(unknown.body) {
		t.Errorf("known and unknown users get different pages:\n%s\n----\n%s", known.body, unknown.body)
	}
	// bob has no credential: the same answer.
	e.clk.Advance(time.Minute)
	if p := e.signIn(b, "bob", "not the password at all", "/"); p.status != http.StatusUnauthorized || strip(p.body) != strip(known.body) {
		t.Fatalf("bob without a credential: %d", p.status)
	}

	// Lockout: failures until the throttle refuses, even the right password.
	var p page
	for i := 0; i < 20; i++ {
		e.clk.Advance(time.Hour / 60)
		p = e.signIn(b, "alice", "not the password at all", "/")
		if p.status == http.StatusTooManyRequests {
			break
		}
	}
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("no lockout after 20 failures: %d", p.status)
	}
	e.clk.Advance(time.Minute)
	if p := e.signIn(b, "alice", alicePassword, "/"); p.status != http.StatusTooManyRequests {
		t.Fatalf("the right password while locked: %d\n%s", p.status, p.body)
	}
	var out map[string]any
	if err := e.admin.Do(e.ctx, "POST", "/v1/auth/unlock", server.UnlockRequest{User: "alice"}, &out); err != nil {
		t.Fatal(err)
	}
	if p := e.signIn(b, "alice", alicePassword, "/"); p.status != http.StatusSeeOther || p.location != "/login/second-factor" {
		t.Fatalf("after unlock: %d %q\n%s", p.status, p.location, p.body)
	}
}

// No open redirect: next is followed only when it is a local path.
func TestSigninNoOpenRedirect(t *testing.T) {
	for next, want := range map[string]string{
		"/requests":              "/requests",
		"/a?b=c#d":               "/a?b=c#d",
		"//evil.example":         "/",
		"/\\evil.example":        "/",
		"https://evil.example/":  "/",
		"javascript:alert(1)":    "/",
		"evil.example":           "/",
		"/%2F%2Fevil.example":    "/",
		"/\x00":                  "/",
		"":                       "/",
		"\t//evil.example":       "/",
		"/ok\r\nSet-Cookie: x=y": "/",
	} {
		if got := server.SafeNext(next); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", next, got, want)
		}
	}
	// Through the pages, with the password alone (optional second factor).
	e := newSigninEnv(t, "optional")
	b := e.browser()
	link := e.invite("alice")
	p := b.get(link)
	b.post(link, url.Values{"csrf": {csrfOf(t, p)}, "step": {"password"}, "password": {alicePassword}, "confirm": {alicePassword}})
	p = b.get(link)
	if !strings.Contains(p.body, "Finish without a second factor") {
		t.Fatalf("no skip when optional:\n%s", p.body)
	}
	if p = b.post(link, url.Values{"csrf": {csrfOf(t, p)}, "step": {"skip"}}); p.status != 200 {
		t.Fatalf("skip: %d\n%s", p.status, p.body)
	}
	for next, want := range map[string]string{"//evil.example/x": "/", "https://evil.example": "/", "/requests": "/requests"} {
		e.clk.Advance(time.Second)
		p := e.signIn(e.browser(), "alice", alicePassword, next)
		if p.status != http.StatusSeeOther || p.location != want {
			t.Errorf("next %q: %d %q", next, p.status, p.location)
		}
	}
}

// Every POST checks its CSRF token; a session's token is not a pre-session one and the reverse.
func TestSigninCSRF(t *testing.T) {
	e := newSigninEnv(t, "optional")
	b := e.browser()
	b.get("/login")
	if p := b.post("/login", url.Values{"user": {"alice"}, "password": {alicePassword}}); p.status != http.StatusForbidden {
		t.Fatalf("login without csrf: %d", p.status)
	}
	// A token from another browser does not do.
	other := e.browser()
	tok := csrfOf(t, other.get("/login"))
	if p := b.post("/login", url.Values{"csrf": {tok}, "user": {"alice"}, "password": {alicePassword}}); p.status != http.StatusForbidden {
		t.Fatalf("login with another browser's csrf: %d", p.status)
	}
	if p := b.post("/logout/everywhere", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("logout/everywhere with no session: %d", p.status)
	}
	if p := b.post("/login/step-up", url.Values{"code": {"123456"}}); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login?next=") {
		t.Fatalf("step-up with no session: %d %q", p.status, p.location)
	}
	if p := b.get("/login"); p.header.Get("Cache-Control") != "no-store" || !strings.Contains(p.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("login headers: %v", p.header)
	}
}

var _ = store.ErrNotFound
var _ = resource.KindCredential

// TestSafeNextRandom runs FuzzSafeNext's property over 200,000 strings of the characters that
// matter to URLs (the fuzzer, under -fuzz, goes further).
func TestSafeNextRandom(t *testing.T) {
	parts := []string{"/", "\\", ":", ".", "%2f", "%5c", "@", "?", "#", "\t", "\n", " ", "a", "evil.example", "http", "https:", "javascript:", "\u3000", "\x00"}
	base, _ := url.Parse("https://warden.example/login")
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		var b strings.Builder
		for range 1 + rnd.IntN(8) {
			b.WriteString(parts[rnd.IntN(len(parts))])
		}
		next := b.String()
		got := server.SafeNext(next)
		u, err := base.Parse(got)
		norm := strings.NewReplacer("\\", "/", "\t", "", "\n", "", "\r", "").Replace(got)
		if (got != "/" && got != next) || err != nil || u.Host != "warden.example" || strings.HasPrefix(norm, "//") {
			t.Fatalf("SafeNext(%q) = %q (%v, %v)", next, got, u, err)
		}
	}
}

// FuzzSafeNext: whatever next is, where a browser goes after sign-in is on warden's own host.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/requests?x=1#y", "//evil.example", "/\\evil.example", "https://evil.example", "/%2F%2Fx", "\t//x", "/a/../..//x", "/.//evil", "/\u3000/evil"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://warden.example/login")
	f.Fuzz(func(t *testing.T, next string) {
		got := server.SafeNext(next)
		if got != "/" && got != next {
			t.Fatalf("SafeNext(%q) = %q: neither next nor /", next, got)
		}
		u, err := base.Parse(got)
		if err != nil {
			t.Fatalf("SafeNext(%q) = %q, which does not parse: %v", next, got, err)
		}
		if u.Host != "warden.example" || u.Scheme != "https" {
			t.Fatalf("SafeNext(%q) = %q leads to %s", next, got, u)
		}
		// Browsers treat a backslash as a slash and drop tabs and newlines: the path must not begin
		// with two slashes read that way either.
		norm := strings.NewReplacer("\\", "/", "\t", "", "\n", "", "\r", "").Replace(got)
		if strings.HasPrefix(norm, "//") {
			t.Fatalf("SafeNext(%q) = %q, which a browser reads as %q", next, got, norm)
		}
	})
}
