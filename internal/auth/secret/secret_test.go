package secret

import (
	"bytes"
	"encoding/hex"
	"errors"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestHashAndVerifyPassword(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash %q does not state today's parameters", h)
	}
	p, err := parsePHC(h)
	if err != nil || len(p.salt) != 16 || len(p.key) != 32 {
		t.Fatalf("parse %q: %+v %v", h, p, err)
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	ok, rehash, err := VerifyPassword(h, "correct horse battery staple")
	if !ok || rehash || err != nil {
		t.Fatalf("right password: ok %v rehash %v err %v", ok, rehash, err)
	}
	ok, _, err = VerifyPassword(h, "correct horse battery stapl")
	if ok || err != nil {
		t.Fatalf("wrong password: ok %v err %v", ok, err)
	}
	if ok, _, _ := VerifyPassword(h, strings.Repeat("a", MaxPasswordBytes+1)); ok {
		t.Fatal("a password over the bound matched")
	}
	if _, err := HashPassword(strings.Repeat("a", MaxPasswordBytes+1)); err == nil {
		t.Fatal("hashed a password over the bound")
	}
}

// However many sign-ins arrive at once, at most cap(hashSlots) argon2id computations (64 MiB each)
// run together.
func TestHashesAreBounded(t *testing.T) {
	h, _ := HashPassword("correct horse battery staple")
	hashingPeak.Store(0)
	var wg sync.WaitGroup
	for range 3 * cap(hashSlots) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			VerifyPassword(h, "wrong horse battery staple")
		}()
	}
	wg.Wait()
	if peak := hashingPeak.Load(); peak < 1 || int(peak) > cap(hashSlots) {
		t.Fatalf("%d hashes ran at once; at most %d may", peak, cap(hashSlots))
	}
}

// A hash made with other (here cheaper) parameters verifies and asks to be rehashed.
func TestVerifyOldParametersSaysRehash(t *testing.T) {
	p := phc{memory: 1024, time: 1, threads: 1, salt: []byte("0123456789abcdef")}
	p.key = make([]byte, 32)
	p.key = argonKey("hunter2hunter2", p)
	ok, rehash, err := VerifyPassword(p.String(), "hunter2hunter2")
	if !ok || !rehash || err != nil {
		t.Fatalf("ok %v rehash %v err %v", ok, rehash, err)
	}
}

func TestParsePHCRefuses(t *testing.T) {
	good := "$argon2id$v=19$m=65536,t=3,p=2$ekPQ5/OHBkdiVdr3rbH1hA$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4"
	if _, err := parsePHC(good); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"",
		"$argon2i$v=19$m=65536,t=3,p=2$ekPQ5/OHBkdiVdr3rbH1hA$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4",
		"$argon2id$v=16$m=65536,t=3,p=2$ekPQ5/OHBkdiVdr3rbH1hA$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4",
		"$argon2id$v=19$t=3,m=65536,p=2$ekPQ5/OHBkdiVdr3rbH1hA$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4",
		"$argon2id$v=19$m=4194304,t=3,p=2$ekPQ5/OHBkdiVdr3rbH1hA$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4", // 4 GiB
		"$argon2id$v=19$m=65536,t=1000,p=2$ekPQ5/OHBkdiVdr3rbH1hA$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4",
		"$argon2id$v=19$m=65536,t=3,p=0$ekPQ5/OHBkdiVdr3rbH1hA$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4",
		"$argon2id$v=19$m=65536,t=3,p=256$ekPQ5/OHBkdiVdr3rbH1hA$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4",
		"$argon2id$v=19$m=065536,t=3,p=2$ekPQ5/OHBkdiVdr3rbH1hA$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4",
		"$argon2id$v=19$m=65536,t=3,p=2$ekPQ5/OHBkdiVdr3rbH1hA==$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4",
		"$argon2id$v=19$m=65536,t=3,p=2$ekPQ$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4",
		"$argon2id$v=19$m=65536,t=3,p=2$ekPQ5/OHBkdiVdr3rbH1hA$FHsM",
		"$argon2id$v=19$m=65536,t=3,p=2$ekPQ5/OHBkdiVdr3rbH1hA$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4$",
		good + strings.Repeat("A", 300),
		"$argon2id$v=19$m=65536,t=3,p=2$ekPQ5/OHBkdiVdr3\rrbH1hA$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4", // found by FuzzParsePHC
		"$argon2id$v=19$m=65536,t=3,p=2$ekPQ5/OHBkdiVdr3rbH1hA$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4\n",
	} {
		if p, err := parsePHC(bad); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("parsePHC(%q) = %+v, %v; want ErrMalformedHash", bad, p, err)
		}
		if ok, _, err := VerifyPassword(bad, "whatever"); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v", bad, ok, err)
		}
	}
}

