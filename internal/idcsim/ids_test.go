package idcsim_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/wardenhq/warden/internal/idcsim"
)

// restart is what `warden demo` and `warden sim --state` do between runs: snapshot the simulator
// and restore the snapshot into a new one made with the same options.
func restart(t *testing.T, from *idcsim.Sim, opts idcsim.Options) *testEnv {
	t.Helper()
	b, err := from.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sim := idcsim.New(opts)
	if err := sim.Restore(b); err != nil {
		t.Fatal(err)
	}
	return newTestSimFrom(t, sim)
}

// addDemoMember puts a demo user into a demo group through the identitystore API.
func addDemoMember(t *testing.T, e *testEnv, group, userName string) string {
	t.Helper()
	ctx := testContext(t)
	var gid, uid string
	e.Sim.Update(func(d *idcsim.Directory) error {
		gid, _ = d.GroupID(group)
		uid, _ = d.UserID(userName)
		return nil
	})
	out, err := e.IdentityStore.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: aws.String(e.IdentityStoreID),
		GroupId: aws.String(gid), MemberId: &istypes.MemberIdMemberUserId{Value: uid}})
	if err != nil {
		t.Fatalf("adding %s to %s: %v", userName, group, err)
	}
	return aws.ToString(out.MembershipId)
}

// Issue 11, item 7: run the demo, stop, start, add a member, stop, start, add another member. The
// second membership must get an id of its own, and the first must still be there.
func TestIDsAreUniqueAcrossRestarts(t *testing.T) {
	opts := idcsim.Options{Seed: 1}
	first := idcsim.New(opts)
	if err := first.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)

	second := restart(t, first, opts)
	m1 := addDemoMember(t, second, "DevOps", "kemi@example.com")
	u1 := isCreateUser(t, second, "newcomer-1")
	ps := second.psARNs(t)[0]
	op1, err := second.SSOAdmin.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(second.InstanceARN),
		TargetId: aws.String("058264527036"), TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: aws.String(ps),
		PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(u1)})
	if err != nil {
		t.Fatal(err)
	}

	third := restart(t, second.Sim, opts)
	m2 := addDemoMember(t, third, "DevOps", "lena@example.com")
	u2 := isCreateUser(t, third, "newcomer-2")
	op2, err := third.SSOAdmin.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(third.InstanceARN),
		TargetId: aws.String("058264527036"), TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: aws.String(ps),
		PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(u2)})
	if err != nil {
		t.Fatal(err)
	}

	if m1 == m2 {
		t.Errorf("the membership added after the second restart reuses the id %s of the one added after the first", m1)
	}
	if u1 == u2 {
		t.Errorf("the user created after the second restart reuses the id %s", u1)
	}
	if a, b := aws.ToString(op1.AccountAssignmentCreationStatus.RequestId), aws.ToString(op2.AccountAssignmentCreationStatus.RequestId); a == b {
		t.Errorf("the assignment operation after the second restart reuses the request id %s", a)
	}
	// Both memberships are there, each what it was made as.
	for id, user := range map[string]string{m1: "kemi@example.com", m2: "lena@example.com"} {
		d, err := third.IdentityStore.DescribeGroupMembership(ctx, &identitystore.DescribeGroupMembershipInput{IdentityStoreId: aws.String(third.IdentityStoreID), MembershipId: aws.String(id)})
		if err != nil {
			t.Errorf("membership %s (of %s): %v", id, user, err)
			continue
		}
		var want string
		third.Sim.Update(func(d *idcsim.Directory) error { want, _ = d.UserID(user); return nil })
		if got := d.MemberId.(*istypes.MemberIdMemberUserId).Value; got != want {
			t.Errorf("membership %s is of user %s, want %s (%s)", id, got, want, user)
		}
	}
	var members []string
	third.Sim.Update(func(d *idcsim.Directory) error {
		gid, _ := d.GroupID("DevOps")
		members = d.GroupMembers(gid)
		return nil
	})
	if strings.Join(members, ",") != "alice@example.com,bob@example.com,carol@example.com,kemi@example.com,lena@example.com" {
		t.Errorf("DevOps after two restarts: %v", members)
	}
}

// A snapshot written before the simulator saved its id generator restores to a simulator that
// still never repeats an id: two restores of the same old snapshot draw different ids.
func TestRestoreOfSnapshotWithoutGeneratorDrawsFreshIDs(t *testing.T) {
	opts := idcsim.Options{Seed: 1}
	first := idcsim.New(opts)
	if err := first.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	b, err := first.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var old map[string]any
	if err := json.Unmarshal(b, &old); err != nil {
		t.Fatal(err)
	}
	if _, ok := old["IdGenerator"]; !ok {
		t.Fatalf("the snapshot has no IdGenerator: %v", keys(old))
	}
	delete(old, "IdGenerator")
	b, _ = json.Marshal(old)
	var ids []string
	for range 2 {
		sim := idcsim.New(opts)
		if err := sim.Restore(b); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, addDemoMember(t, newTestSimFrom(t, sim), "DevOps", "kemi@example.com"))
	}
	if ids[0] == ids[1] {
		t.Errorf("two restores of a snapshot without generator state drew the same membership id %s", ids[0])
	}
}

// User, group and membership ids are "1234567890-UUID" where 1234567890 is the identity store id's
// (identitystore API reference: ResourceNotFoundException.ResourceId), so every id of one store
// shares its prefix.
func TestPrincipalIDsDerivedFromIdentityStore(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		e := newTestSim(t, idcsim.Options{Seed: seed})
		prefix := strings.TrimPrefix(e.IdentityStoreID, "d-") + "-"
		uid := isCreateUser(t, e, "prefix-user")
		gid := isCreateGroup(t, e, "prefix-group")
		mid := isAddMember(t, e, gid, uid)
		for what, id := range map[string]string{"user": uid, "group": gid, "membership": mid} {
			if !strings.HasPrefix(id, prefix) || len(id) != len(prefix)+36 {
				t.Errorf("seed %d: %s id %s, want %s followed by a UUID", seed, what, id, prefix)
			}
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// psARNs lists the permission sets' ARNs.
func (e *testEnv) psARNs(t *testing.T) []string {
	t.Helper()
	out, err := e.SSOAdmin.ListPermissionSets(testContext(t), &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(e.InstanceARN)})
	if err != nil {
		t.Fatal(err)
	}
	return out.PermissionSets
}
