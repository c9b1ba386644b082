package idcsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"strings"
	"testing"
)

// The simulator's parsers of what AWS's clients send, fuzzed: the AWS JSON protocol of sso-admin,
// identitystore and organizations, and SCIM. A call must never panic, answer 5xx, answer an error
// that is not JSON, or allocate more than 100 MB.

// maxFuzzAlloc is what one call may allocate. (The simulator imports nothing of warden's, its tests
// included, so this is warden's fuzzcheck.Limit again.)
const maxFuzzAlloc = 100 << 20

func limitAlloc(t testing.TB, f func()) {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	f()
	metrics.Read(s)
	if n := s[0].Value.Uint64() - before; n > maxFuzzAlloc {
		t.Fatalf("one call allocated %d MB, more than the %d MB allowed", n>>20, maxFuzzAlloc>>20)
	}
}

// fuzzSim is the demo organisation, a SCIM user and group, and what fuzz inputs name with
// placeholders: $INSTANCE, $STORE, $USER, $GROUP, $ACCOUNT, $PS.
type fuzzSim struct {
	sim   *Sim
	token string
	vars  *strings.Replacer
}

func newFuzzSim(f testing.TB) *fuzzSim {
	s := New(Options{Seed: 1})
	if err := s.Update(SeedDemo); err != nil {
		f.Fatal(err)
	}
	fs := &fuzzSim{sim: s, token: s.SCIMToken()}
	id := func(path, body string) string {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+fs.token)
		s.ServeHTTP(rec, req)
		var out struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.ID == "" {
			f.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
		}
		return out.ID
	}
	user := id("/scim/v2/Users", `{"userName":"fuzz","displayName":"Fuzz","name":{"givenName":"F","familyName":"Z"},"emails":[{"value":"fuzz@example.com","type":"work","primary":true}]}`)
	group := id("/scim/v2/Groups", `{"displayName":"Fuzzers"}`)
	var ps string
	s.Update(func(d *Directory) error {
		arn, err := d.CreatePermissionSet("Fuzz", "", "PT1H")
		ps = arn
		return err
	})
	fs.vars = strings.NewReplacer("$INSTANCE", s.InstanceARN(), "$STORE", s.IdentityStoreID(), "$USER", user, "$GROUP", group,
		"$ACCOUNT", "058264527036", "$PS", ps)
	return fs
}

func (fs *fuzzSim) serve(t testing.TB, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	limitAlloc(t, func() { fs.sim.ServeHTTP(rec, req) })
	if rec.Code >= 500 {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL, rec.Code, rec.Body)
	}
	if rec.Code >= 400 && !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%s %s: %d with a body that is not JSON: %q", req.Method, req.URL, rec.Code, rec.Body)
	}
	return rec
}

