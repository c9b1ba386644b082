package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

func member(list, user string, exp time.Time) string {
	s := fmt.Sprintf("---\nkind: access_list_member\nversion: v1\nmetadata: {}\nspec: {list: %s, member: %s", list, user)
	if !exp.IsZero() {
		s += fmt.Sprintf(", expires: %q", exp.Format(time.RFC3339Nano))
	}
	return s + "}\n"
}

func userDoc(name string) string {
	return fmt.Sprintf("---\nkind: user\nversion: v1\nmetadata: {name: %s}\nspec: {display_name: X %s}\n", name, strings.Split(name, "@")[0])
}

// R1: expired list memberships count toward the safety brake, so they are refused and stay granted;
// and the loop then spins (NextChange is in the past, the brake path never updates it).
func TestRegressionExpiredMembersHeldByBrake(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 11})
	exp := e.now().Add(time.Hour)
	var docs strings.Builder
	docs.WriteString(org)
	for i := 0; i < 4; i++ {
		n := fmt.Sprintf("temp%d@example.com", i)
		docs.WriteString(userDoc(n))
		docs.WriteString(member("platform", n, exp))
	}
	e.apply(docs.String())
	e.sync(false)
	if g, _ := e.state(); len(g["Platform"]) != 6 {
		t.Fatalf("Platform: %v", g["Platform"])
	}
	e.clock.Set(exp.Add(time.Second))
	res, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{}, false)
	if err != nil {
		t.Fatalf("sync after the expiry: %v (the expired memberships must go, braked or not)\n%s", err, res.Plan)
	}
	if g, _ := e.state(); strings.Join(g["Platform"], ",") != "alice@example.com,bob@example.com" {
		t.Fatalf("expired memberships still granted: Platform has %v", g["Platform"])
	}
	if next := e.engine.NextChange(); !next.IsZero() && !next.After(e.now()) {
		t.Fatalf("NextChange %v is in the past: the loop would spin", next)
	}
	// The loop, with nothing to do, must not spin: over half a second, a run or two at most.
	reg := prometheus.NewRegistry()
	e.engine.RegisterMetrics(reg)
	ctx, cancel := context.WithTimeout(e.ctx, 500*time.Millisecond)
	defer cancel()
	e.engine.Run(ctx)
	if n := runs(reg); n > 25 {
		t.Errorf("the loop spins: %v runs in half a second", n)
	}
}

// runs counts the sync runs the engine's metrics have seen.
func runs(reg *prometheus.Registry) float64 {
	mfs, _ := reg.Gather()
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() == "warden_sync_runs_total" {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

func labels(m *dto.Metric) string {
	var s []string
	for _, l := range m.GetLabel() {
		s = append(s, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(s, ",")
}

// R2: a brake tripped by an unrelated change blocks the revocation of an expired request.
func TestRegressionBrakeBlocksExpiredRequest(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 12})
	e.apply(org)
	e.sync(false)
	end := e.now().Add(time.Hour)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	e.sync(false)
	if _, as := e.state(); !as[carolProdAdmin] {
		t.Fatal("r1 not granted")
	}
	e.clock.Set(end.Add(time.Second))
	tripBrake(t, e) // an unrelated, large revocation (to be reviewed by an admin)
	_, as := e.state()
	if as["carol@example.com 637423191929 admin"] {
		t.Errorf("BUG: expired request still granted because the brake refused the whole plan")
	}
}

// R3: a FAILED creation or deletion is not scheduled for retry: NextChange stays zero.
func TestRegressionFailedOpsNotScheduled(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 13, FailRate: 1})
	_, e.engine = e.newEngine(e.engine.Endpoint(), idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 2 * time.Millisecond})
	e.apply(org)
	res, _ := e.engine.Sync(e.ctx, reconcile.PlanOptions{}, false)
	t.Logf("errors: %d; NextChange after FAILED creations: %v", len(res.Errors), e.engine.NextChange())
	if e.engine.NextChange().IsZero() {
		t.Errorf("BUG: failed creations (NotBefore in 10s) are not scheduled: the loop will not retry them until the next store change or full sync")
	}
	// A grant whose revocation FAILS: (assign by hand so the create does not fail, let warden adopt it)
	end := e.now().Add(time.Hour)
	e.sim.Update(func(d *idcsim.Directory) error {
		carol, _ := d.UserID("carol@example.com")
		return d.Assign(idcsim.Assignment{AccountID: "637423191929", PermissionSetARN: e.arn["AdministratorAccess"], PrincipalType: "USER", PrincipalID: carol})
	})
	e.apply(`
kind: access_request
version: v1
metadata: {name: r1}
spec: {user: carol@example.com, resources: [{account: Production, permission_set: AdministratorAccess}], state: APPROVED, start: "` +
		e.now().Add(-time.Minute).Format(time.RFC3339) + `", end: "` + end.Format(time.RFC3339Nano) + `"}
`)
	e.engine.Sync(e.ctx, reconcile.PlanOptions{Full: true}, false)
	e.clock.Set(end.Add(time.Second))
	res, _ = e.engine.Sync(e.ctx, reconcile.PlanOptions{}, false)
	for _, err := range res.Errors {
		if strings.Contains(err.Error(), "delete assignment user carol") {
			t.Logf("%v", err)
		}
	}
	_, as := e.state()
	t.Logf("carol still admin: %v; NextChange=%v", as["carol@example.com 637423191929 admin"], e.engine.NextChange())
	if as["carol@example.com 637423191929 admin"] && e.engine.NextChange().IsZero() {
		t.Errorf("BUG: a failed revocation of an expired grant is not retried until some other wake (up to sync_interval)")
	}
}

