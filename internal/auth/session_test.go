package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"github.com/wardenhq/warden/internal/testenv"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// countingStore counts the session reads that reach the store.
type countingStore struct {
	store.Store
	gets atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, k resource.Kind, name string) (*resource.Object, error) {
	if k == resource.KindSession {
		c.gets.Add(1)
	}
	return c.Store.Get(ctx, k, name)
}

func openStore(t testing.TB, users ...string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, u := range users {
		if err := st.Create(context.Background(), resource.New(resource.KindUser, u)); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func newSessionsT(t testing.TB, cfg SessionConfig) (*Sessions, *clock.Fake, *countingStore) {
	t.Helper()
	st := &countingStore{Store: openStore(t, "erin", "bob")}
	clk := clock.NewFake(t0)
	return NewSessions(st, cfg, WithSessionClock(clk)), clk, st
}

// signIn issues a session for user and returns it with a request carrying its cookie.
func signIn(t testing.TB, s *Sessions, user string, methods ...MethodUse) (*Session, *http.Cookie) {
	t.Helper()
	if len(methods) == 0 {
		methods = []MethodUse{{Method: MethodPassword}, {Method: MethodTOTP}}
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/login", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 test")
	sess, err := s.Issue(context.Background(), w, r, user, methods...)
	if err != nil {
		t.Fatal(err)
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("issue set %d cookies, want 1", len(cs))
	}
	return sess, cs[0]
}

func withCookie(method string, c *http.Cookie) *http.Request {
	r := httptest.NewRequest(method, "/v1/whoami", nil)
	if c != nil {
		r.AddCookie(c)
	}
	return r
}

func current(t testing.TB, s *Sessions, c *http.Cookie) *Session {
	t.Helper()
	sess, err := s.Current(withCookie("GET", c))
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

func auditOf(t *testing.T, st store.Store) []*resource.AuditEntrySpec {
	t.Helper()
	es, err := audit.List(context.Background(), st, audit.Filter{Kind: resource.KindSession})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestSessionIssueCookieAndRecord(t *testing.T) {
	for _, secure := range []bool{false, true} {
		s, _, st := newSessionsT(t, SessionConfig{Idle: time.Hour, Absolute: 12 * time.Hour, Secure: secure})
		sess, c := signIn(t, s, "erin")
		wantName := map[bool]string{false: "warden_session", true: "__Host-warden_session"}[secure]
		if c.Name != wantName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != secure || c.Domain != "" {
			t.Fatalf("secure=%v: cookie %+v", secure, c)
		}
		if !c.Expires.Equal(t0.Add(12 * time.Hour)) {
			t.Errorf("cookie expires %s, want the absolute expiry", c.Expires)
		}
		id, secret, ok := parseCookie(c.Value)
		if !ok || id != sess.ID {
			t.Fatalf("cookie %q does not name session %s", c.Value, sess.ID)
		}
		o, err := st.Get(context.Background(), resource.KindSession, id)
		if err != nil {
			t.Fatal(err)
		}
		spec := o.Spec.(*resource.SessionSpec)
		if spec.User != "erin" || spec.SecretHash == "" || strings.Contains(spec.SecretHash, secret) || spec.SecretHash != hash(secret) {
			t.Fatalf("record %+v: want erin and the SHA-256 of the secret only", spec)
		}
		if !spec.Created.Equal(t0) || !spec.LastSeen.Equal(t0) || !spec.Expires.Equal(t0.Add(12*time.Hour)) ||
			!spec.SecondFactorAt.Equal(t0) || len(spec.Methods) != 2 || spec.Address != "192.0.2.1" || spec.UserAgent != "Mozilla/5.0 test" {
			t.Fatalf("record %+v", spec)
		}
		got := current(t, s, c)
		if got == nil || got.ID != sess.ID || got.User != "erin" || !got.SecondFactorAt.Equal(t0) {
			t.Fatalf("current: %+v", got)
		}
		es := auditOf(t, st)
		if len(es) != 1 || es[0].Action != "create" || es[0].Actor != "erin" || es[0].Name != id || !strings.Contains(es[0].Detail, "pwd+otp") {
			t.Fatalf("audit: %+v", es)
		}
		if strings.Contains(string(es[0].After)+es[0].Detail, spec.SecretHash) || strings.Contains(es[0].Detail, secret) {
			t.Fatal("the audit log holds the secret or its hash")
		}
	}
}

func TestSessionBadCookies(t *testing.T) {
	s, _, _ := newSessionsT(t, SessionConfig{})
	sess, c := signIn(t, s, "erin")
	_, secret, _ := parseCookie(c.Value)
	other := strings.Repeat("A", len(secret))
	for _, v := range []string{"", "x", sess.ID, sess.ID + ".", sess.ID + "." + other, "0000000000000000." + secret,
		strings.ToUpper(sess.ID) + "." + secret, sess.ID + "." + secret + "x", c.Value + strings.Repeat("a", 200)} {
		if got := current(t, s, &http.Cookie{Name: c.Name, Value: v}); got != nil {
			t.Errorf("cookie %q: session %s", v, got.ID)
		}
	}
	if got := current(t, s, &http.Cookie{Name: SecureSessionCookie, Value: c.Value}); got != nil {
		t.Error("the secure cookie's name is read when not serving TLS")
	}
	if got := current(t, s, nil); got != nil {
		t.Error("no cookie: a session")
	}
}

func TestSessionIssueChecks(t *testing.T) {
	s, _, _ := newSessionsT(t, SessionConfig{})
	ctx := context.Background()
	r := httptest.NewRequest("POST", "/login", nil)
	if _, err := s.Issue(ctx, httptest.NewRecorder(), r, "nobody", MethodUse{Method: MethodPassword}); resource.First(err) == nil || resource.First(err).Field != "user" {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := s.Issue(ctx, httptest.NewRecorder(), r, "erin"); err == nil {
		t.Error("no method: issued")
	}
	if _, err := s.Issue(ctx, httptest.NewRecorder(), r, BootstrapUser, MethodUse{Method: MethodPassword}); err == nil {
		t.Error("a session for the bootstrap admin")
	}
	if _, err := s.Issue(ctx, httptest.NewRecorder(), r, "erin", MethodUse{Method: "sms"}); err == nil {
		t.Error("an unknown method: issued")
	}
	if _, err := s.Issue(ctx, httptest.NewRecorder(), r, "erin", MethodUse{Method: MethodOIDC}); err == nil {
		t.Error("oidc without its connector: issued")
	}
	// Long user agents are clipped, not refused.
	r.Header.Set("User-Agent", strings.Repeat("é", 300))
	sess, err := s.Issue(ctx, httptest.NewRecorder(), r, "erin", MethodUse{Method: MethodPassword})
	if err != nil || len(sess.UserAgent) > resource.MaxSessionUserAgent {
		t.Fatalf("long user agent: %v %d", err, len(sess.UserAgent))
	}
	if !sess.SecondFactorAt.IsZero() {
		t.Error("a password alone counted as a second factor")
	}
}

func TestSecondFactor(t *testing.T) {
	for m, want := range map[MethodUse]bool{
		{Method: MethodPassword}: false, {Method: MethodTOTP}: true, {Method: MethodRecovery}: true,
		{Method: MethodPasskey}: true, {Method: MethodOIDC, Connector: "okta"}: false, {Method: MethodOIDC, Connector: "okta", MFA: true}: true,
	} {
		if m.SecondFactor() != want {
			t.Errorf("%+v: second factor %v", m, !want)
		}
	}
}

func TestSessionIdleAndTouch(t *testing.T) {
	s, clk, st := newSessionsT(t, SessionConfig{Idle: 10 * time.Minute, Absolute: time.Hour})
	sess, c := signIn(t, s, "erin")
	rev := func() int64 {
		o, err := st.Get(context.Background(), resource.KindSession, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		return o.Metadata.Revision
	}
	r0 := rev()
	clk.Advance(59 * time.Second)
	if current(t, s, c) == nil {
		t.Fatal("refused within a minute")
	}
	if rev() != r0 {
		t.Fatal("last seen written within the minute")
	}
	clk.Advance(time.Second)
	if got := current(t, s, c); got == nil || !got.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after a minute: %+v", got)
	}
	r1 := rev()
	if r1 == r0 {
		t.Fatal("last seen not written after a minute")
	}
	for i := 0; i < 5; i++ {
		if current(t, s, c) == nil {
			t.Fatal("refused")
		}
	}
	if rev() != r1 {
		t.Fatal("last seen written at every request")
	}
	// Used every 9 minutes, the session outlives the idle timeout...
	for i := 0; i < 4; i++ {
		clk.Advance(9 * time.Minute)
		if current(t, s, c) == nil {
			t.Fatalf("used every 9 minutes: refused at %s", clk.Now())
		}
	}
	// ...and ends after 10 unused.
	clk.Advance(10 * time.Minute)
	if current(t, s, c) != nil {
		t.Fatal("idle 10 minutes: still valid")
	}
}

func TestSessionAbsolute(t *testing.T) {
	s, clk, _ := newSessionsT(t, SessionConfig{Idle: 10 * time.Minute, Absolute: time.Hour})
	_, c := signIn(t, s, "erin")
	for clk.Now().Before(t0.Add(time.Hour - 5*time.Minute)) {
		clk.Advance(5 * time.Minute)
		if current(t, s, c) == nil {
			t.Fatalf("refused at %s", clk.Now())
		}
	}
	clk.Advance(5 * time.Minute)
	if current(t, s, c) != nil {
		t.Fatal("valid past the absolute expiry")
	}
}

func TestSessionFixation(t *testing.T) {
	s, _, st := newSessionsT(t, SessionConfig{})
	old, c := signIn(t, s, "erin")
	w := httptest.NewRecorder()
	r := withCookie("POST", c)
	sess, err := s.Issue(context.Background(), w, r, "erin", MethodUse{Method: MethodPasskey})
	if err != nil {
		t.Fatal(err)
	}
	if sess.ID == old.ID {
		t.Fatal("the same session id again")
	}
	if current(t, s, c) != nil {
		t.Fatal("the session the request carried survives a new sign-in")
	}
	if current(t, s, w.Result().Cookies()[0]) == nil {
		t.Fatal("the new session is not valid")
	}
	es := auditOf(t, st)
	if len(es) != 3 || es[1].Action != "end" || es[1].Name != old.ID || !strings.Contains(es[1].Detail, sess.ID) {
		t.Fatalf("audit: %+v", es)
	}
	// A cookie naming a session with a wrong secret ends nothing.
	third, c3 := signIn(t, s, "bob")
	forged := &http.Cookie{Name: c3.Name, Value: third.ID + "." + strings.Repeat("B", 43)}
	if _, err := s.Issue(context.Background(), httptest.NewRecorder(), withCookie("POST", forged), "erin", MethodUse{Method: MethodPassword}); err != nil {
		t.Fatal(err)
	}
	if current(t, s, c3) == nil {
		t.Fatal("a forged cookie ended someone else's session")
	}
}

func TestSessionCSRF(t *testing.T) {
	s, _, _ := newSessionsT(t, SessionConfig{})
	sess, c := signIn(t, s, "erin")
	tok := s.CSRFToken(sess)
	if tok == "" || len(tok) < 40 {
		t.Fatalf("token %q", tok)
	}
	cur := current(t, s, c)
	if s.CSRFToken(cur) != tok {
		t.Fatal("the token changes between requests of one session")
	}
	other, _ := signIn(t, s, "erin")
	if s.CSRFToken(other) == tok {
		t.Fatal("two sessions share a token")
	}
	listed, err := s.List(context.Background(), "erin")
	if err != nil || len(listed) != 2 || s.CSRFToken(listed[0]) != "" {
		t.Fatalf("a listed session (no secret) has a token: %v", err)
	}
	post := func(header, field, ctype string) *http.Request {
		body := url.Values{"csrf": {field}, "x": {"1"}}.Encode()
		r := httptest.NewRequest("POST", "/v1/x", strings.NewReader(body))
		r.AddCookie(c)
		r.Header.Set("Content-Type", ctype)
		if header != "" {
			r.Header.Set(CSRFHeader, header)
		}
		return r
	}
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		r    *http.Request
		want bool
	}{
		{post(tok, "", "application/json"), true},
		{post("", tok, form), true},
		{post("", tok, form+"; charset=utf-8"), true},
		{post("", tok, "application/json"), false}, // the field of a body that is no form is not read
		{post("", "", form), false},
		{post(tok[:len(tok)-1], "", form), false},
		{post(s.CSRFToken(other), "", form), false},
		{post("", s.CSRFToken(other), form), false},
	} {
		if got := s.CheckCSRF(tc.r, cur); got != tc.want {
			t.Errorf("header %q field %q type %q: %v", tc.r.Header.Get(CSRFHeader), tc.r.PostFormValue("csrf"), tc.r.Header.Get("Content-Type"), got)
		}
	}
	if s.CheckCSRF(post(tok, "", form), listed[0]) || s.CheckCSRF(post(tok, "", form), nil) {
		t.Fatal("a session without its secret passes CSRF")
	}
	r := post("", tok, form)
	if !s.CheckCSRF(r, cur) || r.PostFormValue("x") != "1" {
		t.Fatal("the form is not left for the handler")
	}
}

func TestSessionAddFactor(t *testing.T) {
	s, clk, st := newSessionsT(t, SessionConfig{})
	sess, c := signIn(t, s, "erin", MethodUse{Method: MethodPassword})
	clk.Advance(30 * time.Minute)
	if err := s.AddFactor(context.Background(), sess, MethodUse{Method: MethodPassword}); err != nil {
		t.Fatal(err)
	}
	if !sess.SecondFactorAt.IsZero() {
		t.Fatal("a password counted as a second factor")
	}
	if err := s.AddFactor(context.Background(), sess, MethodUse{Method: MethodTOTP}); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(30 * time.Minute)
	if !sess.SecondFactorAt.Equal(at) || len(sess.Methods) != 3 || s.CSRFToken(sess) == "" {
		t.Fatalf("after step-up: %+v", sess)
	}
	if got := current(t, s, c); got == nil || !got.SecondFactorAt.Equal(at) {
		t.Fatalf("current after step-up: %+v", got)
	}
	es := auditOf(t, st)
	if last := es[len(es)-1]; last.Action != "update" || !strings.Contains(last.Detail, "otp used") {
		t.Fatalf("audit: %+v", last)
	}
	for i := 0; i < 40; i++ {
		if err := s.AddFactor(context.Background(), sess, MethodUse{Method: MethodPasskey}); err != nil {
			t.Fatal(err)
		}
	}
	if len(sess.Methods) != resource.MaxSessionMethods || sess.Methods[0].Method != MethodPassword {
		t.Fatalf("methods kept: %d, first %s", len(sess.Methods), sess.Methods[0].Method)
	}
	if _, err := s.Revoke(context.Background(), &Principal{User: "erin"}, sess.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.AddFactor(context.Background(), sess, MethodUse{Method: MethodTOTP}); err == nil {
		t.Fatal("a factor added to a revoked session")
	}
}

func TestSessionEnd(t *testing.T) {
	s, _, st := newSessionsT(t, SessionConfig{Secure: true})
	sess, c := signIn(t, s, "erin")
	w := httptest.NewRecorder()
	if err := s.End(context.Background(), w, withCookie("POST", c)); err != nil {
		t.Fatal(err)
	}
	cleared := w.Result().Cookies()
	if len(cleared) != 1 || cleared[0].Name != SecureSessionCookie || cleared[0].MaxAge >= 0 || cleared[0].Value != "" || !cleared[0].Secure {
		t.Fatalf("cleared cookie: %+v", cleared)
	}
	if current(t, s, c) != nil {
		t.Fatal("valid after sign out")
	}
	if _, err := s.Get(context.Background(), sess.ID); err == nil {
		t.Fatal("the record survives sign out")
	}
	es := auditOf(t, st)
	if last := es[len(es)-1]; last.Action != "end" || last.Actor != "erin" || !strings.Contains(last.Detail, "signed out") {
		t.Fatalf("audit: %+v", last)
	}
	// Without a session (or a second time) End only clears the cookie.
	if err := s.End(context.Background(), httptest.NewRecorder(), withCookie("POST", c)); err != nil {
		t.Fatal(err)
	}
}

func TestSessionEndAllAndRevoke(t *testing.T) {
	s, _, st := newSessionsT(t, SessionConfig{})
	var cookies []*http.Cookie
	for i := 0; i < 3; i++ {
		_, c := signIn(t, s, "erin")
		cookies = append(cookies, c)
	}
	bobs, bobc := signIn(t, s, "bob")
	n, err := s.EndAll(context.Background(), "erin", "erin")
	if err != nil || n != 3 {
		t.Fatalf("end all: %d %v", n, err)
	}
	for _, c := range cookies {
		if current(t, s, c) != nil {
			t.Fatal("a session survives sign out everywhere")
		}
	}
	if current(t, s, bobc) == nil {
		t.Fatal("someone else's session ended")
	}
	es := auditOf(t, st)
	revokes := 0
	for _, e := range es {
		if e.Action == "revoke" && e.Actor == "erin" && strings.Contains(e.Detail, "every session of erin") {
			revokes++
		}
	}
	if revokes != 3 {
		t.Fatalf("audited revocations: %d", revokes)
	}
	admin := &Principal{User: "root", Admin: true, TokenID: "0123456789abcdef"}
	if _, err := s.Revoke(context.Background(), admin, "nothex"); resource.First(err) == nil {
		t.Fatalf("bad id: %v", err)
	}
	got, err := s.Revoke(context.Background(), admin, bobs.ID)
	if err != nil || got.User != "bob" {
		t.Fatalf("revoke: %+v %v", got, err)
	}
	if current(t, s, bobc) != nil {
		t.Fatal("revoked session still valid")
	}
	es = auditOf(t, st)
	last := es[len(es)-1]
	if last.Action != "revoke" || last.Actor != "root" || last.Token != admin.TokenID || !strings.Contains(last.Detail, "revoked by root on bob's behalf") {
		t.Fatalf("audit: %+v", last)
	}
	if _, err := s.Revoke(context.Background(), admin, bobs.ID); err == nil {
		t.Fatal("revoked twice")
	}
}

func TestSessionListAndSweep(t *testing.T) {
	s, clk, st := newSessionsT(t, SessionConfig{Idle: 10 * time.Minute, Absolute: time.Hour})
	signIn(t, s, "erin")
	clk.Advance(5 * time.Minute)
	_, c2 := signIn(t, s, "erin")
	signIn(t, s, "bob")
	all, err := s.List(context.Background(), "")
	if err != nil || len(all) != 3 || all[0].User != "bob" || all[1].User != "erin" || !all[1].Created.Equal(t0) {
		t.Fatalf("list: %v", err)
	}
	clk.Advance(6 * time.Minute) // the first is idle
	current(t, s, c2)            // the second is used
	mine, _ := s.List(context.Background(), "erin")
	if len(mine) != 1 {
		t.Fatalf("list leaves ended sessions in: %d", len(mine))
	}
	n, err := s.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	objs, _ := st.List(context.Background(), resource.KindSession, store.ListOptions{})
	if len(objs) != 2 {
		t.Fatalf("%d records after the sweep", len(objs))
	}
	es := auditOf(t, st)
	if last := es[len(es)-1]; last.Action != "expire" || last.Actor != WardenActor || !strings.Contains(last.Detail, "unused since") {
		t.Fatalf("audit: %+v", last)
	}
}

// TestSessionCacheAndFeed: Current reads a session from the store once, then from memory; a
// revocation made through another replica reaches this one through the change feed.
func TestSessionCacheAndFeed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, clk, st := newSessionsT(t, SessionConfig{})
	b := NewSessions(st.Store, SessionConfig{}, WithSessionClock(clk)) // a replica: its own cache, the same store
	applied := make(chan store.Event, 100)
	a.onApply = func(ev store.Event) { applied <- ev }
	go a.Run(ctx)
	waitCond(t, a.Feeding, "the feed to start")

	sess, c := signIn(t, b, "erin") // made on the other replica
	// Once this replica's feed has seen the session made (a read that overlaps a change the feed
	// applies is not cached, rightly: it may be older than the change), checks read it once.
	waitEvent(t, applied, func(ev store.Event) bool { return ev.Type == store.Put && ev.Object.Metadata.Name == sess.ID })
	before := st.gets.Load()
	for i := 0; i < 10; i++ {
		if current(t, a, c) == nil {
			t.Fatal("refused")
		}
	}
	if got := st.gets.Load() - before; got != 1 {
		t.Fatalf("%d store reads for 10 checks, want 1", got)
	}
	if _, err := b.Revoke(ctx, &Principal{User: "erin"}, sess.ID); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, applied, func(ev store.Event) bool { return ev.Type == store.Delete && ev.Object.Metadata.Name == sess.ID })
	if current(t, a, c) != nil {
		t.Fatal("a session revoked on another replica is still valid here")
	}

	// A step-up on the other replica is seen here too.
	sess, c = signIn(t, b, "erin", MethodUse{Method: MethodPassword})
	waitEvent(t, applied, func(ev store.Event) bool { return ev.Type == store.Put && ev.Object.Metadata.Name == sess.ID })
	if got := current(t, a, c); got == nil || !got.SecondFactorAt.IsZero() {
		t.Fatal("not cached")
	}
	clk.Advance(time.Minute)
	if err := b.AddFactor(ctx, sess, MethodUse{Method: MethodTOTP}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, applied, func(ev store.Event) bool {
		return ev.Type == store.Put && ev.Object.Kind == resource.KindSession && !ev.Object.Spec.(*resource.SessionSpec).SecondFactorAt.IsZero()
	})
	if got := current(t, a, c); got == nil || !got.SecondFactorAt.Equal(clk.Now()) {
		t.Fatalf("step-up not seen: %+v", got)
	}
	if a.Cached() != 1 {
		t.Fatalf("cached %d", a.Cached())
	}

	// The user's admin flag: read once, then from memory; a promotion, a demotion and a deletion
	// made elsewhere count once the feed brings them.
	for i := 0; i < 3; i++ {
		if exists, admin, err := a.User(ctx, "erin"); err != nil || !exists || admin {
			t.Fatalf("user: %v %v %v", exists, admin, err)
		}
	}
	setAdmin := func(admin bool) {
		u, err := st.Store.Get(ctx, resource.KindUser, "erin")
		if err != nil {
			t.Fatal(err)
		}
		u.Spec.(*resource.UserSpec).Admin = admin
		if err := st.Store.Update(ctx, u); err != nil {
			t.Fatal(err)
		}
		waitEvent(t, applied, func(ev store.Event) bool { return ev.Object.Kind == resource.KindUser })
	}
	setAdmin(true)
	if _, admin, _ := a.User(ctx, "erin"); !admin {
		t.Fatal("a promotion is not seen")
	}
	setAdmin(false)
	if _, admin, _ := a.User(ctx, "erin"); admin {
		t.Fatal("a demotion is not seen")
	}
	if _, err := st.Store.Delete(ctx, resource.KindUser, "erin", 0); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, applied, func(ev store.Event) bool { return ev.Object.Kind == resource.KindUser && ev.Type == store.Delete })
	if exists, _, _ := a.User(ctx, "erin"); exists {
		t.Fatal("a deleted user still exists")
	}
	cancel()
	waitCond(t, func() bool { return !a.Feeding() }, "the feed to stop")
}

// TestSessionRunSweeps: Run deletes ended sessions on its clock.
func TestSessionRunSweeps(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, clk, st := newSessionsT(t, SessionConfig{Idle: 10 * time.Minute})
	signIn(t, s, "erin")
	applied := make(chan store.Event, 100)
	s.onApply = func(ev store.Event) { applied <- ev }
	go s.Run(ctx)
	if !clk.WaitUntil(10*time.Second, t0.Add(sweepEvery)) {
		t.Fatal("Run set no sweep")
	}
	clk.Advance(15 * time.Minute)
	waitEvent(t, applied, func(ev store.Event) bool { return ev.Type == store.Delete && ev.Object.Kind == resource.KindSession })
	objs, _ := st.List(ctx, resource.KindSession, store.ListOptions{})
	if len(objs) != 0 {
		t.Fatal("not swept")
	}
}

func waitEvent(t *testing.T, ch <-chan store.Event, ok func(store.Event) bool) {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case ev := <-ch:
			if ok(ev) {
				return
			}
		case <-timeout.C:
			t.Fatal("timed out waiting for the change feed")
		}
	}
}

// waitCond waits for a condition the code under test reaches on its own goroutine.
func waitCond(t *testing.T, cond func() bool, what string) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, what, cond)
}

func TestTokenPrincipalMethod(t *testing.T) {
	ctx := context.Background()
	tk, st := newTokens(t)
	if err := st.Create(ctx, resource.New(resource.KindUser, "erin")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "admin.token")
	if _, err := tk.EnsureAdminToken(ctx, path); err != nil {
		t.Fatal(err)
	}
	token, _, err := tk.Create(ctx, "erin", false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tk.Authenticate(ctx, token)
	if err != nil || p.Method != MethodToken || p.Expires.IsZero() || !p.SecondFactorAt.IsZero() {
		t.Fatalf("user token: %+v %v", p, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err = tk.Authenticate(ctx, strings.TrimSpace(string(b)))
	if err != nil || p.Method != MethodBootstrap || !p.Admin {
		t.Fatalf("bootstrap token: %+v %v", p, err)
	}
}
