package local_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/auth/local"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

type fixture struct {
	ctx   context.Context
	st    store.Store
	clk   *clock.Fake
	box   *secret.Box
	svc   *local.Service
	admin local.Actor
}

func newFixture(t *testing.T, secondFactor string) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, err := secret.LoadOrCreateBox(filepath.Join(t.TempDir(), "auth.key"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC))
	svc := local.New(st, box, config.Auth{SecondFactor: secondFactor}, local.WithClock(clk))
	m := manage.New(st)
	for _, name := range []string{"alice", "bob"} {
		u := resource.New(resource.KindUser, name)
		if _, err := m.Create(ctx, manage.Actor{User: "warden:admin"}, []*resource.Object{u}); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{ctx: ctx, st: st, clk: clk, box: box, svc: svc, admin: local.Actor{User: "warden:admin"}}
}

const goodPassword = "correct horse battery staple 42"

// enrol runs an invitation to its end with TOTP and returns the TOTP secret and recovery codes.
func (f *fixture) enrol(t *testing.T, user string) ([]byte, []string) {
	t.Helper()
	inv, err := f.svc.Invite(f.ctx, f.admin, user)
	if err != nil {
		t.Fatal(err)
	}
	e, err := f.svc.Enrolment(f.ctx, inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPassword(f.ctx, e, goodPassword, goodPassword); err != nil {
		t.Fatal(err)
	}
	offer, err := f.svc.OfferTOTP(f.ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	sec := secretOf(t, offer.URI)
	done, err := f.svc.ConfirmTOTP(f.ctx, e, code(t, sec, f.clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if len(done.RecoveryCodes) != 10 {
		t.Fatalf("%d recovery codes", len(done.RecoveryCodes))
	}
	return sec, done.RecoveryCodes
}

func TestInviteEnrolSignIn(t *testing.T) {
	f := newFixture(t, "required")
	sec, codes := f.enrol(t, "alice")

	// The credential keeps no secret in clear.
	o, err := f.st.Get(f.ctx, resource.KindCredential, "alice")
	if err != nil {
		t.Fatal(err)
	}
	c := o.Spec.(*resource.CredentialSpec)
	if !strings.HasPrefix(c.PasswordHash, "$argon2id$") || strings.Contains(c.TOTPSecret, b32(sec)) || len(c.RecoveryHashes) != 10 {
		t.Fatalf("credential %+v", c)
	}
	for _, h := range c.RecoveryHashes {
		for _, rc := range codes {
			if strings.Contains(h, rc) {
				t.Fatal("a recovery code kept in clear")
			}
		}
	}
	// The sealed secret is bound to its user.
	if _, err := f.box.Open(c.TOTPSecret, []byte("bobtotp")); err == nil {
		t.Fatal("alice's TOTP secret opens as bob's")
	}

	acct, err := f.svc.CheckPassword(f.ctx, "alice", goodPassword)
	if err != nil || !acct.TOTP || !acct.Recovery {
		t.Fatalf("%+v %v", acct, err)
	}
	for _, bad := range []struct{ user, pw string }{{"alice", "wrong password 123"}, {"nobody", goodPassword}, {"bob", goodPassword}, {"../x", "y"}} {
		if _, err := f.svc.CheckPassword(f.ctx, bad.user, bad.pw); !errors.Is(err, local.ErrWrongCredentials) {
			t.Errorf("%s: %v", bad.user, err)
		}
	}

	// TOTP: the code of the enrolment's step was used there: refused; the next step's passes once.
	if _, err := f.svc.VerifySecondFactor(f.ctx, "alice", code(t, sec, f.clk.Now())); !errors.Is(err, local.ErrWrongCode) {
		t.Fatalf("replayed enrolment code: %v", err)
	}
	f.clk.Advance(30 * time.Second)
	next := code(t, sec, f.clk.Now())
	if kind, err := f.svc.VerifySecondFactor(f.ctx, "alice", next); err != nil || kind != local.FactorTOTP {
		t.Fatalf("%s %v", kind, err)
	}
	if _, err := f.svc.VerifySecondFactor(f.ctx, "alice", next); !errors.Is(err, local.ErrWrongCode) {
		t.Fatalf("replayed code: %v", err)
	}
	// Recovery codes: each once.
	if kind, err := f.svc.VerifySecondFactor(f.ctx, "alice", codes[3]); err != nil || kind != local.FactorRecovery {
		t.Fatalf("%s %v", kind, err)
	}
	if _, err := f.svc.VerifySecondFactor(f.ctx, "alice", codes[3]); !errors.Is(err, local.ErrWrongCode) {
		t.Fatalf("recovery code used twice: %v", err)
	}
	if n, _ := f.svc.RecoveryCodesLeft(f.ctx, "alice"); n != 9 {
		t.Fatalf("%d codes left", n)
	}
}

func TestInvitations(t *testing.T) {
	f := newFixture(t, "required")
	if _, err := f.svc.Invite(f.ctx, f.admin, "nobody"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("invite of an unknown user: %v", err)
	}
	first, err := f.svc.Invite(f.ctx, f.admin, "alice")
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.svc.Invite(f.ctx, f.admin, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Enrolment(f.ctx, first.Token); !errors.Is(err, local.ErrInvalidLink) {
		t.Fatalf("replaced invitation: %v", err)
	}
	// A token of the right id and a wrong secret.
	forged := second.Token[:16] + strings.Repeat("A", 43)
	if _, err := f.svc.Enrolment(f.ctx, forged); !errors.Is(err, local.ErrInvalidLink) {
		t.Fatalf("forged token: %v", err)
	}
	e, err := f.svc.Enrolment(f.ctx, second.Token)
	if err != nil {
		t.Fatal(err)
	}
	var fe *local.FieldError
	if err := f.svc.SetPassword(f.ctx, e, "short", "short"); !errors.As(err, &fe) || fe.Field != "password" {
		t.Fatalf("short password: %v", err)
	}
	if err := f.svc.SetPassword(f.ctx, e, goodPassword, goodPassword+"x"); !errors.As(err, &fe) || fe.Field != "confirm" {
		t.Fatalf("mismatch: %v", err)
	}
	if err := f.svc.SetPassword(f.ctx, e, goodPassword, goodPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Skip(f.ctx, e); !errors.Is(err, local.ErrNoSecondFactor) {
		t.Fatalf("skip when required: %v", err)
	}
	// The link expires.
	f.clk.Advance(24*time.Hour + time.Second)
	if _, err := f.svc.Enrolment(f.ctx, second.Token); !errors.Is(err, local.ErrInvalidLink) {
		t.Fatalf("expired invitation: %v", err)
	}
	// Deleting the user deletes their flows and credential.
	f.enrol(t, "bob")
	if _, err := f.svc.Invite(f.ctx, f.admin, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := manage.New(f.st).Delete(f.ctx, manage.Actor{User: "warden:admin"}, resource.KindUser, "bob", 0); err != nil {
		t.Fatal(err)
	}
	for _, k := range []resource.Kind{resource.KindCredential, resource.KindAuthFlow} {
		left, err := f.st.List(f.ctx, k, store.ListOptions{Filters: store.Filter(resource.IndexUser, "bob")})
		if err != nil || len(left) != 0 {
			t.Fatalf("%s left: %d %v", k, len(left), err)
		}
	}
}

func TestSingleUseAndOptional(t *testing.T) {
	f := newFixture(t, "optional")
	inv, _ := f.svc.Invite(f.ctx, f.admin, "alice")
	e, _ := f.svc.Enrolment(f.ctx, inv.Token)
	if err := f.svc.SetPassword(f.ctx, e, goodPassword, goodPassword); err != nil {
		t.Fatal(err)
	}
	e2, _ := f.svc.Enrolment(f.ctx, inv.Token) // the same link, open twice
	done, err := f.svc.Skip(f.ctx, e)
	if err != nil || len(done.RecoveryCodes) != 0 {
		t.Fatalf("%+v %v", done, err)
	}
	if _, err := f.svc.Skip(f.ctx, e2); !errors.Is(err, local.ErrInvalidLink) {
		t.Fatalf("second completion: %v", err)
	}
	if _, err := f.svc.Enrolment(f.ctx, inv.Token); !errors.Is(err, local.ErrInvalidLink) {
		t.Fatalf("used invitation: %v", err)
	}
	acct, err := f.svc.CheckPassword(f.ctx, "alice", goodPassword)
	if err != nil || acct.HasSecondFactor() {
		t.Fatalf("%+v %v", acct, err)
	}
}

func TestLoginFlows(t *testing.T) {
	f := newFixture(t, "required")
	tok, lf, err := f.svc.StartLogin(f.ctx, "alice", "/x")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Login(f.ctx, tok)
	if err != nil || got.User != "alice" || got.Next != "/x" {
		t.Fatalf("%+v %v", got, err)
	}
	for i := 1; i < local.MaxFlowFailures; i++ {
		if err := f.svc.LoginFailed(f.ctx, lf); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := f.svc.LoginFailed(f.ctx, lf); !errors.Is(err, local.ErrFlowGone) {
		t.Fatalf("after %d failures: %v", local.MaxFlowFailures, err)
	}
	if _, err := f.svc.Login(f.ctx, tok); !errors.Is(err, local.ErrFlowGone) {
		t.Fatal(err)
	}
	// Expiry, and a bounded number per user.
	tok, _, _ = f.svc.StartLogin(f.ctx, "alice", "/")
	f.clk.Advance(local.LoginFlowTTL)
	if _, err := f.svc.Login(f.ctx, tok); !errors.Is(err, local.ErrFlowGone) {
		t.Fatalf("expired flow: %v", err)
	}
	for range 20 {
		f.clk.Advance(time.Second)
		if _, _, err := f.svc.StartLogin(f.ctx, "alice", "/"); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := f.st.List(f.ctx, resource.KindAuthFlow, store.ListOptions{Filters: store.Filter(resource.IndexUser, "alice")})
	if len(n) > 5 {
		t.Fatalf("%d login flows kept", len(n))
	}
}

func TestSweep(t *testing.T) {
	f := newFixture(t, "required")
	if _, err := f.svc.Invite(f.ctx, f.admin, "alice"); err != nil {
		t.Fatal(err)
	}
	live, err := f.svc.Invite(f.ctx, f.admin, "bob")
	if err != nil {
		t.Fatal(err)
	}
	f.svc.StartLogin(f.ctx, "alice", "/")
	if n, err := f.svc.Sweep(f.ctx); err != nil || n != 0 {
		t.Fatalf("nothing expired yet: %d %v", n, err)
	}
	f.clk.Advance(time.Hour)
	if n, err := f.svc.Sweep(f.ctx); err != nil || n != 1 {
		t.Fatalf("the login flow: %d %v", n, err)
	}
	f.clk.Advance(24 * time.Hour)
	if n, err := f.svc.Sweep(f.ctx); err != nil || n != 2 {
		t.Fatalf("the two invitations: %d %v", n, err)
	}
	if _, err := f.svc.Enrolment(f.ctx, live.Token); !errors.Is(err, local.ErrInvalidLink) {
		t.Fatal(err)
	}
	left, _ := f.st.List(f.ctx, resource.KindAuthFlow, store.ListOptions{})
	if len(left) != 0 {
		t.Fatalf("%d flows left", len(left))
	}
}
