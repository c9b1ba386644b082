package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Box encrypts secrets kept in the store (TOTP secrets) with AES-256-GCM under a key that is not in
// the store: the auth key file (auth.key_file, default <data_dir>/auth.key), 64 hex digits. A copy
// of the database alone yields no TOTP secret. Replicas sharing a database must share the file.
//
// A sealed secret is text: "v1." then unpadded URL-safe base64 of a random 12-byte nonce followed by
// the ciphertext and tag. The aad given to Seal must be given to Open: make it name the secret's
// owner and purpose (for example []byte("totp\x00" + userName)), so a ciphertext copied into
// another user's record does not open there.
type Box struct {
	aead cipher.AEAD
}

const (
	boxKeySize   = 32
	boxVersion   = "v1."
	maxSealedLen = 64 << 10
)

// ErrOpen: a sealed secret does not open (malformed, another key, another owner or purpose, or
// tampered with).
var ErrOpen = errors.New("the sealed secret does not open with this key for this owner: wrong auth key file, or the record was moved or altered")

func newBox(key []byte) (*Box, error) {
	if len(key) != boxKeySize {
		return nil, fmt.Errorf("the auth key is %d bytes, not %d", len(key), boxKeySize)
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// LoadOrCreateBox reads the key file at path, or makes it when there is none: 32 random bytes in
// hex, mode 0600, its directory made 0700 if missing (as the audit key is made). A key file that its
// group or others may read or write is refused: chmod 600 it.
func LoadOrCreateBox(path string) (*Box, error) {
	key, err := loadKey(path)
	if err != nil {
		return nil, fmt.Errorf("auth key file %s: %w", path, err)
	}
	return newBox(key)
}

func loadKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return createKey(path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("its group or others may read or write it (mode %s): chmod 600 it", perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, 256))
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != boxKeySize {
		return nil, fmt.Errorf("not %d hex digits (a %d-byte key, as `openssl rand -hex %d` makes)", 2*boxKeySize, boxKeySize, boxKeySize)
	}
	return key, nil
}

// createKey writes a new key to a temporary file and links it into place, so that a replica
// starting at the same moment reads either no file or a whole one, and both end with the same key.
func createKey(path string) ([]byte, error) {
	key := make([]byte, boxKeySize)
	rand.Read(key)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".auth-key-*")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp, path); errors.Is(err, os.ErrExist) { // made meanwhile by another process: use that one
		return loadKey(path)
	} else if err != nil {
		return nil, err
	}
	return key, nil
}

// aad binds the format version to what the caller binds.
func boxAAD(aad []byte) []byte { return append([]byte("warden box v1\x00"), aad...) }

// Seal encrypts plain, bound to aad (the owner and purpose), as "v1.<base64>".
func (b *Box) Seal(plain, aad []byte) string {
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, plain, boxAAD(aad))
	return boxVersion + base64.RawURLEncoding.EncodeToString(out)
}

// Open decrypts what Seal made with the same key and aad; ErrOpen otherwise.
func (b *Box) Open(sealed string, aad []byte) ([]byte, error) {
	if len(sealed) > maxSealedLen {
		return nil, ErrOpen
	}
	body, ok := strings.CutPrefix(sealed, boxVersion)
	if !ok {
		return nil, ErrOpen
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	ns := b.aead.NonceSize()
	if err != nil || len(raw) < ns+b.aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, raw[:ns], raw[ns:], boxAAD(aad))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