// The hash VerifyNoUser checks against is at today's parameters, so an unknown account costs what
// a known one does.
func TestDummyHashIsTodays(t *testing.T) {
	p, err := parsePHC(dummyHash)
	if err != nil {
		t.Fatal(err)
	}
	if p.outdated() {
		t.Fatalf("dummyHash %q is not at today's parameters: regenerate it with HashPassword", dummyHash)
	}
	VerifyNoUser("anything at all")
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct{ pw, user, want string }{
		{"short", "alice", "at least 12 characters"},
		{"ébène-ébène", "alice", "at least 12 characters"}, // 11 runes, 15 bytes
		{strings.Repeat("x", MaxPasswordBytes+1), "alice", "at most 1024 bytes"},
		{"ALICE-in-wonderland", "alice", "must not contain your user name"},
		{"my name is Alice.Smith ok", "alice.smith", "must not contain your user name"},
		{"qwerty123456", "alice", "among the 10,000 most common"},
		{"QwErTy123456", "alice", "among the 10,000 most common"},
		{"1qaz2wsx3edc", "alice", "among the 10,000 most common"},
		{"\xff\xfe broken bytes here", "alice", "not valid UTF-8"},
		{"correct horse battery staple", "alice", ""},
		{"ébène-ébène!", "alice", ""}, // 12 runes
		{strings.Repeat("x", MaxPasswordBytes), "alice", ""},
	} {
		err := CheckPassword(tc.pw, tc.user)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckPassword(%.20q, %q) = %v; want nil", tc.pw, tc.user, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckPassword(%.20q, %q) = %v; want %q", tc.pw, tc.user, err, tc.want)
		}
	}
}

func TestCommonListIsWhole(t *testing.T) {
	set := common()
	if len(set) < 9900 || len(set) > 10000 {
		t.Fatalf("%d common passwords", len(set))
	}
	for _, w := range []string{"password", "123456", "qwerty", "iloveyou", "trustno1"} {
		if _, ok := set[w]; !ok {
			t.Errorf("%q is not in the list", w)
		}
	}
}

// RFC 6238 appendix B, SHA-1 (8 digits; the 6-digit code is the last six of each), secret
// "12345678901234567890".
var rfc6238 = []struct {
	unix int64
	code string
}{
	{59, "94287082"},
	{1111111109, "07081804"},
	{1111111111, "14050471"},
	{1234567890, "89005924"},
	{2000000000, "69279037"},
	{20000000000, "65353130"},
}

func TestTOTPRFC6238Vectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, v := range rfc6238 {
		step := v.unix / 30
		if got := hotp(secret, uint64(step), 8); got != v.code {
			t.Errorf("T=%d: %s, want %s", v.unix, got, v.code)
		}
		now := time.Unix(v.unix, 0)
		got, ok := VerifyTOTP(secret, v.code[2:], now, 0)
		if !ok || got != step {
			t.Errorf("VerifyTOTP at T=%d of %s = %d, %v; want %d, true", v.unix, v.code[2:], got, ok, step)
		}
	}
	// RFC 4226 appendix D: HOTP of counters 0 and 9.
	if hotp(secret, 0, 6) != "755224" || hotp(secret, 9, 6) != "520489" {
		t.Error("RFC 4226 vectors")
	}
}

