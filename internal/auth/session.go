package auth

// Browser sessions.
//
// A session is a store record (kind session, internal: never served by the resource API nor
// exported) named by a public id of 16 hex digits. The cookie carries "<id>.<secret>"; the record
// keeps the SHA-256 of the secret, never the secret, so a copy of the database signs no one in.
// The record holds the user, when the session was created and last used, its absolute expiry, the
// methods it was signed in (and stepped up) with, when a second factor was last used, and the
// address and user agent it was made from.
//
// The cookie is warden_session, or __Host-warden_session when served over TLS (Secure, and the
// __Host- prefix pins it to this host and Path=/); always HttpOnly, SameSite=Lax, Path=/. It lasts
// until the absolute expiry. A session ends at whichever comes first: SessionConfig.Absolute after
// sign-in, or SessionConfig.Idle without use. Use is written (LastSeen) at most once a minute, not
// at every request, so the idle timeout is kept to within a minute.
//
// Current is on the path of every API call a browser makes, so it reads from memory: the
// sessions seen are cached, and Run keeps the cache current from the store's change feed
// (store.Watch), so a session revoked or ended on any replica is refused here as soon as the feed
// brings the change: with PostgreSQL, by NOTIFY, about 15 ms in TestSessionRevokedOnAnotherPostgresReplica
// (at worst the store's 2 s poll, should a notification be lost). A session not cached (made on
// another replica, or before Run started) is read from the store once, then cached. While Run is
// not running (or its feed is restarting) nothing is cached and every check reads the store.
//
// The caller's user (exists, administrator) comes from a cache the same feed keeps (User), so a
// demotion or deletion counts on every replica once the feed brings it, and a session's API call
// reads nothing from the store.
//
// Measured (BenchmarkSessionCurrent, BenchmarkSessionCurrentStore, BenchmarkSessionMemory; SQLite,
// 2 cores shared with other work, load about 9): Current takes about 4 µs and 5 allocations from
// the cache (the issue asks for under 50 µs), about 250 µs when it must read the store; the cache
// holds 10,000 sessions in about 5.5 MB of heap (about 570 bytes each). Authenticating a whole API
// call by its cookie (session and user from the caches, CSRF aside) takes about 7 µs
// (BenchmarkAuthenticateSession, internal/server), a bearer token's about 270 µs (two store reads).
//
// CSRF: a form or request carried by the cookie proves it comes from warden's own pages with a
// token derived from the session's secret: base64url(HMAC-SHA256(secret, "warden csrf " + id)).
// Only the holder of the cookie's secret can compute it (the store's hash does not give it), it
// is the same for the whole session and dies with it, and it is compared in constant time.
//
// Audited, through the same transaction as the change: a session's start (action "create"), its
// end by sign out ("end"), its revocation by someone ("revoke": who, on whose behalf), a second
// factor added ("update") and its expiry swept by warden ("expire"). Entries name the session
// (kind session, its id); the secret's hash is never written to the log.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Methods a session (or a step-up) was made with.
const (
	MethodPassword = "pwd"
	MethodTOTP     = "otp"
	MethodRecovery = "rec"
	MethodPasskey  = "hwk"
	MethodOIDC     = "oidc" // MethodUse.Connector names the connector
)

// MethodUse is one authentication method used, and when.
type MethodUse struct {
	Method    string    `json:"method"`
	At        time.Time `json:"at"`
	Connector string    `json:"connector,omitempty"`
	// MFA: for oidc, the provider said (amr) that it used more than one factor.
	MFA bool `json:"mfa,omitempty"`
}

// SecondFactor says whether m is a second factor (otp, rec, hwk, or oidc with MFA).
func (m MethodUse) SecondFactor() bool {
	switch m.Method {
	case MethodTOTP, MethodRecovery, MethodPasskey:
		return true
	case MethodOIDC:
		return m.MFA
	}
	return false
}

