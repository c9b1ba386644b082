package reconcile_test

// Regression tests from a second review of the revocation fast path: each reproduced a defect
// (named in its comment) and guards the fix.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/resource"
)

// faulty fronts the simulator: while on is set, a call whose X-Amz-Target ends with one of fail's
// keys waits delay and is answered with that key's error (HTTP 400, non-retryable).
type faulty struct {
	sim   http.Handler
	on    atomic.Bool
	fail  map[string]string // ".Operation" -> AWS error code
	delay time.Duration
	calls atomic.Int64 // calls answered with a fault
	mu    sync.Mutex
	of    map[string]int // faults answered per ".Operation"
}

func (f *faulty) callsOf(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.of[op]
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.on.Load() {
		target := target(r)
		for suffix, code := range f.fail {
			if strings.HasSuffix(target, suffix) {
				f.calls.Add(1)
				f.mu.Lock()
				if f.of == nil {
					f.of = map[string]int{}
				}
				f.of[suffix]++
				f.mu.Unlock()
				time.Sleep(f.delay) // Identity Center answering slowly
				writeFault(w, r, code)
				return
			}
		}
	}
	f.sim.ServeHTTP(w, r)
}

// useFaulty points the env's engine at a faulty front of its simulator.
func (e *env) useFaulty(fail map[string]string, delay time.Duration) *faulty {
	f := &faulty{sim: e.sim, fail: fail, delay: delay}
	hs := httptest.NewServer(f)
	e.t.Cleanup(hs.Close)
	e.client, e.engine = e.newEngine(hs.URL, idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond})
	return f
}

// Was a data race (found with -race); fixed: finish marks the principal under the records lock. applier.finish calls e.markDirty without the records lock
// (apply.go:380-386, added in 984226d) when an assignment operation fails unanswered (no RequestId).
// markDirty writes e.dirty and its maps (incremental.go:195-207). Apply workers reach it side by side
// (ten at a time for assignments), and since 984226d so does a revocation made inside a sync's apply
// (apply.go:95/117 -> revokeIfWanted -> revoke -> finish, revoke.go:187). Without -race this is
// "fatal error: concurrent map writes". Here sixty creations fail unanswered, ten at a time, while the
// revocation falling due meanwhile fails the same way.
func TestRevocationDuringFailingApply(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 71})
	f := e.useFaulty(map[string]string{
		".CreateAccountAssignment": "AccessDeniedException",
		".DeleteAccountAssignment": "AccessDeniedException",
	}, 100*time.Millisecond)
	var docs strings.Builder
	docs.WriteString(org)
	for i := 0; i < 60; i++ {
		docs.WriteString(userDoc(fmt.Sprintf("u%02d@example.com", i)))
	}
	e.apply(docs.String())
	e.sync(true)
	end := e.now().Add(time.Hour)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	e.sync(false)
	if _, as := e.state(); !as[carolProdAdmin] {
		t.Fatal("not granted")
	}
	e.runLoop()
	e.waitFor("the loop's first full sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	f.on.Store(true)
	docs.Reset()
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&docs, "---\nkind: user\nversion: v1\nmetadata: {name: u%02d@example.com}\nspec: {display_name: X u%02d, roles: [staging-admin]}\n", i, i)
	}
	e.apply(docs.String())
	e.waitFor("the apply's creations failing", 20*time.Second, func() bool { return f.calls.Load() >= 10 })
	// The grant ends while the creations fail unanswered, ten at a time: its revocation fails too.
	e.clock.Set(end)
	e.waitFor("the revocation failing", 20*time.Second, func() bool { return f.callsOf(".DeleteAccountAssignment") >= 1 })
	e.waitFor("the apply's sixty creations failed", 60*time.Second, func() bool { return f.callsOf(".CreateAccountAssignment") >= 60 })
	f.on.Store(false)
	// Identity Center recovers: once their backoff passes, the revocation and the creations are retried.
	e.waitFor("the revocation and the creations retried", 60*time.Second, func() bool {
		if next := e.engine.NextChange(); !next.IsZero() {
			e.clock.Set(next)
		}
		_, as := e.state()
		return e.holding(numbered("u%02d@example.com", 60), "058264527036", "AdministratorAccess") == 60 && !as[carolProdAdmin]
	})
}

