package reconcile_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Status shows a run's progress while it runs: operations planned, done, failed and in flight, and
// what is pending; not only once it has ended.
func TestStatusShowsProgressWhileApplying(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 101})
	g := e.useGate()
	e.apply(org)
	e.sync(false)
	var docs strings.Builder
	for _, n := range numbered("p%02d@example.com", 30) {
		fmt.Fprintf(&docs, "---\nkind: user\nversion: v1\nmetadata: {name: %s}\nspec: {display_name: P, roles: [staging-admin]}\n", n)
	}
	e.apply(docs.String())
	g.Hold("CreateAccountAssignment")
	done := make(chan *reconcile.Result, 1)
	go func() { res, _ := e.engine.Sync(e.ctx, reconcile.PlanOptions{}, false); done <- res }()
	e.waitFor("ten creations sent", 20*time.Second, func() bool { return g.Held() == 10 })
	st := e.engine.Status()
	// 30 users created, then 30 assignments: 10 of them sent and held, 20 waiting for a worker.
	if !st.Running || st.Progress.Planned != 60 || st.Progress.Done != 30 || st.Progress.InFlight != 10 || st.Pending != 30 {
		t.Errorf("status while 10 of 30 creations are in flight: running %v, progress %+v, pending %d; want running, 60 planned, 30 done, 10 in flight, 30 pending",
			st.Running, st.Progress, st.Pending)
	}
	g.Release()
	res := <-done
	st = e.engine.Status()
	if st.Running || st.Progress != (reconcile.Progress{Planned: 60, Done: 60}) || st.Pending != 0 || !st.Converged || st.Health != reconcile.HealthOK || res.Applied != 60 {
		t.Errorf("status after the run: running %v, progress %+v, pending %d, converged %v, health %s, applied %d", st.Running, st.Progress, st.Pending, st.Converged, st.Health, res.Applied)
	}
}

// After a restart, the assignment operations an earlier process sent and did not see end are
// warden's work in flight (it polls them), not drift; what it never sent is work pending, not drift
// either: the restarted engine has no observation of its own to call it drift against.
func TestRestartCountsJournaledWorkInFlightNotDrift(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 102, ProvisioningDelay: time.Hour})
	e.apply(org)
	if _, err := e.syncJumping(e.engine, reconcile.PlanOptions{Full: true}, false); err != nil {
		t.Fatal(err)
	}
	var docs strings.Builder
	for _, n := range numbered("p%02d@example.com", 15) {
		fmt.Fprintf(&docs, "---\nkind: user\nversion: v1\nmetadata: {name: %s}\nspec: {display_name: P, roles: [staging-admin]}\n", n)
	}
	e.apply(docs.String())
	// The process dies with ten creations sent (provisioning takes an hour) and five never sent.
	ctx, kill := context.WithCancel(e.ctx)
	died := make(chan struct{})
	go func() { e.engine.Sync(ctx, reconcile.PlanOptions{}, false); close(died) }()
	journaled := func() int {
		recs, err := e.store.List(e.ctx, resource.KindSyncRecord, store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range recs {
			if s := r.Spec.(*resource.SyncRecordSpec); s.Op == "create" && s.RequestID != "" {
				n++
			}
		}
		return n
	}
	e.waitFor("ten creations sent and journaled", 20*time.Second, func() bool { return journaled() == 10 })
	kill()
	<-died
	e.restartOnNetworkStore()
	synced := make(chan error, 1)
	go func() { _, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{Full: true}, false); synced <- err }()
	e.waitFor("the restarted engine polling the ten", 20*time.Second, func() bool { return e.engine.Status().Progress.InFlight == 10 })
	if st := e.engine.Status(); st.Pending < 10 {
		t.Errorf("pending %d with ten creations in flight", st.Pending)
	}
	e.clock.Advance(time.Hour) // Identity Center ends them
	e.jumping(func() {
		if err := <-synced; err != nil {
			t.Error(err)
		}
	})
	st := e.engine.Status()
	if st.Drift != 0 || st.LastChanges != 5 || !st.Converged {
		t.Errorf("after the restart: drift %d, %d changes, converged %v; want no drift, the 5 creations never sent, converged", st.Drift, st.LastChanges, st.Converged)
	}
	if n := e.holding(numbered("p%02d@example.com", 15), "058264527036", "AdministratorAccess"); n != 15 {
		t.Errorf("%d of the 15 assignments exist", n)
	}
	// Drift made outside warden is drift: the next full observation finds one assignment deleted.
	e.sim.Update(func(d *idcsim.Directory) error {
		uid, _ := d.UserID("p00@example.com")
		d.Unassign(idcsim.Assignment{AccountID: "058264527036", PermissionSetARN: e.arn["AdministratorAccess"], PrincipalType: "USER", PrincipalID: uid})
		return nil
	})
	if _, err := e.syncJumping(e.engine, reconcile.PlanOptions{Full: true}, false); err != nil {
		t.Fatal(err)
	}
	if st := e.engine.Status(); st.Drift != 1 {
		t.Errorf("drift %d after one assignment was deleted outside warden, want 1", st.Drift)
	}
}