func FuzzAWSJSON(f *testing.F) {
	fs := newFuzzSim(f)
	for _, c := range [][2]string{
		{"SWBExternalService.ListInstances", `{}`},
		{"SWBExternalService.DescribeInstance", `{"InstanceArn":"$INSTANCE"}`},
		{"SWBExternalService.ListPermissionSets", `{"InstanceArn":"$INSTANCE","MaxResults":1}`},
		{"SWBExternalService.CreatePermissionSet", `{"InstanceArn":"$INSTANCE","Name":"New","SessionDuration":"PT99999999999999999999H","RelayState":"https://x"}`},
		{"SWBExternalService.UpdatePermissionSet", `{"InstanceArn":"$INSTANCE","PermissionSetArn":"$PS","SessionDuration":"P1D"}`},
		{"SWBExternalService.PutInlinePolicyToPermissionSet", `{"InstanceArn":"$INSTANCE","PermissionSetArn":"$PS","InlinePolicy":"{\"Version\":\"2012-10-17\",\"Statement\":[]}"}`},
		{"SWBExternalService.AttachManagedPolicyToPermissionSet", `{"InstanceArn":"$INSTANCE","PermissionSetArn":"$PS","ManagedPolicyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`},
		{"SWBExternalService.ProvisionPermissionSet", `{"InstanceArn":"$INSTANCE","PermissionSetArn":"$PS","TargetType":"ALL_PROVISIONED_ACCOUNTS"}`},
		{"SWBExternalService.CreateAccountAssignment", `{"InstanceArn":"$INSTANCE","PermissionSetArn":"$PS","TargetId":"$ACCOUNT","TargetType":"AWS_ACCOUNT","PrincipalType":"USER","PrincipalId":"$USER"}`},
		{"SWBExternalService.DeleteAccountAssignment", `{"InstanceArn":"$INSTANCE","PermissionSetArn":"$PS","TargetId":"$ACCOUNT","TargetType":"AWS_ACCOUNT","PrincipalType":"GROUP","PrincipalId":"$GROUP"}`},
		{"SWBExternalService.DescribeAccountAssignmentCreationStatus", `{"InstanceArn":"$INSTANCE","AccountAssignmentCreationRequestId":"x"}`},
		{"SWBExternalService.ListAccountAssignments", `{"InstanceArn":"$INSTANCE","AccountId":"$ACCOUNT","PermissionSetArn":"$PS","NextToken":"bm9wZQ=="}`},
		{"SWBExternalService.ListAccountAssignmentsForPrincipal", `{"InstanceArn":"$INSTANCE","PrincipalId":"$USER","PrincipalType":"USER","Filter":{"AccountId":"$ACCOUNT"}}`},
		{"SWBExternalService.ListAccountsForProvisionedPermissionSet", `{"InstanceArn":"$INSTANCE","PermissionSetArn":"$PS","ProvisioningStatus":"LATEST_PERMISSION_SET_PROVISIONED"}`},
		{"SWBExternalService.ListPermissionSetsProvisionedToAccount", `{"InstanceArn":"$INSTANCE","AccountId":"$ACCOUNT"}`},
		{"SWBExternalService.DeletePermissionSet", `{"InstanceArn":"$INSTANCE","PermissionSetArn":"$PS"}`},
		{"AWSIdentityStore.CreateUser", `{"IdentityStoreId":"$STORE","UserName":"u1","DisplayName":"U","Name":{"GivenName":"U","FamilyName":"One"},"Emails":[{"Value":"u@example.com","Primary":true}]}`},
		{"AWSIdentityStore.ListUsers", `{"IdentityStoreId":"$STORE","Filters":[{"AttributePath":"UserName","AttributeValue":"fuzz"}],"MaxResults":100}`},
		{"AWSIdentityStore.GetUserId", `{"IdentityStoreId":"$STORE","AlternateIdentifier":{"UniqueAttribute":{"AttributePath":"emails.value","AttributeValue":"fuzz@example.com"}}}`},
		{"AWSIdentityStore.UpdateUser", `{"IdentityStoreId":"$STORE","UserId":"$USER","Operations":[{"AttributePath":"displayName","AttributeValue":"Fuzzy"},{"AttributePath":"name.givenName"}]}`},
		{"AWSIdentityStore.DescribeUser", `{"IdentityStoreId":"$STORE","UserId":"$USER"}`},
		{"AWSIdentityStore.CreateGroup", `{"IdentityStoreId":"$STORE","DisplayName":"G1","Description":"d"}`},
		{"AWSIdentityStore.ListGroups", `{"IdentityStoreId":"$STORE","Filters":[{"AttributePath":"DisplayName","AttributeValue":"Fuzzers"}]}`},
		{"AWSIdentityStore.CreateGroupMembership", `{"IdentityStoreId":"$STORE","GroupId":"$GROUP","MemberId":{"UserId":"$USER"}}`},
		{"AWSIdentityStore.ListGroupMemberships", `{"IdentityStoreId":"$STORE","GroupId":"$GROUP","MaxResults":1}`},
		{"AWSIdentityStore.ListGroupMembershipsForMember", `{"IdentityStoreId":"$STORE","MemberId":{"UserId":"$USER"}}`},
		{"AWSIdentityStore.IsMemberInGroups", `{"IdentityStoreId":"$STORE","MemberId":{"UserId":"$USER"},"GroupIds":["$GROUP","$GROUP"]}`},
		{"AWSIdentityStore.GetGroupMembershipId", `{"IdentityStoreId":"$STORE","GroupId":"$GROUP","MemberId":{"UserId":"$USER"}}`},
		{"AWSIdentityStore.DeleteUser", `{"IdentityStoreId":"$STORE","UserId":"nope"}`},
		{"AWSOrganizationsV20161128.DescribeOrganization", ``},
		{"AWSOrganizationsV20161128.ListAccounts", `{"MaxResults":2}`},
		{"AWSOrganizationsV20161128.ListRoots", `{}`},
		{"AWSOrganizationsV20161128.ListAccountsForParent", `{"ParentId":"r-1234"}`},
		{"AWSOrganizationsV20161128.DescribeAccount", `{"AccountId":"$ACCOUNT"}`},
		{"AWSIdentityStore.ListUsers", `[1,2,3]`},
		{"AWSIdentityStore.ListUsers", `{"IdentityStoreId":"$STORE","Filters":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`},
		{"Nope.Nothing", `{}`},
	} {
		f.Add(c[0], []byte(c[1]))
	}
	f.Fuzz(func(t *testing.T, target string, body []byte) {
		req := httptest.NewRequest("POST", "/", bytes.NewReader([]byte(fs.vars.Replace(string(body)))))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sso/aws4_request, SignedHeaders=host, Signature=0")
		fs.serve(t, req)
	})
}

