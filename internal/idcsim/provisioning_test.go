package idcsim_test

import (
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/wardenhq/warden/internal/idcsim"
)

const (
	stagingID = "058264527036"
	prodID    = "637423191929"
)

func (e *ssoEnv) newPermissionSet(t *testing.T, name string) string {
	t.Helper()
	out, err := e.sso.CreatePermissionSet(e.ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: e.inst, Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.PermissionSet.PermissionSetArn
}

// provisionedTo lists the permission sets provisioned to an account, with a ProvisioningStatus filter
// when status is not empty.
func (e *ssoEnv) provisionedTo(t *testing.T, account string, status types.ProvisioningStatus) []string {
	t.Helper()
	var all []string
	pager := ssoadmin.NewListPermissionSetsProvisionedToAccountPaginator(e.sso, &ssoadmin.ListPermissionSetsProvisionedToAccountInput{InstanceArn: e.inst,
		AccountId: aws.String(account), ProvisioningStatus: status})
	for pager.HasMorePages() {
		page, err := pager.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.PermissionSets...)
	}
	return all
}

func (e *ssoEnv) accountsOf(t *testing.T, ps string, status types.ProvisioningStatus) []string {
	t.Helper()
	out, err := e.sso.ListAccountsForProvisionedPermissionSet(e.ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: e.inst,
		PermissionSetArn: aws.String(ps), ProvisioningStatus: status})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out.AccountIds)
	return out.AccountIds
}

// Issue 11: AWS removes a permission set's role from an account with the account's last assignment
// of it, so a permission set that was assigned can be deleted once its assignments are. The
// simulator kept it provisioned for ever, and DeletePermissionSet refused it for ever.
func TestLastAssignmentDeprovisions(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1, ProvisioningDelay: time.Second})
	ps := e.newPermissionSet(t, "Temporary")
	dan, erin := e.userID(t, "dan@example.com"), e.userID(t, "erin@example.com")
	for _, u := range []string{dan, erin} {
		if _, err := e.create(t, stagingID, ps, "USER", u); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(time.Second)
	if !contains(e.provisionedTo(t, stagingID, ""), ps) {
		t.Fatal("not provisioned to staging after its first assignment")
	}

	e.remove(t, stagingID, ps, "USER", dan)
	e.clock.Advance(time.Second)
	if !contains(e.provisionedTo(t, stagingID, ""), ps) {
		t.Fatal("deprovisioned from staging while an assignment of it remains")
	}
	e.remove(t, stagingID, ps, "USER", erin)
	e.clock.Advance(time.Second)
	if contains(e.provisionedTo(t, stagingID, ""), ps) {
		t.Error("still provisioned to staging after its last assignment there was deleted")
	}
	if got := e.accountsOf(t, ps, ""); len(got) != 0 {
		t.Errorf("accounts for the permission set after its last assignment: %v", got)
	}
	if _, err := e.sso.DeletePermissionSet(e.ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps)}); err != nil {
		t.Fatalf("deleting a permission set whose assignments are gone: %v", err)
	}
}

// Issue 11: ConflictException is, in AWS's model, "a conflict with a previous successful write ...
// did not have time to propagate", to retry. A condition that lasts until the caller acts is a
// ValidationException, so that a client that retries conflicts does not loop; a ConflictException
// passes by itself.
func TestPermanentConditionsAreNotConflicts(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1, ProvisioningDelay: time.Second})
	ps := e.newPermissionSet(t, "Twice")
	_, err := e.sso.CreatePermissionSet(e.ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: e.inst, Name: aws.String("Twice")})
	wantErr[*types.ValidationException](t, err, "a second permission set of the same name")

	dan := e.userID(t, "dan@example.com")
	if _, err := e.create(t, stagingID, ps, "USER", dan); err != nil {
		t.Fatal(err)
	}
	// While the creation is in progress: a conflict, which passes...
	_, err = e.sso.DeletePermissionSet(e.ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps)})
	wantErr[*types.ConflictException](t, err, "deleting while an assignment creation is in progress")
	e.clock.Advance(time.Second)
	// ... into a condition that stays until the assignment is deleted.
	for range 2 {
		_, err = e.sso.DeletePermissionSet(e.ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps)})
		wantErr[*types.ValidationException](t, err, "deleting a permission set an assignment uses")
		e.clock.Advance(time.Minute)
	}
	e.remove(t, stagingID, ps, "USER", dan)
	_, err = e.sso.DeletePermissionSet(e.ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps)})
	wantErr[*types.ConflictException](t, err, "deleting while its last assignment's deletion is in progress")
	e.clock.Advance(time.Second)
	if _, err := e.sso.DeletePermissionSet(e.ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps)}); err != nil {
		t.Fatalf("deleting once the deletion ended: %v", err)
	}
}

