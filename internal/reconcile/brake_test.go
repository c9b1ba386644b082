package reconcile_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
)

// writes counts the simulator's calls that change something.
func (e *env) writes() map[string]int {
	out := map[string]int{}
	for op, n := range e.sim.Stats().Calls {
		if w, ok := scimWrites[op]; ok {
			out[w] += n
			continue
		}
		name := op[strings.Index(op, ":")+1:]
		if strings.HasPrefix(name, "Create") || strings.HasPrefix(name, "Delete") || strings.HasPrefix(name, "Update") {
			out[name] += n
		}
	}
	return out
}

// scimWrites names the SCIM driver's calls as the identitystore writes they stand for (a PATCH of a
// group changes members or its name: PatchGroup).
var scimWrites = map[string]string{
	"scim:POST /Users": "CreateUser", "scim:PATCH /Users/{id}": "UpdateUser", "scim:PUT /Users/{id}": "UpdateUser", "scim:DELETE /Users/{id}": "DeleteUser",
	"scim:POST /Groups": "CreateGroup", "scim:DELETE /Groups/{id}": "DeleteGroup", "scim:PATCH /Groups/{id}": "PatchGroup",
}

// call is the simulator's name for the call the env's directory driver makes for an identitystore
// write (CreateGroupMembership: a PATCH of the group over SCIM).
func (e *env) call(op string) string {
	if !scimMode() {
		return "identitystore:" + op
	}
	if c, ok := scimCalls[op]; ok {
		return c
	}
	return "scim:?" + op
}

// scimCalls is the call the SCIM driver makes for each identitystore write (one each: the driver
// never uses PUT).
var scimCalls = map[string]string{
	"CreateUser": "scim:POST /Users", "UpdateUser": "scim:PATCH /Users/{id}", "DeleteUser": "scim:DELETE /Users/{id}",
	"CreateGroup": "scim:POST /Groups", "DeleteGroup": "scim:DELETE /Groups/{id}", "UpdateGroup": "scim:PATCH /Groups/{id}",
	"CreateGroupMembership": "scim:PATCH /Groups/{id}", "DeleteGroupMembership": "scim:PATCH /Groups/{id}",
}

// Deleting an access list with 100 members deletes its group, and with it its 100 memberships: the
// brake weighs them as it weighs 100 members removed one by one, and holds the plan until forced.
func TestBrakeWeighsAGroupsDeletionByItsMembers(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 81})
	var docs strings.Builder
	docs.WriteString(org)
	docs.WriteString("---\nkind: access_list\nversion: v1\nmetadata: {name: big}\nspec: {title: Big, owners: [alice@example.com], grants: {roles: [staging-admin]}}\n")
	for i := range 100 {
		n := fmt.Sprintf("u%03d@example.com", i)
		docs.WriteString(userDoc(n))
		docs.WriteString(member("big", n, time.Time{}))
	}
	e.apply(docs.String())
	e.sync(false)
	e.del(resource.KindAccessList, "big")
	e.sim.ResetStats()
	res, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{}, false)
	if !errors.Is(err, reconcile.ErrBrake) || !strings.Contains(res.Plan.Brake, "100 of 105 group memberships") {
		t.Fatalf("deleting a list of 100 members: %v (brake %q), want the brake on its 100 memberships\n%s", err, res.Plan.Brake, res.Plan)
	}
	if w := e.writes(); len(w) != 0 {
		t.Fatalf("the braked plan wrote %v", w)
	}
	if !strings.Contains(res.Plan.String(), `- delete group "Big" (access list big; its 100 memberships go with it)`) {
		t.Errorf("the plan does not say what the deletion takes with it:\n%s", res.Plan)
	}
	e.sim.ResetStats()
	if res, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{}, true); err != nil || len(res.Errors) > 0 {
		t.Fatalf("forced: %v %v", err, res.Errors)
	}
	w := e.writes()
	t.Logf("the forced deletion of a list of 100 members: %d calls, writes %v", e.sim.Stats().TotalCalls(), w)
	if w["DeleteGroup"] != 1 || w["DeleteAccountAssignment"] != 1 || w["DeleteGroupMembership"] != 0 {
		t.Errorf("the forced deletion wrote %v, want one DeleteGroup and its one assignment deleted", w)
	}
	if groups, _ := e.state(); groups["Big"] != nil {
		t.Errorf("Big remains: %v", groups["Big"])
	}
}

