package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// Recovery codes: ten per enrolment, each 16 characters of lower-case base32 (a-z, 2-7) shown in
// four groups, abcd-efgh-ijkl-mnop: 80 random bits. The store keeps only each code's SHA-256 (hex).
// A slow hash (argon2id) is not needed: it protects low-entropy secrets that people choose, and a
// code of 80 random bits cannot be found from its SHA-256 by trying (2^80 hashes). Codes are typed
// back in any case, with or without dashes and spaces.
const (
	recoveryCodeCount = 10
	recoveryCodeLen   = 16 // characters, without dashes
	recoveryGroup     = 4
	maxRecoveryInput  = 64
	recoveryAlphabet  = "abcdefghijklmnopqrstuvwxyz234567"
)

// NewRecoveryCodes returns ten new recovery codes, to show once, and their hashes, to keep.
func NewRecoveryCodes() (codes, hashes []string) {
	codes = make([]string, recoveryCodeCount)
	hashes = make([]string, recoveryCodeCount)
	for i := range codes {
		raw := make([]byte, recoveryCodeLen)
		rand.Read(raw)
		var b strings.Builder
		for j, c := range raw {
			if j > 0 && j%recoveryGroup == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[c&31]) // 256 is a multiple of 32: no bias
		}
		codes[i] = b.String()
		hashes[i] = hashRecovery(normaliseRecovery(codes[i]))
	}
	return codes, hashes
}

// UseRecoveryCode looks code up among hashes: ok, and rest (hashes without the one used, to store
// in their place) when it is one of them. Case, dashes and spaces do not matter. Every hash is
// compared, in constant time, whichever matches. Not ok: rest is hashes unchanged.
func UseRecoveryCode(hashes []string, code string) (rest []string, ok bool) {
	if len(code) > maxRecoveryInput {
		return hashes, false
	}
	norm := normaliseRecovery(code)
	if len(norm) != recoveryCodeLen {
		return hashes, false
	}
	h := []byte(hashRecovery(norm))
	used := -1
	for i, stored := range hashes {
		if subtle.ConstantTimeCompare([]byte(stored), h) == 1 && used < 0 {
			used = i
		}
	}
	if used < 0 {
		return hashes, false
	}
	rest = make([]string, 0, len(hashes)-1)
	rest = append(rest, hashes[:used]...)
	rest = append(rest, hashes[used+1:]...)
	return rest, true
}

// normaliseRecovery lower-cases code and drops dashes and white space; a character outside the
// alphabet makes it empty.
func normaliseRecovery(code string) string {
	var b strings.Builder
	for _, r := range code {
		switch {
		case r == '-' || r == ' ' || r == '\t':
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		case (r >= 'a' && r <= 'z') || (r >= '2' && r <= '7'):
			b.WriteRune(r)
		default:
			return ""
		}
	}
	return b.String()
}

func hashRecovery(norm string) string {
	sum := sha256.Sum256([]byte("warden recovery code\x00" + norm))
	return hex.EncodeToString(sum[:])
}