// Session is one browser session. Sessions returned by Issue and Current carry the cookie's
// secret (unexported), from which CSRFToken derives the form token; those from List do not.
type Session struct {
	ID, User                   string
	Created, LastSeen, Expires time.Time // Expires: the absolute expiry
	Methods                    []MethodUse
	SecondFactorAt             time.Time // the latest second factor used (zero: none)
	Address, UserAgent         string

	secret string
}

// SessionConfig says how long sessions last and whether they are served over TLS.
type SessionConfig struct {
	Idle, Absolute time.Duration
	Secure         bool // served over TLS: Secure cookie, __Host- prefix
}

// Cookie names, and where a CSRF token is looked for.
const (
	SessionCookie       = "warden_session"
	SecureSessionCookie = "__Host-warden_session"
	CSRFHeader          = "X-CSRF-Token"
	CSRFField           = "csrf"
)

// Defaults when SessionConfig leaves a duration out (config.DefaultSessionIdle and ...Absolute).
const (
	defaultIdle     = time.Hour
	defaultAbsolute = 12 * time.Hour
	// touchEvery: LastSeen is written at most this often.
	touchEvery = time.Minute
	// sweepEvery: how often Run deletes the sessions that have ended.
	sweepEvery = 5 * time.Minute
	// maxCached bounds the cache; past it, sessions are read from the store.
	maxCached = 200_000
	// maxCookie bounds the cookie value read (id, dot, 43 characters of secret).
	maxCookie = 128
	// maxFormBody bounds the form read for a CSRF field.
	maxFormBody = 64 << 10
)

// SessionOption configures Sessions.
type SessionOption func(*Sessions)

// WithSessionClock makes Sessions read time from c (tests: clock.Fake).
func WithSessionClock(c clock.Clock) SessionOption { return func(s *Sessions) { s.clk = c } }

// WithSessionAddress makes Sessions record a session's source address with addr (the server's
// view, which knows the trusted proxies) instead of the connection's address.
func WithSessionAddress(addr func(*http.Request) string) SessionOption {
	return func(s *Sessions) { s.addr = addr }
}

// Sessions issues, checks, lists and ends browser sessions.
type Sessions struct {
	store store.Store
	cfg   SessionConfig
	clk   clock.Clock
	addr  func(*http.Request) string

	mu    sync.RWMutex
	cache map[string]*cached // nil while Run is not feeding it
	gen   uint64             // counts the session changes applied to the cache
	// users caches, for the sessions' users, whether each is an administrator (nil with cache).
	users map[string]*cachedUser
	ugen  uint64 // counts the user changes applied to users

	touchMu  sync.Mutex
	touching map[string]bool

	onApply func(store.Event) // tests: called after each change of the feed is applied
}

// cached is a session as the cache keeps it: its record, the secret's hash in bytes, its revision.
type cached struct {
	sess Session
	hash [sha256.Size]byte
	rev  int64
}

