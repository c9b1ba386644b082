package passkey_test

import (
	"errors"
	"testing"

	"github.com/wardenhq/warden/internal/auth/passkey"
	"github.com/wardenhq/warden/internal/auth/passkey/passkeytest"
	"github.com/wardenhq/warden/internal/fuzzcheck"
	"github.com/wardenhq/warden/internal/store"
)

// FuzzFinish: whatever a browser posts as its answer to a ceremony (the attestation or assertion
// JSON, with CBOR and COSE inside), finishing refuses it without a panic and within the memory
// bound, or, for a usernameless sign-in, accepts it only as alice's passkey.
func FuzzFinish(f *testing.F) {
	fx := setup(f)
	a := passkeytest.New(origin)
	_, cred := fx.register(f, a, "alice", "f")
	opts, _ := fx.svc.BeginRegistration(fx.ctx, "bob", "seed", "")
	reg, _, _ := passkeytest.New(origin).Create(js(f, opts))
	dopts, _ := fx.svc.BeginDiscover(fx.ctx, "seed")
	asr, _ := a.Assert(cred, "warden.example.com", passkeytest.Challenge(js(f, dopts)), 9)
	f.Add(reg)
	f.Add(asr)
	f.Add([]byte(`{"id":"","rawId":"","type":"public-key","response":{}}`))
	f.Add([]byte(`{"response":{"attestationObject":"oWNmbXRkbm9uZQ","clientDataJSON":"e30"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		svc, err := passkey.New(fx.st, origin, passkey.WithClock(fx.clock), passkey.WithDiscoverLimit(1e6, 1e6))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.BeginRegistration(fx.ctx, "bob", "fz", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.BeginDiscover(fx.ctx, "fz"); err != nil {
			t.Fatal(err)
		}
		var regErr, useErr error
		var use *passkey.Use
		fuzzcheck.Limit(t, func() {
			_, regErr = svc.FinishRegistration(fx.ctx, nil, "bob", "fz", body)
			use, useErr = svc.FinishDiscover(fx.ctx, "fz", body)
		})
		if regErr == nil {
			t.Fatalf("a fuzzed registration was accepted: %q", body)
		}
		if useErr == nil && use.User != "alice" {
			t.Fatalf("a fuzzed assertion signed in %q", use.User)
		}
		for _, err := range []error{regErr, useErr} {
			var re *passkey.RefusedError
			if err != nil && !errors.As(err, &re) && !errors.Is(err, passkey.ErrCeremony) &&
				!errors.Is(err, passkey.ErrCloneWarning) && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("not a refusal: %v", err)
			}
		}
	})
}