// R4: incremental observation never refreshes user attributes: once a user is updated, every
// later incremental sync sends UpdateUser again, until the next full observation.
func TestRegressionRepeatedUpdateUser(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 14})
	e.apply(org)
	e.sync(true)
	e.apply("kind: user\nversion: v1\nmetadata: {name: bob@example.com}\nspec: {display_name: Bob Renamed, email: bob@example.com}\n")
	for i := 0; i < 3; i++ {
		e.sim.ResetStats()
		res := e.sync(false)
		t.Logf("sync %d: UpdateUser calls %d, plan:\n%s", i, e.sim.Stats().Calls[e.call("UpdateUser")], res.Plan)
		if i > 0 && e.sim.Stats().Calls[e.call("UpdateUser")] > 0 {
			t.Errorf("BUG: sync %d repeats UpdateUser for a user already updated", i)
		}
	}
}

// R5: an access list replaced by another of the same title (metadata.name changed) in one change:
// the new list adopts the group and the old list's deletion deletes that same group.
func TestRegressionSameTitleReplacement(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 15})
	e.apply(org)
	e.sync(false)
	e.del(resource.KindAccessListMember, "everyone/list:platform")
	e.del(resource.KindAccessListMember, "platform/alice@example.com")
	e.del(resource.KindAccessListMember, "platform/bob@example.com")
	e.del(resource.KindAccessList, "platform")
	e.apply(`
kind: access_list
version: v1
metadata: {name: platform-team}
spec: {title: Platform, owners: [alice@example.com], grants: {roles: [staging-admin]}}
` + member("platform-team", "alice@example.com", time.Time{}) + member("platform-team", "bob@example.com", time.Time{}) +
		member("everyone", "list:x", time.Time{})[:0])
	res, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{}, false)
	t.Logf("err=%v plan:\n%s errors=%v", err, res.Plan, res.Errors)
	g, as := e.state()
	t.Logf("Platform=%v exists=%v, Platform admin on Staging=%v", g["Platform"], g["Platform"] != nil, as["Platform 058264527036 admin"])
	if _, ok := g["Platform"]; !ok || !as["Platform 058264527036 admin"] {
		t.Errorf("BUG: the group the new list adopted was deleted (or lost its assignment) in the same plan")
	}
	res, err = e.engine.Sync(e.ctx, reconcile.PlanOptions{}, false)
	if err != nil || len(res.Errors) > 0 || res.Plan.Changes() != 0 {
		t.Errorf("the next sync does not find the replacement converged: err=%v errors=%v\n%s", err, res.Errors, res.Plan)
	}
}