// NewSessions returns the session service over st. Run it (go s.Run(ctx)) to cache sessions.
func NewSessions(st store.Store, cfg SessionConfig, opts ...SessionOption) *Sessions {
	if cfg.Idle <= 0 {
		cfg.Idle = defaultIdle
	}
	if cfg.Absolute <= 0 {
		cfg.Absolute = defaultAbsolute
	}
	s := &Sessions{store: st, cfg: cfg, clk: clock.Real(), addr: remoteHost, touching: map[string]bool{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Config is the configuration the service runs with (defaults filled in).
func (s *Sessions) Config() SessionConfig { return s.cfg }

// CookieName is the session cookie's name: __Host-warden_session over TLS, else warden_session.
func (s *Sessions) CookieName() string {
	if s.cfg.Secure {
		return SecureSessionCookie
	}
	return SessionCookie
}

func remoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// ---- the record ----

func sessionOf(o *resource.Object) (*cached, error) {
	spec, ok := o.Spec.(*resource.SessionSpec)
	if !ok {
		return nil, fmt.Errorf("session %q: not a session record", o.Metadata.Name)
	}
	c := &cached{rev: o.Metadata.Revision, sess: Session{ID: o.Metadata.Name, User: spec.User, Created: spec.Created,
		LastSeen: spec.LastSeen, Expires: spec.Expires, SecondFactorAt: spec.SecondFactorAt,
		Address: spec.Address, UserAgent: spec.UserAgent}}
	c.sess.Methods = make([]MethodUse, len(spec.Methods))
	for i, m := range spec.Methods {
		c.sess.Methods[i] = MethodUse(m)
	}
	if n, err := hex.Decode(c.hash[:], []byte(spec.SecretHash)); err != nil || n != sha256.Size {
		return nil, fmt.Errorf("session %q: malformed secret hash", o.Metadata.Name)
	}
	return c, nil
}

func (c *cached) object() *resource.Object {
	spec := &resource.SessionSpec{User: c.sess.User, SecretHash: hex.EncodeToString(c.hash[:]), Created: c.sess.Created,
		LastSeen: c.sess.LastSeen, Expires: c.sess.Expires, SecondFactorAt: c.sess.SecondFactorAt,
		Address: c.sess.Address, UserAgent: c.sess.UserAgent}
	spec.Methods = make([]resource.SessionMethod, len(c.sess.Methods))
	for i, m := range c.sess.Methods {
		spec.Methods[i] = resource.SessionMethod(m)
	}
	return &resource.Object{Kind: resource.KindSession, Version: resource.Version,
		Metadata: resource.Metadata{Name: c.sess.ID, Revision: c.rev}, Spec: spec}
}

// copyOut is the session as handed to a caller: its own copy, with the secret when given.
func (c *cached) copyOut(secret string) *Session {
	out := c.sess
	out.Methods = append([]MethodUse(nil), c.sess.Methods...)
	out.secret = secret
	return &out
}

// ended says why the session is over at now, or "".
func (s *Sessions) ended(sess *Session, now time.Time) string {
	switch {
	case !now.Before(sess.Expires):
		return "expired"
	case !now.Before(sess.LastSeen.Add(s.cfg.Idle)):
		return "idle"
	}
	return ""
}

func methodNames(ms []MethodUse) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Method
		if m.Connector != "" {
			names[i] += ":" + m.Connector
		}
	}
	return strings.Join(names, "+")
}

func clip(v string, n int) string {
	v = strings.ToValidUTF8(v, "")
	for len(v) > n {
		_, size := utf8.DecodeLastRuneInString(v)
		v = v[:len(v)-size]
	}
	return v
}

// ---- the cookie ----

// parseCookie reads "<id>.<secret>".
func parseCookie(v string) (id, secret string, ok bool) {
	if len(v) > maxCookie {
		return "", "", false
	}
	id, secret, ok = strings.Cut(v, ".")
	if !ok || !resource.IsSessionID(id) || len(secret) < 32 {
		return "", "", false
	}
	return id, secret, true
}

func (s *Sessions) cookieOf(r *http.Request) (id, secret string, ok bool) {
	c, err := r.Cookie(s.CookieName())
	if err != nil {
		return "", "", false
	}
	return parseCookie(c.Value)
}

func (s *Sessions) setCookie(w http.ResponseWriter, value string, expires time.Time) {
	c := &http.Cookie{Name: s.CookieName(), Value: value, Path: "/", HttpOnly: true, Secure: s.cfg.Secure,
		SameSite: http.SameSiteLaxMode}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires.UTC()
	}
	http.SetCookie(w, c)
}

// ---- lookups and the cache ----

// lookup finds session id: from the cache, or from the store (then cached if nothing changed
// meanwhile). nil when there is no such session.
func (s *Sessions) lookup(ctx context.Context, id string) (*cached, error) {
	s.mu.RLock()
	c, feeding, gen := s.cache[id], s.cache != nil, s.gen
	s.mu.RUnlock()
	if c != nil {
		return c, nil
	}
	o, err := s.store.Get(ctx, resource.KindSession, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c, err = sessionOf(o); err != nil {
		return nil, err
	}
	if feeding {
		s.mu.Lock()
		// A change applied meanwhile may be newer than what was read: leave it to the next lookup.
		if s.cache != nil && s.gen == gen && s.cache[id] == nil && len(s.cache) < maxCached {
			s.cache[id] = c
		}
		s.mu.Unlock()
	}
	return c, nil
}

// put caches what this process wrote (the feed brings it too; the newer revision wins).
func (s *Sessions) put(o *resource.Object) {
	c, err := sessionOf(o)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		return
	}
	s.gen++
	if old := s.cache[c.sess.ID]; old != nil && old.rev >= c.rev {
		return
	}
	if _, had := s.cache[c.sess.ID]; had || len(s.cache) < maxCached {
		s.cache[c.sess.ID] = c
	}
}

