package idcsim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/wardenhq/warden/internal/idcsim"
)

// clock is a settable clock, so that asynchronous operations and the rate limit are tested without
// waiting.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type ssoEnv struct {
	sim   *idcsim.Sim
	sso   *ssoadmin.Client
	clock *clock
	inst  *string
	ctx   context.Context
}

// newSSOEnv starts a simulator on a settable clock with the demo organisation, and an sso-admin
// client that does not retry (so that every error is seen).
func newSSOEnv(t *testing.T, opts idcsim.Options) *ssoEnv {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	opts.Now = c.Now
	sim := idcsim.New(opts)
	if err := sim.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sim)
	t.Cleanup(hs.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint: aws.String(hs.URL), RetryMaxAttempts: 1}
	return &ssoEnv{sim: sim, sso: ssoadmin.NewFromConfig(cfg), clock: c, inst: aws.String(sim.InstanceARN()), ctx: context.Background()}
}

func (e *ssoEnv) psARN(t *testing.T, name string) string {
	t.Helper()
	var arn string
	e.sim.Update(func(d *idcsim.Directory) error { arn, _ = d.PermissionSetARN(name); return nil })
	if arn == "" {
		t.Fatalf("no permission set %s", name)
	}
	return arn
}

func (e *ssoEnv) userID(t *testing.T, name string) string {
	t.Helper()
	var id string
	e.sim.Update(func(d *idcsim.Directory) error { id, _ = d.UserID(name); return nil })
	if id == "" {
		t.Fatalf("no user %s", name)
	}
	return id
}

func wantErr[E error](t *testing.T, err error, what string) E {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Fatalf("%s: got %v (%T), want %T", what, err, err, target)
	}
	return target
}

func TestInstances(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1})
	out, err := e.sso.ListInstances(e.ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Instances) != 1 || *out.Instances[0].InstanceArn != *e.inst || *out.Instances[0].IdentityStoreId != e.sim.IdentityStoreID() {
		t.Fatalf("instances: %+v", out.Instances)
	}
	d, err := e.sso.DescribeInstance(e.ctx, &ssoadmin.DescribeInstanceInput{InstanceArn: e.inst})
	if err != nil || d.Status != types.InstanceStatusActive || d.CreatedDate == nil {
		t.Fatalf("describe: %+v %v", d, err)
	}
	_, err = e.sso.DescribeInstance(e.ctx, &ssoadmin.DescribeInstanceInput{InstanceArn: aws.String("arn:aws:sso:::instance/ssoins-0000000000000000")})
	wantErr[*types.ResourceNotFoundException](t, err, "another instance")
	_, err = e.sso.DescribeInstance(e.ctx, &ssoadmin.DescribeInstanceInput{InstanceArn: aws.String("instance-1")})
	wantErr[*types.ValidationException](t, err, "malformed instance ARN")
	_, err = e.sso.ListInstances(e.ctx, &ssoadmin.ListInstancesInput{MaxResults: aws.Int32(101)})
	wantErr[*types.ValidationException](t, err, "MaxResults 101")
}