func FuzzSCIM(f *testing.F) {
	fs := newFuzzSim(f)
	for _, c := range []struct{ method, path, query, body string }{
		{"GET", "/Users", `filter=userName eq "fuzz"`, ""},
		{"GET", "/Users", `filter=name.givenName eq "F" and emails[type eq "work"].value eq "x"&count=5&cursor=`, ""},
		{"GET", "/Users", "startIndex=2&count=0", ""},
		{"GET", "/Groups", `filter=displayName eq "Fuzzers"&excludedAttributes=members`, ""},
		{"GET", "/Users/$USER", "", ""},
		{"POST", "/Users", "", `{"userName":"dave","displayName":"Dave","name":{"givenName":"D","familyName":"E"},"active":"False","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"x"}}`},
		{"PUT", "/Users/$USER", "", `{"userName":"fuzz","displayName":"F","name":{"givenName":"F","familyName":"Z"},"emails":[{"value":"a@b","primary":true},{"value":"c@d"}]}`},
		{"PATCH", "/Users/$USER", "", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"z@example.com"},{"op":"Remove","path":"title"},{"op":"add","value":{"nickName":"n"}}]}`},
		{"PATCH", "/Groups/$GROUP", "", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"$USER"}]},{"op":"remove","path":"members[value eq \"$USER\"]"}]}`},
		{"POST", "/Groups", "", `{"displayName":"G","members":[{"value":"$USER"}]}`},
		{"DELETE", "/Users/nope", "", ""},
		{"GET", "/ServiceProviderConfig", "", ""},
		{"GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "", ""},
		{"POST", "/Bulk", "", "{}"},
		{"GET", "/Users/a/b", "", ""},
		{"POST", "/Users", "", "[" + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "]"},
		// 24 KB that had taken 5 s and 329 MB: each value compared with every other
		{"PATCH", "/Users/$USER", "", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails","value":[` + strings.Repeat("{},", 8000) + `{}]}]}`},
	} {
		f.Add(c.method, c.path, c.query, []byte(c.body))
	}
	f.Fuzz(func(t *testing.T, method, path, query string, body []byte) {
		req := httptest.NewRequest("GET", "/", bytes.NewReader([]byte(fs.vars.Replace(string(body)))))
		req.Method, req.URL.Path, req.URL.RawQuery = method, "/scim/v2"+fs.vars.Replace(path), fs.vars.Replace(query)
		req.Header.Set("Authorization", "Bearer "+fs.token)
		req.Header.Set("Content-Type", "application/scim+json")
		fs.serve(t, req)
	})
}

// FuzzSCIMFilter and FuzzSCIMPath read what a SCIM client writes in a filter or a PATCH path.
func FuzzSCIMFilter(f *testing.F) {
	for _, s := range []string{`userName eq "fuzz"`, `name.givenName eq "F" and emails[type eq "work"].value eq "x"`, `displayName co "x"`, `a eq`, `a eq "\`, `"a" eq "b"`, `a eq b and`, `userName EQ "x" AND externalId eq "y"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		limitAlloc(t, func() {
			conds, err := parseSCIMFilter(s)
			if err == nil && len(conds) == 0 {
				t.Fatalf("parseSCIMFilter(%q) accepted a filter of no conditions", s)
			}
		})
	})
}

func FuzzSCIMPath(f *testing.F) {
	for _, s := range []string{"displayName", "name.givenName", `emails[type eq "work"].value`, `members[value eq "x"]`, `emails[type eq "a]b"]`, "emails[", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "a.b.c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		limitAlloc(t, func() { parseSCIMPath(s) })
	})
}
