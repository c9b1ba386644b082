// Package throttle limits failed sign-ins, per account and per source address, in the store so
// that every replica counts the same failures.
//
// The policy (config auth.lockout):
//   - Per account: the first 3 failures are free; after the n-th (n > 3) the next attempt must wait
//     base_delay·2^(n-4), at most 5 minutes. At account_failures failures the account is locked for
//     lock_for: every attempt is refused, the right password included, until the lock ends or an
//     administrator lifts it (Unlock).
//   - Per source address (an IPv4 address, or an IPv6 /64: one host has a whole /64): at
//     source_failures failures the source is locked for lock_for, whichever accounts it tried. No
//     delay is imposed per source: many people may share one address (an office, a NAT), which is
//     why source_failures is high.
//   - A lock that ends starts the count afresh; so does a day without failures.
//   - A success (Succeed) clears the account's count (not a lock in force). It clears the source's
//     count too, but at most once per lock_for: otherwise an attacker holding one account of their
//     own could sign in between guesses and never reach the source's limit.
//
// The throttle never looks at users: a name that is no account is counted, delayed and locked
// exactly as one that is, so its answers say nothing of which accounts exist. Records are named by
// the SHA-256 of "account:<lower-cased name>" or "source:<address>", so a listing of the store does
// not name who was tried. (A name can be found from its hash by trying likely names: the hash keeps
// the names out of plain sight, it is no secret.)
//
// Locks are audited (actor warden, the detail naming the account or address), and unlocks with the
// administrator who lifted them. Failures and locks are counted in metrics.
//
// Cost, on SQLite (BenchmarkThrottleCheck, BenchmarkThrottleFail; 2-core AMD EPYC, load average
// about 1.5): Check, two reads, about 0.1 ms; Fail, two transactions, about 0.6 ms (0.3 ms and
// 1.2 ms at load average 10). Both are small beside the argon2id check an attempt costs (about
// 150 ms).
package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

const (
	// freeFailures are the failures per account that cost no delay.
	freeFailures = 3
	// maxDelay caps the delay between attempts on one account.
	maxDelay = 5 * time.Minute
	// forgetAfter: a count with no failure for this long starts afresh.
	forgetAfter = 24 * time.Hour
	// maxRetries bounds the compare-and-swap retries of one update.
	maxRetries = 100
	// sweepEvery: how often Fail removes records that no longer hold anything (in the background).
	sweepEvery = 10 * time.Minute
	sweepBatch = 500
	// maxKeyInput bounds the account name or address hashed (longer input is cut: it is no name).
	maxKeyInput = 1024
)

// wardenActor is the audit log's actor for what warden does of itself (as auth.WardenActor).
const wardenActor = "warden"

// Audit actions.
const (
	ActionLock   = "signin.lock"
	ActionUnlock = "signin.unlock"
)

// Throttle counts failed sign-ins. Its methods are safe for concurrent use, from any number of
// replicas sharing the store.
type Throttle struct {
	st    store.Store
	cfg   config.Lockout
	clock clock.Clock

	failures *prometheus.CounterVec
	locks    *prometheus.CounterVec

	sweepMu   sync.Mutex
	lastSweep time.Time
	sweeping  bool
}

// Option configures a Throttle.
type Option func(*Throttle)

// WithClock makes the throttle read time from c (tests).
func WithClock(c clock.Clock) Option { return func(t *Throttle) { t.clock = c } }