func TestPermissionSetLifecycle(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1})
	created, err := e.sso.CreatePermissionSet(e.ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: e.inst,
		Name: aws.String("DataScience"), Description: aws.String("Notebooks"), SessionDuration: aws.String("PT4H")})
	if err != nil {
		t.Fatal(err)
	}
	arn := created.PermissionSet.PermissionSetArn
	if !strings.HasPrefix(*arn, *e.inst+"/ps-") && !strings.Contains(*arn, ":permissionSet/ssoins-") {
		t.Fatalf("permission set ARN %s", *arn)
	}
	// A duplicate name stays one until the other is deleted: not a ConflictException, which the
	// model describes as a write not yet propagated, to retry.
	_, err = e.sso.CreatePermissionSet(e.ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: e.inst, Name: aws.String("DataScience")})
	wantErr[*types.ValidationException](t, err, "duplicate name")
	for _, bad := range []*ssoadmin.CreatePermissionSetInput{
		{InstanceArn: e.inst, Name: aws.String("has space")},
		{InstanceArn: e.inst, Name: aws.String(strings.Repeat("x", 33))},
		{InstanceArn: e.inst, Name: aws.String("Short"), SessionDuration: aws.String("PT13H")},
		{InstanceArn: e.inst, Name: aws.String("Short"), SessionDuration: aws.String("8h")},
		// Two components too large for a time.Duration must not wrap round to 0, leaving 8h.
		{InstanceArn: e.inst, Name: aws.String("Short"), SessionDuration: aws.String("P99999999999999999999DT99999999999999999999H480M")},
		{InstanceArn: e.inst, Name: aws.String("Short"), SessionDuration: aws.String("PT" + strings.Repeat("0", 100) + "8H")},
	} {
		_, err := e.sso.CreatePermissionSet(e.ctx, bad)
		wantErr[*types.ValidationException](t, err, fmt.Sprintf("create %v %v", aws.ToString(bad.Name), aws.ToString(bad.SessionDuration)))
	}
	if _, err := e.sso.UpdatePermissionSet(e.ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: arn,
		Description: aws.String("Notebooks and data"), SessionDuration: aws.String("PT2H")}); err != nil {
		t.Fatal(err)
	}
	d, err := e.sso.DescribePermissionSet(e.ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: arn})
	if err != nil || *d.PermissionSet.Name != "DataScience" || *d.PermissionSet.Description != "Notebooks and data" || *d.PermissionSet.SessionDuration != "PT2H" || d.PermissionSet.CreatedDate == nil {
		t.Fatalf("describe: %+v %v", d.PermissionSet, err)
	}

	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	if _, err := e.sso.PutInlinePolicyToPermissionSet(e.ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: arn, InlinePolicy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	got, err := e.sso.GetInlinePolicyForPermissionSet(e.ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: arn})
	if err != nil || *got.InlinePolicy != policy {
		t.Fatalf("inline policy: %v %v", got, err)
	}
	_, err = e.sso.PutInlinePolicyToPermissionSet(e.ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: arn, InlinePolicy: aws.String("{not json")})
	wantErr[*types.ValidationException](t, err, "inline policy that is not JSON")
	_, err = e.sso.PutInlinePolicyToPermissionSet(e.ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: arn,
		InlinePolicy: aws.String(`{"x":"` + strings.Repeat("a", 32768) + `"}`)})
	wantErr[*types.ValidationException](t, err, "inline policy over 32768 bytes")

	for i := 0; i < 20; i++ {
		if _, err := e.sso.AttachManagedPolicyToPermissionSet(e.ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: e.inst,
			PermissionSetArn: arn, ManagedPolicyArn: aws.String(fmt.Sprintf("arn:aws:iam::aws:policy/Policy%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.sso.AttachManagedPolicyToPermissionSet(e.ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: e.inst,
		PermissionSetArn: arn, ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/Policy05")})
	wantErr[*types.ValidationException](t, err, "attaching a policy twice")
	_, err = e.sso.AttachManagedPolicyToPermissionSet(e.ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: e.inst,
		PermissionSetArn: arn, ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/Policy20")})
	wantErr[*types.ServiceQuotaExceededException](t, err, "a 21st managed policy")
	var policies []types.AttachedManagedPolicy
	pager := ssoadmin.NewListManagedPoliciesInPermissionSetPaginator(e.sso, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: arn, MaxResults: aws.Int32(7)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		policies = append(policies, page.AttachedManagedPolicies...)
	}
	if len(policies) != 20 || *policies[3].Name != "Policy03" {
		t.Fatalf("managed policies: %d, %+v", len(policies), policies[3])
	}

	// Provisioning, and the lists it shows in.
	staging := aws.String("058264527036")
	prov, err := e.sso.ProvisionPermissionSet(e.ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: arn,
		TargetType: types.ProvisionTargetTypeAwsAccount, TargetId: staging})
	if err != nil || prov.PermissionSetProvisioningStatus.Status != types.StatusValuesInProgress {
		t.Fatalf("provision: %+v %v", prov, err)
	}
	provDone, err := e.sso.DescribePermissionSetProvisioningStatus(e.ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{InstanceArn: e.inst,
		ProvisionPermissionSetRequestId: prov.PermissionSetProvisioningStatus.RequestId})
	if err != nil || provDone.PermissionSetProvisioningStatus.Status != types.StatusValuesSucceeded || aws.ToString(provDone.PermissionSetProvisioningStatus.AccountId) != *staging {
		t.Fatalf("provisioning status: %+v %v", provDone, err)
	}
	inAccount, err := e.sso.ListPermissionSetsProvisionedToAccount(e.ctx, &ssoadmin.ListPermissionSetsProvisionedToAccountInput{InstanceArn: e.inst, AccountId: staging})
	if err != nil || !contains(inAccount.PermissionSets, *arn) {
		t.Fatalf("provisioned to staging: %v %v", inAccount.PermissionSets, err)
	}
	accounts, err := e.sso.ListAccountsForProvisionedPermissionSet(e.ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: arn})
	if err != nil || len(accounts.AccountIds) != 1 || accounts.AccountIds[0] != *staging {
		t.Fatalf("accounts for the set: %v %v", accounts.AccountIds, err)
	}
	// A permission set that an assignment uses is not deleted: a ValidationException, permanent until
	// the assignment is deleted, and then the set (and its roles) can go.
	dan := e.userID(t, "dan@example.com")
	if _, err := e.create(t, *staging, *arn, "USER", dan); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	_, err = e.sso.DeletePermissionSet(e.ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: arn})
	wantErr[*types.ValidationException](t, err, "deleting a permission set an assignment uses")
	e.remove(t, *staging, *arn, "USER", dan)
	e.clock.Advance(time.Second)
	if _, err := e.sso.DeletePermissionSet(e.ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: arn}); err != nil {
		t.Fatalf("deleting a permission set once its assignments are gone: %v", err)
	}
	inAccount, err = e.sso.ListPermissionSetsProvisionedToAccount(e.ctx, &ssoadmin.ListPermissionSetsProvisionedToAccountInput{InstanceArn: e.inst, AccountId: staging})
	if err != nil || contains(inAccount.PermissionSets, *arn) {
		t.Fatalf("a deleted permission set still provisioned to staging: %v %v", inAccount.PermissionSets, err)
	}

	other, err := e.sso.CreatePermissionSet(e.ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: e.inst, Name: aws.String("Unused")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sso.DeletePermissionSet(e.ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: other.PermissionSet.PermissionSetArn}); err != nil {
		t.Fatal(err)
	}
	_, err = e.sso.DescribePermissionSet(e.ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: other.PermissionSet.PermissionSetArn})
	wantErr[*types.ResourceNotFoundException](t, err, "describe after delete")
	_, err = e.sso.DescribePermissionSet(e.ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String("arn:aws:sso:::permissionSet/x")})
	wantErr[*types.ValidationException](t, err, "malformed permission set ARN")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (e *ssoEnv) create(t *testing.T, account, ps, ptype, pid string) (*types.AccountAssignmentOperationStatus, error) {
	t.Helper()
	out, err := e.sso.CreateAccountAssignment(e.ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: e.inst, TargetId: aws.String(account),
		TargetType: types.TargetTypeAwsAccount, PermissionSetArn: aws.String(ps), PrincipalType: types.PrincipalType(ptype), PrincipalId: aws.String(pid)})
	if err != nil {
		return nil, err
	}
	return out.AccountAssignmentCreationStatus, nil
}

