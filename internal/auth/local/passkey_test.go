package local_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/wardenhq/warden/internal/auth/local"
	"github.com/wardenhq/warden/internal/auth/passkey"
	"github.com/wardenhq/warden/internal/auth/passkey/passkeytest"
	"github.com/wardenhq/warden/internal/resource"
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
	if _, err := pk.FinishRegistration(f.ctx, nil, "alice", "enrol:"+e.ID, resp); err != nil {
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
