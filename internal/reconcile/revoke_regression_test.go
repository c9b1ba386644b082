package reconcile_test

// Regression tests from a review of the revocation fast path: each reproduced a defect of its first
// version (named in its comment) and guards the fix.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/store"
)

// networkStore stands for a store across a network (PostgreSQL, as replicas under RunLeader use):
// Revision blocks for a round trip, as a database call does, so that goroutines Run starts get to
// run while its loop sets up. (With the in-process SQLite store they usually do not; see
// TestRevocationAtStartNotParked for what that does.)
type networkStore struct{ store.Store }

func (s networkStore) Revision(ctx context.Context) (int64, error) {
	time.Sleep(20 * time.Millisecond)
	return s.Store.Revision(ctx)
}

// restartOnNetworkStore replaces the env's engine with a fresh one (a restarted process, or a
// replica taking the lease over) on the same simulator and store, reached as over a network.
func (e *env) restartOnNetworkStore() {
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), BaseEndpoint: aws.String(e.engine.Endpoint())}
	cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}
	c, err := idc.NewFromConfig(e.ctx, awsCfg, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.engine = reconcile.New(networkStore{e.store}, c, cfg, slog.New(slog.NewTextHandler(testLogOut, &slog.HandlerOptions{Level: slog.LevelDebug})),
		reconcile.WithClock(e.clock), reconcile.WithProvisioningEstimate(0))
}

const carolProdAdmin = "carol@example.com 637423191929 admin"

// watchAbsent polls the simulator until the test ends and reports whether carol's Production admin
// assignment was ever seen missing.
func (e *env) watchAbsent() *atomic.Bool {
	var gone atomic.Bool
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if _, as := e.state(); !as[carolProdAdmin] {
				gone.Store(true)
			}
		}
	}()
	e.t.Cleanup(func() { close(stop); <-done })
	return &gone
}

// Was a bug (high, lateness of revocations); fixed: Plan observes unlocked. Plan(Full) -- the operator's dry run, `warden sync plan
// --full` -- takes fullMu and then holds e.run for its whole full observation (engine.go:245-260 ->
// plan -> observe with opts.Full). revokeDue needs e.run (revoke.go:30), so no grant is revoked
// while an operator's dry run reads the organisation (minutes in a large one). The commit's promise
// that "a full drift scan never stands in its way" holds only for the loop's own scan.
func TestRevocationNotBlockedByDryRun(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 61})
	g := e.useGate()
	e.apply(org)
	e.sync(false)
	e.runLoop()
	e.waitFor("the loop's first full sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	end := e.now().Add(time.Hour)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	e.waitFor("the grant", 10*time.Second, func() bool { _, as := e.state(); return as[carolProdAdmin] })
	// An operator's dry run reads the whole organisation: it is held reading users, and the grant ends.
	g.Hold("ListUsers")
	planned := make(chan error, 1)
	go func() { _, _, _, err := e.engine.Plan(e.ctx, reconcile.PlanOptions{Full: true}); planned <- err }()
	e.waitHeld(g, "the dry run's observation")
	e.clock.Set(end)
	e.waitFor("the revocation", 20*time.Second, func() bool { _, as := e.state(); return !as[carolProdAdmin] })
	select {
	case err := <-planned:
		t.Fatalf("the dry run ended (%v) before the revocation: the test proves nothing", err)
	default:
	}
	g.Release()
	if err := <-planned; err != nil {
		t.Fatal(err)
	}
}

