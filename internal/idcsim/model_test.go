package idcsim_test

// The differential check of the simulator against AWS's own description of the three services: the
// service models the AWS CLI v2 carries (botocore's service-2.json), and the AWS SDK for Go v2 warden
// builds with (generated from AWS's current models, so it knows members newer than the CLI's).

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/wardenhq/warden/internal/idcsim"
)

// awsModel is the part of a botocore service-2.json the check reads.
type awsModel struct {
	Metadata struct {
		TargetPrefix string `json:"targetPrefix"`
		Protocol     string `json:"protocol"`
	} `json:"metadata"`
	Operations map[string]struct {
		Input  *struct{ Shape string }  `json:"input"`
		Output *struct{ Shape string }  `json:"output"`
		Errors []struct{ Shape string } `json:"errors"`
	} `json:"operations"`
	Shapes map[string]*modelShape `json:"shapes"`
}

type modelShape struct {
	Type     string                            `json:"type"`
	Members  map[string]struct{ Shape string } `json:"members"`
	Required []string                          `json:"required"`
	Member   *struct{ Shape string }           `json:"member"`
	Value    *struct{ Shape string }           `json:"value"`
	Enum     []string                          `json:"enum"`
	Min      *float64                          `json:"min"`
	Union    bool                              `json:"union"`
}

// modelServices are the three services: the simulator's name (the botocore directory's), the
// model's version directory, and the SDK client type.
var modelServices = []struct {
	name, version string
	client        reflect.Type
}{
	{"sso-admin", "2020-07-20", reflect.TypeOf(&ssoadmin.Client{})},
	{"identitystore", "2020-06-15", reflect.TypeOf(&identitystore.Client{})},
	{"organizations", "2016-11-28", reflect.TypeOf(&organizations.Client{})},
}