func (s *Sessions) drop(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		return
	}
	s.gen++
	for _, id := range ids {
		delete(s.cache, id)
	}
}

// apply applies one change of the feed.
func (s *Sessions) apply(ev store.Event) {
	if ev.Object != nil && ev.Object.Kind == resource.KindUser {
		s.applyUser(ev)
		return
	}
	if ev.Object == nil || ev.Object.Kind != resource.KindSession {
		return
	}
	if ev.Type == store.Delete {
		s.drop(ev.Object.Metadata.Name)
		return
	}
	s.mu.Lock()
	if s.cache != nil {
		s.gen++
		// Only sessions already cached are refreshed; others are read when first used.
		if old := s.cache[ev.Object.Metadata.Name]; old != nil && old.rev < ev.Revision {
			if c, err := sessionOf(ev.Object); err == nil {
				c.rev = ev.Revision
				s.cache[c.sess.ID] = c
			}
		}
	}
	s.mu.Unlock()
}

// Run keeps the cache current from the store's change feed, and deletes ended sessions every
// few minutes, until ctx ends. Without it, every check reads the store.
func (s *Sessions) Run(ctx context.Context) {
	sweep := s.clk.NewTicker(sweepEvery)
	defer sweep.Stop()
	for ctx.Err() == nil {
		rev, err := s.store.Revision(ctx)
		if err == nil {
			w := s.store.Watch(ctx, rev+1)
			s.mu.Lock()
			s.cache, s.gen = map[string]*cached{}, s.gen+1
			s.users, s.ugen = map[string]*cachedUser{}, s.ugen+1
			s.mu.Unlock()
			s.follow(ctx, w, sweep)
			s.mu.Lock()
			s.cache, s.gen = nil, s.gen+1
			s.users, s.ugen = nil, s.ugen+1
			s.mu.Unlock()
		}
		if ctx.Err() != nil {
			return
		}
		// The feed failed (compacted, the store unreachable): start afresh after a short pause.
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (s *Sessions) follow(ctx context.Context, w *store.Watch, sweep clock.Ticker) {
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			s.apply(ev)
			if s.onApply != nil {
				s.onApply(ev)
			}
		case <-sweep.C():
			s.Sweep(ctx) // errors: the next sweep tries again
		}
	}
}

// Feeding reports whether Run's change feed is keeping the cache (tests wait on it).
func (s *Sessions) Feeding() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cache != nil
}

// Cached is how many sessions the cache holds.
func (s *Sessions) Cached() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.cache)
}

// ---- users ----

// cachedUser is what a session's caller needs of its user: that it exists, and whether it is an
// administrator.
type cachedUser struct {
	admin bool
	rev   int64
}

