package reconcile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// runLoop runs the engine's loop until the test ends.
func (e *env) runLoop() {
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.engine.Run(ctx); close(done) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

func (e *env) waitFor(what string, within time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// manyLists is n access lists (l000...) of alice granting staging-admin: enough groups that a full
// observation takes a while behind a slow Identity Center.
func manyLists(n int) string {
	var docs strings.Builder
	for i := range n {
		fmt.Fprintf(&docs, "---\nkind: access_list\nversion: v1\nmetadata: {name: l%03d}\nspec: {title: L%03d, owners: [alice@example.com], grants: {roles: [staging-admin]}}\n", i, i)
		docs.WriteString(member(fmt.Sprintf("l%03d", i), "alice@example.com", time.Time{}))
	}
	return docs.String()
}

func request(name, user, end string) string {
	return `
kind: access_request
version: v1
metadata: {name: ` + name + `}
spec: {user: ` + user + `, resources: [{account: Production, permission_set: AdministratorAccess}], state: APPROVED, start: "` +
		time.Now().Add(-time.Minute).Format(time.RFC3339) + `", end: "` + end + `"}
`
}

// A revocation whose deletion ends FAILED in Identity Center is tried again by the loop, without any
// other change to wake it, until the assignment is gone.
func TestRevocationFailedIsRetried(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 41, ProvisioningDelay: 50 * time.Millisecond})
	_, e.engine = e.newEngine(e.engine.Endpoint(), idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 2 * time.Millisecond,
		RetryFailedAfter: 200 * time.Millisecond})
	e.apply(org)
	end := e.now().Add(time.Hour)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	if _, err := e.syncJumping(e.engine, reconcile.PlanOptions{Full: true}, false); err != nil {
		t.Fatal(err)
	}
	if _, as := e.state(); !as["carol@example.com 637423191929 admin"] {
		t.Fatal("the approved request was not granted")
	}
	e.sim.SetFailRate(1)
	e.runLoop()
	e.clock.Set(end)
	deletes := func() int { return e.sim.Stats().Calls["sso-admin:DeleteAccountAssignment"] }
	e.waitFor("two failed deletions", 20*time.Second, func() bool { return deletes() >= 2 })
	if _, as := e.state(); !as["carol@example.com 637423191929 admin"] {
		t.Fatal("the fault did not make the deletion fail; the test proves nothing")
	}
	e.sim.SetFailRate(0)
	e.waitFor("the expired grant revoked once Identity Center recovers", 20*time.Second, func() bool {
		_, as := e.state()
		return !as["carol@example.com 637423191929 admin"]
	})
}

// A grant approved again while the previous one's revocation is in flight ends with the assignment
// present: the sync waits for the deletion to end, then creates it anew.
func TestRevocationInFlightThenGrantedAgain(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 42, ProvisioningDelay: time.Second})
	e.apply(org)
	end := e.now().Add(time.Hour)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	if _, err := e.syncJumping(e.engine, reconcile.PlanOptions{Full: true}, false); err != nil {
		t.Fatal(err)
	}
	creates := func() int { return e.sim.Stats().Calls["sso-admin:CreateAccountAssignment"] }
	created := creates()
	e.runLoop()
	e.waitFor("the loop's first full sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	e.clock.Set(end)
	deletes := func() int { return e.sim.Stats().Calls["sso-admin:DeleteAccountAssignment"] }
	e.waitFor("the revocation sent", 10*time.Second, func() bool { return deletes() >= 1 })
	// The deletion takes a second in Identity Center: approve a new grant meanwhile.
	e.apply(request("r2", "carol@example.com", e.now().Add(time.Hour).Format(time.RFC3339Nano)))
	e.waitFor("the assignment gone, then created again for r2", 20*time.Second, func() bool {
		e.clock.Advance(100 * time.Millisecond) // Identity Center provisions meanwhile
		return creates() > created && func() bool { _, as := e.state(); return as["carol@example.com 637423191929 admin"] }()
	})
	// And it stays: once nothing of warden's is in flight, it is there, and the plan has nothing to do.
	e.waitFor("nothing in flight", 20*time.Second, func() bool {
		e.clock.Advance(100 * time.Millisecond)
		recs, err := e.store.List(e.ctx, resource.KindSyncRecord, store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Spec.(*resource.SyncRecordSpec).Op != "" {
				return false
			}
		}
		return true
	})
	if _, as := e.state(); !as["carol@example.com 637423191929 admin"] {
		t.Fatal("the assignment for the new grant was deleted")
	}
	if p, _, _, err := e.engine.Plan(e.ctx, reconcile.PlanOptions{Full: true}); err != nil || p.Changes() != 0 {
		t.Fatalf("not converged: %v\n%v", err, p)
	}
}

