package idcsim_test

// Fuzz tests of the simulator's request handling: whatever a client sends, it answers, and never
// by panicking (Stats().Panics stays 0) or allocating more than 100 MB. `go test` runs the seeds;
// `go test -fuzz FuzzX` looks for more.

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/idcsim"
)

// fuzzSim is a demo organisation and the ids a request may name, to put in for $STORE, $INSTANCE,
// $USER, $GROUP, $PS, $ACCOUNT, $MEMBERSHIP and $REQUEST.
type fuzzSim struct {
	sim  *idcsim.Sim
	vars *strings.Replacer
}

var fuzzClock = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func newFuzzSim(t *testing.T) *fuzzSim {
	sim := idcsim.New(idcsim.Options{Seed: 1, SCIMToken: "fuzz-token", Now: func() time.Time { return fuzzClock }})
	var user, group, ps, membership string
	if err := sim.Update(func(d *idcsim.Directory) error {
		if err := idcsim.SeedDemo(d); err != nil {
			return err
		}
		user, _ = d.UserID("alice@example.com")
		group, _ = d.GroupID("DevOps")
		ps, _ = d.PermissionSetARN("AdministratorAccess")
		var err error
		membership, err = d.AddMember(group, mustUserID(d, "kemi@example.com"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	f := &fuzzSim{sim: sim}
	op := f.aws("SWBExternalService.CreateAccountAssignment", `{"InstanceArn": "`+sim.InstanceARN()+`", "TargetId": "637423191929",
		"TargetType": "AWS_ACCOUNT", "PermissionSetArn": "`+ps+`", "PrincipalType": "USER", "PrincipalId": "`+user+`"}`)
	request := ""
	if i := strings.Index(op.Body.String(), `"RequestId":"`); i >= 0 {
		request = op.Body.String()[i+len(`"RequestId":"`):][:36]
	}
	f.vars = strings.NewReplacer("$STORE", sim.IdentityStoreID(), "$INSTANCE", sim.InstanceARN(), "$USER", user, "$GROUP", group,
		"$PS", ps, "$ACCOUNT", "058264527036", "$MEMBERSHIP", membership, "$REQUEST", request)
	return f
}

func mustUserID(d *idcsim.Directory, userName string) string {
	id, _ := d.UserID(userName)
	return id
}

func (f *fuzzSim) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.sim.ServeHTTP(w, r)
	return w
}

func (f *fuzzSim) aws(target, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("X-Amz-Target", target)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261101/us-east-1/sso/aws4_request, SignedHeaders=host, Signature=00")
	return f.serve(r)
}

func (f *fuzzSim) scim(method, path, body string) *httptest.ResponseRecorder {
	r, err := http.NewRequest(method, "http://sim/scim/v2"+path, strings.NewReader(body))
	if err != nil {
		return httptest.NewRecorder() // not a request a client could send
	}
	r.Header.Set("Authorization", "Bearer fuzz-token")
	r.Header.Set("Content-Type", "application/scim+json")
	return f.serve(r)
}

func (f *fuzzSim) noPanics(t *testing.T, what string, w *httptest.ResponseRecorder) {
	t.Helper()
	if n := f.sim.Stats().Panics; n > 0 {
		t.Fatalf("%s: the simulator panicked: %d %s", what, w.Code, w.Body.String())
	}
}

var fuzzTargets = []string{
	"AWSIdentityStore.CreateUser", "AWSIdentityStore.UpdateUser", "AWSIdentityStore.DescribeUser", "AWSIdentityStore.ListUsers",
	"AWSIdentityStore.DeleteUser", "AWSIdentityStore.GetUserId", "AWSIdentityStore.CreateGroup", "AWSIdentityStore.UpdateGroup",
	"AWSIdentityStore.DescribeGroup", "AWSIdentityStore.ListGroups", "AWSIdentityStore.DeleteGroup", "AWSIdentityStore.GetGroupId",
	"AWSIdentityStore.CreateGroupMembership", "AWSIdentityStore.DeleteGroupMembership", "AWSIdentityStore.DescribeGroupMembership",
	"AWSIdentityStore.GetGroupMembershipId", "AWSIdentityStore.ListGroupMemberships", "AWSIdentityStore.ListGroupMembershipsForMember",
	"AWSIdentityStore.IsMemberInGroups",
	"SWBExternalService.ListInstances", "SWBExternalService.DescribeInstance", "SWBExternalService.ListPermissionSets",
	"SWBExternalService.DescribePermissionSet", "SWBExternalService.CreatePermissionSet", "SWBExternalService.UpdatePermissionSet",
	"SWBExternalService.DeletePermissionSet", "SWBExternalService.PutInlinePolicyToPermissionSet",
	"SWBExternalService.GetInlinePolicyForPermissionSet", "SWBExternalService.AttachManagedPolicyToPermissionSet",
	"SWBExternalService.ListManagedPoliciesInPermissionSet", "SWBExternalService.ProvisionPermissionSet",
	"SWBExternalService.ListPermissionSetsProvisionedToAccount", "SWBExternalService.ListAccountsForProvisionedPermissionSet",
	"SWBExternalService.ListAccountAssignments", "SWBExternalService.ListAccountAssignmentsForPrincipal",
	"SWBExternalService.CreateAccountAssignment", "SWBExternalService.DeleteAccountAssignment",
	"SWBExternalService.DescribeAccountAssignmentCreationStatus", "SWBExternalService.DescribeAccountAssignmentDeletionStatus",
	"AWSOrganizationsV20161128.DescribeOrganization", "AWSOrganizationsV20161128.ListRoots", "AWSOrganizationsV20161128.ListAccounts",
	"AWSOrganizationsV20161128.ListAccountsForParent", "AWSOrganizationsV20161128.DescribeAccount",
	// 44 on
	"SWBExternalService.DescribePermissionSetProvisioningStatus", "SWBExternalService.ListPermissionSetProvisioningStatus",
	"SWBExternalService.ListAccountAssignmentCreationStatus", "SWBExternalService.ListAccountAssignmentDeletionStatus",
	"SWBExternalService.DetachManagedPolicyFromPermissionSet", "SWBExternalService.DeleteInlinePolicyFromPermissionSet",
	"SWBExternalService.AttachCustomerManagedPolicyReferenceToPermissionSet",
	"SWBExternalService.DetachCustomerManagedPolicyReferenceFromPermissionSet",
	"SWBExternalService.ListCustomerManagedPolicyReferencesInPermissionSet", "SWBExternalService.PutPermissionsBoundaryToPermissionSet",
	"SWBExternalService.GetPermissionsBoundaryForPermissionSet", "SWBExternalService.DeletePermissionsBoundaryFromPermissionSet",
	"SWBExternalService.TagResource", "SWBExternalService.UntagResource", "SWBExternalService.ListTagsForResource",
	"AWSOrganizationsV20161128.CreateAccount", "AWSOrganizationsV20161128.DescribeCreateAccountStatus",
	"AWSOrganizationsV20161128.ListCreateAccountStatus", "AWSOrganizationsV20161128.CreateOrganization",
	"SWBExternalService.CreateApplication", // an operation of AWS's model the simulator does not implement
}

// Any body sent to any operation, with real ids put in for the $ placeholders.
func FuzzAWSOperations(f *testing.F) {
	for _, seed := range []struct {
		target uint8
		body   string
	}{
		{0, `{"IdentityStoreId": "$STORE", "UserName": "new", "DisplayName": "N", "Name": {"GivenName": "N", "FamilyName": "N"}, "PhoneNumbers": [{"": "x"}], "Addresses": [{"": ""}]}`},
		{0, `{"IdentityStoreId": "$STORE", "UserName": "new", "DisplayName": "N", "Name": {"GivenName": "N", "FamilyName": "N"}, "PhoneNumbers": [{"Value": 5}]}`},
		{1, `{"IdentityStoreId": "$STORE", "UserId": "$USER", "Operations": [{"AttributePath": "name", "AttributeValue": null}]}`},
		{1, `{"IdentityStoreId": "$STORE", "UserId": "$USER", "Operations": [{"AttributePath": "emails", "AttributeValue": [{"Value": "a@b"}, {"Value": "c@d"}]}]}`},
		{5, `{"IdentityStoreId": "$STORE", "AlternateIdentifier": {"UniqueAttribute": {"AttributePath": "emails.value", "AttributeValue": "alice@example.com"}}}`},
		{5, `{"IdentityStoreId": "$STORE", "AlternateIdentifier": {"ExternalId": {"Issuer": "x", "Id": "y"}}}`},
		{7, `{"IdentityStoreId": "$STORE", "GroupId": "$GROUP", "Operations": [{"AttributePath": "displayName", "AttributeValue": {}}]}`},
		{12, `{"IdentityStoreId": "$STORE", "GroupId": "$GROUP", "MemberId": {"UserId": "$USER"}}`},
		{13, `{"IdentityStoreId": "$STORE", "MembershipId": "$MEMBERSHIP"}`},
		{18, `{"IdentityStoreId": "$STORE", "MemberId": {"UserId": "$USER"}, "GroupIds": ["$GROUP", "x"]}`},
		{16, `{"IdentityStoreId": "$STORE", "GroupId": "$GROUP", "MaxResults": 1, "NextToken": "eyJvcCI6Ikxpc3RHcm91cE1lbWJlcnNoaXBzIn0"}`},
		{24, `{"InstanceArn": "$INSTANCE", "Name": "New", "SessionDuration": "PT1,5H"}`},
		{24, `{"InstanceArn": "$INSTANCE", "Name": "New", "SessionDuration": "PT99999999999999999999H"}`},
		{24, `{"InstanceArn": "$INSTANCE", "Name": "New", "SessionDuration": "P99999999999999999999DT99999999999999999999H480M"}`}, // had wrapped round to 8h
		{7, `{"IdentityStoreId": "$STORE", "GroupId": "$GROUP", "Operations": [{"AttributePath": "description", "AttributeValue": [` + strings.Repeat("1,", 40000) + `1]}]}`},
		{28, `{"InstanceArn": "$INSTANCE", "PermissionSetArn": "$PS", "ManagedPolicyArn": "arn:aws:iam::aws:policy/"}`},
		{30, `{"InstanceArn": "$INSTANCE", "PermissionSetArn": "$PS", "TargetType": "AWS_ACCOUNT", "TargetId": "$ACCOUNT"}`},
		{34, `{"InstanceArn": "$INSTANCE", "PrincipalId": "$USER", "PrincipalType": "USER", "Filter": {"AccountId": "$ACCOUNT"}}`},
		{35, `{"InstanceArn": "$INSTANCE", "TargetId": "$ACCOUNT", "TargetType": "AWS_ACCOUNT", "PermissionSetArn": "$PS", "PrincipalType": "GROUP", "PrincipalId": "$GROUP"}`},
		{37, `{"InstanceArn": "$INSTANCE", "AccountAssignmentCreationRequestId": "$REQUEST"}`},
		{42, `{"ParentId": "r-0000", "MaxResults": 0}`},
		{3, `null`}, {3, `[]`}, {3, `{"MaxResults": 1e400}`},
		{45, `{"InstanceArn": "$INSTANCE", "Filter": {"Status": "IN_PROGRESS"}, "MaxResults": 1}`},
		{46, `{"InstanceArn": "$INSTANCE", "Filter": null, "NextToken": "x"}`},
		{50, `{"InstanceArn": "$INSTANCE", "PermissionSetArn": "$PS", "CustomerManagedPolicyReference": {"Name": "P", "Path": "/a/"}}`},
		{53, `{"InstanceArn": "$INSTANCE", "PermissionSetArn": "$PS", "PermissionsBoundary": {"CustomerManagedPolicyReference": null, "ManagedPolicyArn": ""}}`},
		{56, `{"InstanceArn": "$INSTANCE", "ResourceArn": "$PS", "Tags": [{"Key": "k"}, {"Value": "v"}]}`},
		{59, `{"Email": "a@b.co", "AccountName": "A", "Tags": [{}]}`},
		{61, `{"States": ["IN_PROGRESS", 1]}`},
	} {
		f.Add(seed.target, seed.body)
	}
	f.Fuzz(func(t *testing.T, target uint8, body string) {
		defer idcsim.CheckAlloc(t)()
		s := newFuzzSim(t)
		op := fuzzTargets[int(target)%len(fuzzTargets)]
		w := s.aws(op, s.vars.Replace(body))
		s.noPanics(t, op+" "+body, w)
		if w.Code >= 500 {
			t.Fatalf("%s %s: %d %s", op, body, w.Code, w.Body.String())
		}
	})
}

// A user made through identitystore with any attributes, then PATCHed, PUT and read over SCIM.
func FuzzSCIMUser(f *testing.F) {
	for _, seed := range []struct{ create, patch string }{
		{`"PhoneNumbers": [{"": "x", "Value": "+1 555"}]`, `{"Operations": [{"op": "replace", "path": "title", "value": "T"}]}`},
		{`"Addresses": [{"": "y"}]`, `{"Operations": [{"op": "add", "path": "addresses[type eq \"work\"].locality", "value": "Oxford"}]}`},
		{`"PhoneNumbers": [{"Value": "1", "Type": "work"}]`, `{"Operations": [{"op": "remove", "path": "phoneNumbers[type eq \"work\"].value"}]}`},
		{`"Emails": [{"Value": "a@example.com", "Primary": true}]`, `{"Operations": [{"op": "replace", "value": {"emails": [{"value": "", "primary": true}]}}]}`},
		{`"Name": null`, `{"Operations": [{"op": "add", "path": "name.givenName", "value": "G"}]}`},
		{``, `{"Operations": [{"op": "replace", "path": "emails[primary eq \"maybe\"]", "value": {"value": "x@y"}}]}`},
		{``, `{"Operations": [{"op": "add", "path": "[", "value": 1}, {"op": "remove", "path": "name.x"}]}`},
		{``, `{"Operations": [{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active", "value": "False"}]}`},
		{``, `{"userName": "x", "displayName": "X", "name": {"givenName": "G", "familyName": "F"}, "phoneNumbers": {"value": "1"}}`},
		// 24 KB that had taken 5 s and 329 MB: each value compared with every other
		{``, `{"Operations": [{"op": "add", "path": "emails", "value": [` + strings.Repeat("{},", 8000) + `{}]}]}`},
	} {
		f.Add(seed.create, seed.patch)
	}
	f.Fuzz(func(t *testing.T, create, patch string) {
		defer idcsim.CheckAlloc(t)()
		s := newFuzzSim(t)
		fields := `"IdentityStoreId": "$STORE", "UserName": "fuzz.user", "DisplayName": "Fuzz", "Name": {"GivenName": "F", "FamilyName": "U"}`
		if create != "" {
			fields += ", " + create
		}
		w := s.aws("AWSIdentityStore.CreateUser", s.vars.Replace("{"+fields+"}"))
		s.noPanics(t, "CreateUser "+create, w)
		id := s.vars.Replace("$USER")
		if i := strings.Index(w.Body.String(), `"UserId":"`); w.Code == http.StatusOK && i >= 0 {
			id = strings.SplitN(w.Body.String()[i+len(`"UserId":"`):], `"`, 2)[0]
		}
		for _, c := range []struct{ method, path, body string }{
			{"PATCH", "/Users/" + id, patch}, {"GET", "/Users/" + id, ""}, {"PUT", "/Users/" + id, patch}, {"POST", "/Users", patch},
			{"GET", "/Users?filter=userName%20eq%20%22fuzz.user%22&count=1&cursor", ""},
		} {
			w := s.scim(c.method, c.path, s.vars.Replace(c.body))
			s.noPanics(t, c.method+" "+c.path+" "+c.body, w)
			if w.Code >= 500 {
				t.Fatalf("%s %s %s: %d %s", c.method, c.path, c.body, w.Code, w.Body.String())
			}
		}
		if w := s.aws("AWSIdentityStore.DescribeUser", s.vars.Replace(`{"IdentityStoreId": "$STORE", "UserId": "`+id+`"}`)); w.Code >= 500 {
			t.Fatalf("DescribeUser after the SCIM calls: %d %s", w.Code, w.Body.String())
		}
	})
}

// Group PATCHes and filtered lists over SCIM.
func FuzzSCIMGroups(f *testing.F) {
	for _, seed := range []struct{ patch, filter string }{
		{`{"Operations": [{"op": "add", "path": "members", "value": [{"value": "$USER"}]}]}`, `displayName eq "DevOps"`},
		{`{"Operations": [{"op": "remove", "path": "members[value eq \"$USER\"]"}]}`, `members eq "$USER" and id eq "$GROUP"`},
		{`{"Operations": [{"op": "replace", "value": {"displayName": "DevOps2", "externalId": "e"}}]}`, `externalId eq "e"`},
		{`{"Operations": [{"op": "remove", "path": "members", "value": [{"value": "$GROUP"}]}]}`, `members.value eq ""`},
		{`{"Operations": [{"op": "add", "path": "members[value eq \"x\"].value", "value": "y"}]}`, `id eq "$GROUP" and`},
	} {
		f.Add(seed.patch, seed.filter)
	}
	f.Fuzz(func(t *testing.T, patch, filter string) {
		defer idcsim.CheckAlloc(t)()
		s := newFuzzSim(t)
		group := s.vars.Replace("$GROUP")
		for _, c := range []struct{ method, path, body string }{
			{"PATCH", "/Groups/" + group, patch}, {"POST", "/Groups", patch}, {"GET", "/Groups?filter=" + url.QueryEscape(s.vars.Replace(filter)), ""},
			{"GET", "/Users?filter=" + url.QueryEscape(s.vars.Replace(filter)) + "&cursor=" + url.QueryEscape(filter), ""}, {"GET", "/Groups/" + group, ""},
		} {
			w := s.scim(c.method, c.path, s.vars.Replace(c.body))
			s.noPanics(t, c.method+" "+c.path+" "+c.body, w)
			if w.Code >= 500 {
				t.Fatalf("%s %s %s: %d %s", c.method, c.path, c.body, w.Code, w.Body.String())
			}
		}
	})
}