// User says whether user exists and is an administrator, as the store says now: from a cache the
// change feed keeps (Run), so a demotion or a deletion made on any replica counts here as soon as
// the feed brings it; read from the store while Run is not feeding. A session's caller is its user
// with this admin flag, checked at every request as a token's is.
func (s *Sessions) User(ctx context.Context, user string) (exists, admin bool, err error) {
	s.mu.RLock()
	u, feeding, gen := s.users[user], s.users != nil, s.ugen
	s.mu.RUnlock()
	if u != nil {
		return true, u.admin, nil
	}
	o, err := s.store.Get(ctx, resource.KindUser, user)
	if errors.Is(err, store.ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	u = &cachedUser{admin: o.Spec.(*resource.UserSpec).Admin, rev: o.Metadata.Revision}
	if feeding {
		s.mu.Lock()
		if s.users != nil && s.ugen == gen && s.users[user] == nil && len(s.users) < maxCached {
			s.users[user] = u
		}
		s.mu.Unlock()
	}
	return true, u.admin, nil
}

// applyUser applies a change of a user: a deletion forgets it, an update of one cached refreshes it.
func (s *Sessions) applyUser(ev store.Event) {
	name := ev.Object.Metadata.Name
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users == nil {
		return
	}
	s.ugen++
	if ev.Type == store.Delete {
		delete(s.users, name)
		return
	}
	if old := s.users[name]; old != nil && old.rev < ev.Revision {
		if spec, ok := ev.Object.Spec.(*resource.UserSpec); ok {
			s.users[name] = &cachedUser{admin: spec.Admin, rev: ev.Revision}
		} else {
			delete(s.users, name)
		}
	}
}

// ---- issue, check, step up ----

func newSecret() (id, secret string, err error) {
	idb := make([]byte, 8)
	sec := make([]byte, 32)
	if _, err := rand.Read(idb); err != nil {
		return "", "", err
	}
	if _, err := rand.Read(sec); err != nil {
		return "", "", err
	}
	return hex.EncodeToString(idb), base64.RawURLEncoding.EncodeToString(sec), nil
}

// Issue starts a session for user (after every factor the flow required), sets the cookie, and
// ends the session r carried, if any (no fixation). Audited.
func (s *Sessions) Issue(ctx context.Context, w http.ResponseWriter, r *http.Request, user string, methods ...MethodUse) (*Session, error) {
	if len(methods) == 0 {
		return nil, errors.New("session: issued without any sign-in method")
	}
	if user == "" || user == BootstrapUser {
		return nil, &resource.FieldError{Field: "user", Message: fmt.Sprintf("%q cannot have a session", user)}
	}
	now := s.clk.Now().UTC()
	id, secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	c := &cached{sess: Session{ID: id, User: user, Created: now, LastSeen: now, Expires: now.Add(s.cfg.Absolute),
		Address: clip(s.addr(r), resource.MaxSessionAddress), UserAgent: clip(r.UserAgent(), resource.MaxSessionUserAgent)}}
	for _, m := range methods {
		if m.At.IsZero() {
			m.At = now
		}
		m.At = m.At.UTC()
		c.sess.Methods = append(c.sess.Methods, m)
		if m.SecondFactor() && m.At.After(c.sess.SecondFactorAt) {
			c.sess.SecondFactorAt = m.At
		}
	}
	c.hash = sha256.Sum256([]byte(secret))
	o := c.object()
	if err := resource.Validate(o); err != nil {
		return nil, err
	}
	prev, prevSecret, hadPrev := s.cookieOf(r)
	var ended *resource.Object
	err = s.store.Txn(ctx, func(tx store.Tx) error {
		ended = nil
		if _, err := tx.Get(ctx, resource.KindUser, user); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return &resource.FieldError{Field: "user", Message: fmt.Sprintf("user %q does not exist", user)}
			}
			return err
		}
		var entries []audit.Entry
		if hadPrev {
			old, err := tx.Get(ctx, resource.KindSession, prev)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return err
			default:
				if oc, err := sessionOf(old); err == nil && secretMatches(oc, prevSecret) {
					if _, err := tx.Delete(ctx, resource.KindSession, prev, 0); err != nil {
						return err
					}
					ended = old
					entries = append(entries, audit.Entry{Actor: oc.sess.User, Action: "end", Kind: resource.KindSession, Name: prev,
						Detail: fmt.Sprintf("session %s of %s ended: a new sign-in (session %s) replaced it", prev, oc.sess.User, id)})
				}
			}
		}
		if err := tx.Create(ctx, o); err != nil {
			return err
		}
		entries = append(entries, audit.Entry{Actor: user, Action: "create", Kind: resource.KindSession, Name: id,
			Detail: fmt.Sprintf("session %s for %s signed in with %s from %s, expires %s", id, user, methodNames(c.sess.Methods),
				orUnknown(c.sess.Address), c.sess.Expires.Format(time.RFC3339))})
		return audit.Append(ctx, tx, entries...)
	})
	if err != nil {
		return nil, err
	}
	if ended != nil {
		s.drop(ended.Metadata.Name)
	}
	s.put(o)
	s.setCookie(w, id+"."+secret, c.sess.Expires)
	return c.copyOut(secret), nil
}

