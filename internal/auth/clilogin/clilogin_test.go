package clilogin

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

type fixture struct {
	ctx    context.Context
	st     *sqlite.Store
	clock  *clock.Fake
	tokens *auth.Tokens
	svc    *Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, u := range []string{"alice", "bob"} {
		if err := st.Create(ctx, resource.New(resource.KindUser, u)); err != nil {
			t.Fatal(err)
		}
	}
	c := clock.NewFake(time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC))
	tk := auth.NewTokens(st)
	tk.SetClock(c.Now)
	return &fixture{ctx: ctx, st: st, clock: c, tokens: tk, svc: New(st, tk, Config{}, WithClock(c))}
}

func (f *fixture) auditDetails(t *testing.T) string {
	t.Helper()
	objs, err := f.st.List(f.ctx, resource.KindAuditEntry, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, o := range objs {
		s := o.Spec.(*resource.AuditEntrySpec)
		b.WriteString(s.Actor + " " + s.Action + " " + s.Detail + "\n")
	}
	return b.String()
}

func loopbackReq(verifier string) LoopbackRequest {
	return LoopbackRequest{RedirectURI: "http://127.0.0.1:49152/callback", CodeChallenge: Challenge(verifier), CodeChallengeMethod: "S256", State: "st4te"}
}

func codeOf(t *testing.T, redirect string) string {
	t.Helper()
	u, err := url.Parse(redirect)
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Get("state") != "st4te" {
		t.Fatalf("redirect %s does not carry the state", redirect)
	}
	return u.Query().Get("code")
}

func TestLoopback(t *testing.T) {
	f := newFixture(t)
	verifier := NewVerifier()
	req := loopbackReq(verifier)
	mfa := f.clock.Now().Add(-time.Minute)
	redirect, err := f.svc.Confirm(f.ctx, req, Confirmer{User: "alice", Session: "s1", SecondFactorAt: mfa})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(redirect, req.RedirectURI+"?") {
		t.Fatalf("redirect %s", redirect)
	}
	code := codeOf(t, redirect)
	// The store holds no code.
	objs, _ := f.st.List(f.ctx, resource.KindCLIGrant, store.ListOptions{})
	if len(objs) != 1 || objs[0].Metadata.Name == code || strings.Contains(f.auditDetails(t), code) {
		t.Fatalf("grants %v: want one, named by the code's hash", objs)
	}
	if _, err := f.svc.Exchange(f.ctx, code, verifier, "http://127.0.0.1:49153/callback"); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("another redirect_uri: %v", err)
	}
	// That burnt the code: single use, whatever the outcome.
	if _, err := f.svc.Exchange(f.ctx, code, verifier, req.RedirectURI); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("a code tried once already: %v", err)
	}

	redirect, _ = f.svc.Confirm(f.ctx, req, Confirmer{User: "alice", Session: "s1", SecondFactorAt: mfa})
	code = codeOf(t, redirect)
	f.clock.Advance(30 * time.Second)
	got, err := f.svc.Exchange(f.ctx, code, verifier, req.RedirectURI)
	if err != nil {
		t.Fatal(err)
	}
	if got.User != "alice" || got.Login != "loopback" || !got.Expires.Equal(f.clock.Now().Add(12*time.Hour).Truncate(time.Second)) {
		t.Fatalf("issued %+v", got)
	}
	p, err := f.tokens.Authenticate(f.ctx, got.Token)
	if err != nil || p.User != "alice" || p.TokenID != got.ID || p.OnBehalf {
		t.Fatalf("the token: %+v %v", p, err)
	}
	o, _ := f.tokens.Get(f.ctx, got.ID)
	spec := o.Spec.(*resource.APITokenSpec)
	if spec.Login != "loopback" || !spec.SecondFactorAt.Equal(mfa) || spec.Issuer != "alice" {
		t.Fatalf("token spec %+v: want login loopback, the session's second factor, issued by alice", spec)
	}
	if _, err := f.svc.Exchange(f.ctx, code, verifier, req.RedirectURI); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("replayed code: %v", err)
	}
	log := f.auditDetails(t)
	if !strings.Contains(log, "alice create token "+got.ID+" acting as alice") || !strings.Contains(log, "warden login (loopback)") {
		t.Fatalf("audit log:\n%s", log)
	}
}

