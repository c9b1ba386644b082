// Package auth authenticates callers of warden's API. This file holds API tokens: a token is
// "wdn_<id>_<secret>"; the store keeps only the id, whom it acts for, who issued it, its expiry and
// a SHA-256 hash of the secret, so a copy of the database yields no usable token. The hash is never
// served (token listings leave it out) nor written to the audit log.
//
// Who acted, for the audit log: every change records the id of the token it was made with. A token
// records its issuer (who created it) and whether it was minted for someone else (OnBehalf: an
// administrator issuing a token acting as bob). Whoever holds such a token may be its issuer, so
// what it does is recorded with the issuer too (the audit entry's token_issuer, a review's
// token_issuer), and the review rules treat a token a named administrator minted for someone else
// as that administrator's as much as its user's (package server). Tokens minted with the bootstrap
// admin token are how people get tokens until sign-in exists: they are recorded with
// token_issuer warden:admin, but their reviews count as their users'.
//
// Every creation and revocation is audited in the same transaction as the change: creation with its
// user, issuer, TTL and expiry; revocation with who revoked it. A new bootstrap admin token (the
// file lost or no longer valid) revokes every earlier one.
//
// Browser sessions (session.go) are the other way in: a cookie naming a server-side session, kept
// in the store with only its secret's hash, cached in memory and kept current from the store's
// change feed. A session check costs about 4 µs from the cache (about 250 µs from SQLite when not
// cached), a whole API call's authentication by cookie about 7 µs, and the cache holds 10,000
// sessions in about 5.5 MB (BenchmarkSessionCurrent, BenchmarkAuthenticateSession,
// BenchmarkSessionMemory, on 2 shared cores).
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

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// ErrUnauthenticated: no token, or one that is malformed, unknown, expired or revoked.
var ErrUnauthenticated = errors.New("unauthenticated")

// BootstrapUser is whom the admin token created at first start acts for. It is not a user resource,
// and no user can take its name.
const BootstrapUser = resource.BootstrapAdmin

// WardenActor is the audit log's actor for what warden does of itself (the bootstrap token).
const WardenActor = "warden"

// DefaultMaxTTL caps the lifetime of user tokens unless configured otherwise (tokens.max_ttl);
// MaxTTLLimit is the longest cap that can be configured.
const (
	DefaultMaxTTL = 30 * 24 * time.Hour
	MaxTTLLimit   = 366 * 24 * time.Hour
)

const prefix = "wdn_"

// Principal is an authenticated caller.
type Principal struct {
	User    string `json:"user"`
	Admin   bool   `json:"admin"`
	TokenID string `json:"token_id"`
	// Issuer is who created the token (see resource.APITokenSpec); OnBehalf, that Issuer minted it
	// for User, someone else.
	Issuer   string `json:"issuer,omitempty"`
	OnBehalf bool   `json:"on_behalf,omitempty"`
	// Method is how the caller signed in: MethodToken (an API token), MethodSession (a browser
	// session's cookie) or MethodBootstrap (the bootstrap admin token).
	Method string `json:"method,omitempty"`
	// Session is the id of the browser session the caller acts through (Method session).
	Session string `json:"session,omitempty"`
	// SecondFactorAt is when the caller last used a second factor: the session's, or for a token
	// the one recorded when it was issued from a session (zero: none). The step-up rule reads it.
	SecondFactorAt time.Time `json:"second_factor_at,omitzero"`
	// Expires is when the caller's credential ends: a token's expiry (zero: never), a session's
	// absolute expiry.
	Expires time.Time `json:"expires,omitzero"`
	// Login is, for a token `warden login` received, its flow (loopback, device); empty for a
	// token an administrator minted. Step-up exempts minted tokens only (when configured so).
	Login string `json:"login,omitempty"`
}

// How a Principal signed in (Principal.Method).
const (
	MethodToken     = "token"
	MethodSession   = "session"
	MethodBootstrap = "bootstrap"
)

// Accountable is the person answerable for what this caller does besides User: the named
// administrator who minted the caller's token for User, when one did; otherwise User. (A token the
// bootstrap admin token minted counts as its user's: that is how people get tokens for now.)
func (p *Principal) Accountable() string {
	if p.OnBehalf && p.Issuer != "" && p.Issuer != BootstrapUser {
		return p.Issuer
	}
	return p.User
}

// TokenIssuer is what the audit log and reviews record as the token's issuer: who minted the token
// for User, when someone else did.
func (p *Principal) TokenIssuer() string {
	if p.OnBehalf {
		return p.Issuer
	}
	return ""
}