// Was a bug (high, wanted access removed); fixed: the fast path waits for a compile since Run began. at Run start (a
// restart or a leadership change: RunLeader sets e.last = nil, loop.go:498) the revocation timer
// fires at once (loop.go:330) and revokeDue deletes every assignment whose *record* says its grant
// ended (revoke.go:52-75). The only guard against a later grant, e.last, is nil until the first full
// observation ends, and a record's Until is only moved by a sync. So a grant approved (or a standing
// role given) while no leader ran is ignored: the assignment it wants is deleted. Before 2dad58b the
// first full sync compiled the store and only moved the record's end (RecordOnly). Fix: have
// revokeDue compile (or at least read the approved requests / require e.last != nil) before it
// trusts a record's Until, or defer the fast path until the first compile after Run starts.
func TestRevocationAtStartKeepsGrantStillWanted(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 62, CallLatency: 20 * time.Millisecond})
	e.apply(org)
	end := e.now().Add(time.Hour)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	e.sync(true)
	if _, as := e.state(); !as[carolProdAdmin] {
		t.Fatal("r1 not granted")
	}
	// While no engine leads (a restart, a failover), a second grant of the same access is approved.
	e.apply(request("r2", "carol@example.com", e.now().Add(2*time.Hour).Format(time.RFC3339Nano)))
	e.clock.Set(end.Add(time.Second))
	e.restartOnNetworkStore()
	gone := e.watchAbsent()
	deletes := func() int { return e.sim.Stats().Calls["sso-admin:DeleteAccountAssignment"] }
	before := deletes()
	e.runLoop()
	e.waitFor("the first full sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	if gone.Load() || deletes() > before {
		t.Fatalf("r2 wants carol's assignment, yet it was deleted at start-up (%d deletions; ever missing: %v)", deletes()-before, gone.Load())
	}
	// The revoker is alive: once r2 is cancelled, the assignment goes.
	e.apply(strings.Replace(request("r2", "carol@example.com", e.now().Add(2*time.Hour).Format(time.RFC3339Nano)), "state: APPROVED", "state: CANCELLED", 1))
	e.waitFor("the revocation once nothing wants the assignment", 20*time.Second, func() bool { _, as := e.state(); return !as[carolProdAdmin] })
}

// Was a bug (high, the brake variant of the above); fixed with it. when the safety brake holds the plan back (an
// unrelated mass deletion awaits an operator), the assignment deleted by revokeDue at start-up is
// never created again: the re-creation is an ordinary CreateAssignment, which the brake refuses
// (engine.go:428-447 applies only Expired ops). Carol loses access granted by r2 until an operator
// forces the plan. Before 2dad58b nothing was deleted (the braked plan held only a RecordOnly).
func TestRevocationAtStartUnderBrake(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 63, CallLatency: 20 * time.Millisecond})
	e.apply(org)
	end := e.now().Add(time.Hour)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	e.sync(true)
	// While no engine leads: r2 approved, and an unrelated change the brake refuses (Everyone loses
	// its four assignments).
	e.apply(request("r2", "carol@example.com", e.now().Add(2*time.Hour).Format(time.RFC3339Nano)))
	e.apply("kind: access_list\nversion: v1\nmetadata: {name: everyone}\nspec: {title: Everyone, owners: [alice@example.com]}\n")
	e.clock.Set(end.Add(time.Second))
	e.restartOnNetworkStore()
	gone := e.watchAbsent()
	e.runLoop()
	e.waitFor("the brake to engage", 20*time.Second, func() bool { return e.engine.Status().Brake != "" })
	if _, as := e.state(); !as[carolProdAdmin] || gone.Load() {
		t.Errorf("carol's assignment, wanted by r2 for another hour, was deleted at start-up (and the brake keeps it deleted: %v)", !as[carolProdAdmin])
	}
}

// Was a bug (medium, lateness); fixed: the revoker has its own goroutine, and a sync holding the engine makes due revocations while it waits. the loop runs incremental syncs on its own goroutine and every Sync holds
// e.run through apply, which polls each creation to its end (apply.go:296-333); revokeDue needs both
// the loop goroutine (rtimer case, loop.go:417) and e.run. A role given to many users therefore
// delays every revocation falling due meanwhile by the whole apply: 1,000 creations at AWS's 10
// outstanding x ~1 s is ~100 s. The same holds for the full sync's plan+apply phase. Fix: run the
// revocation timer on its own goroutine and let apply release e.run while it waits on
// provisioning (or apply revocations from a separate lock on the records).
func TestRevocationNotBlockedByApply(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 64})
	g := e.useGate()
	var docs strings.Builder
	docs.WriteString(org)
	for i := 0; i < 60; i++ {
		docs.WriteString(userDoc(fmt.Sprintf("u%02d@example.com", i)))
	}
	e.apply(docs.String())
	e.sync(true)
	e.runLoop()
	e.waitFor("the loop's first full sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	end := e.now().Add(time.Hour)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	e.waitFor("the grant", 10*time.Second, func() bool { _, as := e.state(); return as[carolProdAdmin] })
	// Sixty users get a role: sixty creations, which Identity Center holds, ten at a time, while the
	// grant ends.
	g.Hold("CreateAccountAssignment")
	docs.Reset()
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&docs, "---\nkind: user\nversion: v1\nmetadata: {name: u%02d@example.com}\nspec: {display_name: X u%02d, roles: [staging-admin]}\n", i, i)
	}
	e.apply(docs.String())
	e.waitHeld(g, "the apply's creations")
	e.clock.Set(end)
	e.waitFor("the revocation", 20*time.Second, func() bool { _, as := e.state(); return !as[carolProdAdmin] })
	if g.Held() == 0 {
		t.Fatal("the apply ended before the revocation: the revocation waited for it")
	}
	g.Release()
	e.waitFor("the sixty creations", 20*time.Second, func() bool {
		return e.holding(numbered("u%02d@example.com", 60), "058264527036", "AdministratorAccess") == 60
	})
}

