package local_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/auth/local"
	"github.com/wardenhq/warden/internal/auth/passkey"
	"github.com/wardenhq/warden/internal/auth/passkey/passkeytest"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// An enrolment completes with a passkey registered during it: the password and ten recovery codes,
// no TOTP; the link is used up; without a passkey it is refused.
func TestCompleteWithPasskey(t *testing.T) {
	f := newFixture(t, "required")
	inv, err := f.svc.Invite(f.ctx, f.admin, "alice")
	if err != nil {
		t.Fatal(err)
	}
	e, err := f.svc.Enrolment(f.ctx, inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CompleteWithPasskey(f.ctx, e); err == nil {
		t.Fatal("completed before the password")
	}
	if err := f.svc.SetPassword(f.ctx, e, goodPassword, goodPassword); err != nil {
		t.Fatal(err)
	}
	if e, err = f.svc.Enrolment(f.ctx, inv.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CompleteWithPasskey(f.ctx, e); !errors.Is(err, local.ErrNoSecondFactor) {
		t.Fatalf("without a passkey: %v, want ErrNoSecondFactor", err)
	}
	pk, err := passkey.New(f.st, "https://warden.example.com")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := pk.BeginRegistration(f.ctx, "alice", "enrol:"+e.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(opts)
	resp, _, err := passkeytest.New("https://warden.example.com").Create(b)
	if err != nil {
		t.Fatal(err)
	}
	// One registered outside this enrolment does not count.
	if _, err := pk.FinishRegistration(f.ctx, nil, "alice", "enrol:"+e.ID, resp); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CompleteWithPasskey(f.ctx, e); !errors.Is(err, local.ErrNoSecondFactor) {
		t.Fatalf("with a passkey from elsewhere: %v, want ErrNoSecondFactor", err)
	}
	opts, _ = pk.BeginRegistration(f.ctx, "alice", "enrol:"+e.ID, "")
	b, _ = json.Marshal(opts)
	resp, _, _ = passkeytest.New("https://warden.example.com").Create(b)
	if _, err := pk.FinishRegistration(f.ctx, nil, "alice", "enrol:"+e.ID, resp, passkey.DuringEnrolment(e.ID)); err != nil {
		t.Fatal(err)
	}
	done, err := f.svc.CompleteWithPasskey(f.ctx, e)
	if err != nil || len(done.RecoveryCodes) != 10 || done.TOTP || done.User != "alice" {
		t.Fatalf("%+v %v", done, err)
	}
	o, err := f.st.Get(f.ctx, resource.KindCredential, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if c := o.Spec.(*resource.CredentialSpec); c.TOTPSecret != "" || len(c.RecoveryHashes) != 10 || c.PasswordHash == "" {
		t.Fatalf("credential: %+v", c)
	}
	if _, err := f.svc.CheckPassword(f.ctx, "alice", goodPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CompleteWithPasskey(f.ctx, e); !errors.Is(err, local.ErrInvalidLink) {
		t.Fatalf("the link used twice: %v", err)
	}
	if _, err := f.svc.Enrolment(f.ctx, inv.Token); !errors.Is(err, local.ErrInvalidLink) {
		t.Fatalf("the link after completion: %v", err)
	}
}

// A new invitation starts the factors afresh: completing it removes the passkeys not registered
// during it, audited (whether it completes with TOTP or with a new passkey).
func TestReEnrolmentRemovesEarlierPasskeys(t *testing.T) {
	f := newFixture(t, "required")
	pk, err := passkey.New(f.st, "https://warden.example.com")
	if err != nil {
		t.Fatal(err)
	}
	register := func(e *local.Enrolment) {
		t.Helper()
		opts, err := pk.BeginRegistration(f.ctx, "alice", "enrol:"+e.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(opts)
		resp, _, _ := passkeytest.New("https://warden.example.com").Create(b)
		if _, err := pk.FinishRegistration(f.ctx, nil, "alice", "enrol:"+e.ID, resp, passkey.DuringEnrolment(e.ID)); err != nil {
			t.Fatal(err)
		}
	}
	enrolment := func() *local.Enrolment {
		t.Helper()
		inv, err := f.svc.Invite(f.ctx, f.admin, "alice")
		if err != nil {
			t.Fatal(err)
		}
		e, _ := f.svc.Enrolment(f.ctx, inv.Token)
		if err := f.svc.SetPassword(f.ctx, e, goodPassword, goodPassword); err != nil {
			t.Fatal(err)
		}
		e, _ = f.svc.Enrolment(f.ctx, inv.Token)
		return e
	}
	e := enrolment()
	register(e)
	if _, err := f.svc.CompleteWithPasskey(f.ctx, e); err != nil {
		t.Fatal(err)
	}
	first, _ := pk.List(f.ctx, "alice")
	// A reset with a new passkey: the first one goes.
	e = enrolment()
	register(e)
	if _, err := f.svc.CompleteWithPasskey(f.ctx, e); err != nil {
		t.Fatal(err)
	}
	second, _ := pk.List(f.ctx, "alice")
	if len(first) != 1 || len(second) != 1 || second[0].Metadata.Name == first[0].Metadata.Name {
		t.Fatalf("after the second enrolment: %v (first %v)", second, first)
	}
	// A reset with TOTP: no passkey left.
	f.enrol(t, "alice")
	if left, _ := pk.List(f.ctx, "alice"); len(left) != 0 {
		t.Fatalf("passkeys left after a TOTP re-enrolment: %v", left)
	}
	removed := 0
	entries, _ := f.st.List(f.ctx, resource.KindAuditEntry, store.ListOptions{})
	for _, en := range entries {
		if a := en.Spec.(*resource.AuditEntrySpec); a.Action == "passkey.remove" && strings.Contains(a.Detail, "new enrolment") {
			removed++
		}
	}
	if removed != 2 {
		t.Errorf("%d removals audited, want 2", removed)
	}
}
