package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/scim"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/testenv"
)

// scimEnv is the real server over HTTP and SQLite with SCIM connectors, and a token for each.
type scimEnv struct {
	*env
	tokens map[string]string
}

const scimOrg = `
kind: user
version: v1
metadata: {name: alice}
spec: {email: alice@example.com, admin: true}
---
kind: role
version: v1
metadata: {name: prod-power}
spec: {allow: {account_assignments: [{account: "637423191929", permission_set: PowerUserAccess}]}}
---
kind: role
version: v1
metadata: {name: requester}
spec: {allow: {request: {roles: [prod-power], max_duration: 8h}}}
`

func newSCIMEnv(t *testing.T, connectors ...scim.Config) *scimEnv {
	t.Helper()
	e := &scimEnv{env: newEnv(t), tokens: map[string]string{}}
	e.apply(scimOrg)
	if len(connectors) == 0 {
		connectors = []scim.Config{
			{Name: "entra", DefaultOwners: []string{"alice"}},
			{Name: "okta", DefaultOwners: []string{"alice"}, Deprovision: scim.DeprovisionDelete},
		}
	}
	e.srv.SetSCIMConnectors(connectors)
	for _, c := range connectors {
		e.tokens[c.Name] = e.scimToken(c.Name)
	}
	return e
}

// scimToken makes a connector's token as warden scim token create does.
func (e *scimEnv) scimToken(connector string) string {
	e.t.Helper()
	var out server.SCIMTokenResponse
	if err := e.admin.Do(e.ctx, "POST", "/v1/scim/tokens", server.SCIMTokenRequest{Connector: connector}, &out); err != nil {
		e.t.Fatalf("token of %s: %v", connector, err)
	}
	return out.Token
}

type scimResp struct {
	code   int
	body   map[string]any
	header http.Header
	raw    string
}

// call sends one SCIM request as connector (its token; "" for none), with extra headers.
func (e *scimEnv) call(connector, method, path, body string, headers ...string) scimResp {
	e.t.Helper()
	return e.callToken(e.tokens[connector], method, path, body, headers...)
}

func (e *scimEnv) callToken(token, method, path, body string, headers ...string) scimResp {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+"/scim/v2"+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := scimResp{code: resp.StatusCode, header: resp.Header, raw: string(b)}
	json.Unmarshal(b, &out.body)
	if len(b) > 0 && resp.Header.Get("Content-Type") != scim.ContentType {
		e.t.Fatalf("%s %s: Content-Type %q, want %s", method, path, resp.Header.Get("Content-Type"), scim.ContentType)
	}
	return out
}

// must checks a response's status.
func (r scimResp) must(t *testing.T, what string, code int) scimResp {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: %d, want %d\n%s", what, r.code, code, r.raw)
	}
	return r
}

func (r scimResp) str(key string) string { s, _ := r.body[key].(string); return s }

// scimError checks a SCIM error answer: the Error schema, status as a string, the scimType.
func (r scimResp) scimError(t *testing.T, what string, code int, scimType string) {
	t.Helper()
	r.must(t, what, code)
	schemas, _ := r.body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != scim.SchemaError || r.body["status"] != fmt.Sprint(code) || r.str("detail") == "" {
		t.Fatalf("%s: not a SCIM error body: %s", what, r.raw)
	}
	if got := r.str("scimType"); got != scimType {
		t.Fatalf("%s: scimType %q, want %q: %s", what, got, scimType, r.raw)
	}
}

func (e *scimEnv) user(name string) *resource.UserSpec {
	e.t.Helper()
	o, err := e.store.Get(e.ctx, resource.KindUser, name)
	if err != nil {
		e.t.Fatalf("user %s: %v", name, err)
	}
	return o.Spec.(*resource.UserSpec)
}

// members are the user members of a list, sorted, with who added them.
func (e *scimEnv) members(list string) []string {
	e.t.Helper()
	objs, err := e.store.List(e.ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexList, list)})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		m := o.Spec.(*resource.AccessListMemberSpec)
		out = append(out, m.Member+" by "+m.AddedBy)
	}
	slices.Sort(out)
	return out
}

// listOf finds the access list a connector made for a SCIM group id.
func (e *scimEnv) listOf(connector, id string) *resource.Object {
	e.t.Helper()
	objs, err := e.store.List(e.ctx, resource.KindAccessList, store.ListOptions{Filters: store.Filter(resource.IndexUpstreamID, "scim:"+connector+"/"+id)})
	if err != nil || len(objs) != 1 {
		e.t.Fatalf("the list of group %s: %d %v", id, len(objs), err)
	}
	return objs[0]
}

func total(t *testing.T, r scimResp) int {
	t.Helper()
	n, ok := r.body["totalResults"].(float64)
	if !ok {
		t.Fatalf("no totalResults: %s", r.raw)
	}
	return int(n)
}

func resources(r scimResp) []map[string]any {
	var out []map[string]any
	list, _ := r.body["Resources"].([]any)
	for _, x := range list {
		out = append(out, x.(map[string]any))
	}
	return out
}