// An Identity Center that answers a write and does not make it: the operator's apply reads back
// what it changed and says what did not converge, rather than "applied"; status says so too; and
// the next full sync, finding the operation again, names it as not converging.
func TestApplyAndStatusSayWhatDidNotConverge(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 103})
	g := e.useGate()
	e.apply(org)
	e.sync(true)
	g.Swallow("CreateGroupMembership", fmt.Sprintf(`{"IdentityStoreId":%q,"MembershipId":"a0b1c2d3e4-00000000-0000-0000-0000-000000000001"}`, e.client.IdentityStoreID))
	e.apply(member("platform", "carol@example.com", time.Time{}))
	res, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{Full: true, ReadBack: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := `add member carol@example.com to "Platform": applied, yet Identity Center still differs`
	if res.Applied != 1 || strings.Join(res.Unconverged, "\n") != want {
		t.Fatalf("the apply: applied %d, unconverged %q; want 1 and %q", res.Applied, res.Unconverged, want)
	}
	st := e.engine.Status()
	if st.Converged || strings.Join(st.Unconverged, "\n") != want || st.Health != reconcile.HealthFailing || !strings.Contains(st.LastError, want) {
		t.Fatalf("status after it: converged %v, unconverged %q, health %s, last error %q", st.Converged, st.Unconverged, st.Health, st.LastError)
	}
	// The loop's full sync (no read-back asked) finds it planned again, applies it again, and reads
	// back that one operation only: not converging.
	p, _, _, err := e.engine.Plan(e.ctx, reconcile.PlanOptions{Full: true})
	if err != nil || !strings.Contains(p.String(), "Applied before, and planned again (changed outside warden, or not kept by Identity Center):\n  add member carol@example.com") {
		t.Fatalf("the plan after: %v\n%s", err, p)
	}
	e.sim.ResetStats()
	res, err = e.engine.Sync(e.ctx, reconcile.PlanOptions{Full: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Plan.Stuck) != 1 || !strings.Contains(res.Plan.Stuck[0], `add member carol@example.com to "Platform": applied 1 time before`) ||
		strings.Join(e.engine.Status().Unconverged, "\n") != want {
		t.Fatalf("the next full sync: stuck %q, status unconverged %q", res.Plan.Stuck, e.engine.Status().Unconverged)
	}
	if n := e.sim.Stats().Calls["identitystore:ListGroupMemberships"]; n != 3 { // the two groups observed, and Platform read back
		t.Errorf("%d ListGroupMemberships calls: the read-back read more than the one group", n)
	}
	// Identity Center mends: the next apply converges, and says so.
	g.Heal()
	res, err = e.engine.Sync(e.ctx, reconcile.PlanOptions{Full: true, ReadBack: true}, false)
	if err != nil || len(res.Unconverged) != 0 || !e.engine.Status().Converged || e.engine.Status().Health != reconcile.HealthOK {
		t.Fatalf("once mended: %v, unconverged %q, status %+v", err, res.Unconverged, e.engine.Status())
	}
}

// Sync health: the last success and the last error (kept after a later success), with an error
// id that /readyz shows instead of the error's text; and the same in the metrics.
func TestSyncHealth(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 104})
	g := e.useGate()
	reg := prometheus.NewRegistry()
	if err := e.engine.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	gauge := func(name string) float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatalf("no metric %s", name)
		return 0
	}
	if st := e.engine.Status(); st.Health != reconcile.HealthStarting || !strings.HasPrefix(e.engine.HealthLine(), "sync: starting") {
		t.Fatalf("before any run: %s / %s", st.Health, e.engine.HealthLine())
	}
	e.apply(org)
	e.sync(true)
	ok := e.engine.Status()
	if ok.Health != reconcile.HealthOK || ok.LastSuccess.IsZero() || gauge("warden_sync_healthy") != 1 ||
		gauge("warden_sync_last_success_timestamp_seconds") != float64(ok.LastSuccess.Unix()) {
		t.Fatalf("after a good run: %+v", ok)
	}
	// Identity Center refuses warden's reads: the run fails.
	g.Fail("ListUsers", "AccessDeniedException")
	if _, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{Full: true}, false); err == nil {
		t.Fatal("a full sync that cannot list users succeeded")
	}
	bad := e.engine.Status()
	line := e.engine.HealthLine()
	if bad.Health != reconcile.HealthFailing || !strings.Contains(bad.LastError, "AccessDenied") || bad.LastErrorID == "" ||
		!bad.LastSuccess.Equal(ok.LastSuccess) || gauge("warden_sync_healthy") != 0 || gauge("warden_sync_last_error_timestamp_seconds") == 0 {
		t.Fatalf("after a failed run: %+v", bad)
	}
	if !strings.Contains(line, "failing") || !strings.Contains(line, bad.LastErrorID) || strings.Contains(line, "AccessDenied") {
		t.Fatalf("the health line (shown to anyone by /readyz) must name the error by id, not by its text: %q", line)
	}
	g.Heal()
	e.sync(true)
	if st := e.engine.Status(); st.Health != reconcile.HealthOK || !st.LastSuccess.After(bad.LastErrorAt) || st.LastErrorID != bad.LastErrorID {
		t.Fatalf("after recovering: %+v (the last error stays, older than the last success)", st)
	}
}