// Was late revocation; fixed: a record written with an earlier end wakes the revoker. When a sync holds the engine, the revoker sleeps until the next
// end it knows of (revoke.go:53-54), up to an hour. A record written during that sync with an
// earlier end lowers nextRevoke (putRecord -> revocationBy, engine.go:146, revoke.go:87) but does not
// wake the sleeping revoker: nothing sets revokeWanted, so the sync's dispatcher (revokeIfWanted)
// makes nothing, and the grant stays until the sync ends and handled() wakes the revoker. Here a
// grant's end moves from an hour to a few seconds (the later request is cancelled) in the same sync
// that gives 120 users a role (12 rounds of 0.5 s creations).
func TestRevokerWokenByEndWrittenDuringSync(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 72})
	g := e.useGate()
	var docs strings.Builder
	docs.WriteString(org)
	for i := 0; i < 120; i++ {
		docs.WriteString(userDoc(fmt.Sprintf("u%03d@example.com", i)))
	}
	e.apply(docs.String())
	e.sync(true)
	end := e.now().Add(10 * time.Minute)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	e.apply(request("r2", "carol@example.com", e.now().Add(time.Hour).Format(time.RFC3339Nano)))
	e.sync(false)
	if _, as := e.state(); !as[carolProdAdmin] {
		t.Fatal("not granted")
	}
	e.runLoop()
	e.waitFor("the loop's first full sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	// One change: r2 is cancelled (the grant's end moves back to r1's) and 120 users get a role,
	// whose creations Identity Center holds: the sync that writes the earlier end goes on.
	g.Hold("CreateAccountAssignment")
	docs.Reset()
	docs.WriteString(strings.Replace(request("r2", "carol@example.com", e.now().Add(time.Hour).Format(time.RFC3339Nano)), "state: APPROVED", "state: CANCELLED", 1))
	for i := 0; i < 120; i++ {
		fmt.Fprintf(&docs, "---\nkind: user\nversion: v1\nmetadata: {name: u%03d@example.com}\nspec: {display_name: X u%03d, roles: [staging-admin]}\n", i, i)
	}
	e.apply(docs.String())
	e.waitHeld(g, "the sync's creations")
	key := "assignment:USER:carol@example.com:637423191929:" + e.arn["AdministratorAccess"]
	e.waitFor("the earlier end on record", 20*time.Second, func() bool {
		o, err := e.store.Get(e.ctx, resource.KindSyncRecord, key)
		return err == nil && o.Spec.(*resource.SyncRecordSpec).Until.Equal(end)
	})
	e.clock.Set(end)
	e.waitFor("the revocation", 20*time.Second, func() bool { _, as := e.state(); return !as[carolProdAdmin] })
	if g.Held() == 0 {
		t.Error("the sync ended before the revocation: the revoker slept through an end written during it")
	}
}

// Was late revocation; fixed: a sync without a cached observation observes without holding the engine. When the engine has dropped its cached observation (an operation
// failed NotFound, engine.go:532-536; an observation failed, engine.go:317-320; a group's outcome
// unknown, apply.go:593), the next incremental sync observes everything warden manages with the
// engine held (plan -> observe, engine.go:303-304), and observe never calls revokeIfWanted: every
// grant ending meanwhile waits for the whole observation, the very thing observeFull was made to
// avoid.
func TestRevocationNotBlockedByUncachedObserve(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 73})
	g := e.useGate()
	f := &faulty{sim: g, fail: map[string]string{".UpdateUser": "ResourceNotFoundException"}}
	hs := httptest.NewServer(f)
	t.Cleanup(hs.Close)
	t.Cleanup(g.Release) // first: calls held at the gate come through the front
	e.client, e.engine = e.newEngine(hs.URL, idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond})
	e.apply(org)
	e.sync(false)
	e.runLoop()
	e.waitFor("the loop's first full sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	end := e.now().Add(time.Hour)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	e.waitFor("the grant", 20*time.Second, func() bool { _, as := e.state(); return as[carolProdAdmin] })
	// An update the directory answers NotFound: the engine drops its cache.
	f.on.Store(true)
	e.apply("kind: user\nversion: v1\nmetadata: {name: bob@example.com}\nspec: {display_name: Bob O., email: bob@example.com}\n")
	e.waitFor("the failed update", 20*time.Second, func() bool { return len(e.engine.Status().Failed) > 0 })
	f.on.Store(false)
	// Any change: the next sync plans without a cache, observing everything; it is held reading users.
	g.Hold("ListUsers")
	e.apply(userDoc("zed@example.com"))
	e.waitHeld(g, "the uncached observation")
	e.clock.Set(end)
	e.waitFor("the revocation", 20*time.Second, func() bool { _, as := e.state(); return !as[carolProdAdmin] })
	if g.Held() == 0 {
		t.Error("the observation ended before the revocation: the revocation waited for a whole observation made with the engine held")
	}
}