// Issue 11: a change to a permission set leaves the roles provisioned from it behind until
// ProvisionPermissionSet reaches them, and the ProvisioningStatus filters tell the two apart.
func TestProvisioningStatusFilters(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1, ProvisioningDelay: time.Second})
	ps := e.newPermissionSet(t, "Changing")
	dan := e.userID(t, "dan@example.com")
	for _, acct := range []string{stagingID, prodID} {
		if _, err := e.create(t, acct, ps, "USER", dan); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(time.Second)
	latest, behind := types.ProvisioningStatusLatestPermissionSetProvisioned, types.ProvisioningStatusLatestPermissionSetNotProvisioned
	want := func(what string, wantLatest, wantBehind []string) {
		t.Helper()
		if got := e.accountsOf(t, ps, latest); !equal(got, wantLatest) {
			t.Errorf("%s: accounts with the latest permission set %v, want %v", what, got, wantLatest)
		}
		if got := e.accountsOf(t, ps, behind); !equal(got, wantBehind) {
			t.Errorf("%s: accounts behind %v, want %v", what, got, wantBehind)
		}
		for _, acct := range []string{stagingID, prodID} {
			isLatest, isBehind := contains(e.provisionedTo(t, acct, latest), ps), contains(e.provisionedTo(t, acct, behind), ps)
			if isLatest != contains(wantLatest, acct) || isBehind != contains(wantBehind, acct) {
				t.Errorf("%s: in %s the permission set is latest %v, behind %v", what, acct, isLatest, isBehind)
			}
		}
	}
	both := []string{stagingID, prodID}
	sort.Strings(both)
	want("after the assignments", both, nil)

	changes := []struct {
		what   string
		change func() error
	}{
		{"UpdatePermissionSet", func() error {
			_, err := e.sso.UpdatePermissionSet(e.ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps), SessionDuration: aws.String("PT2H")})
			return err
		}},
		{"PutInlinePolicyToPermissionSet", func() error {
			_, err := e.sso.PutInlinePolicyToPermissionSet(e.ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps),
				InlinePolicy: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
			return err
		}},
		{"AttachManagedPolicyToPermissionSet", func() error {
			_, err := e.sso.AttachManagedPolicyToPermissionSet(e.ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps),
				ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
			return err
		}},
	}
	for _, c := range changes {
		if err := c.change(); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		want("after "+c.what, nil, both)

		op, err := e.sso.ProvisionPermissionSet(e.ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps),
			TargetType: types.ProvisionTargetTypeAwsAccount, TargetId: aws.String(stagingID)})
		if err != nil {
			t.Fatal(err)
		}
		want("while staging's provisioning is in progress", nil, both)
		e.clock.Advance(time.Second)
		e.provisioning(t, op.PermissionSetProvisioningStatus.RequestId, types.StatusValuesSucceeded)
		want("after provisioning staging", []string{stagingID}, []string{prodID})

		op, err = e.sso.ProvisionPermissionSet(e.ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps),
			TargetType: types.ProvisionTargetTypeAllProvisionedAccounts})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
		if st := e.provisioning(t, op.PermissionSetProvisioningStatus.RequestId, types.StatusValuesSucceeded); st.AccountId != nil {
			t.Errorf("ALL_PROVISIONED_ACCOUNTS answered AccountId %s", *st.AccountId)
		}
		want("after provisioning all accounts", both, nil)
	}

	_, err := e.sso.ListPermissionSetsProvisionedToAccount(e.ctx, &ssoadmin.ListPermissionSetsProvisionedToAccountInput{InstanceArn: e.inst,
		AccountId: aws.String(stagingID), ProvisioningStatus: "LATEST"})
	wantErr[*types.ValidationException](t, err, "an unknown ProvisioningStatus")
}