// A plan the brake holds stays held, and said so, while the loop applies membership changes on
// their own path (which plans only the lists that changed).
func TestBrakeStaysSaidAcrossMembershipChanges(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 105})
	e.apply(org)
	e.sync(true)
	e.runLoop()
	e.waitFor("the loop's first sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	// Everyone loses its four assignments: held by the brake.
	e.apply(`
kind: role
version: v1
metadata: {name: read-all}
spec: {allow: {account_assignments: [{account: "*", permission_set: ReadOnlyAccess}]}, deny: {account_assignments: [{account: "*", permission_set: "*"}]}}
`)
	e.waitFor("the brake", 20*time.Second, func() bool { return e.engine.Status().Brake != "" })
	t0 := e.now()
	e.apply(member("platform", "carol@example.com", time.Time{}))
	e.waitFor("carol in Platform", 20*time.Second, func() bool { g, _ := e.state(); return len(g["Platform"]) == 3 })
	e.waitFor("the membership change's run to end", 20*time.Second, func() bool { return e.engine.Status().LastRun.After(t0) })
	st := e.engine.Status()
	if st.Health != reconcile.HealthBraked || st.Converged || st.Brake == "" || !strings.Contains(strings.Join(st.Unconverged, "\n"), "held by the safety brake") || st.LastError != "" {
		t.Fatalf("after a membership change, the held plan is no longer said: %+v", st)
	}
}
