package idcsim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/wardenhq/warden/internal/idcsim"
)

// Issue 11: the simulated organisation grows as AWS's does, with CreateAccount: asynchronous,
// read with DescribeCreateAccountStatus and ListCreateAccountStatus, the account then listed and
// assignable; a second account with an email address already taken fails EMAIL_ALREADY_EXISTS.
func TestCreateAccount(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	e := newTestSim(t, idcsim.Options{Seed: 1, Now: c.Now, ProvisioningDelay: time.Minute}, withRetryMaxAttempts(1))
	if err := e.Sim.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	out, err := e.Organizations.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("Sandbox"), Email: aws.String("aws-sandbox@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	st := out.CreateAccountStatus
	if st.State != orgtypes.CreateAccountStateInProgress || st.AccountId != nil || aws.ToString(st.AccountName) != "Sandbox" || st.RequestedTimestamp == nil {
		t.Fatalf("CreateAccount answered %+v", st)
	}
	if id := aws.ToString(st.Id); len(id) < 12 || id[:4] != "car-" {
		t.Errorf("create account request id %q, want car- and 8 to 32 letters or digits", id)
	}
	dup, err := e.Organizations.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("Sandbox again"), Email: aws.String("AWS-sandbox@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	describe := func(id *string) *orgtypes.CreateAccountStatus {
		t.Helper()
		d, err := e.Organizations.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: id})
		if err != nil {
			t.Fatal(err)
		}
		return d.CreateAccountStatus
	}
	if got := describe(st.Id); got.State != orgtypes.CreateAccountStateInProgress {
		t.Fatalf("before its time: %s", got.State)
	}
	c.Advance(time.Minute)
	done := describe(st.Id)
	if done.State != orgtypes.CreateAccountStateSucceeded || len(aws.ToString(done.AccountId)) != 12 || done.CompletedTimestamp == nil {
		t.Fatalf("after a minute: %+v", done)
	}
	if failed := describe(dup.CreateAccountStatus.Id); failed.State != orgtypes.CreateAccountStateFailed || failed.FailureReason != orgtypes.CreateAccountFailureReasonEmailAlreadyExists {
		t.Errorf("a second account with the same email address: %s %s", failed.State, failed.FailureReason)
	}

	acct, err := e.Organizations.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: done.AccountId})
	if err != nil {
		t.Fatal(err)
	}
	if a := acct.Account; aws.ToString(a.Name) != "Sandbox" || aws.ToString(a.Email) != "aws-sandbox@example.com" || a.Status != orgtypes.AccountStatusActive ||
		a.JoinedMethod != orgtypes.AccountJoinedMethodCreated {
		t.Errorf("the new account: %+v", a)
	}
	roots, err := e.Organizations.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	under, err := e.Organizations.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: roots.Roots[0].Id, MaxResults: aws.Int32(20)})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range under.Accounts {
		found = found || aws.ToString(a.Id) == aws.ToString(done.AccountId)
	}
	if !found {
		t.Error("the new account is not under the root")
	}

	// It can be assigned like any other account.
	var ps, dan string
	e.Sim.Update(func(d *idcsim.Directory) error {
		ps, _ = d.PermissionSetARN("ReadOnlyAccess")
		dan, _ = d.UserID("dan@example.com")
		return nil
	})
	op, err := e.SSOAdmin.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(e.InstanceARN), TargetId: done.AccountId,
		TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: aws.String(ps), PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(dan)})
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	status, err := e.SSOAdmin.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: aws.String(e.InstanceARN),
		AccountAssignmentCreationRequestId: op.AccountAssignmentCreationStatus.RequestId})
	if err != nil || status.AccountAssignmentCreationStatus.Status != ssotypes.StatusValuesSucceeded {
		t.Errorf("assigning the new account: %+v %v", status, err)
	}

	list, err := e.Organizations.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: []orgtypes.CreateAccountState{orgtypes.CreateAccountStateSucceeded}})
	if err != nil || len(list.CreateAccountStatuses) != 1 || aws.ToString(list.CreateAccountStatuses[0].Id) != aws.ToString(st.Id) {
		t.Errorf("SUCCEEDED requests: %+v %v", list, err)
	}
	all, err := e.Organizations.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{})
	if err != nil || len(all.CreateAccountStatuses) != 2 {
		t.Errorf("all requests: %+v %v", all, err)
	}

	_, err = e.Organizations.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("Bad"), Email: aws.String("not an email")})
	if ie := orgWantInvalidInput(t, err); ie.Reason != orgtypes.InvalidInputExceptionReasonInvalidPattern {
		t.Errorf("CreateAccount with a bad email: reason %s", ie.Reason)
	}
	_, err = e.Organizations.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("car-0000000000")})
	requireErrorAs[*orgtypes.CreateAccountStatusNotFoundException](t, err)
}

// Issue 11: CreateOrganization from an account already in an organization (the simulator's management
// account) is AlreadyInOrganizationException, as AWS answers, not an unknown operation.
func TestCreateOrganizationAlreadyInOrganization(t *testing.T) {
	e := newTestSim(t, idcsim.Options{Seed: 1}, withRetryMaxAttempts(1))
	_, err := e.Organizations.CreateOrganization(testContext(t), &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll})
	requireErrorAs[*orgtypes.AlreadyInOrganizationException](t, err)
}