// Entra ID's provisioning, as it sends it (with and without its aadOptscim062020 flag): a user
// created with the core and enterprise schemas, updated by a multi-attribute replace without a
// path and a capitalised Replace of a filtered path; a group created empty, members added and
// removed in both forms; the user disabled with the string "False". Every change is warden's
// state, owned by the connector and audited as scim:entra.
func TestSCIMEntraIDSequence(t *testing.T) {
	e := newSCIMEnv(t)
	q := url.QueryEscape

	got := e.call("entra", "GET", "/Users?filter="+q(`userName eq "ann@contoso.com"`), "").must(t, "lookup before create", 200)
	if total(t, got) != 0 {
		t.Fatalf("a user found before any was made: %s", got.raw)
	}
	created := e.call("entra", "POST", "/Users", `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
  "userName": "ann@contoso.com",
  "active": true,
  "addresses": [{"primary": true, "type": "work", "country": "DE"}],
  "displayName": "Ann Example",
  "emails": [{"primary": true, "type": "work", "value": "ann@contoso.com"}],
  "meta": {"resourceType": "User"},
  "name": {"formatted": "Ann Example", "familyName": "Example", "givenName": "Ann"},
  "roles": [],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Engineering"}
}`).must(t, "create user", 201)
	ann := created.str("id")
	if ann == "" || created.header.Get("Location") != e.url+"/scim/v2/Users/"+ann || !strings.HasPrefix(created.header.Get("ETag"), `W/"`) {
		t.Fatalf("created: id %q, Location %q, ETag %q", ann, created.header.Get("Location"), created.header.Get("ETag"))
	}
	u := e.user("ann@contoso.com")
	if u.Origin != "scim:entra" || u.Email != "ann@contoso.com" || u.GivenName != "Ann" || u.FamilyName != "Example" || u.DisplayName != "Ann Example" || u.Disabled ||
		u.Upstream["scim:entra"].ID != ann || u.Upstream["scim:entra"].ExternalID != "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" {
		t.Fatalf("the warden user: %+v %+v", u, u.Upstream["scim:entra"])
	}
	got = e.call("entra", "GET", "/Users?filter="+q(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), "").must(t, "lookup by externalId", 200)
	if total(t, got) != 1 || resources(got)[0]["id"] != ann {
		t.Fatalf("lookup by externalId: %s", got.raw)
	}

	// With the flag: lowercase, several attributes in one replace without a path.
	e.call("entra", "PATCH", "/Users/"+ann, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "replace", "value": {"displayName": "Ann Beispiel", "name.familyName": "Beispiel",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Platform"}}]}`).must(t, "multi-attribute replace", 200)
	// Without it: capitalised, a filtered path with a sub-attribute.
	e.call("entra", "PATCH", "/Users/"+ann, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ann.beispiel@contoso.com"}]}`).must(t, "capitalised Replace", 200)
	u = e.user("ann@contoso.com")
	if u.DisplayName != "Ann Beispiel" || u.FamilyName != "Beispiel" || u.GivenName != "Ann" || u.Email != "ann.beispiel@contoso.com" {
		t.Fatalf("after the replaces: %+v", u)
	}
	bob := e.call("entra", "POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "externalId": "b2",
  "userName": "bob@contoso.com", "active": true, "displayName": "Bob", "emails": [{"primary": true, "type": "work", "value": "bob@contoso.com"}],
  "name": {"familyName": "B", "givenName": "Bob"}}`).must(t, "create bob", 201).str("id")

	// Groups: looked up without members, created empty (with Entra's own schema), then filled.
	got = e.call("entra", "GET", "/Groups?excludedAttributes=members&filter="+q(`displayName eq "AWS Engineers"`), "").must(t, "group lookup", 200)
	if total(t, got) != 0 {
		t.Fatalf("a group found before any was made: %s", got.raw)
	}
	g := e.call("entra", "POST", "/Groups", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
  "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "AWS Engineers", "members": []}`).must(t, "create group", 201)
	gid := g.str("id")
	l := e.listOf("entra", gid)
	ls := l.Spec.(*resource.AccessListSpec)
	if ls.Title != "AWS Engineers" || ls.Origin != "scim:entra" || !slices.Equal(ls.Owners, []string{"alice"}) || len(ls.Grants.Roles) != 0 || l.Metadata.Name != "aws-engineers" {
		t.Fatalf("the list: %s %+v", l.Metadata.Name, ls)
	}
	e.call("entra", "PATCH", "/Groups/"+gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "`+ann+`"}, {"$ref": null, "value": "`+bob+`"}]}]}`).must(t, "add members", 200)
	if got := e.members("aws-engineers"); !slices.Equal(got, []string{"ann@contoso.com by scim:entra", "bob@contoso.com by scim:entra"}) {
		t.Fatalf("members after Add: %v", got)
	}
	// Without the flag: the member to remove in the value, no filter.
	e.call("entra", "PATCH", "/Groups/"+gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "`+bob+`"}]}]}`).must(t, "remove by value", 200)
	if got := e.members("aws-engineers"); !slices.Equal(got, []string{"ann@contoso.com by scim:entra"}) {
		t.Fatalf("members after Remove by value: %v", got)
	}
	// With the flag: a filtered path.
	e.call("entra", "PATCH", "/Groups/"+gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "remove", "path": "members[value eq \"`+ann+`\"]"}, {"op": "add", "path": "members", "value": [{"value": "`+bob+`"}]}]}`).must(t, "remove by filter", 200)
	if got := e.members("aws-engineers"); !slices.Equal(got, []string{"bob@contoso.com by scim:entra"}) {
		t.Fatalf("members after remove by filter: %v", got)
	}
	got = e.call("entra", "GET", "/Groups/"+gid+"?excludedAttributes=members", "").must(t, "group without members", 200)
	if _, has := got.body["members"]; has || got.str("displayName") != "AWS Engineers" {
		t.Fatalf("excludedAttributes=members: %s", got.raw)
	}
	got = e.call("entra", "GET", "/Groups?filter="+q(`members.value eq "`+bob+`"`), "").must(t, "groups of bob", 200)
	if total(t, got) != 1 || resources(got)[0]["id"] != gid {
		t.Fatalf("groups with bob: %s", got.raw)
	}

	// Disabled, as Entra ID writes it without the flag: the string "False".
	e.call("entra", "PATCH", "/Users/"+bob, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}`).must(t, "disable", 200)
	if !e.user("bob@contoso.com").Disabled {
		t.Fatal("bob is not disabled")
	}
	if got := e.members("aws-engineers"); !slices.Equal(got, []string{"bob@contoso.com by scim:entra"}) {
		t.Fatalf("a disabled user's membership is kept (inactive): %v", got)
	}
	got = e.call("entra", "GET", "/Users/"+bob, "").must(t, "read bob", 200)
	if got.body["active"] != false {
		t.Fatalf("bob reads active %v", got.body["active"])
	}

	// Every change is audited as the connector.
	byEntra := e.entries(audit.Filter{Actor: "scim:entra"})
	changed := map[string]bool{}
	for _, en := range byEntra {
		changed[string(en.Kind)+" "+en.Action] = true
	}
	for _, want := range []string{"user create", "user update", "access_list create", "access_list_member create", "access_list_member delete"} {
		if !changed[want] {
			t.Fatalf("no audit entry %q by scim:entra among %v", want, changed)
		}
	}
	e.verify()
}

