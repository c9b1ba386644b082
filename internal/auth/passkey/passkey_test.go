package passkey_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/auth/passkey"
	"github.com/wardenhq/warden/internal/auth/passkey/passkeytest"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

const origin = "https://warden.example.com"

type fixture struct {
	ctx   context.Context
	st    store.Store
	clock *clock.Fake
	svc   *passkey.Service
}

func setup(t testing.TB) *fixture {
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
	fc := clock.NewFake(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	svc, err := passkey.New(st, origin+"/", passkey.WithClock(fc))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{ctx: ctx, st: st, clock: fc, svc: svc}
}

func js(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// register makes a passkey for user on a, bound to binding.
func (f *fixture) register(t testing.TB, a *passkeytest.Authenticator, user, binding string) (*resource.Object, *passkeytest.Credential) {
	t.Helper()
	opts, err := f.svc.BeginRegistration(f.ctx, user, binding, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	resp, cred, err := a.Create(js(t, opts))
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.svc.FinishRegistration(f.ctx, nil, user, binding, resp)
	if err != nil {
		t.Fatalf("finish registration: %v", err)
	}
	return o, cred
}

func (f *fixture) login(t *testing.T, a *passkeytest.Authenticator, user, binding string) (*passkey.Use, error) {
	t.Helper()
	opts, err := f.svc.BeginLogin(f.ctx, user, binding)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Get(js(t, opts), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f.svc.FinishLogin(f.ctx, user, binding, resp)
}

func (f *fixture) auditActions(t *testing.T) []string {
	t.Helper()
	entries, err := f.st.List(f.ctx, resource.KindAuditEntry, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if s := e.Spec.(*resource.AuditEntrySpec); strings.HasPrefix(s.Action, "passkey.") {
			out = append(out, s.Action+" "+s.Actor)
		}
	}
	return out
}

func TestRelyingParty(t *testing.T) {
	for _, c := range []struct{ base, rpID, origin string }{
		{"https://warden.example.com", "warden.example.com", "https://warden.example.com"},
		{"https://Warden.Example.com:8443/warden/", "warden.example.com", "https://warden.example.com:8443"},
		{"http://localhost:8080", "localhost", "http://localhost:8080"},
	} {
		rpID, o, err := passkey.RelyingParty(c.base)
		if err != nil || rpID != c.rpID || o != c.origin {
			t.Errorf("%s: %q %q %v, want %q %q", c.base, rpID, o, err, c.rpID, c.origin)
		}
	}
	for _, bad := range []string{"http://127.0.0.1:8080", "http://[::1]:8080", "http://:8080", "ftp://x", ""} {
		if _, _, err := passkey.RelyingParty(bad); !errors.Is(err, passkey.ErrUnavailable) {
			t.Errorf("%q: %v, want ErrUnavailable", bad, err)
		}
	}
}

func TestRegisterAndLogin(t *testing.T) {
	for _, format := range []string{"none", "packed"} {
		t.Run(format, func(t *testing.T) {
			f := setup(t)
			a := passkeytest.New(origin)
			a.Format = format
			o, cred := f.register(t, a, "alice", "flow:1")
			spec := o.Spec.(*resource.PasskeySpec)
			if o.Metadata.Name != passkey.Name("alice", cred.ID) || spec.User != "alice" || spec.Label != "laptop" ||
				!spec.UserVerified || spec.AAGUID != "adce0002-0102-0304-0506-0708090a0b0c" || spec.Transports[0] != "internal" ||
				!spec.Created.Equal(f.clock.Now()) {
				t.Fatalf("stored passkey: %s %+v", o.Metadata.Name, spec)
			}
			if format == "packed" && spec.AttestationFormat != "packed" {
				t.Errorf("attestation format %q", spec.AttestationFormat)
			}
			f.clock.Advance(time.Minute)
			use, err := f.login(t, a, "alice", "session:s1")
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			got := use.Passkey.Spec.(*resource.PasskeySpec)
			if use.User != "alice" || !use.UserVerified || got.SignCount != 1 || !got.LastUsed.Equal(f.clock.Now()) {
				t.Fatalf("use: %+v %+v", use, got)
			}
			if _, err := f.login(t, a, "alice", "session:s1"); err != nil {
				t.Fatalf("second login: %v", err)
			}
			if acts := f.auditActions(t); strings.Join(acts, ",") != "passkey.register alice,passkey.use alice,passkey.use alice" {
				t.Errorf("audit: %v", acts)
			}
		})
	}
}

func TestRegistrationExcludesExisting(t *testing.T) {
	f := setup(t)
	a := passkeytest.New(origin)
	f.register(t, a, "alice", "flow:1")
	opts, err := f.svc.BeginRegistration(f.ctx, "alice", "flow:1", "")
	if err != nil {
		t.Fatal(err)
	}
	b := js(t, opts)
	if !strings.Contains(string(b), `"excludeCredentials"`) || !strings.Contains(string(b), `"residentKey":"preferred"`) ||
		!strings.Contains(string(b), `"userVerification":"preferred"`) {
		t.Fatalf("creation options: %s", b)
	}
	if _, _, err := a.Create(b); err == nil {
		t.Fatal("the authenticator registered a second credential despite the exclude list")
	}
	// The same user handle across the user's passkeys.
	var o struct {
		PublicKey struct {
			User struct{ ID string } `json:"user"`
		} `json:"publicKey"`
	}
	json.Unmarshal(b, &o)
	list, _ := f.svc.List(f.ctx, "alice")
	if o.PublicKey.User.ID != list[0].Spec.(*resource.PasskeySpec).UserHandle {
		t.Errorf("user handle changed: %s vs %s", o.PublicKey.User.ID, list[0].Spec.(*resource.PasskeySpec).UserHandle)
	}
	// A second authenticator registers.
	f.register(t, passkeytest.New(origin), "alice", "flow:1")
	if list, _ := f.svc.List(f.ctx, "alice"); len(list) != 2 {
		t.Fatalf("%d passkeys", len(list))
	}
}

func TestCloneWarning(t *testing.T) {
	f := setup(t)
	a := passkeytest.New(origin)
	o, cred := f.register(t, a, "alice", "flow:1")
	for i := 0; i < 3; i++ {
		if _, err := f.login(t, a, "alice", "s"); err != nil {
			t.Fatal(err)
		}
	}
	// A copy of the key answers with a counter it had earlier: not above the stored 3.
	opts, err := f.svc.BeginLogin(f.ctx, "alice", "s")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Assert(cred, "warden.example.com", passkeytest.Challenge(js(t, opts)), 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FinishLogin(f.ctx, "alice", "s", resp); !errors.Is(err, passkey.ErrCloneWarning) {
		t.Fatalf("counter not increased: %v, want ErrCloneWarning", err)
	}
	got, err := f.st.Get(f.ctx, resource.KindPasskey, o.Metadata.Name)
	if err != nil {
		t.Fatal(err)
	}
	if spec := got.Spec.(*resource.PasskeySpec); !spec.CloneWarning || spec.CloneWarningAt.IsZero() || spec.SignCount != 3 {
		t.Fatalf("after the regression: %+v", spec)
	}
	if acts := f.auditActions(t); acts[len(acts)-1] != "passkey.clone_warning alice" {
		t.Errorf("audit: %v", acts)
	}
	// Refused from then on, even with a counter above: the user has no usable passkey.
	if _, err := f.svc.BeginLogin(f.ctx, "alice", "s"); !errors.Is(err, passkey.ErrNoPasskey) {
		t.Fatalf("begin after the clone warning: %v, want ErrNoPasskey", err)
	}
	// A discoverable sign-in with it is refused too.
	dopts, err := f.svc.BeginDiscover(f.ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = a.Assert(cred, "warden.example.com", passkeytest.Challenge(js(t, dopts)), 100)
	if _, err := f.svc.FinishDiscover(f.ctx, "d", resp); !errors.Is(err, passkey.ErrCloneWarning) {
		t.Fatalf("discover with a cloned passkey: %v", err)
	}
	// Removing it lets the user register the authenticator again.
	if _, err := f.svc.Remove(f.ctx, nil, "alice", o.Metadata.Name); err != nil {
		t.Fatal(err)
	}
	a.Creds = nil
	f.register(t, a, "alice", "flow:1")
}

func TestZeroCounters(t *testing.T) {
	f := setup(t)
	a := passkeytest.New(origin)
	a.NoCounter, a.Backup = true, true
	f.register(t, a, "alice", "f")
	for i := 0; i < 2; i++ {
		use, err := f.login(t, a, "alice", "s")
		if err != nil {
			t.Fatalf("login %d with a counterless passkey: %v", i, err)
		}
		if spec := use.Passkey.Spec.(*resource.PasskeySpec); spec.SignCount != 0 || spec.CloneWarning || !spec.BackupEligible {
			t.Fatalf("%+v", spec)
		}
	}
}

func TestAnotherUsersPasskeyRefused(t *testing.T) {
	f := setup(t)
	alices := passkeytest.New(origin)
	bobs := passkeytest.New(origin)
	f.register(t, alices, "alice", "fa")
	_, bobCred := f.register(t, bobs, "bob", "fb")
	// Alice's password step passed; her second factor is Bob's passkey.
	opts, err := f.svc.BeginLogin(f.ctx, "alice", "s")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := bobs.Assert(bobCred, "warden.example.com", passkeytest.Challenge(js(t, opts)), 7)
	if err != nil {
		t.Fatal(err)
	}
	var re *passkey.RefusedError
	if _, err := f.svc.FinishLogin(f.ctx, "alice", "s", resp); !errors.As(err, &re) {
		t.Fatalf("bob's passkey for alice: %v, want refused", err)
	} else {
		t.Logf("bob's passkey for alice: %v", err)
	}
	// Bob's passkey kept its counter.
	list, _ := f.svc.List(f.ctx, "bob")
	if c := list[0].Spec.(*resource.PasskeySpec).SignCount; c != 0 {
		t.Errorf("bob's counter moved to %d", c)
	}
	// And the user handle of a discoverable answer must be the credential's.
	dopts, _ := f.svc.BeginDiscover(f.ctx, "d")
	bobCred.UserHandle = []byte("alice's handle, claimed")
	resp, _ = bobs.Assert(bobCred, "warden.example.com", passkeytest.Challenge(js(t, dopts)), 8)
	if _, err := f.svc.FinishDiscover(f.ctx, "d", resp); !errors.As(err, &re) {
		t.Fatalf("a user handle not the credential's: %v, want refused", err)
	} else {
		t.Logf("a user handle not the credential's: %v", err)
	}
	// Bob cannot remove Alice's passkey by naming it.
	alist, _ := f.svc.List(f.ctx, "alice")
	if _, err := f.svc.Remove(f.ctx, nil, "bob", alist[0].Metadata.Name); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob removing alice's passkey: %v", err)
	}
}

func TestCeremonyUsedOnceBoundAndExpiring(t *testing.T) {
	f := setup(t)
	a := passkeytest.New(origin)
	f.register(t, a, "alice", "f")

	// Replay: the same answer twice.
	opts, _ := f.svc.BeginLogin(f.ctx, "alice", "s")
	resp, err := a.Get(js(t, opts), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FinishLogin(f.ctx, "alice", "s", resp); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FinishLogin(f.ctx, "alice", "s", resp); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("replayed answer: %v, want ErrCeremony", err)
	}
	// An old challenge answered in a new ceremony: the signature covers the old challenge.
	opts2, _ := f.svc.BeginLogin(f.ctx, "alice", "s")
	_ = opts2
	old, _ := a.Assert(a.Creds[0], "warden.example.com", passkeytest.Challenge(js(t, opts)), 50)
	var re *passkey.RefusedError
	if _, err := f.svc.FinishLogin(f.ctx, "alice", "s", old); !errors.As(err, &re) {
		t.Fatalf("an old challenge: %v, want refused", err)
	} else {
		t.Logf("an old challenge: %v", err)
	}
	// A failed attempt used the ceremony up.
	fresh, _ := a.Assert(a.Creds[0], "warden.example.com", passkeytest.Challenge(js(t, opts2)), 51)
	if _, err := f.svc.FinishLogin(f.ctx, "alice", "s", fresh); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("after a failed attempt: %v, want ErrCeremony", err)
	}

	// Bound to the browser: another binding finds nothing.
	opts, _ = f.svc.BeginLogin(f.ctx, "alice", "s")
	resp, _ = a.Get(js(t, opts), nil)
	if _, err := f.svc.FinishLogin(f.ctx, "alice", "other", resp); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("another binding: %v, want ErrCeremony", err)
	}
	// ... nor another user on the same binding.
	opts, _ = f.svc.BeginLogin(f.ctx, "alice", "s")
	resp, _ = a.Get(js(t, opts), nil)
	if _, err := f.svc.FinishLogin(f.ctx, "bob", "s", resp); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("another user: %v, want ErrCeremony", err)
	}

	// Expired: five minutes.
	opts, _ = f.svc.BeginLogin(f.ctx, "alice", "s")
	resp, _ = a.Get(js(t, opts), nil)
	f.clock.Advance(passkey.CeremonyTTL)
	if _, err := f.svc.FinishLogin(f.ctx, "alice", "s", resp); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("expired ceremony: %v, want ErrCeremony", err)
	}
	// Just within: accepted.
	opts, _ = f.svc.BeginLogin(f.ctx, "alice", "s")
	resp, _ = a.Get(js(t, opts), nil)
	f.clock.Advance(passkey.CeremonyTTL - time.Second)
	if _, err := f.svc.FinishLogin(f.ctx, "alice", "s", resp); err != nil {
		t.Fatalf("within five minutes: %v", err)
	}

	// A registration answer replayed.
	ropts, _ := f.svc.BeginRegistration(f.ctx, "alice", "f", "")
	b := passkeytest.New(origin)
	rresp, _, _ := b.Create(js(t, ropts))
	if _, err := f.svc.FinishRegistration(f.ctx, nil, "alice", "f", rresp); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FinishRegistration(f.ctx, nil, "alice", "f", rresp); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("replayed registration: %v", err)
	}
	// Abandoned ceremonies are swept once expired.
	for i := 0; i < 3; i++ {
		f.svc.BeginDiscover(f.ctx, "abandoned"+string(rune('a'+i)))
	}
	f.clock.Advance(time.Hour)
	f.svc.BeginDiscover(f.ctx, "new")
	left, _ := f.st.List(f.ctx, resource.KindPasskeyCeremony, store.ListOptions{})
	if len(left) != 1 {
		t.Errorf("%d ceremonies left after the sweep, want 1", len(left))
	}
}