// awsCLIModelDirs finds botocore data directories of the AWS CLI v2: where Debian's awscli and AWS's
// installer put them, beside the aws found on PATH or at /usr/bin/aws, and any listed in
// WARDEN_AWS_MODELS (separated by colons; e.g. a newer botocore's data directory).
func awsCLIModelDirs() []string {
	candidates := filepath.SplitList(os.Getenv("WARDEN_AWS_MODELS"))
	candidates = append(candidates, "/usr/lib/python3/dist-packages/awscli/botocore/data", "/usr/local/aws-cli/v2/current/dist/awscli/botocore/data")
	bins := []string{"/usr/bin/aws", "/usr/local/bin/aws"}
	if p, err := exec.LookPath("aws"); err == nil {
		bins = append(bins, p)
	}
	for _, b := range bins {
		if real, err := filepath.EvalSymlinks(b); err == nil {
			// AWS's installer: <root>/v2/<version>/bin/aws -> <root>/v2/<version>/dist/awscli/botocore/data
			candidates = append(candidates, filepath.Join(filepath.Dir(filepath.Dir(real)), "dist", "awscli", "botocore", "data"))
		}
	}
	seen := map[string]bool{}
	var dirs []string
	for _, d := range candidates {
		if d == "" {
			continue
		}
		if real, err := filepath.EvalSymlinks(d); err == nil {
			d = real
		}
		if seen[d] {
			continue
		}
		seen[d] = true
		if _, err := os.Stat(filepath.Join(d, "sso-admin")); err == nil {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

func loadModel(t *testing.T, dir, service, version string) *awsModel {
	t.Helper()
	base := filepath.Join(dir, service, version, "service-2.json")
	var r io.Reader
	f, err := os.Open(base)
	if err != nil {
		f, err = os.Open(base + ".gz")
		if err != nil {
			t.Fatalf("%s: no service-2.json for %s %s: %v", dir, service, version, err)
		}
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	} else {
		defer f.Close()
		r = f
	}
	m := &awsModel{}
	if err := json.NewDecoder(r).Decode(m); err != nil {
		t.Fatalf("%s: %v", base, err)
	}
	return m
}

// fixtures are values of input members by name, from a simulator holding the demo organisation, so
// that a minimal request names things that exist.
type fixtures struct {
	byName map[string]any
	byOp   map[string]map[string]any // whole bodies for some operations, to reach their success
}

func demoFixtures(t *testing.T, sim *idcsim.Sim, url string) fixtures {
	var ps, dan, kemi, devops, membership string
	sim.Update(func(d *idcsim.Directory) error {
		ps, _ = d.PermissionSetARN("ReadOnlyAccess")
		dan, _ = d.UserID("dan@example.com")
		kemi, _ = d.UserID("kemi@example.com")
		devops, _ = d.GroupID("DevOps")
		return nil
	})
	// A membership of DevOps, read through the API.
	r := rawModelCall(t, url, "AWSIdentityStore.ListGroupMemberships", fmt.Sprintf(`{"IdentityStoreId":%q,"GroupId":%q}`, sim.IdentityStoreID(), devops))
	if list, _ := r.body["GroupMemberships"].([]any); len(list) > 0 {
		membership, _ = list[0].(map[string]any)["MembershipId"].(string)
	}
	r = rawModelCall(t, url, "AWSOrganizationsV20161128.ListRoots", `{}`)
	var rootID string
	if roots, _ := r.body["Roots"].([]any); len(roots) > 0 {
		rootID, _ = roots[0].(map[string]any)["Id"].(string)
	}
	inst, store := sim.InstanceARN(), sim.IdentityStoreID()
	user := map[string]any{"UserId": dan}
	return fixtures{
		byName: map[string]any{
			"InstanceArn": inst, "IdentityStoreId": store, "PermissionSetArn": ps, "ResourceArn": ps,
			"AccountId": stagingID, "TargetId": stagingID, "TargetType": "AWS_ACCOUNT", "PrincipalType": "USER", "PrincipalId": dan,
			"UserId": dan, "GroupId": devops, "MembershipId": membership, "MemberId": user, "GroupIds": []string{devops},
			"Name": "DiffSet", "ManagedPolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
			"InlinePolicy":                   `{"Version":"2012-10-17","Statement":[]}`,
			"CustomerManagedPolicyReference": map[string]any{"Name": "Deploy"},
			"PermissionsBoundary":            map[string]any{"ManagedPolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"},
			"Tags":                           []any{map[string]any{"Key": "team", "Value": "platform"}}, "TagKeys": []string{"team"},
			"AccountAssignmentCreationRequestId": "00000000-0000-4000-8000-000000000000",
			"AccountAssignmentDeletionRequestId": "00000000-0000-4000-8000-000000000000",
			"ProvisionPermissionSetRequestId":    "00000000-0000-4000-8000-000000000000",
			"CreateAccountRequestId":             "car-00000000", "Email": "aws-diff@example.com", "AccountName": "Diff",
			"ParentId": rootID, "ChildId": stagingID,
			"AlternateIdentifier": map[string]any{"UniqueAttribute": map[string]any{"AttributePath": "userName", "AttributeValue": "dan@example.com"}},
			"Operations":          []any{map[string]any{"AttributePath": "displayName", "AttributeValue": "Renamed"}},
		},
		byOp: map[string]map[string]any{
			"identitystore:CreateUser": {"IdentityStoreId": store, "UserName": "diff", "DisplayName": "Diff User",
				"Name": map[string]any{"GivenName": "Diff", "FamilyName": "User"}, "Emails": []any{map[string]any{"Value": "diff@example.com", "Primary": true}}},
			"identitystore:CreateGroup":           {"IdentityStoreId": store, "DisplayName": "DiffGroup"},
			"identitystore:CreateGroupMembership": {"IdentityStoreId": store, "GroupId": devops, "MemberId": map[string]any{"UserId": kemi}},
			"identitystore:GetGroupId": {"IdentityStoreId": store,
				"AlternateIdentifier": map[string]any{"UniqueAttribute": map[string]any{"AttributePath": "displayName", "AttributeValue": "DevOps"}}},
			"identitystore:GetGroupMembershipId":               {"IdentityStoreId": store, "GroupId": devops, "MemberId": map[string]any{"UserId": membershipUser(t, url, store, membership)}},
			"identitystore:UpdateGroup":                        {"IdentityStoreId": store, "GroupId": devops, "Operations": []any{map[string]any{"AttributePath": "description", "AttributeValue": "x"}}},
			"sso-admin:ProvisionPermissionSet":                 {"InstanceArn": inst, "PermissionSetArn": ps, "TargetType": "AWS_ACCOUNT", "TargetId": stagingID},
			"sso-admin:DescribeInstance":                       {"InstanceArn": inst},
			"sso-admin:ListAccountAssignmentsForPrincipal":     {"InstanceArn": inst, "PrincipalId": devops, "PrincipalType": "GROUP"},
			"sso-admin:ListPermissionSetsProvisionedToAccount": {"InstanceArn": inst, "AccountId": stagingID},
		},
	}
}

func membershipUser(t *testing.T, url, store, membership string) string {
	r := rawModelCall(t, url, "AWSIdentityStore.DescribeGroupMembership", fmt.Sprintf(`{"IdentityStoreId":%q,"MembershipId":%q}`, store, membership))
	m, _ := r.body["MemberId"].(map[string]any)
	id, _ := m["UserId"].(string)
	return id
}

// minimalBody is a request with the input shape's required members: a fixture where there is one,
// else the simplest value the shape allows.
func minimalBody(m *awsModel, shapeName string, fx fixtures) map[string]any {
	body := map[string]any{}
	sh := m.Shapes[shapeName]
	if sh == nil {
		return body
	}
	for _, name := range sh.Required {
		if v, ok := fx.byName[name]; ok {
			body[name] = v
			continue
		}
		body[name] = simplest(m, sh.Members[name].Shape, 0)
	}
	return body
}

func simplest(m *awsModel, shapeName string, depth int) any {
	sh := m.Shapes[shapeName]
	if sh == nil || depth > 5 {
		return nil
	}
	switch sh.Type {
	case "string":
		if len(sh.Enum) > 0 {
			return sh.Enum[0]
		}
		n := 1
		if sh.Min != nil && *sh.Min > 1 {
			n = int(*sh.Min)
		}
		return strings.Repeat("x", n)
	case "integer", "long":
		if sh.Min != nil {
			return *sh.Min
		}
		return 1
	case "boolean":
		return false
	case "timestamp":
		return 0
	case "list":
		return []any{simplest(m, sh.Member.Shape, depth+1)}
	case "map":
		return map[string]any{}
	case "structure":
		out := map[string]any{}
		for _, r := range sh.Required {
			out[r] = simplest(m, sh.Members[r].Shape, depth+1)
		}
		if sh.Union && len(out) == 0 {
			for name, mem := range sh.Members {
				out[name] = simplest(m, mem.Shape, depth+1)
				break
			}
		}
		return out
	}
	return nil
}

type modelAnswer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func rawModelCall(t *testing.T, url, target, body string) modelAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261101/us-east-1/sso/aws4_request, SignedHeaders=host;x-amz-target, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := modelAnswer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if err := json.Unmarshal(b, &a.body); err != nil {
		a.body = nil
	}
	return a
}

// checker compares a JSON answer with the model's shape and the SDK's type of the same thing: a
// member is allowed when either has it (the SDK's model is newer than the CLI's); a value must be
// of its shape's type, an enum one of its values, and a structure must carry its required members.
type checker struct {
	m        *awsModel
	problems []string
}

func (c *checker) fail(path, format string, args ...any) {
	c.problems = append(c.problems, path+": "+fmt.Sprintf(format, args...))
}

func (c *checker) check(path string, v any, shapeName string, typ reflect.Type) {
	for typ != nil && typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	sh := c.m.Shapes[shapeName]
	if v == nil {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if (sh != nil && sh.Type == "map") || (sh == nil && typ != nil && typ.Kind() == reflect.Map) {
			var valShape string
			if sh != nil && sh.Value != nil {
				valShape = sh.Value.Shape
			}
			var valType reflect.Type
			if typ != nil && typ.Kind() == reflect.Map {
				valType = typ.Elem()
			}
			for k, e := range x {
				c.check(path+"."+k, e, valShape, valType)
			}
			return
		}
		if sh != nil && sh.Type != "structure" {
			c.fail(path, "an object where the model has a %s", sh.Type)
			return
		}
		if sh == nil && (typ == nil || typ.Kind() != reflect.Struct) {
			return // a document or a union the SDK holds in an interface: nothing to compare
		}
		for k, e := range x {
			var memShape string
			inModel := false
			if sh != nil {
				if mem, ok := sh.Members[k]; ok {
					memShape, inModel = mem.Shape, true
				}
			}
			var memType reflect.Type
			if typ != nil && typ.Kind() == reflect.Struct {
				if f, ok := typ.FieldByName(k); ok && f.IsExported() {
					memType = f.Type
				}
			}
			if !inModel && memType == nil {
				c.fail(path+"."+k, "a member neither AWS's CLI model nor its SDK has")
				continue
			}
			c.check(path+"."+k, e, memShape, memType)
		}
		if sh != nil {
			for _, r := range sh.Required {
				if x[r] == nil {
					c.fail(path, "required member %s missing", r)
				}
			}
		}
	case []any:
		if sh != nil && sh.Type != "list" {
			c.fail(path, "a list where the model has a %s", sh.Type)
			return
		}
		var elShape string
		if sh != nil && sh.Member != nil {
			elShape = sh.Member.Shape
		}
		var elType reflect.Type
		if typ != nil && typ.Kind() == reflect.Slice {
			elType = typ.Elem()
		}
		for i, e := range x {
			c.check(fmt.Sprintf("%s[%d]", path, i), e, elShape, elType)
		}
	case string:
		if sh != nil && sh.Type != "string" && sh.Type != "blob" {
			c.fail(path, "a string %q where the model has a %s", x, sh.Type)
		}
		if sh != nil && len(sh.Enum) > 0 && !contains(sh.Enum, x) {
			c.fail(path, "%q is not one of %v", x, sh.Enum)
		}
	case float64:
		if sh != nil {
			switch sh.Type {
			case "integer", "long":
				if x != math.Trunc(x) {
					c.fail(path, "%v is not an integer", x)
				}
			case "timestamp", "float", "double":
			default:
				c.fail(path, "a number where the model has a %s", sh.Type)
			}
		}
	case bool:
		if sh != nil && sh.Type != "boolean" {
			c.fail(path, "a boolean where the model has a %s", sh.Type)
		}
	}
}

// TestDifferentialAgainstAWSModels calls every operation the AWS models list for the three services
// (those of the AWS CLI v2's botocore models, and those of the AWS SDK for Go v2), with an empty body
// and with a minimal valid one, and holds each answer to the models: a well-formed success whose
// members are the model's (types, enums and required members included), or an error the operation's
// model lists, carrying only that exception's members. An operation the simulator does not implement
// answers the documented AccessDeniedException; one it implements never does.
func TestDifferentialAgainstAWSModels(t *testing.T) {
	dirs := awsCLIModelDirs()
	if len(dirs) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("no AWS CLI v2 service models found (Debian package awscli, or WARDEN_AWS_MODELS); CI must install them")
		}
		t.Skip("no AWS CLI v2 service models found (install awscli, or set WARDEN_AWS_MODELS to a botocore data directory)")
	}
	known := map[string]bool{}
	for service, ops := range idcsim.ModelOperations() {
		for _, op := range ops {
			known[service+":"+op] = true
		}
	}
	for _, dir := range dirs {
		t.Run(strings.ReplaceAll(dir, "/", "_"), func(t *testing.T) {
			tally := &diffTally{}
			defer func() {
				t.Logf("%s: %d calls, %d successes, %d unsupported answers", dir, tally.calls, tally.successes, tally.unsupported)
			}()
			for _, svc := range modelServices {
				m := loadModel(t, dir, svc.name, svc.version)
				if m.Metadata.Protocol != "json" {
					t.Errorf("%s: protocol %q, the simulator speaks json", svc.name, m.Metadata.Protocol)
				}
				ops := map[string]bool{}
				for op := range m.Operations {
					ops[op] = true
				}
				for i := 0; i < svc.client.NumMethod(); i++ {
					meth := svc.client.Method(i)
					if meth.Type.NumIn() == 4 && meth.Type.NumOut() == 2 && strings.HasSuffix(meth.Type.Out(0).String(), "Output") {
						ops[meth.Name] = true
					}
				}
				names := make([]string, 0, len(ops))
				for op := range ops {
					names = append(names, op)
				}
				sort.Strings(names)
				for _, op := range names {
					if !known[svc.name+":"+op] && !idcsim.Implemented(svc.name, op) {
						t.Errorf("%s:%s is in AWS's model and unknown to the simulator (add it to modelOperations)", svc.name, op)
					}
					checkOperation(t, tally, m, svc.name, m.Metadata.TargetPrefix, op, svc.client)
				}
			}
		})
	}
}