func TestVerifyTOTPWindowAndReplay(t *testing.T) {
	secret := NewTOTPSecret()
	if len(secret) != 20 {
		t.Fatalf("secret of %d bytes", len(secret))
	}
	now := time.Unix(1_800_000_000, 0)
	cur := now.Unix() / 30
	code := func(s int64) string { return hotp(secret, uint64(s), 6) }
	for _, d := range []int64{-1, 0, 1} {
		if s, ok := VerifyTOTP(secret, code(cur+d), now, 0); !ok || s != cur+d {
			t.Errorf("step %+d: %d, %v", d, s, ok)
		}
	}
	for _, d := range []int64{-3, -2, 2, 3} {
		if c := code(cur + d); c != code(cur-1) && c != code(cur) && c != code(cur+1) {
			if _, ok := VerifyTOTP(secret, c, now, 0); ok {
				t.Errorf("step %+d accepted", d)
			}
		}
	}
	// Used once, never again; nor an older one after a newer.
	s, ok := VerifyTOTP(secret, code(cur), now, 0)
	if !ok {
		t.Fatal("current code refused")
	}
	if _, ok := VerifyTOTP(secret, code(cur), now, s); ok {
		t.Fatal("a used code was accepted twice")
	}
	if _, ok := VerifyTOTP(secret, code(cur-1), now, s); ok {
		t.Fatal("an older code was accepted after a newer one")
	}
	if s2, ok := VerifyTOTP(secret, code(cur+1), now, s); !ok || s2 != cur+1 {
		t.Fatal("the next code was refused after the current one")
	}
	// Spaces are ignored; anything else is refused.
	c := code(cur)
	if _, ok := VerifyTOTP(secret, c[:3]+" "+c[3:], now, 0); !ok {
		t.Error("a code with a space was refused")
	}
	for _, bad := range []string{"", c[:5], c + "0", "12345a", "١٢٣٤٥٦", strings.Repeat(" ", 40) + c, "+" + c[1:]} {
		if _, ok := VerifyTOTP(secret, bad, now, 0); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestTOTPURIAndQRCode(t *testing.T) {
	secret := []byte("12345678901234567890")
	uri := TOTPURI("Warden Example", "alice@example.com", secret)
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Warden Example:alice@example.com" {
		t.Errorf("uri %q: scheme %q host %q path %q", uri, u.Scheme, u.Host, u.Path)
	}
	q := u.Query()
	if q.Get("secret") != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" || q.Get("issuer") != "Warden Example" ||
		q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Errorf("uri %q: query %v", uri, q)
	}
	if strings.Contains(uri, "+") {
		t.Errorf("uri %q encodes a space as +", uri)
	}
	img, err := TOTPQRCode(uri)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if _, err := TOTPQRCode(strings.Repeat("a", 5000)); err == nil {
		t.Error("rendered an unbounded URI")
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, hashes := NewRecoveryCodes()
	if len(codes) != 10 || len(hashes) != 10 {
		t.Fatalf("%d codes, %d hashes", len(codes), len(hashes))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 19 || c[4] != '-' || c[9] != '-' || c[14] != '-' || seen[c] {
			t.Errorf("code %q", c)
		}
		seen[c] = true
		if strings.Contains(hashes[i], strings.ReplaceAll(c, "-", "")) {
			t.Errorf("hash %q holds the code", hashes[i])
		}
	}
	// Typed back in another case, with spaces instead of dashes.
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
	rest, ok := UseRecoveryCode(hashes, typed)
	if !ok || len(rest) != 9 {
		t.Fatalf("ok %v, %d left", ok, len(rest))
	}
	for _, h := range rest {
		if h == hashes[3] {
			t.Fatal("the used code is still kept")
		}
	}
	if _, ok := UseRecoveryCode(rest, codes[3]); ok {
		t.Fatal("a used code was accepted again")
	}
	if r, ok := UseRecoveryCode(rest, codes[0]); !ok || len(r) != 8 {
		t.Fatal("another code was refused")
	}
	for _, bad := range []string{"", "abcd", codes[0] + "a", codes[0][:18], strings.Repeat("-", 100) + codes[0], "0000-0000-0000-0000", hashes[0]} {
		if r, ok := UseRecoveryCode(hashes, bad); ok || len(r) != 10 {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestBox(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "auth.key")
	b, err := LoadOrCreateBox(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Fatalf("key dir mode %v", di.Mode())
	}
	raw, _ := os.ReadFile(path)
	if k, err := hex.DecodeString(strings.TrimSpace(string(raw))); err != nil || len(k) != 32 {
		t.Fatalf("key file %q", raw)
	}

	aliceTOTP := []byte("totp\x00alice")
	sealed := b.Seal([]byte("seed"), aliceTOTP)
	if !strings.HasPrefix(sealed, "v1.") || strings.Contains(sealed, "seed") {
		t.Fatalf("sealed %q", sealed)
	}
	if sealed == b.Seal([]byte("seed"), aliceTOTP) {
		t.Fatal("two seals are equal: the nonce is not random")
	}
	// The same file opens it again.
	b2, err := LoadOrCreateBox(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b2.Open(sealed, aliceTOTP); err != nil || string(got) != "seed" {
		t.Fatalf("open: %q %v", got, err)
	}
	// Moved to another owner or purpose, tampered with, or under another key: refused.
	other, _ := LoadOrCreateBox(filepath.Join(dir, "other.key"))
	tampered := []byte(sealed)
	tampered[len(tampered)-2] ^= 1
	for name, try := range map[string]func() ([]byte, error){
		"other user":    func() ([]byte, error) { return b.Open(sealed, []byte("totp\x00bob")) },
		"other purpose": func() ([]byte, error) { return b.Open(sealed, []byte("other\x00alice")) },
		"no aad":        func() ([]byte, error) { return b.Open(sealed, nil) },
		"other key":     func() ([]byte, error) { return other.Open(sealed, aliceTOTP) },
		"tampered":      func() ([]byte, error) { return b.Open(string(tampered), aliceTOTP) },
		"no version":    func() ([]byte, error) { return b.Open(sealed[3:], aliceTOTP) },
		"v2":            func() ([]byte, error) { return b.Open("v2."+sealed[3:], aliceTOTP) },
		"short":         func() ([]byte, error) { return b.Open("v1.AAAA", aliceTOTP) },
		"huge":          func() ([]byte, error) { return b.Open("v1."+strings.Repeat("A", 100<<10), aliceTOTP) },
	} {
		if got, err := try(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
}

func TestBoxKeyFileRefused(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose.key")
	os.WriteFile(loose, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	os.Chmod(loose, 0o640)
	if _, err := LoadOrCreateBox(loose); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("group-readable key file: %v", err)
	}
	os.Chmod(loose, 0o600)
	if _, err := LoadOrCreateBox(loose); err != nil {
		t.Errorf("after chmod 600: %v", err)
	}
	short := filepath.Join(dir, "short.key")
	os.WriteFile(short, []byte("abcd\n"), 0o600)
	if _, err := LoadOrCreateBox(short); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
		t.Errorf("short key file: %v", err)
	}
}

// Replicas starting at once make one key between them.
func TestBoxKeyMadeOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.key")
	var wg sync.WaitGroup
	boxes := make([]*Box, 8)
	for i := range boxes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := LoadOrCreateBox(path)
			if err != nil {
				t.Error(err)
			}
			boxes[i] = b
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	sealed := boxes[0].Seal([]byte("x"), nil)
	for i, b := range boxes {
		if _, err := b.Open(sealed, nil); err != nil {
			t.Errorf("box %d has another key", i)
		}
	}
}

// BenchmarkHashPassword: one argon2id hash at today's parameters (the cost of every sign-in, and of
// every sign-in attempt for an unknown account). cpu-ms/hash is the processor time one takes, which
// the machine's load does not change: a 2-core machine does at most 2000/cpu-ms sign-ins a second.
func BenchmarkHashPassword(b *testing.B) {
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/hash")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/hash")
}

// cpuTime is the processor time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkVerifyTOTP(b *testing.B) {
	secret := NewTOTPSecret()
	now := time.Unix(1_800_000_000, 0)
	code := hotp(secret, uint64(now.Unix()/30), 6)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := VerifyTOTP(secret, code, now, 0); !ok {
			b.Fatal("refused")
		}
	}
}

func BenchmarkUseRecoveryCode(b *testing.B) {
	codes, hashes := NewRecoveryCodes()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := UseRecoveryCode(hashes, codes[9]); !ok {
			b.Fatal("refused")
		}
	}
}

// BenchmarkVerifyPasswordParallel: password checks from many goroutines at once, as concurrent
// sign-ins run (at most max(2, GOMAXPROCS) at a time, the rest queued): sign-ins per second =
// 1e9 / ns/op.
func BenchmarkVerifyPasswordParallel(b *testing.B) {
	h, _ := HashPassword("correct horse battery staple")
	b.ReportAllocs()
	b.SetParallelism(4)
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, _, _ := VerifyPassword(h, "correct horse battery staple"); !ok {
				b.Error("refused")
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signins/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