func (e *ssoEnv) remove(t *testing.T, account, ps, ptype, pid string) *types.AccountAssignmentOperationStatus {
	t.Helper()
	out, err := e.sso.DeleteAccountAssignment(e.ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: e.inst, TargetId: aws.String(account),
		TargetType: types.TargetTypeAwsAccount, PermissionSetArn: aws.String(ps), PrincipalType: types.PrincipalType(ptype), PrincipalId: aws.String(pid)})
	if err != nil {
		t.Fatal(err)
	}
	return out.AccountAssignmentDeletionStatus
}

func (e *ssoEnv) creation(t *testing.T, id *string) *types.AccountAssignmentOperationStatus {
	t.Helper()
	out, err := e.sso.DescribeAccountAssignmentCreationStatus(e.ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: e.inst, AccountAssignmentCreationRequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	return out.AccountAssignmentCreationStatus
}

func (e *ssoEnv) deletion(t *testing.T, id *string) *types.AccountAssignmentOperationStatus {
	t.Helper()
	out, err := e.sso.DescribeAccountAssignmentDeletionStatus(e.ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{InstanceArn: e.inst, AccountAssignmentDeletionRequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	return out.AccountAssignmentDeletionStatus
}

func (e *ssoEnv) assignmentsOf(t *testing.T, account, ps string) []types.AccountAssignment {
	t.Helper()
	var all []types.AccountAssignment
	pager := ssoadmin.NewListAccountAssignmentsPaginator(e.sso, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: e.inst, AccountId: aws.String(account), PermissionSetArn: aws.String(ps)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.AccountAssignments...)
	}
	return all
}

func TestAssignmentsAreAsynchronous(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1, ProvisioningDelay: 2 * time.Second})
	prod, admin, dan := "637423191929", e.psARN(t, "AdministratorAccess"), e.userID(t, "dan@example.com")
	before := len(e.assignmentsOf(t, prod, admin))
	op, err := e.create(t, prod, admin, "USER", dan)
	if err != nil {
		t.Fatal(err)
	}
	if op.Status != types.StatusValuesInProgress || len(*op.RequestId) != 36 || *op.PrincipalId != dan || *op.TargetId != prod || op.CreatedDate == nil {
		t.Fatalf("create answered %+v", op)
	}
	if got := e.creation(t, op.RequestId); got.Status != types.StatusValuesInProgress {
		t.Fatalf("status before provisioning: %s", got.Status)
	}
	if n := len(e.assignmentsOf(t, prod, admin)); n != before {
		t.Fatalf("assignment listed while IN_PROGRESS: %d, want %d", n, before)
	}
	e.clock.Advance(2 * time.Second)
	if got := e.creation(t, op.RequestId); got.Status != types.StatusValuesSucceeded {
		t.Fatalf("status after provisioning: %s %v", got.Status, aws.ToString(got.FailureReason))
	}
	if n := len(e.assignmentsOf(t, prod, admin)); n != before+1 {
		t.Fatalf("assignments after success: %d, want %d", n, before+1)
	}
	forDan, err := e.sso.ListAccountAssignmentsForPrincipal(e.ctx, &ssoadmin.ListAccountAssignmentsForPrincipalInput{InstanceArn: e.inst,
		PrincipalId: aws.String(dan), PrincipalType: types.PrincipalTypeUser})
	if err != nil || len(forDan.AccountAssignments) != 1 || *forDan.AccountAssignments[0].AccountId != prod {
		t.Fatalf("dan's assignments: %+v %v", forDan.AccountAssignments, err)
	}
	filtered, err := e.sso.ListAccountAssignmentsForPrincipal(e.ctx, &ssoadmin.ListAccountAssignmentsForPrincipalInput{InstanceArn: e.inst,
		PrincipalId: aws.String(dan), PrincipalType: types.PrincipalTypeUser, Filter: &types.ListAccountAssignmentsFilter{AccountId: aws.String("058264527036")}})
	if err != nil || len(filtered.AccountAssignments) != 0 {
		t.Fatalf("dan's assignments on staging: %+v %v", filtered.AccountAssignments, err)
	}
	asGroup, err := e.sso.ListAccountAssignmentsForPrincipal(e.ctx, &ssoadmin.ListAccountAssignmentsForPrincipalInput{InstanceArn: e.inst,
		PrincipalId: aws.String(dan), PrincipalType: types.PrincipalTypeGroup})
	if err != nil || len(asGroup.AccountAssignments) != 0 {
		t.Fatalf("dan as a GROUP: %+v %v", asGroup.AccountAssignments, err)
	}

	del := e.remove(t, prod, admin, "USER", dan)
	if del.Status != types.StatusValuesInProgress {
		t.Fatalf("delete answered %s", del.Status)
	}
	e.clock.Advance(2 * time.Second)
	if got := e.deletion(t, del.RequestId); got.Status != types.StatusValuesSucceeded {
		t.Fatalf("deletion status: %s", got.Status)
	}
	if n := len(e.assignmentsOf(t, prod, admin)); n != before {
		t.Fatalf("assignments after delete: %d, want %d", n, before)
	}
	// The permission set stays provisioned to the account.
	prov, _ := e.sso.ListPermissionSetsProvisionedToAccount(e.ctx, &ssoadmin.ListPermissionSetsProvisionedToAccountInput{InstanceArn: e.inst, AccountId: aws.String(prod)})
	if !contains(prov.PermissionSets, admin) {
		t.Fatal("the permission set was deprovisioned with its last assignment")
	}
	// A creation id is not a deletion id, and an unknown one is not found.
	_, err = e.sso.DescribeAccountAssignmentDeletionStatus(e.ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{InstanceArn: e.inst, AccountAssignmentDeletionRequestId: op.RequestId})
	wantErr[*types.ResourceNotFoundException](t, err, "creation id as a deletion id")
	_, err = e.sso.DescribeAccountAssignmentCreationStatus(e.ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: e.inst, AccountAssignmentCreationRequestId: aws.String("nope")})
	wantErr[*types.ValidationException](t, err, "malformed request id")
}