func orUnknown(v string) string {
	if v == "" {
		return "an unknown address"
	}
	return v
}

func secretMatches(c *cached, secret string) bool {
	sum := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(sum[:], c.hash[:]) == 1
}

// Current is the valid session r's cookie names, or (nil, nil).
func (s *Sessions) Current(r *http.Request) (*Session, error) {
	id, secret, ok := s.cookieOf(r)
	if !ok {
		return nil, nil
	}
	ctx := r.Context()
	c, err := s.lookup(ctx, id)
	if err != nil || c == nil {
		return nil, err
	}
	if !secretMatches(c, secret) {
		return nil, nil
	}
	now := s.clk.Now()
	if s.ended(&c.sess, now) != "" {
		return nil, nil
	}
	if now.Sub(c.sess.LastSeen) >= touchEvery {
		if c, err = s.touch(ctx, c, now); err != nil || c == nil {
			return nil, err
		}
	}
	return c.copyOut(secret), nil
}

// touch writes now as c's LastSeen (one writer at a time per session; a concurrent write by
// another replica wins and is fine). nil: the session is gone.
func (s *Sessions) touch(ctx context.Context, c *cached, now time.Time) (*cached, error) {
	s.touchMu.Lock()
	busy := s.touching[c.sess.ID]
	s.touching[c.sess.ID] = true
	s.touchMu.Unlock()
	if busy {
		return c, nil
	}
	defer func() {
		s.touchMu.Lock()
		delete(s.touching, c.sess.ID)
		s.touchMu.Unlock()
	}()
	n := *c
	n.sess.LastSeen = now.UTC()
	o := n.object()
	err := s.store.Update(ctx, o)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.drop(c.sess.ID)
		return nil, nil
	case errors.Is(err, store.ErrConflict):
		return c, nil // someone else wrote it first; the feed brings it
	case err != nil:
		return nil, err
	}
	s.put(o)
	n.rev = o.Metadata.Revision
	return &n, nil
}

// update rewrites session id with change, retrying over concurrent writes, and audits it.
func (s *Sessions) update(ctx context.Context, id string, change func(*Session) audit.Entry) (*cached, error) {
	for attempt := 0; ; attempt++ {
		var out *cached
		err := s.store.Txn(ctx, func(tx store.Tx) error {
			o, err := tx.Get(ctx, resource.KindSession, id)
			if err != nil {
				return err
			}
			c, err := sessionOf(o)
			if err != nil {
				return err
			}
			if why := s.ended(&c.sess, s.clk.Now()); why != "" {
				return fmt.Errorf("session %s has ended (%s): %w", id, why, ErrUnauthenticated)
			}
			e := change(&c.sess)
			n := c.object()
			if err := resource.Validate(n); err != nil {
				return err
			}
			if err := tx.Update(ctx, n); err != nil {
				return err
			}
			e.Kind, e.Name = resource.KindSession, id
			if err := audit.Append(ctx, tx, e); err != nil {
				return err
			}
			c.rev = n.Metadata.Revision
			out = c
			return nil
		})
		if errors.Is(err, store.ErrConflict) && attempt < 5 {
			continue
		}
		if errors.Is(err, store.ErrNotFound) {
			s.drop(id)
			return nil, fmt.Errorf("session %s has ended: %w", id, ErrUnauthenticated)
		}
		if err != nil {
			return nil, err
		}
		s.put(out.object())
		return out, nil
	}
}

