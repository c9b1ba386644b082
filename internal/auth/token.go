// Package auth authenticates callers of warden's API. This file holds API tokens: a token is
// "wdn_<id>_<secret>"; the store keeps only the id, whom it acts for, its expiry and a SHA-256 hash
// of the secret, so a copy of the database yields no usable token.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
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

// ErrUnauthenticated: no token, or one that is malformed, unknown, expired or revoked.
var ErrUnauthenticated = errors.New("unauthenticated")

// BootstrapUser is whom the admin token created at first start acts for. It is not a user resource,
// and no user can take its name.
const BootstrapUser = resource.BootstrapAdmin

const prefix = "wdn_"

// Principal is an authenticated caller.
type Principal struct {
	User    string `json:"user"`
	Admin   bool   `json:"admin"`
	TokenID string `json:"token_id"`
}

// Tokens issues and checks API tokens.
type Tokens struct {
	store store.Store
	now   func() time.Time
}

// NewTokens returns a token service over s.
func NewTokens(s store.Store) *Tokens { return &Tokens{store: s, now: time.Now} }

// Create issues a token acting for user (which must exist, unless admin is set for the bootstrap
// token). ttl 0 means it never expires. The secret is returned once and never stored.
func (t *Tokens) Create(ctx context.Context, user string, admin bool, ttl time.Duration) (string, *resource.Object, error) {
	idb := make([]byte, 8)
	secret := make([]byte, 32)
	if _, err := rand.Read(idb); err != nil {
		return "", nil, err
	}
	if _, err := rand.Read(secret); err != nil {
		return "", nil, err
	}
	id := hex.EncodeToString(idb)
	sec := base64.RawURLEncoding.EncodeToString(secret)
	spec := &resource.APITokenSpec{User: user, SecretHash: hash(sec), Admin: admin}
	if ttl > 0 {
		spec.Expires = t.now().Add(ttl).UTC().Truncate(time.Second)
	}
	o := &resource.Object{Kind: resource.KindAPIToken, Version: resource.Version, Metadata: resource.Metadata{Name: id}, Spec: spec}
	if err := resource.Validate(o); err != nil {
		return "", nil, err
	}
	// The user is checked in the same transaction, so a token never outlives a user deleted meanwhile.
	err := t.store.Txn(ctx, func(tx store.Tx) error {
		if user != BootstrapUser || !admin {
			if _, err := tx.Get(ctx, resource.KindUser, user); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return &resource.FieldError{Field: "user", Message: fmt.Sprintf("user %q does not exist", user)}
				}
				return err
			}
		}
		return tx.Create(ctx, o)
	})
	if err != nil {
		return "", nil, err
	}
	return prefix + id + "_" + sec, o, nil
}

func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Authenticate checks a token and says whom it acts for. A user token's admin power comes from the
// user's spec.admin, read afresh each time, so demoting a user takes effect at once.
func (t *Tokens) Authenticate(ctx context.Context, token string) (*Principal, error) {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return nil, fmt.Errorf("token is not a warden API token (wdn_...): %w", ErrUnauthenticated)
	}
	id, sec, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || sec == "" {
		return nil, fmt.Errorf("malformed token: %w", ErrUnauthenticated)
	}
	o, err := t.store.Get(ctx, resource.KindAPIToken, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("unknown or revoked token: %w", ErrUnauthenticated)
	}
	if err != nil {
		return nil, err
	}
	spec := o.Spec.(*resource.APITokenSpec)
	if subtle.ConstantTimeCompare([]byte(hash(sec)), []byte(spec.SecretHash)) != 1 {
		return nil, fmt.Errorf("unknown or revoked token: %w", ErrUnauthenticated)
	}
	if !spec.Expires.IsZero() && !t.now().Before(spec.Expires) {
		return nil, fmt.Errorf("token expired at %s: %w", spec.Expires.Format(time.RFC3339), ErrUnauthenticated)
	}
	p := &Principal{User: spec.User, Admin: spec.Admin, TokenID: id}
	if spec.Admin && spec.User == BootstrapUser {
		return p, nil
	}
	u, err := t.store.Get(ctx, resource.KindUser, spec.User)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("the token's user %q no longer exists: %w", spec.User, ErrUnauthenticated)
	}
	if err != nil {
		return nil, err
	}
	p.Admin = p.Admin || u.Spec.(*resource.UserSpec).Admin
	return p, nil
}

// EnsureAdminToken makes sure path holds a working admin token: it keeps a valid one, or issues a new
// one and writes it there with mode 0600. It reports whether it issued one.
func (t *Tokens) EnsureAdminToken(ctx context.Context, path string) (bool, error) {
	if b, err := os.ReadFile(path); err == nil {
		p, err := t.Authenticate(ctx, strings.TrimSpace(string(b)))
		if err == nil && p.Admin {
			return false, nil
		}
		if err != nil && !errors.Is(err, ErrUnauthenticated) {
			return false, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("reading the admin token: %w", err)
	}
	token, _, err := t.Create(ctx, BootstrapUser, true, 0)
	if err != nil {
		return false, fmt.Errorf("creating the admin token: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, err
	}
	tmp := path + ".tmp"
	os.Remove(tmp) // WriteFile keeps an existing file's mode
	if err := os.WriteFile(tmp, []byte(token+"\n"), 0o600); err != nil {
		return false, fmt.Errorf("writing the admin token: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, fmt.Errorf("writing the admin token: %w", err)
	}
	return true, nil
}