// Okta's provisioning: a lookup by userName before each create, a create with what Okta sends
// (password, locale, groups included), updates by PUT, group push (create empty, replace the
// members, remove by filter, add by path, PUT), deactivation by a replace without a path.
func TestSCIMOktaSequence(t *testing.T) {
	e := newSCIMEnv(t)
	q := url.QueryEscape
	got := e.call("okta", "GET", "/Users?filter="+q(`userName eq "cho@example.com"`)+"&startIndex=1&count=100", "").must(t, "lookup", 200)
	if total(t, got) != 0 || got.body["startIndex"] != 1.0 {
		t.Fatalf("lookup before create: %s", got.raw)
	}
	cho := e.call("okta", "POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "userName": "cho@example.com", "name": {"givenName": "Cho", "familyName": "Lee"},
  "emails": [{"primary": true, "value": "cho@example.com", "type": "work"}],
  "displayName": "Cho Lee", "locale": "en-US", "externalId": "00u1a2b3c4", "groups": [], "password": "1mz050nq", "active": true}`).must(t, "create", 201).str("id")
	got = e.call("okta", "GET", "/Users?filter="+q(`userName eq "cho@example.com"`)+"&startIndex=1&count=100", "").must(t, "lookup again", 200)
	if total(t, got) != 1 || resources(got)[0]["id"] != cho {
		t.Fatalf("lookup after create: %s", got.raw)
	}
	// The same lookup from another connector finds nothing: each sees its own.
	if got := e.call("entra", "GET", "/Users?filter="+q(`userName eq "cho@example.com"`), "").must(t, "entra's lookup", 200); total(t, got) != 0 {
		t.Fatalf("entra sees okta's user: %s", got.raw)
	}
	e.call("okta", "PUT", "/Users/"+cho, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "`+cho+`",
  "userName": "cho@example.com", "name": {"givenName": "Cho", "familyName": "Lee-Park"},
  "emails": [{"primary": true, "value": "cho.lp@example.com", "type": "work"}], "displayName": "Cho Lee-Park", "externalId": "00u1a2b3c4", "active": true}`).must(t, "PUT", 200)
	if u := e.user("cho@example.com"); u.FamilyName != "Lee-Park" || u.Email != "cho.lp@example.com" || u.DisplayName != "Cho Lee-Park" || u.Origin != "scim:okta" {
		t.Fatalf("after PUT: %+v", u)
	}
	dee := e.call("okta", "POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "dee@example.com",
  "name": {"givenName": "Dee", "familyName": "D"}, "emails": [{"primary": true, "value": "dee@example.com"}], "active": true}`).must(t, "create dee", 201).str("id")

	gid := e.call("okta", "POST", "/Groups", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ops On-Call", "members": []}`).must(t, "push group", 201).str("id")
	list := e.listOf("okta", gid).Metadata.Name
	e.call("okta", "PATCH", "/Groups/"+gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "replace", "path": "members", "value": [{"value": "`+cho+`", "display": "cho@example.com"}, {"value": "`+dee+`", "display": "dee@example.com"}]}]}`).must(t, "full push", 200)
	if got := e.members(list); !slices.Equal(got, []string{"cho@example.com by scim:okta", "dee@example.com by scim:okta"}) {
		t.Fatalf("after the full push: %v", got)
	}
	e.call("okta", "PATCH", "/Groups/"+gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "remove", "path": "members[value eq \"`+dee+`\"]"}]}`).must(t, "remove", 200)
	if got := e.members(list); !slices.Equal(got, []string{"cho@example.com by scim:okta"}) {
		t.Fatalf("after remove: %v", got)
	}
	e.call("okta", "PATCH", "/Groups/"+gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "add", "path": "members", "value": [{"value": "`+dee+`", "display": "dee@example.com"}]}]}`).must(t, "add", 200)
	got = e.call("okta", "PUT", "/Groups/"+gid, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "`+gid+`", "displayName": "Ops Oncall",
  "members": [{"value": "`+dee+`"}]}`).must(t, "PUT group", 200)
	if l := e.listOf("okta", gid).Spec.(*resource.AccessListSpec); l.Title != "Ops Oncall" || !slices.Equal(e.members(list), []string{"dee@example.com by scim:okta"}) {
		t.Fatalf("after PUT: title %q, members %v", l.Title, e.members(list))
	}
	if ms, _ := got.body["members"].([]any); len(ms) != 1 || ms[0].(map[string]any)["value"] != dee {
		t.Fatalf("PUT answered members %v", got.body["members"])
	}

	// Deactivation: replace without a path (Okta never deletes users).
	e.call("okta", "PATCH", "/Users/"+cho, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "replace", "value": {"active": false}}]}`).must(t, "deactivate", 200)
	if u := e.user("cho@example.com"); !u.Disabled || !u.RemoveWhenDisabled {
		t.Fatalf("cho after deactivation (okta deprovisions by deletion): %+v", u)
	}
	// Reactivated the same way.
	e.call("okta", "PATCH", "/Users/"+cho, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "replace", "value": {"active": true}}]}`).must(t, "reactivate", 200)
	if e.user("cho@example.com").Disabled {
		t.Fatal("cho is still disabled")
	}
	// A DELETE with deprovision: delete removes the user and their memberships.
	e.call("okta", "DELETE", "/Users/"+dee, "").must(t, "delete dee", 204)
	if _, err := e.store.Get(e.ctx, resource.KindUser, "dee@example.com"); err == nil {
		t.Fatal("dee is still a warden user")
	}
	if got := e.members(list); len(got) != 0 {
		t.Fatalf("dee's membership outlived her: %v", got)
	}
	e.call("okta", "GET", "/Users/"+dee, "").scimError(t, "read deleted", 404, "")
	e.verify()
}