func TestAssignmentEdgeCases(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1})
	prod, admin, dan := "637423191929", e.psARN(t, "AdministratorAccess"), e.userID(t, "dan@example.com")
	// Creating one that exists succeeds and changes nothing.
	kemi := e.userID(t, "kemi@example.com") // the demo gives kemi AdministratorAccess on Production
	before := len(e.assignmentsOf(t, prod, admin))
	op, err := e.create(t, prod, admin, "USER", kemi)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.creation(t, op.RequestId); got.Status != types.StatusValuesSucceeded {
		t.Fatalf("re-creating an existing assignment: %s %s", got.Status, aws.ToString(got.FailureReason))
	}
	if n := len(e.assignmentsOf(t, prod, admin)); n != before {
		t.Fatalf("re-creating duplicated it: %d assignments, want %d", n, before)
	}
	// Deleting one that does not exist succeeds, having nothing to do.
	del := e.remove(t, prod, admin, "USER", dan)
	if got := e.deletion(t, del.RequestId); got.Status != types.StatusValuesSucceeded {
		t.Fatalf("deleting a missing assignment: %s", got.Status)
	}
	// A principal that does not exist: accepted, then FAILED with a reason.
	ghost := "0123456789-01234567-89ab-cdef-0123-456789abcdef"
	op, err = e.create(t, prod, admin, "USER", ghost)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.creation(t, op.RequestId); got.Status != types.StatusValuesFailed || !strings.Contains(aws.ToString(got.FailureReason), ghost) {
		t.Fatalf("unknown principal: %s %q", got.Status, aws.ToString(got.FailureReason))
	}
	// An account outside the organisation: FAILED too.
	op, err = e.create(t, "999999999999", admin, "USER", dan)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.creation(t, op.RequestId); got.Status != types.StatusValuesFailed {
		t.Fatalf("unknown account: %s", got.Status)
	}
	// A permission set that does not exist: refused at once.
	_, err = e.create(t, prod, strings.TrimSuffix(admin, admin[len(admin)-4:])+"0000", "USER", dan)
	wantErr[*types.ResourceNotFoundException](t, err, "unknown permission set")
	// Bad input.
	_, err = e.create(t, "12345", admin, "USER", dan)
	wantErr[*types.ValidationException](t, err, "short account id")
	_, err = e.create(t, prod, admin, "ROLE", dan)
	wantErr[*types.ValidationException](t, err, "principal type ROLE")
	_, err = e.create(t, prod, admin, "USER", "alice")
	wantErr[*types.ValidationException](t, err, "malformed principal id")
	if f := e.sim.Stats().Failed; f != 2 {
		t.Fatalf("Stats.Failed = %d, want 2", f)
	}
}