// diffTally counts the answers of a run, for its log.
type diffTally struct{ calls, successes, unsupported int }

func checkOperation(t *testing.T, tally *diffTally, m *awsModel, service, prefix, op string, client reflect.Type) {
	t.Helper()
	sim := idcsim.New(idcsim.Options{Seed: 1, Now: func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }})
	if err := sim.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sim)
	defer hs.Close()
	fx := demoFixtures(t, sim, hs.URL)

	modelOp, inModel := m.Operations[op]
	var outType reflect.Type
	if meth, ok := client.MethodByName(op); ok {
		outType = meth.Type.Out(0)
	}
	bodies := []map[string]any{{}}
	if inModel && modelOp.Input != nil {
		bodies = append(bodies, minimalBody(m, modelOp.Input.Shape, fx))
	}
	if b, ok := fx.byOp[service+":"+op]; ok {
		bodies = append(bodies, b)
	}
	implemented := idcsim.Implemented(service, op)
	for _, body := range bodies {
		raw, _ := json.Marshal(body)
		what := fmt.Sprintf("%s:%s %s", service, op, raw)
		a := rawModelCall(t, hs.URL, prefix+"."+op, string(raw))
		tally.calls++
		if os.Getenv("WARDEN_DIFF_VERBOSE") != "" {
			t.Logf("%s -> %d %s", what, a.status, a.raw)
		}
		if a.body == nil {
			t.Errorf("%s: the answer is not a JSON object: HTTP %d %q", what, a.status, a.raw)
			continue
		}
		if ct := a.header.Get("Content-Type"); ct != "application/x-amz-json-1.1" || a.header.Get("X-Amzn-Requestid") == "" {
			t.Errorf("%s: Content-Type %q, X-Amzn-RequestId %q", what, ct, a.header.Get("X-Amzn-Requestid"))
		}
		if a.status == http.StatusOK {
			tally.successes++
			if !implemented {
				t.Errorf("%s: an operation the simulator does not implement answered 200", what)
			}
			c := &checker{m: m}
			outShape := ""
			if inModel && modelOp.Output != nil {
				outShape = modelOp.Output.Shape
			}
			if outShape == "" && outType == nil {
				continue
			}
			c.check("output", a.body, outShape, outType)
			for _, p := range c.problems {
				t.Errorf("%s: %s (%s)", what, p, a.raw)
			}
			continue
		}
		code, _ := a.body["__type"].(string)
		switch {
		case code == "UnknownOperationException" || code == "SerializationException":
			t.Errorf("%s: %s, for an operation of AWS's model: %s", what, code, a.raw)
			continue
		case !implemented:
			tally.unsupported++
			if code != "AccessDeniedException" || !strings.Contains(a.body["message"].(string), op) || a.status != http.StatusBadRequest {
				t.Errorf("%s: not implemented, answered HTTP %d %s; want the documented AccessDeniedException naming the operation", what, a.status, a.raw)
			}
		case code == "AccessDeniedException":
			t.Errorf("%s: implemented, answered the unsupported answer: %s", what, a.raw)
		}
		if inModel {
			listed := false
			for _, e := range modelOp.Errors {
				listed = listed || e.Shape == code
			}
			if !listed {
				t.Errorf("%s: error %s is not one the model lists for %s: %s", what, code, op, a.raw)
			}
		}
		exc := m.Shapes[code]
		if exc == nil {
			t.Errorf("%s: error %s is not an exception of the %s model", what, code, service)
			continue
		}
		for k := range a.body {
			if k == "__type" || strings.EqualFold(k, "message") {
				continue
			}
			if _, ok := exc.Members[k]; !ok {
				t.Errorf("%s: %s carries %s, a member the model's exception does not have: %s", what, code, k, a.raw)
			}
		}
	}
}

