package throttle

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func newThrottle(t testing.TB, cfg config.Lockout) (*Throttle, store.Store, *clock.Fake) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := clock.NewFake(t0)
	return New(st, cfg, WithClock(c)), st, c
}

type answer struct {
	wait   time.Duration
	locked bool
}

func check(t *testing.T, th *Throttle, account, source string) answer {
	t.Helper()
	w, l, err := th.Check(context.Background(), account, source)
	if err != nil {
		t.Fatal(err)
	}
	return answer{w, l}
}

func fail(t *testing.T, th *Throttle, account, source string) {
	t.Helper()
	if err := th.Fail(context.Background(), account, source); err != nil {
		t.Fatal(err)
	}
}

func entries(t *testing.T, st store.Store, action string) []*resource.AuditEntrySpec {
	t.Helper()
	all, err := audit.List(context.Background(), st, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*resource.AuditEntrySpec
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// The first three failures are free; each further one doubles the wait, capped at 5 minutes; at
// account_failures the account is locked for lock_for, and the lock is audited and counted.
func TestThresholdsAndExponentialDelay(t *testing.T) {
	th, st, c := newThrottle(t, config.Lockout{AccountFailures: 10, SourceFailures: 1000, BaseDelay: time.Minute, LockFor: 15 * time.Minute})
	want := []time.Duration{0, 0, 0, time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	for i, w := range want {
		src := fmt.Sprintf("192.0.2.%d", i+1) // the delay is the account's, whatever the source
		if got := check(t, th, "Alice", src); got != (answer{}) {
			t.Fatalf("before failure %d: %+v", i+1, got)
		}
		fail(t, th, "alice", src)
		if got := check(t, th, "ALICE", "198.51.100.1"); got != (answer{w, false}) {
			t.Fatalf("after failure %d: %+v, want wait %s", i+1, got, w)
		}
		c.Advance(w)
	}
	if n := len(entries(t, st, ActionLock)); n != 0 {
		t.Fatalf("%d lock entries before the limit", n)
	}
	fail(t, th, "alice", "192.0.2.10")
	if got := check(t, th, "alice", "198.51.100.1"); got != (answer{15 * time.Minute, true}) {
		t.Fatalf("after the 10th failure: %+v", got)
	}
	c.Advance(10 * time.Minute)
	if got := check(t, th, "alice", "198.51.100.1"); got != (answer{5 * time.Minute, true}) {
		t.Fatalf("5 minutes before the lock ends: %+v", got)
	}
	locks := entries(t, st, ActionLock)
	if len(locks) != 1 || locks[0].Actor != "warden" || !strings.Contains(locks[0].Detail, `account "alice" locked for 15m0s`) {
		t.Fatalf("lock entries: %+v", locks)
	}
	if got := testutil.ToFloat64(th.locks.WithLabelValues("account")); got != 1 {
		t.Errorf("warden_signin_locked_total{scope=account} = %v", got)
	}
	if got := testutil.ToFloat64(th.failures.WithLabelValues("credentials")); got != 10 {
		t.Errorf("warden_signin_failures_total{reason=credentials} = %v", got)
	}
	if got := testutil.ToFloat64(th.failures.WithLabelValues("locked")); got != 2 {
		t.Errorf("warden_signin_failures_total{reason=locked} = %v", got)
	}
	// Other accounts are untouched.
	if got := check(t, th, "bob", "198.51.100.1"); got != (answer{}) {
		t.Fatalf("bob: %+v", got)
	}
}

// A lock ends after lock_for, and the count starts afresh.
func TestLockExpires(t *testing.T) {
	th, _, c := newThrottle(t, config.Lockout{AccountFailures: 5, BaseDelay: time.Second, LockFor: time.Hour})
	for range 5 {
		fail(t, th, "alice", "192.0.2.1")
	}
	if got := check(t, th, "alice", "192.0.2.1"); !got.locked {
		t.Fatalf("not locked: %+v", got)
	}
	c.Advance(time.Hour - time.Second)
	if got := check(t, th, "alice", "192.0.2.1"); got != (answer{time.Second, true}) {
		t.Fatalf("a second before: %+v", got)
	}
	c.Advance(time.Second)
	if got := check(t, th, "alice", "192.0.2.1"); got != (answer{}) {
		t.Fatalf("after lock_for: %+v", got)
	}
	fail(t, th, "alice", "192.0.2.1")
	if got := check(t, th, "alice", "192.0.2.1"); got != (answer{}) {
		t.Fatalf("the first failure after a lock is not free: %+v", got)
	}
	// A day without failures forgets them too.
	for range 3 {
		fail(t, th, "bob", "192.0.2.2")
	}
	c.Advance(25 * time.Hour)
	fail(t, th, "bob", "192.0.2.2")
	if got := check(t, th, "bob", "192.0.2.2"); got != (answer{}) {
		t.Fatalf("failures a day old still count: %+v", got)
	}
}

// An administrator lifts a lock; the unlock is audited with who.
func TestUnlock(t *testing.T) {
	th, st, _ := newThrottle(t, config.Lockout{AccountFailures: 4, LockFor: time.Hour})
	for range 4 {
		fail(t, th, "alice", "192.0.2.1")
	}
	if got := check(t, th, "alice", "192.0.2.9"); !got.locked {
		t.Fatal("not locked")
	}
	if err := th.Unlock(context.Background(), "Alice", "root-admin"); err != nil {
		t.Fatal(err)
	}
	if got := check(t, th, "alice", "192.0.2.9"); got != (answer{}) {
		t.Fatalf("after unlock: %+v", got)
	}
	un := entries(t, st, ActionUnlock)
	if len(un) != 1 || un[0].Actor != "root-admin" || !strings.Contains(un[0].Detail, `account "alice" unlocked`) {
		t.Fatalf("unlock entries: %+v", un)
	}
	// Unlocking what holds nothing is audited too, and says so.
	if err := th.Unlock(context.Background(), "carol", "root-admin"); err != nil {
		t.Fatal(err)
	}
	if un := entries(t, st, ActionUnlock); len(un) != 2 || !strings.Contains(un[1].Detail, "held no lock") {
		t.Fatalf("unlock entries: %+v", un)
	}
	if err := th.Unlock(context.Background(), "", "root-admin"); err == nil {
		t.Error("unlocked an empty name")
	}
	if err := th.Unlock(context.Background(), "alice", ""); err == nil {
		t.Error("unlocked with no actor")
	}
	if _, err := audit.Verify(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}

// One address trying many accounts is locked at source_failures, for every account; an IPv6 host
// is counted by its /64.
func TestSourceLockAcrossAccounts(t *testing.T) {
	th, st, _ := newThrottle(t, config.Lockout{AccountFailures: 5, SourceFailures: 20, LockFor: time.Hour})
	for i := range 20 {
		if got := check(t, th, fmt.Sprintf("user%d", i), "2001:db8:1:2::1"); got.locked {
			t.Fatalf("locked after %d failures", i)
		}
		fail(t, th, fmt.Sprintf("user%d", i), fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	if got := check(t, th, "someone-else", "2001:db8:1:2:ffff::7"); got != (answer{time.Hour, true}) {
		t.Fatalf("the /64: %+v", got)
	}
	if got := check(t, th, "someone-else", "2001:db8:1:3::1"); got != (answer{}) {
		t.Fatalf("another /64: %+v", got)
	}
	if got := check(t, th, "user0", "192.0.2.1"); got != (answer{}) {
		t.Fatalf("an account the source tried, from elsewhere: %+v", got)
	}
	locks := entries(t, st, ActionLock)
	if len(locks) != 1 || !strings.Contains(locks[0].Detail, "source 2001:db8:1:2::/64 locked") {
		t.Fatalf("lock entries: %+v", locks)
	}
}

// Concurrent failures are all counted: the account locks at exactly its limit.
func TestConcurrentFailures(t *testing.T) {
	th, st, _ := newThrottle(t, config.Lockout{AccountFailures: 1000, SourceFailures: 1000})
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := th.Fail(context.Background(), "alice", fmt.Sprintf("192.0.2.%d", i%4)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	k, _ := accountKey("alice")
	o, err := st.Get(context.Background(), resource.KindAuthThrottle, k.name)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Spec.(*resource.AuthThrottleSpec).Failures; got != n {
		t.Fatalf("%d failures counted of %d", got, n)
	}
	for i := range 4 {
		k, _ := sourceKey(fmt.Sprintf("192.0.2.%d", i))
		o, _ := st.Get(context.Background(), resource.KindAuthThrottle, k.name)
		if got := o.Spec.(*resource.AuthThrottleSpec).Failures; got != n/4 {
			t.Fatalf("source %d: %d failures counted of %d", i, got, n/4)
		}
	}
}

// The throttle's answers, and what it stores, are the same for a name that is an account and one
// that is not.
func TestExistingAndUnknownAccountsAnswerAlike(t *testing.T) {
	th, st, c := newThrottle(t, config.Lockout{AccountFailures: 6, SourceFailures: 1000, BaseDelay: time.Second, LockFor: time.Minute})
	alice := &resource.Object{Kind: resource.KindUser, Version: resource.Version, Metadata: resource.Metadata{Name: "alice"},
		Spec: &resource.UserSpec{Email: "alice@example.com"}}
	if err := st.Create(context.Background(), alice); err != nil {
		t.Fatal(err)
	}
	var seqs [2][]answer
	for step := range 12 {
		for i, name := range []string{"alice", "nobody"} {
			src := fmt.Sprintf("192.0.2.%d", i+1)
			seqs[i] = append(seqs[i], check(t, th, name, src))
			if step != 8 {
				fail(t, th, name, src)
			} else if err := th.Succeed(context.Background(), name, src); err != nil {
				t.Fatal(err)
			}
			seqs[i] = append(seqs[i], check(t, th, name, src))
		}
		c.Advance(3 * time.Second)
	}
	if fmt.Sprint(seqs[0]) != fmt.Sprint(seqs[1]) {
		t.Fatalf("answers differ:\nalice  %v\nnobody %v", seqs[0], seqs[1])
	}
	if !seqs[0][len(seqs[0])-1].locked {
		t.Fatalf("the sequence never reached a lock: %v", seqs[0])
	}
	ka, _ := accountKey("alice")
	kn, _ := accountKey("nobody")
	a, _ := st.Get(context.Background(), resource.KindAuthThrottle, ka.name)
	b, _ := st.Get(context.Background(), resource.KindAuthThrottle, kn.name)
	if fmt.Sprint(a.Spec) != fmt.Sprint(b.Spec) {
		t.Fatalf("records differ: %+v %+v", a.Spec, b.Spec)
	}
}

// The store names no account or address: records are named by hashes and hold only counts.
func TestRecordsNameNoOne(t *testing.T) {
	th, st, _ := newThrottle(t, config.Lockout{})
	fail(t, th, "alice.smith", "203.0.113.77")
	objs, err := st.List(context.Background(), resource.KindAuthThrottle, store.ListOptions{})
	if err != nil || len(objs) != 2 {
		t.Fatalf("%d records, %v", len(objs), err)
	}
	for _, o := range objs {
		b, _ := json.Marshal(o)
		if strings.Contains(string(b), "alice") || strings.Contains(string(b), "203.0.113") {
			t.Fatalf("record names who tried: %s", b)
		}
		if err := resource.Validate(o); err != nil {
			t.Fatal(err)
		}
	}
	if resource.IsPublic(resource.KindAuthThrottle) {
		t.Fatal("auth_throttle is served by the resource API")
	}
}

// A success clears the account's count but not a lock in force; it clears the source's at most
// once per lock_for, so an attacker's own account cannot keep a source under its limit.
func TestSucceed(t *testing.T) {
	th, _, c := newThrottle(t, config.Lockout{AccountFailures: 5, SourceFailures: 10, BaseDelay: time.Second, LockFor: time.Hour})
	ctx := context.Background()
	for range 4 {
		fail(t, th, "alice", "192.0.2.1")
	}
	if got := check(t, th, "alice", "192.0.2.1"); got.wait == 0 {
		t.Fatal("no delay after 4 failures")
	}
	if err := th.Succeed(ctx, "alice", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	fail(t, th, "alice", "192.0.2.1")
	if got := check(t, th, "alice", "192.0.2.1"); got != (answer{}) {
		t.Fatalf("the count did not start afresh: %+v", got)
	}
	// The source's count was cleared by that success (5 failures then, 1 now): 8 more failures
	// from it, on other accounts, and one success do not clear it again within the hour.
	for i := range 8 {
		fail(t, th, fmt.Sprintf("x%d", i), "192.0.2.1")
	}
	if err := th.Succeed(ctx, "attacker", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	fail(t, th, "y", "192.0.2.1")
	if got := check(t, th, "z", "192.0.2.1"); !got.locked {
		t.Fatalf("a second success within lock_for cleared the source: %+v", got)
	}
	// A lock in force stays through a success.
	for range 5 {
		fail(t, th, "bob", "192.0.2.2")
	}
	th.Succeed(ctx, "bob", "192.0.2.3")
	if got := check(t, th, "bob", "192.0.2.3"); !got.locked {
		t.Fatalf("a success lifted a lock: %+v", got)
	}
	c.Advance(time.Hour)
}

// Records that hold nothing any more are swept.
func TestSweep(t *testing.T) {
	th, st, c := newThrottle(t, config.Lockout{AccountFailures: 2, LockFor: 48 * time.Hour})
	fail(t, th, "alice", "192.0.2.1")
	fail(t, th, "bob", "192.0.2.2")
	fail(t, th, "bob", "192.0.2.2") // locked for two days
	c.Advance(25 * time.Hour)
	n, err := th.Sweep(context.Background())
	if err != nil || n != 3 { // alice and both sources; bob's lock holds
		t.Fatalf("swept %d, %v", n, err)
	}
	if got := check(t, th, "bob", ""); !got.locked {
		t.Fatal("the sweep removed a lock in force")
	}
	objs, _ := st.List(context.Background(), resource.KindAuthThrottle, store.ListOptions{})
	if len(objs) != 1 {
		t.Fatalf("%d records left", len(objs))
	}
}

func TestNormaliseSource(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8::1":          "2001:db8::/64",
		"2001:db8:0:0:ffff::1": "2001:db8::/64",
		"fe80::1%eth0":         "fe80::/64",
		" 192.0.2.1 ":          "192.0.2.1",
		"Not-An-Address":       "not-an-address",
		"":                     "",
	} {
		if got := NormaliseSource(in); got != want {
			t.Errorf("NormaliseSource(%q) = %q, want %q", in, got, want)
		}
	}
}

// Two replicas on one PostgreSQL database count failures together, exactly, and lock once.
func TestReplicasOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	c := clock.NewFake(t0)
	var ths [2]*Throttle
	var st store.Store
	for i := range ths {
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		st = s
		ths[i] = New(s, config.Lockout{AccountFailures: 30, SourceFailures: 1000}, WithClock(c))
	}
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ths[i%2].Fail(ctx, "alice", "192.0.2.1"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	k, _ := accountKey("alice")
	o, err := st.Get(ctx, resource.KindAuthThrottle, k.name)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Spec.(*resource.AuthThrottleSpec).Failures; got != 30 {
		t.Fatalf("%d failures counted of 30", got)
	}
	for _, th := range ths {
		if _, locked, _ := th.Check(ctx, "alice", "192.0.2.9"); !locked {
			t.Fatal("a replica does not see the lock")
		}
	}
	if n := len(entries(t, st, ActionLock)); n != 1 {
		t.Fatalf("%d lock entries", n)
	}
}

// BenchmarkThrottleCheck: what every sign-in attempt costs before its password is checked (two
// reads from SQLite).
func BenchmarkThrottleCheck(b *testing.B) {
	th, _, _ := newThrottle(b, config.Lockout{})
	ctx := context.Background()
	for i := range 100 {
		th.Fail(ctx, fmt.Sprintf("user%d", i), "192.0.2.1")
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := th.Check(ctx, fmt.Sprintf("user%d", i%200), "192.0.2.1"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkThrottleFail: what a failed attempt costs (two transactions on SQLite).
func BenchmarkThrottleFail(b *testing.B) {
	th, _, _ := newThrottle(b, config.Lockout{AccountFailures: 1 << 30, SourceFailures: 1 << 30})
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := th.Fail(ctx, fmt.Sprintf("user%d", i%200), "192.0.2.1"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