// Deleting a user warden created deletes it in Identity Center, which takes its memberships in
// every group with it, groups warden does not manage included: the brake counts those (one
// ListGroupMembershipsForMember per user) and holds the plan.
func TestBrakeWeighsAUsersDeletionByItsOtherMemberships(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 82})
	var docs strings.Builder
	docs.WriteString(org)
	for i := range 3 {
		docs.WriteString(userDoc(fmt.Sprintf("d%d@example.com", i)))
	}
	e.apply(docs.String())
	e.sync(false)
	// By hand, outside warden: the three are in ten groups each.
	if err := e.sim.Update(func(d *idcsim.Directory) error {
		for g := range 10 {
			gid, err := d.CreateGroup(fmt.Sprintf("Hand %d", g), "")
			if err != nil {
				return err
			}
			for i := range 3 {
				uid, _ := d.UserID(fmt.Sprintf("d%d@example.com", i))
				if _, err := d.AddMember(gid, uid); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e.del(resource.KindUser, fmt.Sprintf("d%d@example.com", i))
	}
	e.sim.ResetStats()
	res, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{}, false)
	if !errors.Is(err, reconcile.ErrBrake) || !strings.Contains(res.Plan.Brake, "30 of 5 group memberships") {
		t.Fatalf("deleting 3 users in 30 groups warden does not manage: %v (brake %q), want the brake on their 30 memberships\n%s", err, res.Plan.Brake, res.Plan)
	}
	if n := e.sim.Stats().Calls["identitystore:ListGroupMembershipsForMember"]; n != 3 {
		t.Errorf("%d ListGroupMembershipsForMember calls to weigh 3 users' deletion, want 3", n)
	}
	if w := e.writes(); len(w) != 0 {
		t.Fatalf("the braked plan wrote %v", w)
	}
	if !strings.Contains(res.Plan.String(), "- delete user d0@example.com (with its 10 memberships in groups warden does not manage)") {
		t.Errorf("the plan does not say what the deletion takes with it:\n%s", res.Plan)
	}
	// Planning again asks nothing more: the count is remembered with the observation.
	e.sim.ResetStats()
	if _, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{}, false); !errors.Is(err, reconcile.ErrBrake) {
		t.Fatalf("again: %v", err)
	}
	if n := e.sim.Stats().Calls["identitystore:ListGroupMembershipsForMember"]; n != 0 {
		t.Errorf("%d ListGroupMembershipsForMember calls planning again", n)
	}
	if res, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{}, true); err != nil || len(res.Errors) > 0 {
		t.Fatalf("forced: %v %v", err, res.Errors)
	}
	e.sim.Update(func(d *idcsim.Directory) error {
		if _, ok := d.UserID("d0@example.com"); ok {
			t.Error("the forced plan did not delete d0")
		}
		return nil
	})
}