// R8: with an account filter and observation by (account, permission set), a recorded user
// assignment on an account outside the filter is not observed, so its record is forgotten.
func TestRegressionByPairForgetsRecords(t *testing.T) {
	for _, EXCL := range []string{"^Production$", "^(Production|637423191929)$"} {
		t.Run(EXCL, func(t *testing.T) {
			e := newEnv(t, idcsim.Options{Seed: 18})
			var docs strings.Builder
			docs.WriteString(org)
			for i := 0; i < 40; i++ {
				fmt.Fprintf(&docs, "---\nkind: user\nversion: v1\nmetadata: {name: u%02d@example.com}\nspec: {display_name: U %d, roles: [staging-admin]}\n", i, i)
			}
			docs.WriteString(`---
kind: role
version: v1
metadata: {name: prod-admin}
spec: {allow: {account_assignments: [{account: Production, permission_set: AdministratorAccess}]}}
---
kind: user
version: v1
metadata: {name: dan@example.com}
spec: {display_name: Dan Silva, roles: [prod-admin]}
`)
			e.apply(docs.String())
			e.sync(true)
			// Production is taken out of warden's management.
			_, filtered := e.newEngine(e.engine.Endpoint(), idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond,
				Accounts: idc.Filter{Exclude: []string{EXCL}}})
			res, err := filtered.Sync(e.ctx, reconcile.PlanOptions{Full: true}, false)
			t.Logf("err=%v\n%s", err, res.Plan)
			if _, err := e.store.Get(e.ctx, resource.KindSyncRecord, "assignment:USER:dan@example.com:637423191929:"+e.arn["AdministratorAccess"]); err != nil {
				_, as := e.state()
				t.Errorf("BUG: ownership record of dan's Production assignment forgotten (%v) while it still exists: %v", err, as["dan@example.com 637423191929 admin"])
			}
		})
	}
}

func TestRegressionUserAttributes(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 19})
	e.apply(org)
	e.sync(true)
	e.apply("kind: user\nversion: v1\nmetadata: {name: bob@example.com}\nspec: {display_name: Bob Renamed, email: bob@example.com}\n")
	e.sim.ResetStats()
	res := e.sync(false)
	t.Logf("incremental after a rename (user created by warden, no full observation since): UpdateUser=%d\n%s", e.sim.Stats().Calls[e.call("UpdateUser")], res.Plan)
	if e.sim.Stats().Calls[e.call("UpdateUser")] == 0 {
		t.Errorf("BUG: a warden user's new attributes are not synced by the incremental sync the change wakes")
	}
	e.sync(true) // now a full observation caches attributes
	e.apply("kind: user\nversion: v1\nmetadata: {name: bob@example.com}\nspec: {display_name: Bob Again, email: bob@example.com}\n")
	for i := 0; i < 3; i++ {
		e.sim.ResetStats()
		e.sync(false)
		n := e.sim.Stats().Calls[e.call("UpdateUser")]
		t.Logf("incremental sync %d: UpdateUser=%d", i, n)
		if i > 0 && n > 0 {
			t.Errorf("BUG: sync %d repeats UpdateUser", i)
		}
	}
}

func TestRegressionFilterByPrincipal(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 21})
	e.apply(org + `---
kind: role
version: v1
metadata: {name: prod-admin}
spec: {allow: {account_assignments: [{account: Production, permission_set: AdministratorAccess}]}}
---
kind: user
version: v1
metadata: {name: dan@example.com}
spec: {display_name: Dan Silva, roles: [prod-admin]}
`)
	e.sync(true)
	_, filtered := e.newEngine(e.engine.Endpoint(), idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond,
		Accounts: idc.Filter{Exclude: []string{"^(Production|637423191929)$"}}})
	res, err := filtered.Sync(e.ctx, reconcile.PlanOptions{Full: true}, false)
	t.Logf("by principal, small org: err=%v\n%s", err, res.Plan)
	kept := false
	e.sim.Update(func(d *idcsim.Directory) error {
		dan, _ := d.UserID("dan@example.com")
		for _, a := range d.Assignments() {
			if a.PrincipalID == dan && a.AccountID == "637423191929" {
				kept = true
			}
		}
		return nil
	})
	if !kept {
		t.Error("an assignment on an account outside the filter was deleted")
	}
}

