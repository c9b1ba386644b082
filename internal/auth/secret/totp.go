package secret

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

// TOTP as RFC 6238 defines it and authenticator apps expect by default: HMAC-SHA-1, 6 digits, a
// 30-second step from the Unix epoch, a 20-byte (160-bit, RFC 4226's recommendation) secret.
const (
	totpDigits     = 6
	totpPeriod     = 30 // seconds
	totpSecretSize = 20
	maxCodeLen     = 32   // a code as typed, spaces included, before it is looked at
	maxURILen      = 2048 // what TOTPQRCode renders
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a new random TOTP secret (20 bytes). Keep it sealed in a Box.
func NewTOTPSecret() []byte {
	s := make([]byte, totpSecretSize)
	rand.Read(s)
	return s
}

// TOTPURI is the key URI authenticator apps read (otpauth://totp/<issuer>:<account>?secret=...&
// issuer=...), with the algorithm, digits and period stated.
func TOTPURI(issuer, account string, secret []byte) string {
	label := url.PathEscape(strings.ReplaceAll(issuer, ":", "")) + ":" + url.PathEscape(strings.ReplaceAll(account, ":", ""))
	q := url.Values{}
	q.Set("secret", b32.EncodeToString(secret))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(totpDigits))
	q.Set("period", fmt.Sprint(totpPeriod))
	// url.Values encodes spaces as '+', which some apps show as such: use %20.
	return "otpauth://totp/" + label + "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

// TOTPQRCode renders uri as a QR code, a 256×256 PNG (error correction M).
func TOTPQRCode(uri string) ([]byte, error) {
	if uri == "" || len(uri) > maxURILen {
		return nil, fmt.Errorf("a QR code holds a URI of 1 to %d bytes, not %d", maxURILen, len(uri))
	}
	return qrcode.Encode(uri, qrcode.Medium, 256)
}

// VerifyTOTP checks code against secret at now: it accepts the code of the previous, the current
// or the next 30-second step (clocks drift, people type slowly), but only of a step after lastStep,
// the step of the last code accepted for this secret (0 for none), so no code is ever accepted
// twice. It returns the step matched: store it as the next lastStep. Spaces in code are ignored;
// anything but 6 digits is refused; each step's code is compared in constant time, all three
// always.
func VerifyTOTP(secret []byte, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	if len(code) > maxCodeLen || len(secret) == 0 {
		return 0, false
	}
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, code)
	if len(code) != totpDigits {
		return 0, false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0, false
		}
	}
	cur := now.Unix() / totpPeriod
	for s := cur - 1; s <= cur+1; s++ {
		want := hotp(secret, uint64(s), totpDigits)
		match := subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1
		if match && s > lastStep && s >= 0 {
			step, ok = s, true // the latest step matching wins: nothing at or before it is accepted again
		}
	}
	return step, ok
}

// hotp is RFC 4226's HOTP value of counter, digits long, with HMAC-SHA-1.
func hotp(secret []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, v%mod)
}