// Was a bug (medium, pre-existing; the cardinal sin); fixed: the brake never holds record-only changes. whether a deletion is an
// expiry (which the brake never holds) is judged from the record's Until (plan.go:347). A later grant
// moves the record's end forward; if that grant is then cancelled while the brake holds plans, the
// RecordOnly that would move the end back is held too (engine.go:428-447), so when the first grant
// ends the deletion counts as a non-expired one and is refused; revokeDue does not see it due either
// (the record says the cancelled grant's end). The expired grant stays granted until the cancelled
// one's end. Fix: take expiry from the compile (the assignment is no longer desired and no APPROVED
// request holds it), or always apply RecordOnly ops under the brake (they delete nothing).
func TestBrakeRevokesExpiredAfterLaterGrantCancelled(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 65})
	e.apply(org)
	e.sync(true)
	end := e.now().Add(time.Hour)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	e.apply(request("r2", "carol@example.com", e.now().Add(2*time.Hour).Format(time.RFC3339Nano)))
	e.sync(false)
	if _, as := e.state(); !as[carolProdAdmin] {
		t.Fatal("not granted")
	}
	// An unrelated mass deletion engages the brake; r2 is cancelled.
	e.apply("kind: access_list\nversion: v1\nmetadata: {name: everyone}\nspec: {title: Everyone, owners: [alice@example.com]}\n")
	e.apply(strings.Replace(request("r2", "carol@example.com", e.now().Add(2*time.Hour).Format(time.RFC3339Nano)), "state: APPROVED", "state: CANCELLED", 1))
	if _, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{}, false); !errors.Is(err, reconcile.ErrBrake) {
		t.Fatalf("want the brake, got %v", err)
	}
	e.clock.Set(end.Add(time.Second))
	res, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{}, false)
	if !errors.Is(err, reconcile.ErrBrake) {
		t.Fatalf("want the brake, got %v", err)
	}
	if _, as := e.state(); as[carolProdAdmin] {
		t.Errorf("r1 ended, r2 was cancelled, and carol keeps admin on Production (the brake holds the deletion as not expired):\n%s", res.Plan)
	}
}

// Was a bug (high, lateness at every start and every leadership change); fixed: polling is set before the revoker first looks. Run starts the poller on a
// goroutine (loop.go:307) and arms the revocation timer at 0 (loop.go:330); runPoller sets
// e.polling only once that goroutine runs (revoke.go:215). The loop goroutine does not block before
// its select (SQLite's Revision/Watch do not park it), so the rtimer case is taken first, revoke()
// sees !e.polling and returns next = zero (revoke.go:38-40), and the loop parks the timer for an
// hour (loop.go:338-340). Nothing re-arms it until the first sync ends (handled -> revoke), and the
// first pass is a full sync whose observation takes minutes in a large organisation: every grant
// ending meanwhile waits for it (revoked by that sync's own revoke call). Fix: set polling before
// starting the goroutine (or have revoke's early return report the next end on record), and never
// park the timer on a "not polling" answer.
func TestRevocationAtStartNotParked(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 66})
	g := e.useGate()
	e.apply(org)
	e.sync(false)
	end := e.now().Add(5 * time.Minute) // before the hour a parked timer would sleep
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	e.sync(false)
	if _, as := e.state(); !as[carolProdAdmin] {
		t.Fatal("not granted")
	}
	// A restart: the loop's first pass is a full observation, held reading users.
	g.Hold("ListUsers")
	// One P, so that the goroutines Run starts are not stolen by an idle P before its loop selects
	// (production processes have idle Ps too; this only makes the outcome repeatable).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	e.runLoop()
	e.waitHeld(g, "the first full observation")
	e.clock.Set(end)
	e.waitFor("the revocation", 20*time.Second, func() bool { _, as := e.state(); return !as[carolProdAdmin] })
	if g.Held() == 0 || !e.engine.Status().LastFull.IsZero() {
		t.Error("the revocation waited for the first full sync: the revocation timer was parked at start-up")
	}
}
