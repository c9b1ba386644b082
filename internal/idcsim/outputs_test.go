package idcsim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"

	"github.com/wardenhq/warden/internal/idcsim"
)

// Issue 11 held UserArn, GroupArn, MembershipArn and Revision to be members AWS's model lacks; the
// AWS CLI 2.9's model lacks them, AWS's current one (the SDK warden builds with, identitystore
// v1.47.0 of September 2026: "optimistic locking for users and groups via resource revisions, and
// resource ARNs") makes them required members of these outputs, so the simulator answers them
// wherever that model has them: the lookups and the updates too.
func TestIdentityStoreOutputsCarryARNsAndRevisions(t *testing.T) {
	e := newTestSim(t, idcsim.Options{Seed: 1})
	ctx := testContext(t)
	store := aws.String(e.IdentityStoreID)
	uid := isCreateUser(t, e, "arn-user")
	gid := isCreateGroup(t, e, "arn-group")
	mid := isAddMember(t, e, gid, uid)

	u, err := e.IdentityStore.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: store, AlternateIdentifier: isUserName("arn-user")})
	if err != nil || aws.ToString(u.UserArn) != "arn:aws:identitystore:::user/"+uid {
		t.Errorf("GetUserId: UserArn %q (%v)", aws.ToString(u.UserArn), err)
	}
	g, err := e.IdentityStore.GetGroupId(ctx, &identitystore.GetGroupIdInput{IdentityStoreId: store, AlternateIdentifier: isGroupName("arn-group")})
	if err != nil || aws.ToString(g.GroupArn) != "arn:aws:identitystore:::group/"+gid {
		t.Errorf("GetGroupId: GroupArn %q (%v)", aws.ToString(g.GroupArn), err)
	}
	m, err := e.IdentityStore.GetGroupMembershipId(ctx, &identitystore.GetGroupMembershipIdInput{IdentityStoreId: store, GroupId: aws.String(gid),
		MemberId: &istypes.MemberIdMemberUserId{Value: uid}})
	if err != nil || aws.ToString(m.MembershipArn) != "arn:aws:identitystore:::membership/"+mid {
		t.Errorf("GetGroupMembershipId: MembershipArn %q (%v)", aws.ToString(m.MembershipArn), err)
	}

	before, err := e.IdentityStore.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: store, UserId: aws.String(uid)})
	if err != nil {
		t.Fatal(err)
	}
	uu, err := e.IdentityStore.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: store, UserId: aws.String(uid), Revision: before.Revision,
		Operations: []istypes.AttributeOperation{{AttributePath: aws.String("displayName"), AttributeValue: document.NewLazyDocument("Renamed")}}})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := e.IdentityStore.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: store, UserId: aws.String(uid)})
	if aws.ToString(uu.UserId) != uid || aws.ToString(uu.IdentityStoreId) != e.IdentityStoreID || aws.ToString(uu.UserArn) != "arn:aws:identitystore:::user/"+uid ||
		aws.ToString(uu.Revision) == "" || aws.ToString(uu.Revision) == aws.ToString(before.Revision) || aws.ToString(uu.Revision) != aws.ToString(after.Revision) {
		t.Errorf("UpdateUser answered %+v; revision before %s, after %s", uu, aws.ToString(before.Revision), aws.ToString(after.Revision))
	}
	ug, err := e.IdentityStore.UpdateGroup(ctx, &identitystore.UpdateGroupInput{IdentityStoreId: store, GroupId: aws.String(gid),
		Operations: []istypes.AttributeOperation{{AttributePath: aws.String("description"), AttributeValue: document.NewLazyDocument("about")}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(ug.GroupId) != gid || aws.ToString(ug.GroupArn) != "arn:aws:identitystore:::group/"+gid || aws.ToString(ug.Revision) == "" {
		t.Errorf("UpdateGroup answered %+v", ug)
	}
}