func TestRegressionByPairExists(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 18})
	var docs strings.Builder
	docs.WriteString(org)
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&docs, "---\nkind: user\nversion: v1\nmetadata: {name: u%02d@example.com}\nspec: {display_name: U %d, roles: [staging-admin]}\n", i, i)
	}
	end := e.now().Add(time.Hour)
	docs.WriteString("---\nkind: user\nversion: v1\nmetadata: {name: dan@example.com}\nspec: {display_name: Dan Silva, roles: [requester]}\n---" +
		request("r1", "dan@example.com", end.Format(time.RFC3339Nano)))
	e.apply(docs.String())
	e.sync(true)
	_, filtered := e.newEngine(e.engine.Endpoint(), idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond,
		Accounts: idc.Filter{Exclude: []string{"^(Production|637423191929)$"}}})
	res, _ := filtered.Sync(e.ctx, reconcile.PlanOptions{Full: true}, false)
	t.Logf("filtered:\n%s", res.Plan)
	e.clock.Set(end.Add(time.Second))
	// the filter is lifted again (back to the normal engine, records reloaded)
	_, normal := e.newEngine(e.engine.Endpoint(), idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond})
	res, _ = normal.Sync(e.ctx, reconcile.PlanOptions{Full: true}, false)
	t.Logf("after the request ended, filter lifted:\n%s", res.Plan)
	var still bool
	e.sim.Update(func(d *idcsim.Directory) error {
		dan, _ := d.UserID("dan@example.com")
		for _, a := range d.Assignments() {
			if a.PrincipalID == dan && a.AccountID == "637423191929" {
				still = true
			}
		}
		return nil
	})
	if still {
		t.Errorf("BUG: dan's expired JIT assignment on Production stays forever: its ownership record was forgotten")
	}
}

// R10: titles that differ only in case are two desired groups, but Identity Center's display names
// are unique without regard to case: both lists end up owning one group and fight over it.
func TestRegressionCaseInsensitiveTitles(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 23})
	e.apply(org + `---
kind: access_list
version: v1
metadata: {name: platform-ro}
spec: {title: PLATFORM, owners: [alice@example.com], grants: {roles: [read-all]}}
` + member("platform-ro", "carol@example.com", time.Time{}))
	for i := 0; i < 3; i++ {
		res, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{Full: i > 0}, false)
		if err != nil {
			t.Logf("sync %d: %v", i, err)
		}
		t.Logf("sync %d: errors=%v\n%s", i, res.Errors, res.Plan)
	}
	g, as := e.state()
	t.Logf("group Platform members=%v; Platform admin on Staging=%v", g["Platform"], as["Platform 058264527036 admin"])
	if strings.Join(g["Platform"], ",") != "alice@example.com,bob@example.com" {
		t.Errorf("a list titled PLATFORM changed the members of the group Platform: %v", g["Platform"])
	}
	recs, _ := e.store.List(e.ctx, resource.KindSyncRecord, storeListAll())
	for _, r := range recs {
		if s := r.Spec.(*resource.SyncRecordSpec); s.Type == resource.RecordGroup {
			t.Logf("record %s -> %s", r.Metadata.Name, s.IDCID)
		}
	}
}

func storeListAll() store.ListOptions { return store.ListOptions{} }

// R11: error statuses written before a restart (or by another leader) are never cleared.
func TestRegressionStaleErrorStatusAfterRestart(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 24})
	e.apply(org + `---
kind: role
version: v1
metadata: {name: nowhere}
spec: {allow: {account_assignments: [{account: Nowhere, permission_set: ReadOnlyAccess}]}}
---
kind: user
version: v1
metadata: {name: dan@example.com}
spec: {display_name: Dan Silva, roles: [nowhere]}
`)
	e.sync(false)
	if o, _ := e.store.Get(e.ctx, resource.KindRole, "nowhere"); !strings.Contains(string(o.Status), `"error"`) {
		t.Fatalf("the role matching no account has no error status before the restart (the test proves nothing): %s", o.Status)
	}
	_, e.engine = e.newEngine(e.engine.Endpoint(), idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}) // restart
	e.apply("kind: role\nversion: v1\nmetadata: {name: nowhere}\nspec: {allow: {account_assignments: [{account: Production, permission_set: ReadOnlyAccess}]}}\n")
	e.sync(false)
	o, _ := e.store.Get(e.ctx, resource.KindRole, "nowhere")
	if !strings.Contains(string(o.Status), `"state":"ok"`) {
		t.Errorf("BUG: the role's error status outlives the fix after a restart")
	}
}