// What the sync does in Identity Center is in the audit log, by warden:sync, with AWS's request ids:
// users and groups created, members added, assignments created and revoked with their outcome.
func TestSyncOperationsAudited(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 43, ProvisioningDelay: 20 * time.Millisecond})
	e.apply(org)
	end := e.now().Add(time.Hour)
	e.apply(request("r1", "carol@example.com", end.Format(time.RFC3339Nano)))
	e.sync(true)
	e.runLoop()
	e.clock.Set(end)
	e.waitFor("the grant revoked", 10*time.Second, func() bool { _, as := e.state(); return !as["carol@example.com 637423191929 admin"] })
	var entries []*resource.AuditEntrySpec
	e.waitFor("the revocation's outcome logged", 10*time.Second, func() bool {
		var err error
		entries, err = audit.List(e.ctx, e.store, audit.Filter{Actor: reconcile.SyncActor})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range entries {
			if x.Action == "sync.delete_assignment" {
				return true
			}
		}
		return false
	})
	uuid := regexp.MustCompile(`\(AWS request [0-9a-f-]{36}\)`)
	seen := map[string]int{}
	for _, x := range entries {
		seen[x.Action]++
		if !uuid.MatchString(x.Detail) {
			t.Errorf("%s without its AWS request id: %q", x.Action, x.Detail)
		}
	}
	for _, want := range []string{"sync.create_user", "sync.create_group", "sync.add_member", "sync.create_assignment", "sync.delete_assignment"} {
		if seen[want] == 0 {
			t.Errorf("no %s entry; logged: %v", want, seen)
		}
	}
	var revoked *resource.AuditEntrySpec
	for _, x := range entries {
		if x.Action == "sync.delete_assignment" && strings.Contains(x.Detail, "carol@example.com") {
			revoked = x
		}
	}
	if revoked == nil || !strings.Contains(revoked.Detail, "SUCCEEDED") || revoked.Kind != resource.KindSyncRecord {
		t.Fatalf("carol's revocation logged as %+v", revoked)
	}
	var rec struct {
		Spec resource.SyncRecordSpec `json:"spec"`
	}
	if err := json.Unmarshal(revoked.After, &rec); err != nil || rec.Spec.RequestID == "" || !strings.Contains(revoked.Detail, rec.Spec.RequestID) {
		t.Fatalf("the entry's record does not carry the request id: %v %s", err, revoked.After)
	}
	// A member's removal, in the plan and in the log, says where from.
	e.del(resource.KindAccessListMember, "platform/bob@example.com")
	p, _, _, err := e.engine.Plan(e.ctx, reconcile.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `- remove member bob@example.com from "Platform"`; !strings.Contains(p.String(), want) {
		t.Errorf("the plan does not say %q:\n%s", want, p)
	}
	e.waitFor("bob's removal logged", 10*time.Second, func() bool {
		entries, err := audit.List(e.ctx, e.store, audit.Filter{Actor: reconcile.SyncActor})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range entries {
			if x.Action == "sync.remove_member" && strings.HasPrefix(x.Detail, `remove member bob@example.com from "Platform" (AWS request`) {
				return true
			}
		}
		return false
	})
	if n, err := audit.Verify(e.ctx, e.store); err != nil {
		t.Fatalf("audit chain after %d entries: %v", n, err)
	}
}
