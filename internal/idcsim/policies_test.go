package idcsim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/wardenhq/warden/internal/idcsim"
)

// Issue 11: every policy a permission set can hold can be taken off again, as in AWS: managed
// policies detached, the inline policy deleted, customer managed policy references attached, listed
// and detached, a permissions boundary put, read and deleted. Each change leaves the roles
// provisioned from the set behind until it is provisioned again.
func TestPermissionSetPolicies(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1})
	ps := aws.String(e.newPermissionSet(t, "Policies"))
	if _, err := e.create(t, stagingID, *ps, "USER", e.userID(t, "dan@example.com")); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	behind := func(what string, want bool) {
		t.Helper()
		if got := contains(e.provisionedTo(t, stagingID, types.ProvisioningStatusLatestPermissionSetNotProvisioned), *ps); got != want {
			t.Errorf("after %s: staging's role behind the permission set: %v, want %v", what, got, want)
		}
	}
	reprovision := func() {
		t.Helper()
		if _, err := e.sso.ProvisionPermissionSet(e.ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps,
			TargetType: types.ProvisionTargetTypeAllProvisionedAccounts}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
		behind("provisioning", false)
	}

	// AWS managed policies.
	readOnly := aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")
	if _, err := e.sso.AttachManagedPolicyToPermissionSet(e.ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps, ManagedPolicyArn: readOnly}); err != nil {
		t.Fatal(err)
	}
	reprovision()
	if _, err := e.sso.DetachManagedPolicyFromPermissionSet(e.ctx, &ssoadmin.DetachManagedPolicyFromPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps, ManagedPolicyArn: readOnly}); err != nil {
		t.Fatalf("DetachManagedPolicyFromPermissionSet: %v", err)
	}
	behind("detaching a managed policy", true)
	if out, err := e.sso.ListManagedPoliciesInPermissionSet(e.ctx, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps}); err != nil || len(out.AttachedManagedPolicies) != 0 {
		t.Errorf("managed policies after the detach: %+v %v", out, err)
	}
	_, err := e.sso.DetachManagedPolicyFromPermissionSet(e.ctx, &ssoadmin.DetachManagedPolicyFromPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps, ManagedPolicyArn: readOnly})
	wantErr[*types.ResourceNotFoundException](t, err, "detaching a policy not attached")
	reprovision()

	// The inline policy.
	if _, err := e.sso.PutInlinePolicyToPermissionSet(e.ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps,
		InlinePolicy: aws.String(`{"Version":"2012-10-17","Statement":[]}`)}); err != nil {
		t.Fatal(err)
	}
	reprovision()
	if _, err := e.sso.DeleteInlinePolicyFromPermissionSet(e.ctx, &ssoadmin.DeleteInlinePolicyFromPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps}); err != nil {
		t.Fatalf("DeleteInlinePolicyFromPermissionSet: %v", err)
	}
	behind("deleting the inline policy", true)
	if out, err := e.sso.GetInlinePolicyForPermissionSet(e.ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps}); err != nil || aws.ToString(out.InlinePolicy) != "" {
		t.Errorf("inline policy after the delete: %q %v", aws.ToString(out.InlinePolicy), err)
	}
	reprovision()

	// Customer managed policy references.
	refs := []types.CustomerManagedPolicyReference{{Name: aws.String("Deploy")}, {Name: aws.String("Audit"), Path: aws.String("/security/")}}
	for _, r := range refs {
		if _, err := e.sso.AttachCustomerManagedPolicyReferenceToPermissionSet(e.ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{InstanceArn: e.inst,
			PermissionSetArn: ps, CustomerManagedPolicyReference: &r}); err != nil {
			t.Fatalf("attaching %s: %v", aws.ToString(r.Name), err)
		}
	}
	behind("attaching customer managed policies", true)
	_, err = e.sso.AttachCustomerManagedPolicyReferenceToPermissionSet(e.ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{InstanceArn: e.inst,
		PermissionSetArn: ps, CustomerManagedPolicyReference: &types.CustomerManagedPolicyReference{Name: aws.String("Deploy"), Path: aws.String("/")}})
	wantErr[*types.ValidationException](t, err, "attaching a customer managed policy twice (the default path is /)")
	_, err = e.sso.AttachCustomerManagedPolicyReferenceToPermissionSet(e.ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{InstanceArn: e.inst,
		PermissionSetArn: ps, CustomerManagedPolicyReference: &types.CustomerManagedPolicyReference{Name: aws.String("Bad"), Path: aws.String("no-slashes")}})
	wantErr[*types.ValidationException](t, err, "a customer managed policy path without slashes")
	listed, err := e.sso.ListCustomerManagedPolicyReferencesInPermissionSet(e.ctx, &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range listed.CustomerManagedPolicyReferences {
		got = append(got, aws.ToString(r.Path)+aws.ToString(r.Name))
	}
	if !equal(got, []string{"/Deploy", "/security/Audit"}) {
		t.Errorf("customer managed policies: %v", got)
	}
	reprovision()
	if _, err := e.sso.DetachCustomerManagedPolicyReferenceFromPermissionSet(e.ctx, &ssoadmin.DetachCustomerManagedPolicyReferenceFromPermissionSetInput{InstanceArn: e.inst,
		PermissionSetArn: ps, CustomerManagedPolicyReference: &refs[1]}); err != nil {
		t.Fatalf("DetachCustomerManagedPolicyReferenceFromPermissionSet: %v", err)
	}
	behind("detaching a customer managed policy", true)
	_, err = e.sso.DetachCustomerManagedPolicyReferenceFromPermissionSet(e.ctx, &ssoadmin.DetachCustomerManagedPolicyReferenceFromPermissionSetInput{InstanceArn: e.inst,
		PermissionSetArn: ps, CustomerManagedPolicyReference: &refs[1]})
	wantErr[*types.ResourceNotFoundException](t, err, "detaching a customer managed policy not attached")
	reprovision()

	// AWS managed and customer managed policies share the role's 20.
	for i := 0; i < 19; i++ {
		if _, err := e.sso.AttachManagedPolicyToPermissionSet(e.ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps,
			ManagedPolicyArn: aws.String(fmt.Sprintf("arn:aws:iam::aws:policy/P%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.sso.AttachCustomerManagedPolicyReferenceToPermissionSet(e.ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{InstanceArn: e.inst,
		PermissionSetArn: ps, CustomerManagedPolicyReference: &types.CustomerManagedPolicyReference{Name: aws.String("OneTooMany")}})
	wantErr[*types.ServiceQuotaExceededException](t, err, "a 21st managed policy, customer managed")
	reprovision()

	// The permissions boundary.
	_, err = e.sso.GetPermissionsBoundaryForPermissionSet(e.ctx, &ssoadmin.GetPermissionsBoundaryForPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps})
	wantErr[*types.ResourceNotFoundException](t, err, "reading a boundary that was never put")
	for _, b := range []*types.PermissionsBoundary{
		{ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/PowerUserAccess")},
		{CustomerManagedPolicyReference: &types.CustomerManagedPolicyReference{Name: aws.String("Boundary"), Path: aws.String("/limits/")}},
	} {
		if _, err := e.sso.PutPermissionsBoundaryToPermissionSet(e.ctx, &ssoadmin.PutPermissionsBoundaryToPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps, PermissionsBoundary: b}); err != nil {
			t.Fatalf("PutPermissionsBoundaryToPermissionSet: %v", err)
		}
		behind("putting a permissions boundary", true)
		out, err := e.sso.GetPermissionsBoundaryForPermissionSet(e.ctx, &ssoadmin.GetPermissionsBoundaryForPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.PermissionsBoundary.ManagedPolicyArn) != aws.ToString(b.ManagedPolicyArn) ||
			(b.CustomerManagedPolicyReference != nil) != (out.PermissionsBoundary.CustomerManagedPolicyReference != nil) {
			t.Errorf("boundary read back %+v, put %+v", out.PermissionsBoundary, b)
		}
		reprovision()
	}
	_, err = e.sso.PutPermissionsBoundaryToPermissionSet(e.ctx, &ssoadmin.PutPermissionsBoundaryToPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps,
		PermissionsBoundary: &types.PermissionsBoundary{}})
	wantErr[*types.ValidationException](t, err, "a boundary with neither member")
	if _, err := e.sso.DeletePermissionsBoundaryFromPermissionSet(e.ctx, &ssoadmin.DeletePermissionsBoundaryFromPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps}); err != nil {
		t.Fatalf("DeletePermissionsBoundaryFromPermissionSet: %v", err)
	}
	behind("deleting the permissions boundary", true)
	_, err = e.sso.GetPermissionsBoundaryForPermissionSet(e.ctx, &ssoadmin.GetPermissionsBoundaryForPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: ps})
	wantErr[*types.ResourceNotFoundException](t, err, "reading a deleted boundary")
}