func TestRegressionStaleErrorStatusAfterRestart2(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 25})
	e.apply(org + `---
kind: role
version: v1
metadata: {name: newacct}
spec: {allow: {account_assignments: [{account: Sandbox, permission_set: ReadOnlyAccess}]}}
---
kind: user
version: v1
metadata: {name: dan@example.com}
spec: {display_name: Dan Silva, roles: [newacct]}
`)
	e.sync(false)
	o, _ := e.store.Get(e.ctx, resource.KindRole, "newacct")
	if !strings.Contains(string(o.Status), `"error"`) {
		t.Fatalf("the role of an account that does not exist yet has no error status before the restart (the test proves nothing): %s", o.Status)
	}
	_, e.engine = e.newEngine(e.engine.Endpoint(), idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}) // restart
	e.sim.Update(func(d *idcsim.Directory) error { return d.AddAccount("111122223333", "Sandbox", "sandbox@example.com") })
	e.sync(true)
	o, _ = e.store.Get(e.ctx, resource.KindRole, "newacct")
	t.Logf("status after the account exists: %s", o.Status)
	if strings.Contains(string(o.Status), `"error"`) {
		t.Errorf("BUG: the role's error status outlives the fix after a restart")
	}
}

func TestRegressionCaseInsensitiveUserNames(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 26})
	e.apply(org + `---
kind: user
version: v1
metadata: {name: Carol@example.com}
spec: {display_name: Other Carol, roles: [staging-admin]}
`)
	res, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{}, false)
	t.Logf("err=%v errors=%v\n%s", err, res.Errors, res.Plan)
	_, as := e.state()
	t.Logf("carol@example.com (no admin role in warden) admin on Staging in IdC: %v", as["carol@example.com 058264527036 admin"])
	// Identity Center sees one user for both names: only one of them may be synced, and the other
	// is reported as a problem.
	n := 0
	recsAll, _ := e.store.List(e.ctx, resource.KindSyncRecord, storeListAll())
	for _, r := range recsAll {
		if s := r.Spec.(*resource.SyncRecordSpec); s.Type == resource.RecordUser && strings.EqualFold(s.Name, "carol@example.com") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d warden users hold the one Identity Center user carol@example.com", n)
	}
	if !strings.Contains(e.engine.Status().Problems[0], "only in case") {
		t.Errorf("no problem reported for the colliding names: %v", e.engine.Status().Problems)
	}
	recs, _ := e.store.List(e.ctx, resource.KindSyncRecord, storeListAll())
	for _, r := range recs {
		if s := r.Spec.(*resource.SyncRecordSpec); s.Type == resource.RecordUser && strings.Contains(strings.ToLower(s.Name), "carol") {
			t.Logf("record %s -> %s", r.Metadata.Name, s.IDCID)
		}
	}
}