// Entry is e said by p: its actor, token and token issuer filled in.
func (p *Principal) Entry(e audit.Entry) audit.Entry {
	e.Actor, e.Token, e.TokenIssuer = p.User, p.TokenID, p.TokenIssuer()
	return e
}

// Tokens issues, checks, lists and revokes API tokens.
type Tokens struct {
	store  store.Store
	now    func() time.Time
	maxTTL time.Duration
}

// NewTokens returns a token service over s.
func NewTokens(s store.Store) *Tokens {
	return &Tokens{store: s, now: time.Now, maxTTL: DefaultMaxTTL}
}

// SetMaxTTL caps the lifetime of the user tokens issued from now on (0: DefaultMaxTTL).
func (t *Tokens) SetMaxTTL(d time.Duration) {
	if d <= 0 {
		d = DefaultMaxTTL
	}
	t.maxTTL = d
}

// MaxTTL is the longest lifetime a user token may be issued with.
func (t *Tokens) MaxTTL() time.Duration { return t.maxTTL }

// SetClock makes the service read time from now (tests).
func (t *Tokens) SetClock(now func() time.Time) { t.now = now }

// FormatDuration writes d the way people write durations: 720h, 90m, 1h30m.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// newToken makes a token's id and secret and its record (not yet stored).
func (t *Tokens) newToken(spec *resource.APITokenSpec, ttl time.Duration) (string, *resource.Object, error) {
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
	spec.SecretHash = hash(sec)
	if ttl > 0 {
		spec.Expires = t.now().Add(ttl).UTC().Truncate(time.Second)
	}
	o := &resource.Object{Kind: resource.KindAPIToken, Version: resource.Version, Metadata: resource.Metadata{Name: id}, Spec: spec}
	if err := resource.Validate(o); err != nil {
		return "", nil, err
	}
	return prefix + id + "_" + sec, o, nil
}

// created is the audit entry of a token's creation: its user, issuer, TTL and expiry (the object
// in the entry leaves the secret hash out).
func created(o *resource.Object, ttl time.Duration) audit.Entry {
	spec := o.Spec.(*resource.APITokenSpec)
	detail := fmt.Sprintf("token %s acting as %s", o.Metadata.Name, spec.User)
	if spec.Issuer != "" {
		detail += ", issued by " + spec.Issuer
		if spec.OnBehalf {
			detail += " for someone else"
		}
	}
	if ttl > 0 {
		detail += fmt.Sprintf(", ttl %s, expires %s", FormatDuration(ttl), spec.Expires.Format(time.RFC3339))
	} else {
		detail += ", never expires"
	}
	return audit.Entry{Action: "create", After: o, Detail: detail}
}

// store writes a new token with its audit entry, checking its user exists in the same
// transaction, so a token never outlives a user deleted meanwhile.
func (t *Tokens) put(ctx context.Context, tx store.Tx, o *resource.Object, entry audit.Entry) error {
	spec := o.Spec.(*resource.APITokenSpec)
	if spec.User != BootstrapUser || !spec.Admin {
		if _, err := tx.Get(ctx, resource.KindUser, spec.User); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return &resource.FieldError{Field: "user", Message: fmt.Sprintf("user %q does not exist", spec.User)}
			}
			return err
		}
	}
	if err := tx.Create(ctx, o); err != nil {
		return err
	}
	return audit.Append(ctx, tx, entry)
}

// Create issues a token acting for user (which must exist, unless admin is set for the bootstrap
// token) on warden's own account: no issuer, audited as warden. ttl 0 means it never expires. The
// secret is returned once and never stored.
func (t *Tokens) Create(ctx context.Context, user string, admin bool, ttl time.Duration) (string, *resource.Object, error) {
	token, o, err := t.newToken(&resource.APITokenSpec{User: user, Admin: admin}, ttl)
	if err != nil {
		return "", nil, err
	}
	e := created(o, ttl)
	e.Actor = WardenActor
	if err := t.store.Txn(ctx, func(tx store.Tx) error { return t.put(ctx, tx, o, e) }); err != nil {
		return "", nil, err
	}
	return token, o, nil
}

// Issue issues, at by's request, a token acting as user for ttl (at most MaxTTL). Its issuer is
// by.Accountable(): a token minted with a token someone minted for another is that someone's too.
// Authorization (administrators only) is the caller's.
func (t *Tokens) Issue(ctx context.Context, by *Principal, user string, ttl time.Duration) (string, *resource.Object, error) {
	if ttl <= 0 || ttl > t.maxTTL {
		return "", nil, &resource.FieldError{Field: "ttl", Message: fmt.Sprintf("%s is not from 1s to %s (tokens.max_ttl)", FormatDuration(ttl), FormatDuration(t.maxTTL))}
	}
	issuer := by.Accountable()
	spec := &resource.APITokenSpec{User: user, Issuer: issuer, OnBehalf: !strings.EqualFold(issuer, user)}
	token, o, err := t.newToken(spec, ttl)
	if err != nil {
		return "", nil, err
	}
	e := by.Entry(created(o, ttl))
	if err := t.store.Txn(ctx, func(tx store.Tx) error { return t.put(ctx, tx, o, e) }); err != nil {
		return "", nil, err
	}
	return token, o, nil
}

