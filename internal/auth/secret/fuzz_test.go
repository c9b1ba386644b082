package secret

import (
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/fuzzcheck"
)

// FuzzParsePHC: VerifyPassword's parser never panics, allocates within bounds, and what it
// accepts is canonical (it prints back to the same string) and within the parameters' bounds.
func FuzzParsePHC(f *testing.F) {
	f.Add(dummyHash)
	f.Add("$argon2id$v=19$m=1024,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=65536,t=3,p=2$$")
	f.Add("$argon2i$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Fuzz(func(t *testing.T, s string) {
		var p phc
		var err error
		fuzzcheck.Limit(t, func() { p, err = parsePHC(s) })
		if err != nil {
			return
		}
		if p.String() != s {
			t.Fatalf("accepted %q, which prints as %q", s, p.String())
		}
		if p.memory > maxMemory || p.time > maxTime || p.threads > maxThreads || p.threads == 0 ||
			len(p.salt) > maxSaltLen || len(p.key) > maxKeyLen {
			t.Fatalf("accepted %q out of bounds: %+v", s, p)
		}
		if p.memory <= 1024 && p.time <= 2 { // cheap enough to run: the whole of VerifyPassword
			ok, _, err := VerifyPassword(s, "password")
			if err != nil || ok != (string(argonKey("password", p)) == string(p.key)) {
				t.Fatalf("VerifyPassword(%q) = %v, %v", s, ok, err)
			}
		}
	})
}

// FuzzUseRecoveryCode: for any input, a code is accepted only if it normalises to one of the
// codes issued, and then exactly that one is removed.
func FuzzUseRecoveryCode(f *testing.F) {
	codes, hashes := NewRecoveryCodes()
	f.Add(codes[0])
	f.Add(strings.ToUpper(codes[9]))
	f.Add(strings.ReplaceAll(codes[4], "-", " "))
	f.Add("")
	f.Add("aaaa-aaaa-aaaa-aaaa")
	f.Fuzz(func(t *testing.T, code string) {
		var rest []string
		var ok bool
		fuzzcheck.Limit(t, func() { rest, ok = UseRecoveryCode(hashes, code) })
		norm := normaliseRecovery(code)
		want := -1
		if len(code) <= maxRecoveryInput {
			for i, c := range codes {
				if norm == strings.ReplaceAll(c, "-", "") {
					want = i
				}
			}
		}
		if ok != (want >= 0) {
			t.Fatalf("UseRecoveryCode(%q) = %v; issued index %d", code, ok, want)
		}
		if !ok {
			if len(rest) != len(hashes) {
				t.Fatalf("refused %q but rest has %d", code, len(rest))
			}
			return
		}
		if len(rest) != len(hashes)-1 {
			t.Fatalf("%d left", len(rest))
		}
		for _, h := range rest {
			if h == hashes[want] {
				t.Fatal("the used hash is kept")
			}
		}
	})
}

// FuzzBoxOpen: Open never panics on any text and opens only what was sealed.
func FuzzBoxOpen(f *testing.F) {
	b, err := newBox(make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b.Seal([]byte("seed"), []byte("a")))
	f.Add("v1.")
	f.Add("v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		fuzzcheck.Limit(t, func() {
			if got, err := b.Open(s, []byte("b")); err == nil {
				t.Fatalf("opened %q under another aad: %q", s, got)
			}
		})
	})
}