// R12: killed after CreateAccountAssignment was sent but before its RequestId was recorded; the
// grant ends before the restart. The restarted engine clears the journal mark, does not see the
// assignment (still IN_PROGRESS), forgets the record; the creation then succeeds: never revoked.
func TestRegressionCrashBeforeRequestIDLeaks(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 27, ProvisioningDelay: 2 * time.Second})
	e.apply(org)
	if _, err := e.syncJumping(e.engine, reconcile.PlanOptions{Full: false}, false); err != nil {
		t.Fatal(err)
	}
	var carol string
	e.sim.Update(func(d *idcsim.Directory) error { carol, _ = d.UserID("carol@example.com"); return nil })
	ps := e.arn["AdministratorAccess"]
	// the journal entry as createAssignment writes it before sending (grant ended meanwhile)
	key := "assignment:USER:carol@example.com:637423191929:" + ps
	if err := e.store.Create(e.ctx, &resource.Object{Kind: resource.KindSyncRecord, Version: resource.Version, Metadata: resource.Metadata{Name: key},
		Spec: &resource.SyncRecordSpec{Type: resource.RecordAssignment, IDCID: carol, Name: "carol@example.com", PrincipalType: "USER",
			AccountID: "637423191929", PermissionSetARN: ps, Until: e.now().Add(-time.Second), Op: "create"}}); err != nil {
		t.Fatal(err)
	}
	// ... and the request that reached AWS
	if _, err := e.client.CreateAssignment(e.ctx, idc.Assignment{PrincipalType: "USER", PrincipalID: carol, AccountID: "637423191929", PermissionSetARN: ps}); err != nil {
		t.Fatal(err)
	}
	_, restarted := e.newEngine(e.engine.Endpoint(), idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond})
	res, err := e.syncJumping(restarted, reconcile.PlanOptions{Full: true}, false)
	t.Logf("restart: err=%v\n%s", err, res.Plan)
	e.clock.Advance(2100 * time.Millisecond) // the creation in flight at the crash ends
	res, _ = e.syncJumping(restarted, reconcile.PlanOptions{Full: true}, false)
	t.Logf("later full sync:\n%s", res.Plan)
	if _, as := e.state(); as["carol@example.com 637423191929 admin"] {
		t.Errorf("BUG: an expired grant created by warden stays, no longer on record")
	}
}

// R13 (HEAD): a member added with an expiry through the membership-only path never expires: the
// kept compile's wake-up time is not passed to NextChange, and its clock is the last full compile's.
func TestRegressionMemberPathExpiry(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 28})
	e.apply(org)
	e.runLoop()
	e.waitFor("the first sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	exp := e.now().Add(time.Hour)
	e.apply(member("platform", "carol@example.com", exp))
	e.waitFor("carol added", 20*time.Second, func() bool { g, _ := e.state(); return len(g["Platform"]) == 3 })
	e.waitFor("the membership change's sync to wake the loop at the expiry", 20*time.Second, func() bool {
		next := e.engine.NextChange()
		return !next.IsZero() && !next.After(exp)
	})
	// The expiry comes, and nothing else happens: the loop's own timer removes carol.
	e.clock.Set(exp.Add(time.Second))
	e.waitFor("carol's expired membership removed", 20*time.Second, func() bool {
		g, _ := e.state()
		return strings.Join(g["Platform"], ",") == "alice@example.com,bob@example.com"
	})
}

// R14 (HEAD): the membership-only path brakes on the changed lists' memberships alone; the refused
// removal is then consumed (kept compile updated in place) and never retried by that path.
func TestRegressionMemberPathBrake(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 29})
	var docs strings.Builder
	docs.WriteString(org)
	docs.WriteString("---\nkind: access_list\nversion: v1\nmetadata: {name: big}\nspec: {title: Big, owners: [alice@example.com], grants: {roles: [read-all]}}\n")
	docs.WriteString("---\nkind: access_list\nversion: v1\nmetadata: {name: small}\nspec: {title: Small, owners: [alice@example.com], grants: {roles: [read-all]}}\n")
	for i := 0; i < 100; i++ {
		n := fmt.Sprintf("u%03d@example.com", i)
		docs.WriteString(userDoc(n))
		docs.WriteString(member("big", n, time.Time{}))
		if i < 20 {
			docs.WriteString(member("small", n, time.Time{}))
		}
	}
	e.apply(docs.String())
	e.runLoop()
	count := func() int {
		n := 0
		e.sim.Update(func(d *idcsim.Directory) error {
			id, _ := d.GroupID("Small")
			n = len(d.GroupMembers(id))
			return nil
		})
		return n
	}
	e.waitFor("the first sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	if n := count(); n != 20 {
		t.Fatalf("Small has %d members after the first sync, want 20", n)
	}
	for i := 0; i < 4; i++ { // 4 of ~150 memberships: under the 10% brake
		e.del(resource.KindAccessListMember, fmt.Sprintf("small/u%03d@example.com", i))
	}
	e.waitFor("the 4 members removed from Small", 20*time.Second, func() bool { return count() == 16 })
	e.apply(member("small", "alice@example.com", time.Time{})) // another membership change
	e.waitFor("alice added to Small, and the removed members still out", 20*time.Second, func() bool { return count() == 17 })
	if st := e.engine.Status(); st.Brake != "" {
		t.Errorf("the brake engaged for 4 removals of ~150 memberships: %s", st.Brake)
	}
}