func (e *ssoEnv) provisioning(t *testing.T, id *string, want types.StatusValues) *types.PermissionSetProvisioningStatus {
	t.Helper()
	out, err := e.sso.DescribePermissionSetProvisioningStatus(e.ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{InstanceArn: e.inst, ProvisionPermissionSetRequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	if out.PermissionSetProvisioningStatus.Status != want {
		t.Fatalf("provisioning %s: %s (%s), want %s", aws.ToString(id), out.PermissionSetProvisioningStatus.Status, aws.ToString(out.PermissionSetProvisioningStatus.FailureReason), want)
	}
	return out.PermissionSetProvisioningStatus
}

// ProvisionPermissionSet is asynchronous, as in AWS: IN_PROGRESS for the provisioning delay, read
// with DescribePermissionSetProvisioningStatus and listed by ListPermissionSetProvisioningStatus. A
// second provisioning of the same permission set to the same account meanwhile is a conflict.
func TestProvisioningIsAsynchronous(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1, ProvisioningDelay: 2 * time.Second})
	ps := e.newPermissionSet(t, "Slow")
	op, err := e.sso.ProvisionPermissionSet(e.ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps),
		TargetType: types.ProvisionTargetTypeAwsAccount, TargetId: aws.String(stagingID)})
	if err != nil {
		t.Fatal(err)
	}
	st := op.PermissionSetProvisioningStatus
	if st.Status != types.StatusValuesInProgress || len(aws.ToString(st.RequestId)) != 36 || aws.ToString(st.AccountId) != stagingID ||
		aws.ToString(st.PermissionSetArn) != ps || st.CreatedDate == nil {
		t.Fatalf("ProvisionPermissionSet answered %+v", st)
	}
	e.provisioning(t, st.RequestId, types.StatusValuesInProgress)
	if contains(e.provisionedTo(t, stagingID, ""), ps) {
		t.Error("provisioned while the provisioning is in progress")
	}
	_, err = e.sso.ProvisionPermissionSet(e.ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps),
		TargetType: types.ProvisionTargetTypeAwsAccount, TargetId: aws.String(stagingID)})
	wantErr[*types.ConflictException](t, err, "a second provisioning to the same account while the first is in progress")
	if ids := e.provisioningList(t, types.StatusValuesInProgress); len(ids) != 1 || ids[0] != *st.RequestId {
		t.Errorf("provisionings IN_PROGRESS: %v", ids)
	}
	e.clock.Advance(2 * time.Second)
	e.provisioning(t, st.RequestId, types.StatusValuesSucceeded)
	if !contains(e.provisionedTo(t, stagingID, ""), ps) {
		t.Error("not provisioned after the provisioning succeeded")
	}
	if ids := e.provisioningList(t, types.StatusValuesSucceeded); len(ids) != 1 || ids[0] != *st.RequestId {
		t.Errorf("provisionings SUCCEEDED: %v", ids)
	}
	if ids := e.provisioningList(t, types.StatusValuesInProgress); len(ids) != 0 {
		t.Errorf("provisionings IN_PROGRESS after it ended: %v", ids)
	}

	_, err = e.sso.DescribePermissionSetProvisioningStatus(e.ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{InstanceArn: e.inst,
		ProvisionPermissionSetRequestId: aws.String("00000000-0000-4000-8000-000000000000")})
	wantErr[*types.ResourceNotFoundException](t, err, "an unknown provisioning request")
	_, err = e.sso.DescribePermissionSetProvisioningStatus(e.ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{InstanceArn: e.inst,
		ProvisionPermissionSetRequestId: aws.String("nope")})
	wantErr[*types.ValidationException](t, err, "a malformed provisioning request id")
}

func (e *ssoEnv) provisioningList(t *testing.T, status types.StatusValues) []string {
	t.Helper()
	var ids []string
	pager := ssoadmin.NewListPermissionSetProvisioningStatusPaginator(e.sso, &ssoadmin.ListPermissionSetProvisioningStatusInput{InstanceArn: e.inst,
		Filter: &types.OperationStatusFilter{Status: status}})
	for pager.HasMorePages() {
		page, err := pager.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.PermissionSetsProvisioningStatus {
			ids = append(ids, aws.ToString(p.RequestId))
		}
	}
	return ids
}