func TestLoopbackPKCEMismatchAndExpiry(t *testing.T) {
	f := newFixture(t)
	verifier := NewVerifier()
	req := loopbackReq(verifier)
	redirect, _ := f.svc.Confirm(f.ctx, req, Confirmer{User: "alice"})
	code := codeOf(t, redirect)
	if _, err := f.svc.Exchange(f.ctx, code, NewVerifier(), req.RedirectURI); !errors.Is(err, ErrInvalidGrant) || !strings.Contains(err.Error(), "PKCE") {
		t.Fatalf("wrong verifier: %v", err)
	}
	if _, err := f.svc.Exchange(f.ctx, code, verifier, req.RedirectURI); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("the right verifier after a wrong one: %v, want the code void", err)
	}
	redirect, _ = f.svc.Confirm(f.ctx, req, Confirmer{User: "alice"})
	f.clock.Advance(DefaultCodeTTL)
	if _, err := f.svc.Exchange(f.ctx, codeOf(t, redirect), verifier, req.RedirectURI); !errors.Is(err, ErrInvalidGrant) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired code: %v", err)
	}
	if _, err := f.svc.Exchange(f.ctx, "", verifier, req.RedirectURI); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("no code: %v", err)
	}
	if _, err := f.svc.Exchange(f.ctx, "abc", "short", req.RedirectURI); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("short verifier: %v", err)
	}
}