// An expiry falling due while a long full observation runs is not kept waiting for it: the full
// observation does not hold the engine, and the revocation goes out on its own.
func TestRegressionExpiryDuringFullObservation(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 22})
	g := e.useGate()
	e.apply(org)
	e.sync(false)
	end := e.now().Add(time.Hour)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	e.sync(false)
	if _, as := e.state(); !as[carolProdAdmin] {
		t.Fatal("r1 not granted")
	}
	// The loop's first pass is a full observation, as every sync_interval: it is held reading users.
	g.Hold("ListUsers")
	e.runLoop()
	e.waitHeld(g, "the full observation")
	e.clock.Set(end)
	e.waitFor("the expired grant revoked", 20*time.Second, func() bool { _, as := e.state(); return !as[carolProdAdmin] })
	if g.Held() == 0 || !e.engine.Status().LastFull.IsZero() {
		t.Fatal("the full observation ended before the revocation: the revocation waited for it")
	}
	g.Release()
	e.waitFor("the full sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
}

// An operator's dry run (warden sync plan) made between a membership change and the loop's sync of
// it used to replace the compile the loop's membership path diffs against: the change was then
// found already compiled, and nothing was applied until the next full sync.
func TestDryRunBetweenChangeAndSync(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 30})
	e.apply(org)
	e.runLoop()
	e.waitFor("the first sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	e.del(resource.KindAccessListMember, "platform/bob@example.com")
	for _, full := range []bool{false, true} { // within the loop's debounce
		if _, _, _, err := e.engine.Plan(e.ctx, reconcile.PlanOptions{Full: full}); err != nil {
			t.Fatal(err)
		}
	}
	e.waitFor("bob out of Platform", 20*time.Second, func() bool { g, _ := e.state(); return len(g["Platform"]) == 1 })
}

// A request ended early (cancelled, revoked) is an end of access like an expiry: the brake, tripped
// by an unrelated mass deletion, still lets its assignment go. (It held it before: only a grant
// past its recorded end counted as ending, and a cancelled request's end is still ahead; in a small
// organisation a few requesters cancelling at once tripped the brake by themselves.)
func TestRegressionBrakeLetsAnEarlyEndGo(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 12})
	e.apply(org)
	e.sync(false)
	end := e.now().Add(time.Hour)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	e.sync(false)
	if _, as := e.state(); !as[carolProdAdmin] {
		t.Fatal("r1 not granted")
	}
	// carol ends it now, an hour early; and an unrelated, large revocation trips the brake.
	e.apply(strings.Replace(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)), "state: APPROVED", "state: CANCELLED", 1))
	res := tripBrake(t, e)
	if _, as := e.state(); as[carolProdAdmin] {
		t.Fatalf("the cancelled request is still granted: the brake held its end back\n%s", res.Plan)
	}
	if !strings.Contains(res.Plan.String(), "(access ended: never held by the brake)") {
		t.Errorf("the plan does not say the early end goes regardless:\n%s", res.Plan)
	}
}

// tripBrake denies everyone every assignment but ReadOnlyAccess (an unrelated mass deletion) and
// syncs, which the safety brake must refuse (else a test relying on it proves nothing).
func tripBrake(t *testing.T, e *env) *reconcile.Result {
	t.Helper()
	e.apply(`
kind: role
version: v1
metadata: {name: read-all}
spec: {allow: {account_assignments: [{account: "*", permission_set: ReadOnlyAccess}]}, deny: {account_assignments: [{account: "*", permission_set: "*"}]}}
`)
	res, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{}, false)
	if !errors.Is(err, reconcile.ErrBrake) {
		t.Fatalf("the unrelated mass deletion: %v, want the brake (else the test proves nothing)", err)
	}
	return res
}