// AddFactor records a second factor used now on sess (step-up).
func (s *Sessions) AddFactor(ctx context.Context, sess *Session, m MethodUse) error {
	if m.At.IsZero() {
		m.At = s.clk.Now()
	}
	m.At = m.At.UTC()
	c, err := s.update(ctx, sess.ID, func(cur *Session) audit.Entry {
		cur.Methods = append(cur.Methods, m)
		if len(cur.Methods) > resource.MaxSessionMethods { // keep the first (the sign-in) and the latest
			cur.Methods = append(cur.Methods[:1], cur.Methods[len(cur.Methods)-resource.MaxSessionMethods+1:]...)
		}
		if m.SecondFactor() && m.At.After(cur.SecondFactorAt) {
			cur.SecondFactorAt = m.At
		}
		return audit.Entry{Actor: cur.User, Action: "update",
			Detail: fmt.Sprintf("session %s of %s: %s used", cur.ID, cur.User, methodNames([]MethodUse{m}))}
	})
	if err != nil {
		return err
	}
	secret := sess.secret
	*sess = *c.copyOut(secret)
	return nil
}

// ---- CSRF ----

// CSRFToken is the token forms of sess carry (hidden field "csrf"); "" for a session read
// without its cookie (List).
func (s *Sessions) CSRFToken(sess *Session) string {
	if sess == nil || sess.secret == "" {
		return ""
	}
	return csrfOf(sess.ID, sess.secret)
}

func csrfOf(id, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("warden csrf " + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF checks the X-CSRF-Token header, or else the form field "csrf" (of a body
// application/x-www-form-urlencoded, read up to 64 KiB), in constant time against sess's token.
func (s *Sessions) CheckCSRF(r *http.Request, sess *Session) bool {
	want := s.CSRFToken(sess)
	if want == "" {
		return false
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" && r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
			if r.PostForm == nil {
				r.Body = http.MaxBytesReader(nil, r.Body, maxFormBody)
				_ = r.ParseForm()
			}
			got = r.PostForm.Get(CSRFField)
		}
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// ---- ending ----

// End ends r's session and clears the cookie (sign out); EndAll ends every session of user.
func (s *Sessions) End(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	s.setCookie(w, "", time.Time{})
	id, secret, ok := s.cookieOf(r)
	if !ok {
		return nil
	}
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		o, err := tx.Get(ctx, resource.KindSession, id)
		if err != nil {
			return err
		}
		c, err := sessionOf(o)
		if err != nil {
			return err
		}
		if !secretMatches(c, secret) {
			return store.ErrNotFound
		}
		if _, err := tx.Delete(ctx, resource.KindSession, id, 0); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: c.sess.User, Action: "end", Kind: resource.KindSession, Name: id,
			Detail: fmt.Sprintf("session %s of %s ended: signed out", id, c.sess.User)})
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s.drop(id)
	return nil
}

// EndAll ends every session of user ("sign out everywhere", or an administrator's revocation),
// audited with actor as who did it. It returns how many it ended.
func (s *Sessions) EndAll(ctx context.Context, user, actor string) (int, error) {
	return s.EndAllBy(ctx, &Principal{User: actor}, user)
}

// EndAllBy is EndAll by a caller, whose token the audit entries record too.
func (s *Sessions) EndAllBy(ctx context.Context, by *Principal, user string) (int, error) {
	var ids []string
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		ids = ids[:0]
		objs, err := tx.List(ctx, resource.KindSession, store.ListOptions{Filters: store.Filter(resource.IndexUser, user)})
		if err != nil {
			return err
		}
		var entries []audit.Entry
		for _, o := range objs {
			if _, err := tx.Delete(ctx, resource.KindSession, o.Metadata.Name, 0); err != nil {
				return err
			}
			ids = append(ids, o.Metadata.Name)
			entries = append(entries, by.Entry(audit.Entry{Action: "revoke", Kind: resource.KindSession, Name: o.Metadata.Name,
				Detail: revokedDetail(o.Metadata.Name, user, by.User) + " (every session of " + user + ")"}))
		}
		return audit.Append(ctx, tx, entries...)
	})
	if err != nil {
		return 0, err
	}
	s.drop(ids...)
	return len(ids), nil
}

func revokedDetail(id, user, actor string) string {
	if actor == user {
		return fmt.Sprintf("session %s of %s revoked by %s", id, user, actor)
	}
	return fmt.Sprintf("session %s of %s revoked by %s on %s's behalf", id, user, actor, user)
}