// A permission set's tags: given at creation, added, replaced and removed; they do not touch its
// roles.
func TestPermissionSetTags(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1})
	created, err := e.sso.CreatePermissionSet(e.ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: e.inst, Name: aws.String("Tagged"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}})
	if err != nil {
		t.Fatal(err)
	}
	ps := created.PermissionSet.PermissionSetArn
	tags := func() []string {
		t.Helper()
		out, err := e.sso.ListTagsForResource(e.ctx, &ssoadmin.ListTagsForResourceInput{InstanceArn: e.inst, ResourceArn: ps})
		if err != nil {
			t.Fatal(err)
		}
		var kv []string
		for _, tg := range out.Tags {
			kv = append(kv, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		return kv
	}
	if got := tags(); !equal(got, []string{"team=platform"}) {
		t.Errorf("tags after create: %v", got)
	}
	if _, err := e.sso.TagResource(e.ctx, &ssoadmin.TagResourceInput{InstanceArn: e.inst, ResourceArn: ps,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("security")}, {Key: aws.String("cost-center"), Value: aws.String("42")}}}); err != nil {
		t.Fatal(err)
	}
	if got := tags(); !equal(got, []string{"cost-center=42", "team=security"}) {
		t.Errorf("tags after TagResource: %v", got)
	}
	if _, err := e.sso.UntagResource(e.ctx, &ssoadmin.UntagResourceInput{InstanceArn: e.inst, ResourceArn: ps, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	if got := tags(); !equal(got, []string{"cost-center=42"}) {
		t.Errorf("tags after UntagResource: %v", got)
	}
	_, err = e.sso.TagResource(e.ctx, &ssoadmin.TagResourceInput{InstanceArn: e.inst, ResourceArn: ps, Tags: []types.Tag{{Key: aws.String(""), Value: aws.String("x")}}})
	wantErr[*types.ValidationException](t, err, "an empty tag key")
	_, err = e.sso.ListTagsForResource(e.ctx, &ssoadmin.ListTagsForResourceInput{InstanceArn: e.inst, ResourceArn: aws.String("arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-0000000000000000")})
	wantErr[*types.ResourceNotFoundException](t, err, "tags of a permission set that does not exist")
}