// Users warden adopted (there before it, as an import makes them) and no longer has are left in
// Identity Center with their memberships outside warden, and no longer managed: nothing is deleted
// and nothing braked. The plan lists them; --delete-in-aws deletes them, weighed by the brake.
func TestAdoptedUsersAreReleasedNotDeleted(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 83})
	names := numbered("imp%02d@example.com", 30)
	if err := e.sim.Update(func(d *idcsim.Directory) error {
		var groups []string
		for g := range 15 {
			gid, err := d.CreateGroup(fmt.Sprintf("Outside %02d", g), "")
			if err != nil {
				return err
			}
			groups = append(groups, gid)
		}
		for i, n := range names {
			uid, err := d.CreateUser(n, "Imp", fmt.Sprint(i), n)
			if err != nil {
				return err
			}
			if _, err := d.AddMember(groups[i%15], uid); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var docs strings.Builder
	docs.WriteString(org)
	for _, n := range names {
		docs.WriteString(userDoc(n))
	}
	e.apply(docs.String())
	e.sync(true) // adopts the 30
	for _, n := range names {
		e.del(resource.KindUser, n)
	}
	e.sim.ResetStats()
	res := e.sync(false)
	if w := e.writes(); len(w) != 0 || res.Plan.Brake != "" {
		t.Fatalf("removing 30 adopted users from warden wrote %v (brake %q)\n%s", w, res.Plan.Brake, res.Plan)
	}
	if !strings.Contains(res.Plan.String(), "stop managing user imp00@example.com (there before warden: it stays in Identity Center; --delete-in-aws deletes it)") {
		t.Errorf("the plan does not say the user stays:\n%s", res.Plan)
	}
	outside := func() int {
		n := 0
		e.sim.Update(func(d *idcsim.Directory) error {
			for g := range 15 {
				gid, _ := d.GroupID(fmt.Sprintf("Outside %02d", g))
				n += len(d.GroupMembers(gid))
			}
			return nil
		})
		return n
	}
	if n := outside(); n != 30 {
		t.Fatalf("%d memberships left in the groups outside warden, want 30", n)
	}
	// Converged, and still named as what --delete-in-aws would delete.
	p, _, _, err := e.engine.Plan(e.ctx, reconcile.PlanOptions{Full: true})
	if err != nil || p.Changes() != 0 || len(p.Released) != 30 || !strings.Contains(p.String(), "user imp00@example.com") {
		t.Fatalf("after the release: %v\n%s", err, p)
	}
	p, _, _, err = e.engine.Plan(e.ctx, reconcile.PlanOptions{DeleteInAWS: true})
	if err != nil || !strings.Contains(p.String(), "- delete user imp00@example.com (there before warden; with its 1 membership in groups warden does not manage)") {
		t.Fatalf("the plan with --delete-in-aws: %v\n%s", err, p)
	}
	if !strings.Contains(p.Brake, "30 of 3 users") || !strings.Contains(p.Brake, "30 of 5 group memberships") {
		t.Errorf("deleting 30 users with 30 memberships outside warden is not braked on both: %q", p.Brake)
	}
	res, err = e.syncJumping(e.engine, reconcile.PlanOptions{DeleteInAWS: true}, true)
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("--delete-in-aws --force: %v %v", err, res)
	}
	if n := e.writes()["DeleteUser"]; n != 30 || outside() != 0 {
		t.Fatalf("%d DeleteUser calls, %d memberships left outside, want 30 and 0", n, outside())
	}
	if p, _, _, err := e.engine.Plan(e.ctx, reconcile.PlanOptions{Full: true}); err != nil || p.Changes() != 0 || len(p.Released) != 0 {
		t.Fatalf("after deleting them: %v\n%s", err, p)
	}
}

// A group warden adopted, whose access list is deleted, loses the assignments its list granted (the
// access goes) and stays in Identity Center with its members, no longer managed; --delete-in-aws
// deletes it.
func TestAdoptedGroupIsReleasedWithoutItsAccess(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 84})
	e.apply(org + `---
kind: user
version: v1
metadata: {name: ghost@example.com}
spec: {display_name: Ghost User}
---
kind: access_list
version: v1
metadata: {name: contractors}
spec: {title: Contractors, owners: [alice@example.com], grants: {roles: [staging-admin]}}
` + member("contractors", "ghost@example.com", time.Time{}))
	e.sync(true)
	if _, as := e.state(); !as["Contractors 058264527036 admin"] || !as["Contractors 637423191929 ro"] {
		t.Fatalf("Contractors not adopted with its grant: %v", as)
	}
	e.del(resource.KindAccessList, "contractors")
	res := e.sync(false)
	groups, as := e.state()
	if as["Contractors 058264527036 admin"] || as["Contractors 637423191929 ro"] {
		t.Errorf("the deleted list's access stays on the group it had: %v\n%s", as, res.Plan)
	}
	if strings.Join(groups["Contractors"], ",") != "ghost@example.com" {
		t.Errorf("the adopted group was not left as it was: %v", groups["Contractors"])
	}
	if !strings.Contains(res.Plan.String(), `stop managing group "Contractors" (access list contractors; there before warden`) {
		t.Errorf("the plan does not say the group stays:\n%s", res.Plan)
	}
	// Released: not looked at any more, not even by a full observation.
	e.sim.ResetStats()
	p, _, _, err := e.engine.Plan(e.ctx, reconcile.PlanOptions{Full: true})
	if err != nil || p.Changes() != 0 || strings.Join(p.Released, ",") != `group "Contractors"` {
		t.Fatalf("after the release: %v\n%s", err, p)
	}
	if n := e.sim.Stats().Calls["identitystore:ListGroupMemberships"]; n != 2 { // Platform's and Everyone's
		t.Errorf("a full observation read %d groups' members, want Platform's and Everyone's only", n)
	}
	res, err = e.engine.Sync(e.ctx, reconcile.PlanOptions{DeleteInAWS: true}, false)
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("--delete-in-aws: %v %v", err, res)
	}
	if groups, _ := e.state(); groups["Contractors"] != nil {
		t.Error("--delete-in-aws left the group")
	}
}