// Revoke ends session id at by's request, audited with who revoked it on whose behalf.
// Authorization (own sessions, or an administrator) is the caller's.
func (s *Sessions) Revoke(ctx context.Context, by *Principal, id string) (*Session, error) {
	if !resource.IsSessionID(id) {
		return nil, &resource.FieldError{Field: "id", Message: fmt.Sprintf("%q is not a session id (16 hex digits)", id)}
	}
	var out *Session
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		o, err := tx.Delete(ctx, resource.KindSession, id, 0)
		if err != nil {
			return err
		}
		c, err := sessionOf(o)
		if err != nil {
			return err
		}
		out = c.copyOut("")
		return audit.Append(ctx, tx, by.Entry(audit.Entry{Action: "revoke", Kind: resource.KindSession, Name: id,
			Detail: revokedDetail(id, c.sess.User, by.User)}))
	})
	if err != nil {
		return nil, err
	}
	s.drop(id)
	return out, nil
}

// Get reads session id as stored (without its secret), whether or not it has ended.
func (s *Sessions) Get(ctx context.Context, id string) (*Session, error) {
	if !resource.IsSessionID(id) {
		return nil, &resource.FieldError{Field: "id", Message: fmt.Sprintf("%q is not a session id (16 hex digits)", id)}
	}
	o, err := s.store.Get(ctx, resource.KindSession, id)
	if err != nil {
		return nil, err
	}
	c, err := sessionOf(o)
	if err != nil {
		return nil, err
	}
	return c.copyOut(""), nil
}

// List reads the sessions that have not ended (without their secrets): user's, or everyone's when
// user is "", ordered by user then by creation.
func (s *Sessions) List(ctx context.Context, user string) ([]*Session, error) {
	opts := store.ListOptions{}
	if user != "" {
		opts.Filters = store.Filter(resource.IndexUser, user)
	}
	objs, err := s.store.List(ctx, resource.KindSession, opts)
	if err != nil {
		return nil, err
	}
	now := s.clk.Now()
	out := make([]*Session, 0, len(objs))
	for _, o := range objs {
		c, err := sessionOf(o)
		if err != nil {
			return nil, err
		}
		if s.ended(&c.sess, now) == "" {
			out = append(out, c.copyOut(""))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].User != out[j].User {
			return out[i].User < out[j].User
		}
		return out[i].Created.Before(out[j].Created)
	})
	return out, nil
}

// Sweep deletes the sessions that have ended (idle or past their expiry), each audited as
// expired by warden, and returns how many it deleted.
func (s *Sessions) Sweep(ctx context.Context) (int, error) {
	now := s.clk.Now()
	n := 0
	after := ""
	for {
		objs, err := s.store.List(ctx, resource.KindSession, store.ListOptions{After: after, Limit: 500})
		if err != nil {
			return n, err
		}
		for _, o := range objs {
			c, err := sessionOf(o)
			if err != nil {
				continue
			}
			why := s.ended(&c.sess, now)
			if why == "" {
				continue
			}
			err = s.store.Txn(ctx, func(tx store.Tx) error {
				if _, err := tx.Delete(ctx, resource.KindSession, o.Metadata.Name, o.Metadata.Revision); err != nil {
					return err
				}
				detail := fmt.Sprintf("session %s of %s expired at %s", o.Metadata.Name, c.sess.User, c.sess.Expires.Format(time.RFC3339))
				if why == "idle" {
					detail = fmt.Sprintf("session %s of %s ended: unused since %s", o.Metadata.Name, c.sess.User, c.sess.LastSeen.Format(time.RFC3339))
				}
				return audit.Append(ctx, tx, audit.Entry{Actor: WardenActor, Action: "expire", Kind: resource.KindSession,
					Name: o.Metadata.Name, Detail: detail})
			})
			switch {
			case err == nil:
				n++
				s.drop(o.Metadata.Name)
			case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
				// used, ended or swept meanwhile
			default:
				return n, err
			}
		}
		if len(objs) < 500 {
			return n, nil
		}
		after = objs[len(objs)-1].Metadata.Name
	}
}