func TestInjectedFailuresAndConflicts(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 3, FailRate: 1})
	prod, admin, dan := "637423191929", e.psARN(t, "AdministratorAccess"), e.userID(t, "dan@example.com")
	op, err := e.create(t, prod, admin, "USER", dan)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.creation(t, op.RequestId); got.Status != types.StatusValuesFailed || aws.ToString(got.FailureReason) == "" {
		t.Fatalf("FailRate 1: %s %q", got.Status, aws.ToString(got.FailureReason))
	}

	e = newSSOEnv(t, idcsim.Options{Seed: 3, ConflictRate: 1})
	prod, admin, dan = "637423191929", e.psARN(t, "AdministratorAccess"), e.userID(t, "dan@example.com")
	if _, err := e.create(t, prod, admin, "USER", dan); err != nil {
		t.Fatal(err)
	}
	_, err = e.create(t, prod, admin, "USER", dan)
	wantErr[*types.ConflictException](t, err, "a second write right after the first")
	e.clock.Advance(2 * time.Second)
	if _, err := e.create(t, prod, admin, "USER", dan); err != nil {
		t.Fatalf("after propagation: %v", err)
	}
	if c := e.sim.Stats().Conflicts; c != 1 {
		t.Fatalf("Stats.Conflicts = %d", c)
	}
}