// New returns a throttle keeping its counts in st (kind auth_throttle), with cfg's limits (unset
// ones at their defaults).
func New(st store.Store, cfg config.Lockout, opts ...Option) *Throttle {
	cfg = config.Auth{Lockout: cfg}.WithDefaults().Lockout
	t := &Throttle{
		st: st, cfg: cfg, clock: clock.Real(),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warden_signin_failures_total",
			Help: "Sign-in attempts that failed, by reason: credentials (a wrong password or code), delayed (refused: too soon after failures), locked (refused: the account or address is locked)."},
			[]string{"reason"}),
		locks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warden_signin_locked_total",
			Help: "Locks imposed after repeated failed sign-ins, by scope (account, source)."},
			[]string{"scope"}),
	}
	for _, r := range []string{"credentials", "delayed", "locked"} {
		t.failures.WithLabelValues(r)
	}
	for _, s := range []string{resource.ThrottleAccount, resource.ThrottleSource} {
		t.locks.WithLabelValues(s)
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Metrics are the throttle's collectors, to register with the server's registry.
func (t *Throttle) Metrics() []prometheus.Collector {
	return []prometheus.Collector{t.failures, t.locks}
}

// key is one counted scope: the record's name and, for audit details, what it counts.
type key struct {
	scope, name, label string
}

func accountKey(account string) (key, bool) {
	a := strings.ToLower(strings.TrimSpace(account))
	if a == "" {
		return key{}, false
	}
	if len(a) > maxKeyInput {
		a = a[:maxKeyInput]
	}
	return key{resource.ThrottleAccount, hashName(resource.ThrottleAccount + ":" + a), a}, true
}

func sourceKey(source string) (key, bool) {
	s := NormaliseSource(source)
	if s == "" {
		return key{}, false
	}
	return key{resource.ThrottleSource, hashName(resource.ThrottleSource + ":" + s), s}, true
}

func hashName(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// NormaliseSource is the address a source is counted under: an IPv4 address as is (an IPv4-mapped
// IPv6 address as IPv4), an IPv6 address as its /64, anything else (not an address) lower-cased
// and cut to 1024 bytes.
func NormaliseSource(source string) string {
	source = strings.TrimSpace(source)
	if a, err := netip.ParseAddr(source); err == nil {
		a = a.Unmap().WithZone("")
		if a.Is6() {
			p, _ := a.Prefix(64)
			return p.String()
		}
		return a.String()
	}
	if len(source) > maxKeyInput {
		source = source[:maxKeyInput]
	}
	return strings.ToLower(source)
}

// delay is how long the next attempt waits after the n-th failure on an account.
func (t *Throttle) delay(n int) time.Duration {
	if n <= freeFailures {
		return 0
	}
	d := t.cfg.BaseDelay
	for i := freeFailures + 1; i < n; i++ {
		d *= 2
		if d >= maxDelay {
			return maxDelay
		}
	}
	return min(d, maxDelay)
}

func (t *Throttle) get(ctx context.Context, r store.Reader, k key) (*resource.Object, *resource.AuthThrottleSpec, error) {
	o, err := r.Get(ctx, resource.KindAuthThrottle, k.name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &resource.AuthThrottleSpec{Scope: k.scope}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sign-in throttle: %w", err)
	}
	s, ok := o.Spec.(*resource.AuthThrottleSpec)
	if !ok {
		return nil, nil, fmt.Errorf("sign-in throttle: record %s holds a %T", k.name, o.Spec)
	}
	return o, s, nil
}

// Check says whether an attempt to sign in as account from source may be made now. locked: the
// account or the source is locked (wait is then the time until the lock ends, unless an
// administrator lifts it first); otherwise wait > 0: not before wait has passed. Call it before
// checking any password, and refuse the attempt, without checking it, unless it returns (0, false).
// Unknown accounts are answered exactly as known ones.
func (t *Throttle) Check(ctx context.Context, account, source string) (wait time.Duration, locked bool, err error) {
	now := t.clock.Now()
	for _, k := range t.keys(account, source) {
		_, s, err := t.get(ctx, t.st, k)
		if err != nil {
			return 0, false, err
		}
		if now.Before(s.LockedUntil) {
			if !locked {
				wait = 0
			}
			locked = true
			wait = max(wait, s.LockedUntil.Sub(now))
		} else if !locked && k.scope == resource.ThrottleAccount && now.Before(s.NextAllowed) && !t.forgotten(s, now) {
			wait = max(wait, s.NextAllowed.Sub(now))
		}
	}
	switch {
	case locked:
		t.failures.WithLabelValues("locked").Inc()
	case wait > 0:
		t.failures.WithLabelValues("delayed").Inc()
	}
	return wait, locked, nil
}

func (t *Throttle) keys(account, source string) []key {
	var ks []key
	if k, ok := accountKey(account); ok {
		ks = append(ks, k)
	}
	if k, ok := sourceKey(source); ok {
		ks = append(ks, k)
	}
	return ks
}

// forgotten: s's count is over (its lock ended, or no failure for forgetAfter), so the next
// failure starts afresh.
func (t *Throttle) forgotten(s *resource.AuthThrottleSpec, now time.Time) bool {
	if !s.LockedUntil.IsZero() && !now.Before(s.LockedUntil) {
		return true
	}
	return s.LockedUntil.IsZero() && now.Sub(s.LastFailure) >= forgetAfter
}

// Fail counts a failed sign-in as account from source (a wrong password or second factor, or a
// name that is no account), delaying or locking the next attempts as the policy says. A lock is
// audited in the same transaction.
func (t *Throttle) Fail(ctx context.Context, account, source string) error {
	t.failures.WithLabelValues("credentials").Inc()
	now := t.clock.Now()
	for _, k := range t.keys(account, source) {
		limit := t.cfg.AccountFailures
		if k.scope == resource.ThrottleSource {
			limit = t.cfg.SourceFailures
		}
		lockedNow := false
		err := t.update(ctx, k, func(s *resource.AuthThrottleSpec) (*audit.Entry, bool) {
			lockedNow = false
			if t.forgotten(s, now) {
				*s = resource.AuthThrottleSpec{Scope: k.scope, LastReset: s.LastReset}
			}
			s.Failures++
			s.LastFailure = now
			if k.scope == resource.ThrottleAccount {
				s.NextAllowed = now.Add(t.delay(s.Failures))
			}
			if s.Failures < limit || now.Before(s.LockedUntil) {
				return nil, true
			}
			s.LockedUntil = now.Add(t.cfg.LockFor)
			lockedNow = true
			return &audit.Entry{Actor: wardenActor, Action: ActionLock, Time: now,
				Kind: resource.KindAuthThrottle, Name: k.name,
				Detail: fmt.Sprintf("%s %s locked for %s, until %s, after %d failed sign-ins; warden user unlock lifts an account's lock",
					k.scope, quote(k), t.cfg.LockFor, s.LockedUntil.UTC().Format(time.RFC3339), s.Failures)}, true
		})
		if err != nil {
			return err
		}
		if lockedNow {
			t.locks.WithLabelValues(k.scope).Inc()
		}
	}
	t.maybeSweep(now)
	return nil
}

func quote(k key) string {
	if k.scope == resource.ThrottleAccount {
		return fmt.Sprintf("%q", k.label)
	}
	return k.label
}

// Succeed records a successful sign-in as account from source: the account's count starts afresh
// (a lock in force stays: Check refuses before any password is checked), and so does the source's,
// at most once per lock_for.
func (t *Throttle) Succeed(ctx context.Context, account, source string) error {
	now := t.clock.Now()
	for _, k := range t.keys(account, source) {
		err := t.update(ctx, k, func(s *resource.AuthThrottleSpec) (*audit.Entry, bool) {
			if now.Before(s.LockedUntil) || s.Failures == 0 && s.NextAllowed.IsZero() {
				return nil, false
			}
			if k.scope == resource.ThrottleSource {
				if !s.LastReset.IsZero() && now.Sub(s.LastReset) < t.cfg.LockFor {
					return nil, false
				}
				*s = resource.AuthThrottleSpec{Scope: k.scope, LastReset: now}
				return nil, true
			}
			*s = resource.AuthThrottleSpec{Scope: k.scope}
			return nil, true
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Unlock lifts account's lock and clears its count, for actor (an administrator), audited whether
// or not a lock was held.
func (t *Throttle) Unlock(ctx context.Context, account, actor string) error {
	k, ok := accountKey(account)
	if !ok {
		return errors.New("unlock: which account? (the name is empty)")
	}
	if actor == "" {
		return errors.New("unlock: who unlocks? (the actor is empty)")
	}
	now := t.clock.Now()
	return t.st.Txn(ctx, func(tx store.Tx) error {
		o, s, err := t.get(ctx, tx, k)
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("account %q held no lock and no failed sign-ins", k.label)
		if o != nil {
			switch {
			case now.Before(s.LockedUntil):
				detail = fmt.Sprintf("account %q unlocked (it was locked until %s after %d failed sign-ins)", k.label, s.LockedUntil.UTC().Format(time.RFC3339), s.Failures)
			default:
				detail = fmt.Sprintf("account %q held no lock; its %d failed sign-ins are cleared", k.label, s.Failures)
			}
			if _, err := tx.Delete(ctx, resource.KindAuthThrottle, k.name, o.Metadata.Revision); err != nil {
				return fmt.Errorf("unlock: %w", err)
			}
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: ActionUnlock, Time: now,
			Kind: resource.KindAuthThrottle, Name: k.name, Detail: detail})
	})
}

// update applies change to k's record in a transaction, creating it if need be, with a
// compare-and-swap on its revision, retried on a conflict. change returns the audit entry to append
// with the write (or nil) and whether to write at all.
func (t *Throttle) update(ctx context.Context, k key, change func(*resource.AuthThrottleSpec) (*audit.Entry, bool)) error {
	for range maxRetries {
		err := t.st.Txn(ctx, func(tx store.Tx) error {
			o, s, err := t.get(ctx, tx, k)
			if err != nil {
				return err
			}
			entry, write := change(s)
			if !write {
				return nil
			}
			if o == nil {
				o = &resource.Object{Kind: resource.KindAuthThrottle, Version: resource.Version,
					Metadata: resource.Metadata{Name: k.name}, Spec: s}
				err = tx.Create(ctx, o)
			} else {
				o.Spec = s
				err = tx.Update(ctx, o)
			}
			if err != nil {
				return err
			}
			if entry != nil {
				return audit.Append(ctx, tx, *entry)
			}
			return nil
		})
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrAlreadyExists) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sign-in throttle: %w", err)
		}
		return nil
	}
	return fmt.Errorf("sign-in throttle: %s record: still conflicting after %d tries", k.scope, maxRetries)
}

// maybeSweep starts, in the background and at most once per sweepEvery, the removal of records
// that hold nothing any more (no lock in force, no failure for forgetAfter): names tried once are
// not kept for ever.
func (t *Throttle) maybeSweep(now time.Time) {
	t.sweepMu.Lock()
	defer t.sweepMu.Unlock()
	if t.sweeping || now.Sub(t.lastSweep) < sweepEvery {
		return
	}
	if t.lastSweep.IsZero() { // the first failure after start: sweep at the next chance
		t.lastSweep = now
		return
	}
	t.sweeping, t.lastSweep = true, now
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		t.Sweep(ctx)
		t.sweepMu.Lock()
		t.sweeping = false
		t.sweepMu.Unlock()
	}()
}

// Sweep removes records that hold nothing any more, and says how many.
func (t *Throttle) Sweep(ctx context.Context) (int, error) {
	now := t.clock.Now()
	removed, after := 0, ""
	for {
		objs, err := t.st.List(ctx, resource.KindAuthThrottle, store.ListOptions{After: after, Limit: sweepBatch})
		if err != nil {
			return removed, fmt.Errorf("sign-in throttle sweep: %w", err)
		}
		for _, o := range objs {
			s, ok := o.Spec.(*resource.AuthThrottleSpec)
			if !ok || now.Before(s.LockedUntil) || now.Sub(s.LastFailure) < forgetAfter || now.Sub(s.LastReset) < forgetAfter {
				continue
			}
			if _, err := t.st.Delete(ctx, resource.KindAuthThrottle, o.Metadata.Name, o.Metadata.Revision); err == nil {
				removed++
			}
		}
		if len(objs) < sweepBatch {
			return removed, nil
		}
		after = objs[len(objs)-1].Metadata.Name
	}
}