// RFC 7644's behaviours: authentication, filters, paging, uniqueness, not found, errors, ETags,
// bounds, discovery.
func TestSCIMProtocol(t *testing.T) {
	e := newSCIMEnv(t)
	q := url.QueryEscape

	// 401: no token, a malformed one, a wrong secret, another connector's replaced token.
	e.callToken("", "GET", "/Users", "").scimError(t, "no token", 401, "")
	e.callToken("wdn_0123456789abcdef_x", "GET", "/Users", "").scimError(t, "an API token", 401, "")
	wrong := e.tokens["entra"][:len(e.tokens["entra"])-4] + "0000"
	if wrong == e.tokens["entra"] {
		wrong = e.tokens["entra"][:len(e.tokens["entra"])-4] + "1111"
	}
	e.callToken(wrong, "GET", "/Users", "").scimError(t, "a wrong secret", 401, "")
	old := e.tokens["entra"]
	e.tokens["entra"] = e.scimToken("entra")
	e.callToken(old, "GET", "/Users", "").scimError(t, "a replaced token", 401, "")
	e.call("entra", "GET", "/Users", "").must(t, "the new token", 200)
	if r := e.callToken(strings.Replace(old, "wsc_entra_", "wsc_nobody_", 1), "GET", "/Users", ""); r.code != 401 {
		t.Fatalf("a connector that is not configured: %d", r.code)
	}

	// Discovery.
	sp := e.call("entra", "GET", "/ServiceProviderConfig", "").must(t, "ServiceProviderConfig", 200)
	if sp.body["patch"].(map[string]any)["supported"] != true || sp.body["etag"].(map[string]any)["supported"] != true || sp.body["bulk"].(map[string]any)["supported"] != false {
		t.Fatalf("ServiceProviderConfig: %s", sp.raw)
	}
	if got := e.call("entra", "GET", "/Schemas", "").must(t, "Schemas", 200); total(t, got) != 2 {
		t.Fatalf("Schemas: %s", got.raw)
	}
	e.call("entra", "GET", "/Schemas/"+scim.SchemaUser, "").must(t, "the User schema", 200)
	if got := e.call("entra", "GET", "/ResourceTypes", "").must(t, "ResourceTypes", 200); total(t, got) != 2 {
		t.Fatalf("ResourceTypes: %s", got.raw)
	}
	e.call("entra", "POST", "/Bulk", `{}`).scimError(t, "Bulk", 501, "")

	// Five users to filter and page.
	ids := map[string]string{}
	for _, p := range []struct{ user, display, family string }{
		{"amy@x.com", "Amy Adams", "Adams"}, {"al@x.com", "Al Bill", "Bill"}, {"bea@y.com", "Bea Hill", ""},
		{"cid@x.com", "Cid Gill", "Gill"}, {"dot@y.com", "Dot Day", "Day"},
	} {
		name := ""
		if p.family != "" {
			name = `, "name": {"givenName": "G", "familyName": "` + p.family + `"}`
		}
		r := e.call("entra", "POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "`+p.user+`", "externalId": "ext-`+p.user+`",
  "displayName": "`+p.display+`", "emails": [{"value": "`+p.user+`", "primary": true}]`+name+`}`).must(t, "create "+p.user, 201)
		ids[p.user] = r.str("id")
	}
	e.call("entra", "PATCH", "/Users/"+ids["dot@y.com"], `{"Operations": [{"op": "replace", "path": "active", "value": false}]}`).must(t, "disable dot", 200)
	names := func(r scimResp) []string {
		var out []string
		for _, x := range resources(r) {
			out = append(out, x["userName"].(string))
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`userName eq "AMY@x.com"`, []string{"amy@x.com"}}, // userName is not case exact
		{`userName sw "a"`, []string{"al@x.com", "amy@x.com"}},
		{`displayName co "ill"`, []string{"al@x.com", "bea@y.com", "cid@x.com"}},
		{`userName sw "a" and displayName co "ill"`, []string{"al@x.com"}},
		{`emails.value ew "@y.com" and active eq true`, []string{"bea@y.com"}},
		{`active eq "False"`, []string{"dot@y.com"}},
		{`externalId eq "ext-cid@x.com"`, []string{"cid@x.com"}},
		{`externalId eq "EXT-cid@x.com"`, nil}, // externalId is case exact
		{`id eq "` + ids["bea@y.com"] + `"`, []string{"bea@y.com"}},
		{`name.familyName pr`, []string{"al@x.com", "amy@x.com", "cid@x.com", "dot@y.com"}},
		{`userName eq "amy@x.com" or userName eq "dot@y.com"`, []string{"amy@x.com", "dot@y.com"}},
		{`not (userName co "@x.com")`, []string{"bea@y.com", "dot@y.com"}},
		{`emails[value sw "c"]`, []string{"cid@x.com"}},
	} {
		r := e.call("entra", "GET", "/Users?filter="+q(tc.filter), "").must(t, tc.filter, 200)
		if got := names(r); !slices.Equal(got, tc.want) || total(t, r) != len(tc.want) {
			t.Errorf("filter %s: %v (total %d), want %v", tc.filter, got, total(t, r), tc.want)
		}
	}
	for _, bad := range []string{`userName eq`, `userName zz "a"`, `(userName eq "a"`, `userName eq "a" and`, `userName eq "unterminated`, strings.Repeat("(", 40) + `a pr` + strings.Repeat(")", 40)} {
		e.call("entra", "GET", "/Users?filter="+q(bad), "").scimError(t, "filter "+bad, 400, "invalidFilter")
	}
	e.call("entra", "GET", "/Users?filter="+q("userName eq \""+strings.Repeat("a", scim.MaxFilterLength)+"\""), "").scimError(t, "a long filter", 400, "invalidFilter")

	// Paging: 1-based startIndex, count, totalResults, itemsPerPage.
	var seen []string
	for start := 1; start <= 5; start += 2 {
		r := e.call("entra", "GET", fmt.Sprintf("/Users?startIndex=%d&count=2", start), "").must(t, "page", 200)
		if total(t, r) != 5 || r.body["startIndex"] != float64(start) || r.body["itemsPerPage"] != float64(len(resources(r))) {
			t.Fatalf("page at %d: %s", start, r.raw)
		}
		seen = append(seen, names(r)...)
	}
	slices.Sort(seen)
	if !slices.Equal(seen, []string{"al@x.com", "amy@x.com", "bea@y.com", "cid@x.com", "dot@y.com"}) {
		t.Fatalf("the pages held %v", seen)
	}
	if r := e.call("entra", "GET", "/Users?startIndex=9&count=2", "").must(t, "past the end", 200); total(t, r) != 5 || len(resources(r)) != 0 {
		t.Fatalf("past the end: %s", r.raw)
	}
	if r := e.call("entra", "GET", "/Users?count=0", "").must(t, "count 0", 200); total(t, r) != 5 || len(resources(r)) != 0 {
		t.Fatalf("count=0: %s", r.raw)
	}
	if r := e.call("entra", "GET", "/Users?count=100000&startIndex=-3", "").must(t, "count above the maximum", 200); total(t, r) != 5 || len(resources(r)) != 5 || r.body["startIndex"] != 1.0 {
		t.Fatalf("count above the maximum: %s", r.raw)
	}
	e.call("entra", "GET", "/Users?count=many", "").scimError(t, "count not a number", 400, "invalidValue")

	// 409 uniqueness; a warden user of another origin is refused too, naming its origin.
	e.call("entra", "POST", "/Users", `{"userName": "amy@x.com"}`).scimError(t, "a second amy", 409, "uniqueness")
	if r := e.call("okta", "POST", "/Users", `{"userName": "alice"}`); r.code != 409 || !strings.Contains(r.str("detail"), "origin warden") {
		t.Fatalf("a name a warden user has: %d %s", r.code, r.raw)
	}
	e.call("entra", "POST", "/Groups", `{"displayName": "Team"}`).must(t, "group", 201)
	e.call("entra", "POST", "/Groups", `{"displayName": "TEAM"}`).scimError(t, "a group name taken whatever its case", 409, "uniqueness")
	e.call("entra", "POST", "/Groups", `{"displayName": "Other", "members": [{"value": "no-such-id"}]}`).scimError(t, "an unknown member", 400, "invalidValue")

	// 404, 400s.
	e.call("entra", "GET", "/Users/no-such-id", "").scimError(t, "no such user", 404, "")
	e.call("entra", "GET", "/Groups/no-such-id", "").scimError(t, "no such group", 404, "")
	e.call("okta", "GET", "/Users/"+ids["amy@x.com"], "").scimError(t, "another connector's user", 404, "")
	e.call("entra", "POST", "/Users", `{"userName": "has space"}`).scimError(t, "a bad userName", 400, "invalidValue")
	e.call("entra", "POST", "/Users", `{"userName": "e@x.com", "emails": [{"value": "not an address"}]}`).scimError(t, "a bad email", 400, "invalidValue")
	e.call("entra", "POST", "/Users", `{"userName": `).scimError(t, "not JSON", 400, "invalidSyntax")
	e.call("entra", "PATCH", "/Users/"+ids["amy@x.com"], `{"Operations": [{"op": "replace", "path": "userName", "value": "amy2@x.com"}]}`).scimError(t, "renaming", 400, "mutability")
	e.call("entra", "PATCH", "/Users/"+ids["amy@x.com"], `{"Operations": [{"op": "frobnicate", "path": "active", "value": true}]}`).scimError(t, "an unknown op", 400, "invalidSyntax")
	e.call("entra", "PATCH", "/Users/"+ids["amy@x.com"], `{"Operations": [{"op": "remove"}]}`).scimError(t, "remove without a path", 400, "noTarget")
	e.call("entra", "PATCH", "/Users/"+ids["amy@x.com"], `{"Operations": [{"op": "replace", "path": "emails[type eq", "value": "x"}]}`).scimError(t, "a bad path", 400, "invalidPath")
	e.call("entra", "POST", "/Users", `{"userName": "big@x.com", "displayName": "`+strings.Repeat("x", scim.MaxBody)+`"}`).scimError(t, "a body too large", 413, "tooLarge")

	// ETags: the version read; a stale If-Match is 412, the current one passes.
	r := e.call("entra", "GET", "/Users/"+ids["amy@x.com"], "").must(t, "read amy", 200)
	tag := r.header.Get("ETag")
	if !strings.HasPrefix(tag, `W/"`) || r.body["meta"].(map[string]any)["version"] != tag {
		t.Fatalf("ETag %q, meta.version %v", tag, r.body["meta"])
	}
	patch := `{"Operations": [{"op": "replace", "path": "displayName", "value": "Amy A."}]}`
	r = e.call("entra", "PATCH", "/Users/"+ids["amy@x.com"], patch, "If-Match", tag).must(t, "PATCH with the current ETag", 200)
	if r.header.Get("ETag") == tag {
		t.Fatal("the ETag did not change with the user")
	}
	e.call("entra", "PATCH", "/Users/"+ids["amy@x.com"], patch, "If-Match", tag).scimError(t, "PATCH with a stale ETag", 412, "")
	e.call("entra", "DELETE", "/Users/"+ids["amy@x.com"], "", "If-Match", tag).scimError(t, "DELETE with a stale ETag", 412, "")
	gid := e.call("entra", "GET", "/Groups?filter="+q(`displayName eq "team"`), "").must(t, "find Team", 200)
	g := e.call("entra", "GET", "/Groups/"+resources(gid)[0]["id"].(string), "").must(t, "read Team", 200)
	e.call("entra", "PATCH", "/Groups/"+g.str("id"), `{"Operations": [{"op": "add", "path": "members", "value": [{"value": "`+ids["cid@x.com"]+`"}]}]}`, "If-Match", g.header.Get("ETag")).must(t, "group PATCH with its ETag", 200)
	e.call("entra", "PATCH", "/Groups/"+g.str("id"), `{"Operations": [{"op": "add", "path": "members", "value": [{"value": "`+ids["bea@y.com"]+`"}]}]}`, "If-Match", g.header.Get("ETag")).scimError(t, "a group's stale ETag (its members changed)", 412, "")

	// What the connector owns is refused to an administrator, naming the field and connector.
	o, err := e.store.Get(e.ctx, resource.KindUser, "amy@x.com")
	if err != nil {
		t.Fatal(err)
	}
	o.Spec.(*resource.UserSpec).Email = "elsewhere@x.com"
	body, _ := json.Marshal(o)
	code, errBody := e.raw("PUT", "/v1/users/amy@x.com", e.admin.Token, string(body))
	if code != 403 || errBody["field"] != "spec.email" || !strings.Contains(errBody["error"].(string), "SCIM connector entra") {
		t.Fatalf("an administrator changing a provisioned email: %d %v", code, errBody)
	}
	o.Spec.(*resource.UserSpec).Email = "amy@x.com"
	o.Spec.(*resource.UserSpec).Roles = []string{"requester"}
	body, _ = json.Marshal(o)
	if code, errBody := e.raw("PUT", "/v1/users/amy@x.com", e.admin.Token, string(body)); code != 200 {
		t.Fatalf("an administrator granting a provisioned user a standing role: %d %v", code, errBody)
	}
}

// compileStore compiles the store's resources as the sync would, with a catalog holding the
// roles' account and permission set.
func (e *scimEnv) compileStore(now time.Time) *policy.Desired {
	e.t.Helper()
	s := &policy.Snapshot{
		Accounts:       []policy.Account{{ID: "637423191929", Name: "Production"}},
		PermissionSets: []policy.PermissionSet{{Name: "PowerUserAccess", ARN: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-cccccccccccccccc"}},
	}
	for k, dst := range map[resource.Kind]*[]*resource.Object{resource.KindUser: &s.Users, resource.KindRole: &s.Roles,
		resource.KindAccessList: &s.AccessLists, resource.KindAccessListMember: &s.Members, resource.KindAccessRequest: &s.Requests} {
		objs, err := e.store.List(e.ctx, k, store.ListOptions{})
		if err != nil {
			e.t.Fatal(err)
		}
		*dst = objs
	}
	d, _ := policy.Compile(s, now)
	return d
}

func (d scimDesired) of(user string) []string {
	var out []string
	for a := range d.Assignments {
		if a.Principal == user {
			out = append(out, a.PrincipalType+" "+a.AccountID)
		}
	}
	for _, g := range d.Groups {
		if slices.Contains(g.Members, user) {
			out = append(out, "member of "+g.DisplayName)
		}
	}
	slices.Sort(out)
	return out
}

type scimDesired struct{ *policy.Desired }

// active: false from the provider deprovisions at once: the user's browser sessions end, their
// API tokens stop working, their approved request is ended (and a pending one cancelled), all
// audited as the connector; the compile grants them nothing, their memberships are kept.
func TestSCIMDeactivationDeprovisionsAtOnce(t *testing.T) {
	e := newSCIMEnv(t)
	now := time.Now().UTC().Truncate(time.Second)
	ann := e.call("entra", "POST", "/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ann@contoso.com",
  "displayName": "Ann", "emails": [{"value": "ann@contoso.com", "primary": true}], "active": true}`).must(t, "create", 201).str("id")
	gid := e.call("entra", "POST", "/Groups", `{"displayName": "Prod Power", "members": [{"value": "`+ann+`"}]}`).must(t, "group", 201).str("id")
	list := e.listOf("entra", gid)
	// warden governs the list's grants and the user's standing roles.
	ls := list.Spec.(*resource.AccessListSpec)
	ls.Grants.Roles = []string{"prod-power"}
	body, _ := json.Marshal(list)
	if code, b := e.raw("PUT", "/v1/access_lists/"+list.Metadata.Name, e.admin.Token, string(body)); code != 200 {
		t.Fatalf("granting the list a role: %d %v", code, b)
	}
	uo, _ := e.store.Get(e.ctx, resource.KindUser, "ann@contoso.com")
	uo.Spec.(*resource.UserSpec).Roles = []string{"requester"}
	body, _ = json.Marshal(uo)
	if code, b := e.raw("PUT", "/v1/users/ann@contoso.com", e.admin.Token, string(body)); code != 200 {
		t.Fatalf("a standing role: %d %v", code, b)
	}
	start, end := now.Add(-time.Hour), now.Add(time.Hour)
	e.seed(&resource.Object{Kind: resource.KindAccessRequest, Version: resource.Version, Metadata: resource.Metadata{Name: "r-approved"},
		Spec: &resource.AccessRequestSpec{User: "ann@contoso.com", Roles: []string{"prod-power"}, State: resource.StateApproved, Duration: "2h", Start: &start, End: &end}},
		&resource.Object{Kind: resource.KindAccessRequest, Version: resource.Version, Metadata: resource.Metadata{Name: "r-pending"},
			Spec: &resource.AccessRequestSpec{User: "ann@contoso.com", Roles: []string{"prod-power"}, State: resource.StatePending, Duration: "1h"}})
	annAPI, tokID := e.tokenFor(e.admin, "ann@contoso.com")
	rec := httptest.NewRecorder()
	if _, err := e.srv.Sessions().Issue(e.ctx, rec, httptest.NewRequest("POST", "/login", nil), "ann@contoso.com", auth.MethodUse{Method: auth.MethodPassword, At: now}); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	whoami := func() int {
		req, _ := http.NewRequest("GET", e.url+"/v1/whoami", nil)
		req.AddCookie(cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if _, err := annAPI.WhoAmI(e.ctx); err != nil || whoami() != 200 {
		t.Fatalf("before: token %v, session %d", err, whoami())
	}
	before := scimDesired{e.compileStore(now)}.of("ann@contoso.com")
	if !slices.Equal(before, []string{"USER 637423191929", "member of Prod Power"}) {
		t.Fatalf("before: ann holds %v", before)
	}

	e.call("entra", "PATCH", "/Users/"+ann, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}`).must(t, "deactivate", 200)

	if _, err := annAPI.WhoAmI(e.ctx); status(err) != 401 {
		t.Fatalf("ann's API token after deactivation: %v, want 401", err)
	}
	if code := whoami(); code != 401 {
		t.Fatalf("ann's session after deactivation: %d, want 401", code)
	}
	if ss, _ := e.srv.Sessions().List(e.ctx, "ann@contoso.com"); len(ss) != 0 {
		t.Fatalf("ann still has %d sessions", len(ss))
	}
	for name, state := range map[string]string{"r-approved": resource.StateCancelled, "r-pending": resource.StateCancelled} {
		o, err := e.store.Get(e.ctx, resource.KindAccessRequest, name)
		if err != nil {
			t.Fatal(err)
		}
		r := o.Spec.(*resource.AccessRequestSpec)
		if r.State != state || !strings.Contains(r.EndReason, "disabled by the identity provider (scim:entra)") {
			t.Fatalf("%s: %s %q", name, r.State, r.EndReason)
		}
		if name == "r-approved" && (r.End == nil || r.End.After(time.Now())) {
			t.Fatalf("the approved request's window still runs to %v", r.End)
		}
	}
	if got := (scimDesired{e.compileStore(time.Now())}).of("ann@contoso.com"); len(got) != 0 {
		t.Fatalf("after deactivation the compile still gives ann %v", got)
	}
	if got := e.members(list.Metadata.Name); !slices.Equal(got, []string{"ann@contoso.com by scim:entra"}) {
		t.Fatalf("ann's membership (kept, inactive): %v", got)
	}
	kinds := map[string]bool{}
	for _, en := range e.entries(audit.Filter{Actor: "scim:entra"}) {
		kinds[string(en.Kind)+" "+en.Action] = true
		if en.Kind == resource.KindAPIToken && !strings.Contains(en.Detail, tokID) {
			t.Fatalf("the token's revocation names no token: %q", en.Detail)
		}
		raw, _ := json.Marshal(en)
		if strings.Contains(string(raw), "secret_hash") {
			t.Fatalf("an audit entry holds a secret hash: %s", raw)
		}
	}
	for _, want := range []string{"api_token revoke", "session revoke", "access_request revoke", "access_request cancel", "user update"} {
		if !kinds[want] {
			t.Fatalf("no %q by scim:entra in the audit log: %v", want, kinds)
		}
	}
	// The connector's token is audited, never its secret or hash.
	stored, err := e.store.Get(e.ctx, resource.KindSCIMToken, "entra")
	if err != nil {
		t.Fatal(err)
	}
	secretHash := stored.Spec.(*resource.SCIMTokenSpec).SecretHash
	entries := e.entries(audit.Filter{Kind: resource.KindSCIMToken})
	if len(entries) == 0 {
		t.Fatal("the connector's token is not in the audit log")
	}
	for _, en := range entries {
		raw, _ := json.Marshal(en)
		if strings.Contains(string(raw), secretHash) || strings.Contains(string(raw), "secret_hash") || strings.Contains(string(raw), e.tokens["entra"][len("wsc_entra_"):]) {
			t.Fatalf("a SCIM token's audit entry shows its secret: %s", raw)
		}
	}
	// Reactivated: the membership counts again (the requests stay ended).
	e.call("entra", "PATCH", "/Users/"+ann, `{"Operations": [{"op": "replace", "value": {"active": true}}]}`).must(t, "reactivate", 200)
	if got := (scimDesired{e.compileStore(time.Now())}).of("ann@contoso.com"); !slices.Equal(got, []string{"member of Prod Power"}) {
		t.Fatalf("reactivated ann holds %v", got)
	}
}

// End to end with the sync running against the simulated Identity Center: a user Entra ID
// provisions, in a group it pushed whose list warden grants a role, and holding that role
// standing, has a group membership and an assignment there; Entra ID deactivates them, and both
// are gone from Identity Center (the user kept, holding nothing: deprovision disable).
func TestSCIMDeactivationReachesIdentityCenter(t *testing.T) {
	e := newSCIMEnv(t)
	sim := idcsim.New(idcsim.Options{})
	var psARN string
	if err := sim.Update(func(d *idcsim.Directory) error {
		if err := d.AddAccount("637423191929", "Production", "prod@example.com"); err != nil {
			return err
		}
		var err error
		psARN, err = d.CreatePermissionSet("PowerUserAccess", "", "PT1H")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sim)
	t.Cleanup(hs.Close)
	cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}
	c, err := idc.NewFromConfig(e.ctx, aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("A", "B", ""), BaseEndpoint: aws.String(hs.URL)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	engine := reconcile.New(e.store, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.srv.SetSync(engine)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { engine.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	ann := e.call("entra", "POST", "/Users", `{"userName": "ann@contoso.com", "displayName": "Ann Example",
  "name": {"givenName": "Ann", "familyName": "Example"}, "emails": [{"value": "ann@contoso.com", "primary": true}], "active": true}`).must(t, "create", 201).str("id")
	gid := e.call("entra", "POST", "/Groups", `{"displayName": "Prod Power", "members": [{"value": "`+ann+`"}]}`).must(t, "group", 201).str("id")
	list := e.listOf("entra", gid)
	list.Spec.(*resource.AccessListSpec).Grants.Roles = []string{"prod-power"}
	body, _ := json.Marshal(list)
	if code, b := e.raw("PUT", "/v1/access_lists/"+list.Metadata.Name, e.admin.Token, string(body)); code != 200 {
		t.Fatalf("granting the list a role: %d %v", code, b)
	}
	uo, _ := e.store.Get(e.ctx, resource.KindUser, "ann@contoso.com")
	uo.Spec.(*resource.UserSpec).Roles = []string{"prod-power"}
	body, _ = json.Marshal(uo)
	if code, b := e.raw("PUT", "/v1/users/ann@contoso.com", e.admin.Token, string(body)); code != 200 {
		t.Fatalf("a standing role: %d %v", code, b)
	}

	// What Identity Center holds for ann: her assignments and group memberships.
	held := func() (user bool, assignments, memberships int) {
		sim.Update(func(d *idcsim.Directory) error {
			uid, ok := d.UserID("ann@contoso.com")
			if !ok {
				return nil
			}
			user = true
			gid, _ := d.GroupID("Prod Power")
			for _, a := range d.Assignments() {
				if a.PermissionSetARN == psARN && a.PrincipalID == uid && a.PrincipalType == "USER" {
					assignments++
				}
			}
			if gid != "" && slices.Contains(d.GroupMembers(gid), "ann@contoso.com") {
				memberships++
			}
			return nil
		})
		return
	}
	testenv.Eventually(t, 30*time.Second, "ann's assignment and membership in Identity Center", func() bool {
		u, a, m := held()
		return u && a == 1 && m == 1
	})

	start := time.Now()
	e.call("entra", "PATCH", "/Users/"+ann, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}`).must(t, "deactivate", 200)
	testenv.Eventually(t, 30*time.Second, "ann's assignment and membership gone from Identity Center", func() bool {
		u, a, m := held()
		return u && a == 0 && m == 0
	})
	t.Logf("deactivation reached Identity Center in %s", time.Since(start).Round(time.Millisecond))

	// okta deprovisions by deletion: its deactivated user's Identity Center user goes too.
	cho := e.call("okta", "POST", "/Users", `{"userName": "cho@example.com", "name": {"givenName": "Cho", "familyName": "Lee"},
  "emails": [{"value": "cho@example.com", "primary": true}], "active": true}`).must(t, "create cho", 201).str("id")
	inIC := func() bool {
		ok := false
		sim.Update(func(d *idcsim.Directory) error { _, ok = d.UserID("cho@example.com"); return nil })
		return ok
	}
	testenv.Eventually(t, 30*time.Second, "cho in Identity Center", inIC)
	e.call("okta", "PATCH", "/Users/"+cho, `{"Operations": [{"op": "replace", "value": {"active": false}}]}`).must(t, "deactivate cho", 200)
	testenv.Eventually(t, 30*time.Second, "cho's Identity Center user deleted", func() bool { return !inIC() })
	if !e.user("cho@example.com").Disabled {
		t.Fatal("cho is no longer disabled in warden")
	}
	if u, _, _ := held(); !u {
		t.Fatal("ann's Identity Center user went too (entra deprovisions by disabling)")
	}
}

// A connector with groups: traits keeps a pushed group's name in its members' trait: added,
// renamed and removed with the group, the trait the connector's (refused to an administrator).
func TestSCIMGroupsAsTraits(t *testing.T) {
	e := newSCIMEnv(t, scim.Config{Name: "gw", Groups: scim.GroupsTraits, GroupsTrait: "teams"})
	ann := e.call("gw", "POST", "/Users", `{"userName": "ann@x.com", "active": true}`).must(t, "ann", 201).str("id")
	bob := e.call("gw", "POST", "/Users", `{"userName": "bob@x.com", "active": true}`).must(t, "bob", 201).str("id")
	g1 := e.call("gw", "POST", "/Groups", `{"displayName": "SRE", "members": [{"value": "`+ann+`"}, {"value": "`+bob+`"}]}`).must(t, "SRE", 201).str("id")
	e.call("gw", "POST", "/Groups", `{"displayName": "DBA", "members": [{"value": "`+ann+`"}]}`).must(t, "DBA", 201)
	teams := func(u string) []string { return e.user(u).Traits["teams"] }
	if !slices.Equal(teams("ann@x.com"), []string{"DBA", "SRE"}) || !slices.Equal(teams("bob@x.com"), []string{"SRE"}) {
		t.Fatalf("teams: ann %v, bob %v", teams("ann@x.com"), teams("bob@x.com"))
	}
	if lists, _ := e.store.List(e.ctx, resource.KindAccessList, store.ListOptions{}); len(lists) != 0 {
		t.Fatalf("a traits connector made %d access lists", len(lists))
	}
	e.call("gw", "PATCH", "/Groups/"+g1, `{"Operations": [{"op": "replace", "path": "displayName", "value": "Site Reliability"},
  {"op": "remove", "path": "members[value eq \"`+bob+`\"]"}]}`).must(t, "rename, remove bob", 200)
	if !slices.Equal(teams("ann@x.com"), []string{"DBA", "Site Reliability"}) || len(teams("bob@x.com")) != 0 {
		t.Fatalf("after the change: ann %v, bob %v", teams("ann@x.com"), teams("bob@x.com"))
	}
	got := e.call("gw", "GET", "/Groups/"+g1, "").must(t, "read", 200)
	if ms, _ := got.body["members"].([]any); got.str("displayName") != "Site Reliability" || len(ms) != 1 || ms[0].(map[string]any)["value"] != ann {
		t.Fatalf("the group reads %s", got.raw)
	}
	o, _ := e.store.Get(e.ctx, resource.KindUser, "ann@x.com")
	o.Spec.(*resource.UserSpec).Traits["teams"] = []string{"DBA"}
	body, _ := json.Marshal(o)
	if code, b := e.raw("PUT", "/v1/users/ann@x.com", e.admin.Token, string(body)); code != 403 || b["field"] != "spec.traits.teams" {
		t.Fatalf("an administrator changing the connector's trait: %d %v", code, b)
	}
	e.call("gw", "DELETE", "/Groups/"+g1, "").must(t, "delete", 204)
	if !slices.Equal(teams("ann@x.com"), []string{"DBA"}) {
		t.Fatalf("after the group's deletion: %v", teams("ann@x.com"))
	}
}
