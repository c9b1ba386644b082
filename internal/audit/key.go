package audit

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// KeySize is the audit key's length in bytes.
const KeySize = 32

// AlgHMAC names the keyed scheme in an entry's alg; legacy entries have none (SHA-256).
const AlgHMAC = "hmac-sha256"

// KeyedAction is the action of the entry warden writes when it starts with a key on a log whose
// newest entry is not keyed (a new log, or one written before keys): it seals what came before.
const KeyedAction = "audit.keyed"

// ErrWrongKey: the newest keyed entry does not verify with the key given.
var ErrWrongKey = errors.New("the audit log's newest entry does not verify with this audit key")

// keyed carries the audit key with a store, and with the transactions it runs.
type keyed interface{ auditKey() []byte }

type keyedStore struct {
	store.Store
	key []byte
}

type keyedTx struct {
	store.Tx
	key []byte
}

func (s *keyedStore) auditKey() []byte { return s.key }
func (t keyedTx) auditKey() []byte     { return t.key }

// Txn runs fn with a transaction that carries the key, so Append keys what it writes.
func (s *keyedStore) Txn(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.Store.Txn(ctx, func(tx store.Tx) error { return fn(keyedTx{tx, s.key}) })
}

// AcquireLease and ReleaseLease pass leases through (both backends have them: store.Leaser).
func (s *keyedStore) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	l, ok := s.Store.(store.Leaser)
	if !ok {
		return false, errors.New("this store has no leases")
	}
	return l.AcquireLease(ctx, name, holder, ttl)
}

func (s *keyedStore) ReleaseLease(ctx context.Context, name, holder string) error {
	l, ok := s.Store.(store.Leaser)
	if !ok {
		return errors.New("this store has no leases")
	}
	return l.ReleaseLease(ctx, name, holder)
}

// Unwrap is the store without the key.
func (s *keyedStore) Unwrap() store.Store { return s.Store }

// Keyed returns st carrying the audit key: entries appended through it (in any of its
// transactions) are keyed with HMAC-SHA256, and Verify of it checks them. Everything writing to
// the store should go through the one keyed handle; Append refuses to extend a keyed log through a
// handle without the key.
func Keyed(st store.Store, key []byte) store.Store {
	return &keyedStore{Store: st, key: append([]byte(nil), key...)}
}

func keyOf(x any) []byte {
	if k, ok := x.(keyed); ok {
		return k.auditKey()
	}
	return nil
}

// ParseKey reads a key as its file holds it: 64 hex digits.
func ParseKey(b []byte) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("not %d hex digits (a %d-byte key, as `openssl rand -hex %d` makes)", 2*KeySize, KeySize, KeySize)
	}
	return key, nil
}

// LoadKey reads the key file at path; create makes one (mode 0600, 32 random bytes in hex) when
// there is none. It reports whether it created it.
func LoadKey(path string, create bool) ([]byte, bool, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := ParseKey(b)
		if err != nil {
			return nil, false, fmt.Errorf("audit key file %s: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) || !create {
		return nil, false, fmt.Errorf("audit key file: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("audit key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // made meanwhile by another process: use that one
		return LoadKey(path, false)
	}
	if err != nil {
		return nil, false, fmt.Errorf("audit key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return nil, false, fmt.Errorf("audit key file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, false, fmt.Errorf("audit key file: %w", err)
	}
	return key, true, nil
}

func macOf(key []byte, s *resource.AuditEntrySpec) string {
	m := hmac.New(sha256.New, key)
	m.Write(canonical(s))
	return hex.EncodeToString(m.Sum(nil))
}

// sealOf is an entry's hash under its own scheme, or an error saying why it cannot be computed.
func sealOf(key []byte, s *resource.AuditEntrySpec) (string, error) {
	switch s.Alg {
	case "":
		return hashOf(s), nil
	case AlgHMAC:
		if key == nil {
			return "", fmt.Errorf("audit entry %d is keyed (%s): checking it needs the audit key (audit.key_file)", s.Seq, AlgHMAC)
		}
		return macOf(key, s), nil
	default:
		return "", fmt.Errorf("audit entry %d names an unknown scheme %q", s.Seq, s.Alg)
	}
}

// Init makes the log keyed from here on, at a server's start: through st (which must carry the key,
// see Keyed), it checks that the newest entry, if keyed, verifies with this key (ErrWrongKey
// otherwise: a replica given another key file, or an edited entry), and seals a log whose newest
// entry is not keyed, or an empty one, with a keyed entry by warden. After Init a keyed log is never
// empty and always ends with a keyed entry, which Verify holds it to.
func Init(ctx context.Context, st store.Store) error {
	key := keyOf(st)
	if key == nil {
		return errors.New("audit: Init needs a store carrying the audit key (audit.Keyed)")
	}
	return st.Txn(ctx, func(tx store.Tx) error {
		head, err := tx.Get(ctx, resource.KindAuditEntry, headName)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("audit: reading the head: %w", err)
		}
		if err == nil {
			h := head.Spec.(*resource.AuditEntrySpec)
			last, err := tx.Get(ctx, resource.KindAuditEntry, EntryName(h.Seq))
			if err != nil {
				return fmt.Errorf("audit: reading the newest entry (%d): %w", h.Seq, err)
			}
			if s := last.Spec.(*resource.AuditEntrySpec); s.Alg == AlgHMAC {
				if !hmac.Equal([]byte(macOf(key, s)), []byte(s.Hash)) {
					return fmt.Errorf("%w (entry %d): replicas sharing a database must share one audit.key_file; or the entry was edited (warden audit verify, with the right key, says which)", ErrWrongKey, s.Seq)
				}
				return nil
			}
		}
		return Append(ctx, tx, Entry{Actor: "warden", Action: KeyedAction,
			Detail: "the audit log is keyed from here on: every entry's hash is an HMAC-SHA256 with the audit key, kept outside the store"})
	})
}