func TestQuotas(t *testing.T) {
	e := newSSOEnv(t, idcsim.AWSQuotas(idcsim.Options{Seed: 1}))
	prod, ro := "637423191929", e.psARN(t, "ReadOnlyAccess")
	var users []string
	for _, n := range []string{"alice", "bob", "carol", "dan", "erin", "farid", "grace", "hiro", "ines", "jon", "kemi"} {
		users = append(users, e.userID(t, n+"@example.com"))
	}
	// Ten creations may be outstanding; the eleventh is throttled until one completes.
	for i := 0; i < 10; i++ {
		if _, err := e.create(t, prod, ro, "USER", users[i]); err != nil {
			t.Fatalf("creation %d: %v", i+1, err)
		}
	}
	_, err := e.create(t, prod, ro, "USER", users[10])
	wantErr[*types.ThrottlingException](t, err, "an eleventh outstanding creation")
	if s := e.sim.Stats(); s.Outstanding != 10 || s.MaxOutstandingCreates != 10 {
		t.Fatalf("stats: %+v", s)
	}
	e.clock.Advance(time.Second)
	if _, err := e.create(t, prod, ro, "USER", users[10]); err != nil {
		t.Fatalf("after provisioning: %v", err)
	}
	// The collective rate: 20 calls a second on a frozen clock, then throttling; a second later, more.
	e.clock.Advance(time.Second)
	throttled := 0
	for i := 0; i < 30; i++ {
		if _, err := e.sso.ListInstances(e.ctx, &ssoadmin.ListInstancesInput{}); err != nil {
			wantErr[*types.ThrottlingException](t, err, "over the rate")
			throttled++
		}
	}
	if throttled != 10 {
		t.Fatalf("%d of 30 calls in one frozen second throttled, want 10", throttled)
	}
	e.clock.Advance(time.Second)
	if _, err := e.sso.ListInstances(e.ctx, &ssoadmin.ListInstancesInput{}); err != nil {
		t.Fatalf("a second later: %v", err)
	}
	if s := e.sim.Stats(); s.Throttled != 11 || s.Calls["sso-admin:ListInstances"] != 31 {
		t.Fatalf("stats: throttled %d, ListInstances calls %d", s.Throttled, s.Calls["sso-admin:ListInstances"])
	}
}

func TestPaginationOverAThousandAssignments(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1})
	prod, ro := "637423191929", e.psARN(t, "ReadOnlyAccess")
	want := map[string]bool{}
	err := e.sim.Update(func(d *idcsim.Directory) error {
		for i := 0; i < 1000; i++ {
			id, err := d.CreateUser(fmt.Sprintf("p%04d@example.com", i), "P", fmt.Sprint(i), "")
			if err != nil {
				return err
			}
			want[id] = true
			if err := d.Assign(idcsim.Assignment{AccountID: prod, PermissionSetARN: ro, PrincipalType: "USER", PrincipalID: id}); err != nil {
				return err
			}
		}
		for i := 0; i < 150; i++ {
			if _, err := d.CreatePermissionSet(fmt.Sprintf("Generated%03d", i), "", "PT1H"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen, pages := map[string]bool{}, 0
	pager := ssoadmin.NewListAccountAssignmentsPaginator(e.sso, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: e.inst,
		AccountId: aws.String(prod), PermissionSetArn: aws.String(ro), MaxResults: aws.Int32(100)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range page.AccountAssignments {
			if seen[*a.PrincipalId] {
				t.Fatalf("%s listed twice", *a.PrincipalId)
			}
			seen[*a.PrincipalId] = true
		}
	}
	for id := range want {
		if !seen[id] {
			t.Fatalf("%s never listed", id)
		}
	}
	if pages != 11 { // 1000 generated + lena's demo assignment = 1001
		t.Fatalf("%d pages, want 11", pages)
	}
	sets := 0
	psPager := ssoadmin.NewListPermissionSetsPaginator(e.sso, &ssoadmin.ListPermissionSetsInput{InstanceArn: e.inst, MaxResults: aws.Int32(100)})
	for psPager.HasMorePages() {
		page, err := psPager.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		sets += len(page.PermissionSets)
	}
	if sets != 155 {
		t.Fatalf("%d permission sets listed, want 155", sets)
	}
	// A token belongs to its request.
	first, _ := e.sso.ListPermissionSets(e.ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: e.inst, MaxResults: aws.Int32(10)})
	_, err = e.sso.ListAccountAssignments(e.ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: e.inst,
		AccountId: aws.String(prod), PermissionSetArn: aws.String(ro), NextToken: first.NextToken})
	wantErr[*types.ValidationException](t, err, "a NextToken from another operation")
}