// ListAccountAssignmentCreationStatus and ListAccountAssignmentDeletionStatus list the operations of
// their kind, oldest first, filtered by status and paginated.
func TestListAccountAssignmentOperationStatus(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1, ProvisioningDelay: time.Second})
	admin := e.psARN(t, "AdministratorAccess")
	var created []string
	for _, u := range []string{"dan@example.com", "erin@example.com", "farid@example.com"} {
		op, err := e.create(t, stagingID, admin, "USER", e.userID(t, u))
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, *op.RequestId)
		e.clock.Advance(time.Second / 2)
	}
	// Now the first two have ended, the third is in progress.
	del := e.remove(t, stagingID, admin, "USER", e.userID(t, "dan@example.com"))

	list := func(kind string, status types.StatusValues) []string {
		t.Helper()
		var ids []string
		var filter *types.OperationStatusFilter
		if status != "" {
			filter = &types.OperationStatusFilter{Status: status}
		}
		if kind == "create" {
			pager := ssoadmin.NewListAccountAssignmentCreationStatusPaginator(e.sso, &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: e.inst, Filter: filter, MaxResults: aws.Int32(2)})
			for pager.HasMorePages() {
				page, err := pager.NextPage(e.ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range page.AccountAssignmentsCreationStatus {
					if m.CreatedDate == nil || m.Status == "" {
						t.Errorf("creation status metadata %+v", m)
					}
					ids = append(ids, aws.ToString(m.RequestId))
				}
			}
			return ids
		}
		out, err := e.sso.ListAccountAssignmentDeletionStatus(e.ctx, &ssoadmin.ListAccountAssignmentDeletionStatusInput{InstanceArn: e.inst, Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.AccountAssignmentsDeletionStatus {
			ids = append(ids, aws.ToString(m.RequestId))
		}
		return ids
	}
	if got := list("create", ""); !equal(got, created) {
		t.Errorf("creations %v, want %v (oldest first)", got, created)
	}
	if got := list("create", types.StatusValuesSucceeded); !equal(got, created[:2]) {
		t.Errorf("creations SUCCEEDED %v, want %v", got, created[:2])
	}
	if got := list("create", types.StatusValuesInProgress); !equal(got, created[2:]) {
		t.Errorf("creations IN_PROGRESS %v, want %v", got, created[2:])
	}
	if got := list("delete", ""); !equal(got, []string{*del.RequestId}) {
		t.Errorf("deletions %v, want %v", got, *del.RequestId)
	}
	_, err := e.sso.ListAccountAssignmentCreationStatus(e.ctx, &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: e.inst,
		Filter: &types.OperationStatusFilter{Status: "DONE"}})
	wantErr[*types.ValidationException](t, err, "an unknown status filter")
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A provisioning in progress, and a role behind its permission set, survive a snapshot.
func TestRestoreKeepsProvisioningState(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1, ProvisioningDelay: time.Minute})
	ps := e.newPermissionSet(t, "Kept")
	if _, err := e.create(t, prodID, ps, "USER", e.userID(t, "dan@example.com")); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.sso.UpdatePermissionSet(e.ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps), Description: aws.String("changed")}); err != nil {
		t.Fatal(err)
	}
	op, err := e.sso.ProvisionPermissionSet(e.ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: e.inst, PermissionSetArn: aws.String(ps),
		TargetType: types.ProvisionTargetTypeAwsAccount, TargetId: aws.String(stagingID)})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := e.sim.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	restored := idcsim.New(idcsim.Options{Now: e.clock.Now})
	if err := restored.Restore(snap); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(restored)
	defer hs.Close()
	e.sso = ssoadmin.New(ssoadmin.Options{Region: "us-east-1", Credentials: e.sso.Options().Credentials, BaseEndpoint: aws.String(hs.URL), RetryMaxAttempts: 1})
	if !contains(e.provisionedTo(t, prodID, types.ProvisioningStatusLatestPermissionSetNotProvisioned), ps) {
		t.Error("after the restore, production's role is no longer behind the changed permission set")
	}
	e.provisioning(t, op.PermissionSetProvisioningStatus.RequestId, types.StatusValuesInProgress)
	e.clock.Advance(time.Minute)
	e.provisioning(t, op.PermissionSetProvisioningStatus.RequestId, types.StatusValuesSucceeded)
	if !contains(e.provisionedTo(t, stagingID, types.ProvisioningStatusLatestPermissionSetProvisioned), ps) {
		t.Error("the restored provisioning did not provision staging")
	}
}