func TestWrongOriginRefused(t *testing.T) {
	f := setup(t)
	evil := passkeytest.New("https://warden.example.com.evil.test")
	opts, _ := f.svc.BeginRegistration(f.ctx, "alice", "f", "")
	resp, _, _ := evil.Create(js(t, opts))
	var re *passkey.RefusedError
	if _, err := f.svc.FinishRegistration(f.ctx, nil, "alice", "f", resp); !errors.As(err, &re) {
		t.Fatalf("another origin: %v, want refused", err)
	} else {
		t.Logf("another origin: %v", err)
	}
	if list, _ := f.svc.List(f.ctx, "alice"); len(list) != 0 {
		t.Fatal("stored")
	}
}

func TestUsernameless(t *testing.T) {
	f := setup(t)
	a := passkeytest.New(origin)
	f.register(t, a, "bob", "f")
	opts, err := f.svc.BeginDiscover(f.ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	b := js(t, opts)
	if !strings.Contains(string(b), `"userVerification":"required"`) || strings.Contains(string(b), "allowCredentials") {
		t.Fatalf("discover options: %s", b)
	}
	resp, err := a.Get(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	use, err := f.svc.FinishDiscover(f.ctx, "d", resp)
	if err != nil || use.User != "bob" || !use.UserVerified {
		t.Fatalf("discover: %+v %v", use, err)
	}
	// Without user verification: refused (it would be one factor only).
	a.UV = false
	opts, _ = f.svc.BeginDiscover(f.ctx, "d")
	resp, _ = a.Get(js(t, opts), nil)
	var re *passkey.RefusedError
	if _, err := f.svc.FinishDiscover(f.ctx, "d", resp); !errors.As(err, &re) {
		t.Fatalf("discover without UV: %v, want refused", err)
	} else {
		t.Logf("discover without UV: %v", err)
	}
	// An unknown credential.
	stranger := passkeytest.New(origin)
	sopts, _ := f.svc.BeginRegistration(f.ctx, "alice", "x", "")
	stranger.Create(js(t, sopts)) // never finished: not stored
	opts, _ = f.svc.BeginDiscover(f.ctx, "d")
	resp, _ = stranger.Get(js(t, opts), nil)
	if _, err := f.svc.FinishDiscover(f.ctx, "d", resp); !errors.As(err, &re) {
		t.Fatalf("unknown credential: %v, want refused", err)
	}
}

func TestRemoveAndBounds(t *testing.T) {
	f := setup(t)
	a := passkeytest.New(origin)
	o, _ := f.register(t, a, "alice", "f")
	if _, err := f.svc.Remove(f.ctx, nil, "alice", o.Metadata.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Remove(f.ctx, nil, "alice", o.Metadata.Name); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removed twice: %v", err)
	}
	if acts := f.auditActions(t); acts[len(acts)-1] != "passkey.remove alice" {
		t.Errorf("audit: %v", acts)
	}
	if _, err := f.svc.BeginLogin(f.ctx, "alice", "s"); !errors.Is(err, passkey.ErrNoPasskey) {
		t.Fatalf("no passkey: %v", err)
	}
	if _, err := f.svc.BeginRegistration(f.ctx, "alice", "f", strings.Repeat("x", 65)); resource.First(err) == nil || resource.First(err).Field != "label" {
		t.Fatalf("long label: %v", err)
	}
	if _, err := f.svc.BeginRegistration(f.ctx, "nobody", "f", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	opts, _ := f.svc.BeginRegistration(f.ctx, "alice", "f", "")
	resp, _, _ := a.Create(js(t, opts))
	big := append(resp[:len(resp)-1:len(resp)-1], []byte(`,"pad":"`+strings.Repeat("A", passkey.MaxResponse)+`"}`)...)
	var re *passkey.RefusedError
	if _, err := f.svc.FinishRegistration(f.ctx, nil, "alice", "f", big); !errors.As(err, &re) {
		t.Fatalf("oversized answer: %v", err)
	}
}

func TestDeletingTheUserDeletesTheirPasskeys(t *testing.T) {
	f := setup(t)
	f.register(t, passkeytest.New(origin), "alice", "f")
	f.register(t, passkeytest.New(origin), "bob", "g")
	if _, err := manage.New(f.st).Delete(f.ctx, manage.Actor{User: "root", Admin: true}, resource.KindUser, "alice", 0); err != nil {
		t.Fatal(err)
	}
	if list, _ := f.svc.List(f.ctx, "alice"); len(list) != 0 {
		t.Fatalf("alice's passkeys outlived her: %d", len(list))
	}
	if list, _ := f.svc.List(f.ctx, "bob"); len(list) != 1 {
		t.Fatalf("bob's passkeys: %d", len(list))
	}
}

// Anyone may begin a usernameless sign-in, and each is kept until used or expired: their rate is
// bounded.
func TestDiscoverBounded(t *testing.T) {
	f := setup(t)
	svc, err := passkey.New(f.st, origin, passkey.WithClock(f.clock), passkey.WithDiscoverLimit(0, 3))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := svc.BeginDiscover(f.ctx, fmt.Sprint("browser", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.BeginDiscover(f.ctx, "browser3"); !errors.Is(err, passkey.ErrBusy) {
		t.Fatalf("past the burst: %v, want ErrBusy", err)
	}
}

// Two answers with the same counter at once (a copy of the key used alongside the original): the
// counter is compared in the transaction that stores it, so exactly one passes and the other marks
// the clone warning.
func TestSameCounterAtOnce(t *testing.T) {
	f := setup(t)
	a := passkeytest.New(origin)
	_, cred := f.register(t, a, "alice", "f")
	var resps [2][]byte
	for i := range resps {
		opts, err := f.svc.BeginLogin(f.ctx, "alice", fmt.Sprint("tab", i))
		if err != nil {
			t.Fatal(err)
		}
		if resps[i], err = a.Assert(cred, "warden.example.com", passkeytest.Challenge(js(t, opts)), 5); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 2)
	for i := range resps {
		go func() {
			_, err := f.svc.FinishLogin(f.ctx, "alice", fmt.Sprint("tab", i), resps[i])
			errs <- err
		}()
	}
	var ok, clone int
	for range resps {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, passkey.ErrCloneWarning):
			clone++
		default:
			t.Fatal(err)
		}
	}
	if ok != 1 || clone != 1 {
		t.Fatalf("%d passed, %d clone warnings; want one each", ok, clone)
	}
}