func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ValidID reports whether id has the form of a token id (16 hex digits).
func ValidID(id string) bool {
	if len(id) != 16 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// Get reads one token's record.
func (t *Tokens) Get(ctx context.Context, id string) (*resource.Object, error) {
	if !ValidID(id) {
		return nil, &resource.FieldError{Field: "id", Message: fmt.Sprintf("%q is not a token id (16 hex digits)", id)}
	}
	return t.store.Get(ctx, resource.KindAPIToken, id)
}

// List reads up to limit token records after the id after, ordered by id; user, if set, keeps that
// user's tokens.
func (t *Tokens) List(ctx context.Context, user, after string, limit int) ([]*resource.Object, error) {
	opts := store.ListOptions{After: after, Limit: limit}
	if user != "" {
		opts.Filters = store.Filter(resource.IndexUser, user)
	}
	return t.store.List(ctx, resource.KindAPIToken, opts)
}

// Revoke deletes a token at by's request, with its audit entry; the token fails from the next
// call on. Authorization is the caller's.
func (t *Tokens) Revoke(ctx context.Context, by *Principal, id string) (*resource.Object, error) {
	if !ValidID(id) {
		return nil, &resource.FieldError{Field: "id", Message: fmt.Sprintf("%q is not a token id (16 hex digits)", id)}
	}
	var old *resource.Object
	err := t.store.Txn(ctx, func(tx store.Tx) error {
		var err error
		if old, err = tx.Delete(ctx, resource.KindAPIToken, id, 0); err != nil {
			return err
		}
		spec := old.Spec.(*resource.APITokenSpec)
		return audit.Append(ctx, tx, by.Entry(audit.Entry{Action: "revoke", Before: old,
			Detail: fmt.Sprintf("token %s acting as %s revoked by %s", id, spec.User, by.User)}))
	})
	return old, err
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
	p := &Principal{User: spec.User, Admin: spec.Admin, TokenID: id, Issuer: spec.Issuer, OnBehalf: spec.OnBehalf,
		Method: MethodToken, SecondFactorAt: spec.SecondFactorAt, Expires: spec.Expires, Login: spec.Login}
	if spec.Admin && spec.User == BootstrapUser {
		p.Method = MethodBootstrap
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

// EnsureAdminToken makes sure path holds a working admin token: it keeps a valid one, or issues a
// new one and writes it there with mode 0600. A new one revokes every earlier bootstrap admin token
// in the same transaction (audited), so a lost or replaced admin.token no longer works anywhere. It
// reports whether it issued one.
func (t *Tokens) EnsureAdminToken(ctx context.Context, path string) (bool, error) {
	if b, err := os.ReadFile(path); err == nil {
		p, err := t.Authenticate(ctx, strings.TrimSpace(string(b)))
		if err == nil && p.Admin && p.User == BootstrapUser {
			return false, nil
		}
		if err != nil && !errors.Is(err, ErrUnauthenticated) {
			return false, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("reading the admin token: %w", err)
	}
	token, o, err := t.newToken(&resource.APITokenSpec{User: BootstrapUser, Admin: true}, 0)
	if err != nil {
		return false, fmt.Errorf("creating the admin token: %w", err)
	}
	err = t.store.Txn(ctx, func(tx store.Tx) error {
		old, err := tx.List(ctx, resource.KindAPIToken, store.ListOptions{Filters: store.Filter(resource.IndexUser, BootstrapUser)})
		if err != nil {
			return err
		}
		for _, prev := range old {
			if !prev.Spec.(*resource.APITokenSpec).Admin {
				continue
			}
			if _, err := tx.Delete(ctx, prev.Kind, prev.Metadata.Name, 0); err != nil {
				return err
			}
			if err := audit.Append(ctx, tx, audit.Entry{Actor: WardenActor, Action: "revoke", Before: prev,
				Detail: fmt.Sprintf("bootstrap admin token %s revoked: a new one (%s) was issued to %s", prev.Metadata.Name, o.Metadata.Name, path)}); err != nil {
				return err
			}
		}
		e := created(o, 0)
		e.Actor = WardenActor
		return t.put(ctx, tx, o, e)
	})
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