// A user deleted between confirming and the exchange gets no token.
func TestLoopbackUserDeleted(t *testing.T) {
	f := newFixture(t)
	verifier := NewVerifier()
	req := loopbackReq(verifier)
	redirect, err := f.svc.Confirm(f.ctx, req, Confirmer{User: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Delete(f.ctx, resource.KindUser, "bob", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Exchange(f.ctx, codeOf(t, redirect), verifier, req.RedirectURI); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("exchange for a deleted user: %v", err)
	}
}

func TestCheckRedirectURI(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:1/callback", "http://127.0.0.1:65535/callback", "http://[::1]:8080/callback"} {
		if _, err := CheckRedirectURI(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "https://127.0.0.1:1/callback", "http://localhost:1/callback", "http://evil.example:1/callback",
		"http://127.0.0.2:1/callback", "http://127.0.0.1/callback", "http://127.0.0.1:1/", "http://127.0.0.1:1/callback?x=1",
		"http://127.0.0.1:1/callback#f", "http://a@127.0.0.1:1/callback", "http://[::ffff:127.0.0.1]:1/callback",
		"http://127.0.0.1.evil.example:1/callback", "//127.0.0.1:1/callback", "javascript:alert(1)", "http://10.0.0.1:1/callback"} {
		if _, err := CheckRedirectURI(bad); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%q accepted (%v)", bad, err)
		}
	}
	base := loopbackReq(NewVerifier())
	for name, mod := range map[string]func(*LoopbackRequest){
		"plain method":   func(r *LoopbackRequest) { r.CodeChallengeMethod = "plain" },
		"short":          func(r *LoopbackRequest) { r.CodeChallenge = "abc" },
		"no state":       func(r *LoopbackRequest) { r.State = "" },
		"state markup":   func(r *LoopbackRequest) { r.State = "<script>" },
		"redirect https": func(r *LoopbackRequest) { r.RedirectURI = "https://127.0.0.1:1/callback" },
	} {
		r := base
		mod(&r)
		if err := r.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestUserCodes(t *testing.T) {
	re := regexp.MustCompile(`^[` + UserCodeAlphabet + `]{4}-[` + UserCodeAlphabet + `]{4}$`)
	seen := map[string]bool{}
	for range 1000 {
		c := NewUserCode()
		if !re.MatchString(c) {
			t.Fatalf("user code %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 990 {
		t.Fatalf("%d distinct codes of 1000", len(seen))
	}
	for in, want := range map[string]string{"bcdf-ghjk": "BCDF-GHJK", "BCDFGHJK": "BCDF-GHJK", " bcdf ghjk ": "BCDF-GHJK"} {
		if got, ok := NormalizeUserCode(in); !ok || got != want {
			t.Errorf("%q: %q %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ0"} {
		if _, ok := NormalizeUserCode(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDeviceFlow(t *testing.T) {
	f := newFixture(t)
	da, err := f.svc.StartDevice(f.ctx, "https://warden.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if da.VerificationURI != "https://warden.example.com/device" || da.ExpiresIn != 600 || da.Interval != 5 ||
		da.VerificationURIComplete != "https://warden.example.com/device?user_code="+da.UserCode {
		t.Fatalf("device authorization %+v", da)
	}
	if _, err := f.svc.PollDevice(f.ctx, da.DeviceCode); !errors.Is(err, ErrPending) {
		t.Fatalf("first poll: %v", err)
	}
	f.clock.Advance(2 * time.Second)
	if _, err := f.svc.PollDevice(f.ctx, da.DeviceCode); !errors.Is(err, ErrSlowDown) {
		t.Fatalf("poll within the interval: %v", err)
	}
	f.clock.Advance(6 * time.Second) // the interval is 10s now
	if _, err := f.svc.PollDevice(f.ctx, da.DeviceCode); !errors.Is(err, ErrSlowDown) {
		t.Fatalf("poll within the grown interval: %v", err)
	}
	f.clock.Advance(15 * time.Second)
	if _, err := f.svc.PollDevice(f.ctx, da.DeviceCode); !errors.Is(err, ErrPending) {
		t.Fatalf("poll after the grown interval: %v", err)
	}

	// A wrong code counts against the user who entered it.
	if err := f.svc.Decide(f.ctx, "BCDF-BCDF", true, Confirmer{User: "bob"}); !errors.Is(err, ErrBadUserCode) {
		t.Fatalf("wrong code: %v", err)
	}
	mfa := f.clock.Now()
	if err := f.svc.Decide(f.ctx, strings.ToLower(da.UserCode), true, Confirmer{User: "alice", Session: "s9", SecondFactorAt: mfa}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Decide(f.ctx, da.UserCode, false, Confirmer{User: "bob"}); !errors.Is(err, ErrBadUserCode) {
		t.Fatalf("a code decided already: %v", err)
	}
	f.clock.Advance(30 * time.Second)
	got, err := f.svc.PollDevice(f.ctx, da.DeviceCode)
	if err != nil {
		t.Fatal(err)
	}
	if got.User != "alice" || got.Login != "device" {
		t.Fatalf("issued %+v", got)
	}
	o, _ := f.tokens.Get(f.ctx, got.ID)
	if spec := o.Spec.(*resource.APITokenSpec); spec.Login != "device" || !spec.SecondFactorAt.Equal(mfa) {
		t.Fatalf("token spec %+v", spec)
	}
	f.clock.Advance(30 * time.Second)
	if _, err := f.svc.PollDevice(f.ctx, da.DeviceCode); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("poll after the token was received: %v", err)
	}
	log := f.auditDetails(t)
	for _, want := range []string{"alice approve alice approved a warden login (device)", "bob refuse bob entered a wrong device login code",
		"alice create token " + got.ID + " acting as alice", "warden login (device)"} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, da.UserCode) || strings.Contains(log, da.DeviceCode) {
		t.Error("the audit log holds a code")
	}
}

func TestDeviceDeniedExpiredAndThrottled(t *testing.T) {
	f := newFixture(t)
	da, _ := f.svc.StartDevice(f.ctx, "http://127.0.0.1:8420")
	if err := f.svc.Decide(f.ctx, da.UserCode, false, Confirmer{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PollDevice(f.ctx, da.DeviceCode); !errors.Is(err, ErrDenied) {
		t.Fatalf("denied: %v", err)
	}
	if _, err := f.svc.PollDevice(f.ctx, da.DeviceCode); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("after denial: %v", err)
	}

	da, _ = f.svc.StartDevice(f.ctx, "http://127.0.0.1:8420")
	f.clock.Advance(DefaultDeviceTTL)
	if _, err := f.svc.PollDevice(f.ctx, da.DeviceCode); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	if err := f.svc.Decide(f.ctx, da.UserCode, true, Confirmer{User: "alice"}); !errors.Is(err, ErrBadUserCode) {
		t.Fatalf("approving an expired code: %v", err)
	}

	// Guessing: after MaxCodeFailures wrong codes, even the right one is refused until the window ends.
	da, _ = f.svc.StartDevice(f.ctx, "http://127.0.0.1:8420")
	for i := 0; i < DefaultMaxCodeFailures-1; i++ { // one failure was counted above
		if err := f.svc.Decide(f.ctx, "ZZZZ-ZZZZ", true, Confirmer{User: "alice"}); !errors.Is(err, ErrBadUserCode) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	err := f.svc.Decide(f.ctx, da.UserCode, true, Confirmer{User: "alice"})
	var e *Error
	if !errors.As(err, &e) || e.Code != "too_many_attempts" || e.Wait <= 0 {
		t.Fatalf("after %d wrong codes: %v", DefaultMaxCodeFailures, err)
	}
	// Another user is not held back by alice's guesses.
	if err := f.svc.Decide(f.ctx, da.UserCode, false, Confirmer{User: "bob"}); err != nil {
		t.Fatalf("bob: %v", err)
	}
	f.clock.Advance(DefaultFailureWindow)
	da, _ = f.svc.StartDevice(f.ctx, "http://127.0.0.1:8420")
	if err := f.svc.Decide(f.ctx, da.UserCode, true, Confirmer{User: "alice"}); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestDevicePendingBounded(t *testing.T) {
	f := newFixture(t)
	f.svc = New(f.st, f.tokens, Config{MaxPendingDevice: 3}, WithClock(f.clock))
	for range 3 {
		if _, err := f.svc.StartDevice(f.ctx, "http://x"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.StartDevice(f.ctx, "http://x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("a fourth: %v", err)
	}
	f.clock.Advance(DefaultDeviceTTL)
	if _, err := f.svc.StartDevice(f.ctx, "http://x"); err != nil {
		t.Fatalf("once the others expired: %v", err)
	}
	objs, _ := f.st.List(f.ctx, resource.KindCLIGrant, store.ListOptions{})
	if len(objs) != 1 {
		t.Fatalf("%d grants kept, want the expired ones swept", len(objs))
	}
}
