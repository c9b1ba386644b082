package reconcile_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
)

// carolRecord is the sync record of carol's grant of AdministratorAccess on Production.
func (e *env) carolRecord() *resource.SyncRecordSpec {
	e.t.Helper()
	r, err := e.store.Get(e.ctx, resource.KindSyncRecord, "assignment:USER:carol@example.com:637423191929:"+e.arn["AdministratorAccess"])
	if err != nil {
		return nil
	}
	return r.Spec.(*resource.SyncRecordSpec)
}

// A grant approved while the loop runs is sent, and the run that sent it ends without waiting for
// Identity Center to provision it: the poller learns the outcome, records it and audits it. (The
// next change is synced meanwhile: an approval does not wait behind another's provisioning.)
func TestCreationHandedToPoller(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 61, ProvisioningDelay: time.Second})
	e.apply(org)
	e.runLoop()
	e.waitFor("the loop's first full sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	e.apply(request("r1", "carol@example.com", e.now().Add(time.Hour).Format(time.RFC3339Nano)))
	e.waitFor("the creation sent and the run over, with Identity Center still provisioning", 20*time.Second, func() bool {
		s := e.carolRecord()
		return s != nil && s.Op == "create" && s.RequestID != "" && !e.engine.Status().Running
	})
	if _, as := e.state(); as["carol@example.com 637423191929 admin"] {
		t.Fatal("the assignment exists before Identity Center's provisioning time passed; the test proves nothing")
	}
	e.waitFor("the creation seen done by the poller", 20*time.Second, func() bool {
		e.clock.Advance(100 * time.Millisecond) // Identity Center provisions meanwhile
		s := e.carolRecord()
		return s != nil && s.Op == "" && s.RequestID == "" && s.IDCID != ""
	})
	if _, as := e.state(); !as["carol@example.com 637423191929 admin"] {
		t.Fatal("the record says done, but the assignment is not in Identity Center")
	}
	entries, err := audit.List(e.ctx, e.store, audit.Filter{Actor: reconcile.SyncActor})
	if err != nil {
		t.Fatal(err)
	}
	audited := false
	for _, x := range entries {
		if x.Action == "sync.create_assignment" && strings.Contains(x.Detail, "carol@example.com") && strings.Contains(x.Detail, "SUCCEEDED") {
			audited = true
		}
	}
	if !audited {
		t.Fatal("the poller did not audit the creation's outcome")
	}
}

// A grant withdrawn while its assignment is being created ends with no assignment: the creation is
// let finish (deleting it mid-way would race it), then the sync deletes it.
func TestCreationInFlightThenCancelled(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 62, ProvisioningDelay: time.Second})
	e.apply(org)
	e.runLoop()
	e.waitFor("the loop's first full sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	creates := func() int { return e.sim.Stats().Calls["sso-admin:CreateAccountAssignment"] }
	before := creates()
	end := e.now().Add(time.Hour).Format(time.RFC3339Nano)
	e.apply(request("r1", "carol@example.com", end))
	e.waitFor("the creation in flight", 20*time.Second, func() bool {
		s := e.carolRecord()
		return s != nil && s.Op == "create" && s.RequestID != ""
	})
	e.apply(strings.Replace(request("r1", "carol@example.com", end), "state: APPROVED", "state: CANCELLED", 1))
	e.waitFor("the assignment made, then deleted, and its record gone", 30*time.Second, func() bool {
		e.clock.Advance(100 * time.Millisecond)
		_, as := e.state()
		return !as["carol@example.com 637423191929 admin"] && e.carolRecord() == nil &&
			e.sim.Stats().Calls["sso-admin:DeleteAccountAssignment"] >= 1
	})
	if n := creates() - before; n != 1 {
		t.Fatalf("%d creations sent for one grant; want 1 (a creation in flight is not sent again)", n)
	}
}

// Creations handed to the poller still count against Identity Center's quota of outstanding
// creations until they are seen to end: thirty grants at once are sent side by side, at most ten
// in flight, none refused.
func TestHandedOffCreationsKeepTheOutstandingQuota(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 63, ProvisioningDelay: 300 * time.Millisecond, MaxOutstandingCreates: 10})
	var docs strings.Builder
	docs.WriteString(org)
	for i := range 30 {
		docs.WriteString(userDoc(fmt.Sprintf("u%02d@example.com", i)))
	}
	e.apply(docs.String())
	e.runLoop()
	e.waitFor("the loop's first full sync", 20*time.Second, func() bool { return !e.engine.Status().LastFull.IsZero() })
	creates := func() int { return e.sim.Stats().Calls["sso-admin:CreateAccountAssignment"] }
	before := creates()
	docs.Reset()
	for i := range 30 {
		fmt.Fprintf(&docs, "---\nkind: user\nversion: v1\nmetadata: {name: u%02d@example.com}\nspec: {display_name: X u%02d, roles: [staging-admin]}\n", i, i)
	}
	e.apply(docs.String())
	e.waitFor("the thirty assignments", 30*time.Second, func() bool {
		return e.holding(numbered("u%02d@example.com", 30), "058264527036", "AdministratorAccess") == 30
	})
	if n := creates() - before; n != 30 {
		t.Errorf("%d creations sent for 30 grants: some were refused for the outstanding quota and sent again", n)
	}
	// The simulator refuses an eleventh, so at most 10 is by construction; more than one shows they
	// went side by side (how many of the ten slots fill depends on the machine's speed).
	if s := e.sim.Stats(); s.Throttled != 0 || s.MaxOutstandingCreates < 2 {
		t.Errorf("throttled %d, at most %d creations outstanding at once; want none refused, several at once", s.Throttled, s.MaxOutstandingCreates)
	}
}