// The check finds what it is for: a member neither model has, a value of the wrong type or outside
// its enum, a required member missing.
func TestModelCheckerFindsWhatTheModelLacks(t *testing.T) {
	dirs := awsCLIModelDirs()
	if len(dirs) == 0 {
		t.Skip("no AWS CLI v2 service models found")
	}
	m := loadModel(t, dirs[0], "sso-admin", "2020-07-20")
	out := reflect.TypeOf(&ssoadmin.Client{})
	meth, _ := out.MethodByName("DescribeAccountAssignmentCreationStatus")
	typ := meth.Type.Out(0)
	for _, c := range []struct {
		body, want string
	}{
		{`{"AccountAssignmentCreationStatus":{"Status":"SUCCEEDED","Bogus":1}}`, "Bogus: a member neither"},
		{`{"AccountAssignmentCreationStatus":{"Status":"DONE"}}`, `"DONE" is not one of`},
		{`{"AccountAssignmentCreationStatus":{"CreatedDate":"yesterday"}}`, "a string"},
		{`{"AccountAssignmentCreationStatus":[]}`, "a list where"},
	} {
		var v map[string]any
		json.Unmarshal([]byte(c.body), &v)
		ch := &checker{m: m}
		ch.check("output", v, m.Operations["DescribeAccountAssignmentCreationStatus"].Output.Shape, typ)
		if !strings.Contains(strings.Join(ch.problems, "; "), c.want) {
			t.Errorf("%s: problems %v, want one with %q", c.body, ch.problems, c.want)
		}
	}
	is := loadModel(t, dirs[0], "identitystore", "2020-06-15")
	ch := &checker{m: is}
	ch.check("output", map[string]any{"UserName": "x"}, is.Operations["DescribeUser"].Output.Shape, nil)
	if !strings.Contains(strings.Join(ch.problems, "; "), "required member UserId missing") {
		t.Errorf("a DescribeUser answer without UserId: problems %v", ch.problems)
	}
}
