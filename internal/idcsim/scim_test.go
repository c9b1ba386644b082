package idcsim_test

// Tests of the SCIM v2 endpoint through a real HTTP client (there is no Go SCIM client library), and
// of its directory being the identitystore API's, through the AWS SDK for Go v2.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"

	"github.com/wardenhq/warden/internal/idcsim"
)

// scimEnv is a simulator behind an httptest server, a SCIM client and an identitystore client.
type scimEnv struct {
	t       *testing.T
	sim     *idcsim.Sim
	srv     *httptest.Server
	token   string
	ids     *identitystore.Client
	storeID string
}

func newSCIMEnv(t *testing.T, opts idcsim.Options) *scimEnv {
	t.Helper()
	sim := idcsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1}
	return &scimEnv{t: t, sim: sim, srv: srv, token: sim.SCIMToken(), ids: identitystore.NewFromConfig(cfg), storeID: sim.IdentityStoreID()}
}

type scimResp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// str reads a string member by a dotted path ("meta.created", "name.givenName").
func (r scimResp) str(path string) string {
	var cur any = r.body
	for _, k := range strings.Split(path, ".") {
		m, _ := cur.(map[string]any)
		cur = m[k]
	}
	s, _ := cur.(string)
	return s
}

func (r scimResp) resources() []map[string]any {
	list, _ := r.body["Resources"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		out = append(out, x.(map[string]any))
	}
	return out
}

// call sends a SCIM request with the given Authorization header ("" for none); body is JSON-encoded
// unless it is a string.
func (e *scimEnv) call(method, path, auth string, body any) scimResp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.(string)
		if !ok {
			j, err := json.Marshal(body)
			if err != nil {
				e.t.Fatal(err)
			}
			b = string(j)
		}
		rd = strings.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+"/scim/v2"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := scimResp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			e.t.Fatalf("%s %s: answer is not a JSON object: %v\n%s", method, path, err, raw)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/scim+json" {
			e.t.Errorf("%s %s: Content-Type %q, want application/scim+json", method, path, ct)
		}
	}
	return out
}

func (e *scimEnv) do(method, path string, body any) scimResp {
	e.t.Helper()
	return e.call(method, path, "Bearer "+e.token, body)
}

// want fails unless the answer has the status.
func (e *scimEnv) want(r scimResp, status int) scimResp {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// wantError checks a SCIM error answer; scimType "" means none is required.
func (e *scimEnv) wantError(r scimResp, status int, scimType string, detailHas ...string) {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	schemas, _ := r.body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		e.t.Errorf("error schemas %v", r.body["schemas"])
	}
	if r.body["status"] != fmt.Sprint(status) {
		e.t.Errorf("error status %#v, want the string %q", r.body["status"], fmt.Sprint(status))
	}
	if scimType != "" && r.body["scimType"] != scimType {
		e.t.Errorf("scimType %v, want %s: %s", r.body["scimType"], scimType, r.raw)
	}
	for _, s := range detailHas {
		if !strings.Contains(r.str("detail"), s) {
			e.t.Errorf("detail %q does not mention %q", r.str("detail"), s)
		}
	}
}

func scimUserBody(userName string) map[string]any {
	return map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":    userName,
		"displayName": "User " + userName,
		"name":        map[string]any{"givenName": "Given" + userName, "familyName": "Family"},
		"emails":      []any{map[string]any{"value": userName + "@example.com", "type": "work", "primary": true}},
		"active":      true,
	}
}

func (e *scimEnv) createUser(userName string, extra map[string]any) string {
	e.t.Helper()
	body := scimUserBody(userName)
	for k, v := range extra {
		body[k] = v
	}
	r := e.want(e.do("POST", "/Users", body), http.StatusCreated)
	return r.str("id")
}

func (e *scimEnv) createGroup(displayName string, extra map[string]any) string {
	e.t.Helper()
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": displayName}
	for k, v := range extra {
		body[k] = v
	}
	r := e.want(e.do("POST", "/Groups", body), http.StatusCreated)
	return r.str("id")
}

func patchOp(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
}

func filterQuery(f string) string { return "filter=" + url.QueryEscape(f) }

var scimIDRE = regexp.MustCompile(`^[0-9a-f]{10}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestSCIMAuth(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1})
	for _, auth := range []string{"", "Bearer wrong-token", "Bearer " + e.token + "x", "Basic " + e.token, e.token} {
		r := e.call("GET", "/Users", auth, nil)
		e.wantError(r, http.StatusUnauthorized, "")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without WWW-Authenticate: Bearer (auth %q)", auth)
		}
	}
	e.want(e.call("GET", "/Users", "Bearer "+e.token, nil), http.StatusOK)
	e.want(e.call("GET", "/Users", "bearer "+e.token, nil), http.StatusOK)
	// an explicit token option is the one accepted
	e2 := newSCIMEnv(t, idcsim.Options{Seed: 1, SCIMToken: "chosen-token"})
	if e2.token != "chosen-token" {
		t.Fatalf("SCIMToken() = %q", e2.token)
	}
	e2.want(e2.call("GET", "/ServiceProviderConfig", "Bearer chosen-token", nil), http.StatusOK)
	e2.wantError(e2.call("GET", "/ServiceProviderConfig", "Bearer "+e.token, nil), http.StatusUnauthorized, "")
	// unauthenticated requests are not counted
	if n := e.sim.Stats().Calls["scim:GET /Users"]; n != 2 {
		t.Errorf("scim:GET /Users counted %d, want 2", n)
	}
}

func TestSCIMCreateUser(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1})
	// required attributes, named
	r := e.do("POST", "/Users", map[string]any{"userName": "alice"})
	e.wantError(r, http.StatusBadRequest, "invalidValue", "displayName", "name.givenName", "name.familyName")
	if strings.Contains(r.str("detail"), "userName") {
		t.Errorf("detail names userName, which was given: %s", r.str("detail"))
	}
	e.wantError(e.do("POST", "/Users", map[string]any{}), http.StatusBadRequest, "invalidValue", "userName", "displayName")

	r = e.want(e.do("POST", "/Users", map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"externalId": "ext-alice", "userName": "alice", "displayName": "Alice Liddell", "title": "Explorer",
		"name":         map[string]any{"givenName": "Alice", "familyName": "Liddell", "formatted": "Alice Liddell"},
		"emails":       []any{map[string]any{"value": "alice@example.com", "type": "work", "primary": true}},
		"phoneNumbers": []any{map[string]any{"value": "+1 555 0100", "type": "work"}},
		"addresses":    []any{map[string]any{"streetAddress": "1 Rabbit Hole", "locality": "Oxford", "postalCode": "OX1", "country": "GB", "type": "home"}},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "Wonder"},
		"password": "ignored",
	}), http.StatusCreated)
	id := r.str("id")
	if !scimIDRE.MatchString(id) {
		t.Errorf("id %q is not shaped like an Identity Center user id", id)
	}
	for path, want := range map[string]string{
		"userName": "alice", "externalId": "ext-alice", "displayName": "Alice Liddell", "title": "Explorer",
		"name.givenName": "Alice", "name.familyName": "Liddell", "name.formatted": "Alice Liddell", "meta.resourceType": "User",
	} {
		if got := r.str(path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if r.body["active"] != true {
		t.Errorf("active = %v", r.body["active"])
	}
	if schemas := fmt.Sprint(r.body["schemas"]); schemas != "[urn:ietf:params:scim:schemas:core:2.0:User]" {
		t.Errorf("schemas %s", schemas)
	}
	emails := r.body["emails"].([]any)
	if len(emails) != 1 || fmt.Sprint(emails[0]) != "map[primary:true type:work value:alice@example.com]" {
		t.Errorf("emails %v", emails)
	}
	addr := r.body["addresses"].([]any)[0].(map[string]any)
	if addr["streetAddress"] != "1 Rabbit Hole" || addr["postalCode"] != "OX1" {
		t.Errorf("addresses %v", addr)
	}
	for _, k := range []string{"meta.created", "meta.lastModified"} {
		if ts, err := time.Parse(time.RFC3339, r.str(k)); err != nil || time.Since(ts) > time.Minute {
			t.Errorf("%s = %q: not a recent RFC 3339 time", k, r.str(k))
		}
	}
	if r.body["password"] != nil {
		t.Error("password is shown")
	}

	// duplicate userName, compared case-insensitively; duplicate externalId
	e.wantError(e.do("POST", "/Users", scimUserBody("ALICE")), http.StatusConflict, "uniqueness")
	dup := scimUserBody("alice2")
	dup["externalId"] = "ext-alice"
	e.wantError(e.do("POST", "/Users", dup), http.StatusConflict, "uniqueness")

	// one email, marked primary; no groups
	two := scimUserBody("bob")
	two["emails"] = []any{map[string]any{"value": "a@example.com", "primary": true}, map[string]any{"value": "b@example.com"}}
	e.wantError(e.do("POST", "/Users", two), http.StatusBadRequest, "invalidValue", "single value")
	notPrimary := scimUserBody("bob")
	notPrimary["emails"] = []any{map[string]any{"value": "a@example.com", "type": "work"}}
	e.wantError(e.do("POST", "/Users", notPrimary), http.StatusBadRequest, "invalidValue", "primary")
	withGroups := scimUserBody("bob")
	withGroups["groups"] = []any{map[string]any{"value": "x"}}
	e.wantError(e.do("POST", "/Users", withGroups), http.StatusBadRequest, "invalidValue", "groups")
	inactive := scimUserBody("carol")
	inactive["active"] = false
	r = e.want(e.do("POST", "/Users", inactive), http.StatusCreated)
	if r.body["active"] != false {
		t.Errorf("active = %v, want false", r.body["active"])
	}

	// bodies that are not JSON objects, or not JSON
	e.wantError(e.do("POST", "/Users", "not json"), http.StatusBadRequest, "invalidSyntax")
	e.wantError(e.do("POST", "/Users", `["a"]`), http.StatusBadRequest, "invalidSyntax")
	req, _ := http.NewRequest("POST", e.srv.URL+"/scim/v2/Users", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "text/plain")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("text/plain body: status %d, want 400", res.StatusCode)
	}
	// application/json is accepted as well
	req, _ = http.NewRequest("POST", e.srv.URL+"/scim/v2/Users", strings.NewReader(`{"userName":"dave","displayName":"Dave","name":{"givenName":"D","familyName":"E"}}`))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Errorf("application/json body: status %d, want 201", res.StatusCode)
	}
}

func TestSCIMGetAndFilterUsers(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1})
	alice := e.createUser("alice", map[string]any{"externalId": "A-1"})
	bob := e.createUser("bob", map[string]any{"externalId": "B-1"})

	r := e.want(e.do("GET", "/Users/"+alice, nil), http.StatusOK)
	if r.str("id") != alice || r.str("userName") != "alice" || r.str("externalId") != "A-1" {
		t.Errorf("GET /Users/{id}: %s", r.raw)
	}
	e.wantError(e.do("GET", "/Users/0000000000-00000000-0000-4000-8000-000000000000", nil), http.StatusNotFound, "")
	e.wantError(e.do("GET", "/Users/not-an-id", nil), http.StatusNotFound, "")

	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`userName eq "alice"`, []string{alice}},
		{`userName eq "BOB"`, []string{bob}},
		{`USERNAME EQ "bob"`, []string{bob}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob"`, []string{bob}},
		{`externalId eq "A-1"`, []string{alice}},
		{`externalId eq "a-1"`, nil},
		{`userName eq "nobody"`, nil},
		{`id eq "` + bob + `"`, []string{bob}},
		{`userName eq "alice" and externalId eq "A-1"`, []string{alice}},
		{`userName eq "alice" and externalId eq "B-1"`, nil},
	} {
		r := e.want(e.do("GET", "/Users?"+filterQuery(tc.filter), nil), http.StatusOK)
		var got []string
		for _, res := range r.resources() {
			got = append(got, res["id"].(string))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("filter %s: %v, want %v", tc.filter, got, tc.want)
		}
		if r.body["totalResults"] != float64(len(tc.want)) || r.body["startIndex"] != float64(1) || r.body["itemsPerPage"] != float64(len(tc.want)) {
			t.Errorf("filter %s: list envelope %s", tc.filter, r.raw)
		}
		if fmt.Sprint(r.body["schemas"]) != "[urn:ietf:params:scim:api:messages:2.0:ListResponse]" {
			t.Errorf("list schemas %v", r.body["schemas"])
		}
	}
}

func TestSCIMFilterErrors(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1})
	e.createUser("alice", nil)
	for _, f := range []string{
		`userName co "ali"`, `userName sw "a"`, `userName ne "alice"`, `userName pr`, `userName gt "a"`,
		`userName eq "alice" or userName eq "bob"`, `not (userName eq "alice")`, `(userName eq "alice")`,
		`emails[type eq "work"]`, `userName eq alice`, `userName eq`, `eq "alice"`, `userName eq "alice" and`,
		`displayName eq "Alice"`, `manager eq "x"`, `userName eq "unterminated`,
	} {
		e.wantError(e.do("GET", "/Users?"+filterQuery(f), nil), http.StatusBadRequest, "invalidFilter")
	}
	e.wantError(e.do("GET", "/Groups?"+filterQuery(`displayName co "x"`), nil), http.StatusBadRequest, "invalidFilter")
	e.wantError(e.do("GET", "/Groups?"+filterQuery(`userName eq "x"`), nil), http.StatusBadRequest, "invalidFilter")
}

func TestSCIMUserPagination(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1})
	want := map[string]bool{}
	for i := range 250 {
		want[e.createUser(fmt.Sprintf("user%03d", i), nil)] = true
	}
	seen := map[string]int{}
	cursor, pages := "", 0
	for {
		q := "/Users?count=100&cursor=" + url.QueryEscape(cursor)
		r := e.want(e.do("GET", q, nil), http.StatusOK)
		pages++
		res := r.resources()
		if r.body["itemsPerPage"] != float64(len(res)) {
			t.Errorf("page %d: itemsPerPage %v for %d resources", pages, r.body["itemsPerPage"], len(res))
		}
		if _, ok := r.body["totalResults"]; ok {
			t.Errorf("page %d: cursor-paginated answers carry no totalResults (as AWS)", pages)
		}
		if len(res) > 100 {
			t.Fatalf("page %d has %d resources", pages, len(res))
		}
		for _, u := range res {
			seen[u["id"].(string)]++
		}
		next, _ := r.body["nextCursor"].(string)
		if next == "" {
			break
		}
		if !regexp.MustCompile(`^[-a-zA-Z0-9+=/:_]*$`).MatchString(next) {
			t.Errorf("nextCursor %q does not match AWS's pattern", next)
		}
		cursor = next
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	if len(seen) != 250 {
		t.Errorf("saw %d users, want 250", len(seen))
	}
	for id, n := range seen {
		if n != 1 || !want[id] {
			t.Errorf("user %s seen %d times (known: %v)", id, n, want[id])
		}
	}

	// without a cursor: the first page, with totalResults
	r := e.want(e.do("GET", "/Users?count=100", nil), http.StatusOK)
	if r.body["totalResults"] != float64(250) || r.body["itemsPerPage"] != float64(100) || len(r.resources()) != 100 || r.body["nextCursor"] != nil {
		t.Errorf("classic page: totalResults %v itemsPerPage %v resources %d", r.body["totalResults"], r.body["itemsPerPage"], len(r.resources()))
	}
	r = e.want(e.do("GET", "/Users", nil), http.StatusOK)
	if len(r.resources()) != 100 {
		t.Errorf("default count: %d resources, want 100", len(r.resources()))
	}
	// a filtered cursor listing
	r = e.want(e.do("GET", "/Users?cursor&"+filterQuery(`userName eq "user007"`), nil), http.StatusOK)
	if len(r.resources()) != 1 || r.body["nextCursor"] != nil {
		t.Errorf("filtered cursor listing: %s", r.raw)
	}

	e.want(e.do("GET", "/Users?startIndex=1&count=5", nil), http.StatusOK)
	e.wantError(e.do("GET", "/Users?startIndex=2", nil), http.StatusBadRequest, "invalidValue", "startIndex")
	e.wantError(e.do("GET", "/Users?count=0", nil), http.StatusBadRequest, "invalidValue", "count")
	e.wantError(e.do("GET", "/Users?count=101", nil), http.StatusBadRequest, "invalidValue", "count")
	e.wantError(e.do("GET", "/Users?count=ten", nil), http.StatusBadRequest, "invalidValue", "count")
	e.wantError(e.do("GET", "/Users?cursor=garbage", nil), http.StatusBadRequest, "invalidValue", "cursor")
	// a cursor belongs to its listing
	first := e.want(e.do("GET", "/Users?count=10&cursor", nil), http.StatusOK)
	next := first.body["nextCursor"].(string)
	e.wantError(e.do("GET", "/Groups?count=10&cursor="+url.QueryEscape(next), nil), http.StatusBadRequest, "invalidValue", "cursor")
	e.wantError(e.do("GET", "/Users?count=10&cursor="+url.QueryEscape(next)+"&"+filterQuery(`userName eq "user001"`), nil), http.StatusBadRequest, "invalidValue")
}

func TestSCIMPutUser(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1})
	id := e.createUser("alice", map[string]any{"externalId": "old-ext", "nickName": "Al", "title": "Engineer"})
	created := e.want(e.do("GET", "/Users/"+id, nil), http.StatusOK)

	time.Sleep(1100 * time.Millisecond) // lastModified has one-second precision
	r := e.want(e.do("PUT", "/Users/"+id, map[string]any{
		"id": id, "userName": "alice.liddell", "displayName": "Alice L.", "externalId": "new-ext", "active": false,
		"name":   map[string]any{"givenName": "Alice", "familyName": "Liddell"},
		"emails": []any{map[string]any{"value": "al@example.com", "type": "home", "primary": true}},
	}), http.StatusOK)
	if r.str("userName") != "alice.liddell" || r.str("displayName") != "Alice L." || r.str("externalId") != "new-ext" || r.body["active"] != false {
		t.Errorf("PUT answer: %s", r.raw)
	}
	if r.body["nickName"] != nil || r.body["title"] != nil {
		t.Errorf("PUT kept attributes it did not carry: %s", r.raw)
	}
	if r.str("meta.created") != created.str("meta.created") || r.str("meta.lastModified") == created.str("meta.lastModified") {
		t.Errorf("meta after PUT: %v (before %v)", r.body["meta"], created.body["meta"])
	}
	g := e.want(e.do("GET", "/Users/"+id, nil), http.StatusOK)
	if g.str("userName") != "alice.liddell" || g.body["emails"].([]any)[0].(map[string]any)["value"] != "al@example.com" {
		t.Errorf("GET after PUT: %s", g.raw)
	}
	// the indexes follow
	if n := len(e.want(e.do("GET", "/Users?"+filterQuery(`userName eq "alice"`), nil), 200).resources()); n != 0 {
		t.Errorf("old userName still found (%d)", n)
	}
	if n := len(e.want(e.do("GET", "/Users?"+filterQuery(`externalId eq "old-ext"`), nil), 200).resources()); n != 0 {
		t.Errorf("old externalId still found (%d)", n)
	}
	if n := len(e.want(e.do("GET", "/Users?"+filterQuery(`externalId eq "new-ext"`), nil), 200).resources()); n != 1 {
		t.Errorf("new externalId found %d times", n)
	}
	e.createUser("bob", nil) // the old name is free again, and bob's is taken
	e.want(e.do("POST", "/Users", scimUserBody("alice")), http.StatusCreated)
	body := scimUserBody("bob")
	e.wantError(e.do("PUT", "/Users/"+id, body), http.StatusConflict, "uniqueness")
	e.wantError(e.do("PUT", "/Users/"+id, map[string]any{"userName": "x", "displayName": "X"}), http.StatusBadRequest, "invalidValue", "name.givenName")
	e.wantError(e.do("PUT", "/Users/0000000000-00000000-0000-4000-8000-000000000000", scimUserBody("zed")), http.StatusNotFound, "")
}

func TestSCIMPatchUser(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1})
	id := e.createUser("alice", map[string]any{"nickName": "Al"})
	e.createUser("bob", nil)

	r := e.want(e.do("PATCH", "/Users/"+id, patchOp(
		map[string]any{"op": "replace", "path": "displayName", "value": "Alice Patched"},
		map[string]any{"op": "Replace", "path": "name.givenName", "value": "Alicia"},
		map[string]any{"op": "add", "path": "title", "value": "Queen"},
		map[string]any{"op": "remove", "path": "nickName"},
		map[string]any{"op": "replace", "value": map[string]any{"active": "False", "externalId": "ext-9", "id": id}},
		map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": "alicia@example.com"},
		map[string]any{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Cards"},
	)), http.StatusOK)
	for path, want := range map[string]string{"displayName": "Alice Patched", "name.givenName": "Alicia", "name.familyName": "Family",
		"title": "Queen", "externalId": "ext-9", "userName": "alice"} {
		if got := r.str(path); got != want {
			t.Errorf("after PATCH %s = %q, want %q", path, got, want)
		}
	}
	if r.body["nickName"] != nil || r.body["active"] != false {
		t.Errorf("after PATCH: %s", r.raw)
	}
	if emails := r.body["emails"].([]any); len(emails) != 1 || emails[0].(map[string]any)["value"] != "alicia@example.com" || emails[0].(map[string]any)["primary"] != true {
		t.Errorf("emails after PATCH: %v", emails)
	}
	// the answer is what GET shows
	g := e.want(e.do("GET", "/Users/"+id, nil), http.StatusOK)
	if g.str("displayName") != "Alice Patched" || g.body["active"] != false {
		t.Errorf("GET after PATCH: %s", g.raw)
	}
	e.want(e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "active", "value": true})), http.StatusOK)
	e.want(e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "userName", "value": "alice2"})), http.StatusOK)

	for _, tc := range []struct {
		name     string
		ops      []map[string]any
		status   int
		scimType string
	}{
		{"duplicate userName", []map[string]any{{"op": "replace", "path": "userName", "value": "BOB"}}, 409, "uniqueness"},
		{"remove userName", []map[string]any{{"op": "remove", "path": "userName"}}, 400, "invalidValue"},
		{"remove active", []map[string]any{{"op": "remove", "path": "active"}}, 400, "invalidValue"},
		{"remove required", []map[string]any{{"op": "remove", "path": "displayName"}}, 400, "invalidValue"},
		{"remove without path", []map[string]any{{"op": "remove"}}, 400, "noTarget"},
		{"two userName operations", []map[string]any{{"op": "replace", "path": "userName", "value": "a3"}, {"op": "replace", "path": "userName", "value": "a4"}}, 400, "invalidValue"},
		{"groups", []map[string]any{{"op": "add", "path": "groups", "value": []any{map[string]any{"value": "g"}}}}, 400, "invalidPath"},
		{"unknown attribute", []map[string]any{{"op": "replace", "path": "password", "value": "x"}}, 400, "invalidPath"},
		{"second email", []map[string]any{{"op": "add", "path": "emails", "value": []any{map[string]any{"value": "two@example.com", "primary": true}}}}, 400, "invalidValue"},
		{"unknown op", []map[string]any{{"op": "move", "path": "title", "value": "x"}}, 400, "invalidValue"},
		{"no value", []map[string]any{{"op": "replace", "path": "title"}}, 400, "invalidValue"},
		{"active not boolean", []map[string]any{{"op": "replace", "path": "active", "value": "maybe"}}, 400, "invalidValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.wantError(e.do("PATCH", "/Users/"+id, patchOp(tc.ops...)), tc.status, tc.scimType)
		})
	}
	e.t = t
	e.wantError(e.do("PATCH", "/Users/"+id, map[string]any{"Operations": []any{}}), 400, "invalidValue")
	e.wantError(e.do("PATCH", "/Users/0000000000-00000000-0000-4000-8000-000000000000", patchOp(map[string]any{"op": "replace", "path": "title", "value": "x"})), 404, "")
	// a failed PATCH changes nothing
	if g := e.want(e.do("GET", "/Users/"+id, nil), http.StatusOK); g.str("userName") != "alice2" || g.str("displayName") != "Alice Patched" {
		t.Errorf("after failed PATCHes: %s", g.raw)
	}
}

func TestSCIMDeleteUser(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1})
	id := e.createUser("alice", map[string]any{"externalId": "ext-a"})
	gid := e.createGroup("Readers", map[string]any{"members": []any{map[string]any{"value": id}}})
	r := e.want(e.do("DELETE", "/Users/"+id, nil), http.StatusNoContent)
	if r.raw != "" {
		t.Errorf("204 with a body: %q", r.raw)
	}
	e.wantError(e.do("GET", "/Users/"+id, nil), http.StatusNotFound, "")
	e.wantError(e.do("DELETE", "/Users/"+id, nil), http.StatusNotFound, "")
	e.wantError(e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "title", "value": "x"})), http.StatusNotFound, "")
	// its name, external id and memberships went with it
	e.createUser("alice", map[string]any{"externalId": "ext-a"})
	q := "/Groups?" + filterQuery(`id eq "`+gid+`" and members eq "`+id+`"`)
	if n := len(e.want(e.do("GET", q, nil), http.StatusOK).resources()); n != 0 {
		t.Errorf("deleted user still a member (%d)", n)
	}
}

func TestSCIMGroups(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1})
	alice := e.createUser("alice", nil)
	r := e.want(e.do("POST", "/Groups", map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "Engineering", "externalId": "eng-1",
		"members": []any{map[string]any{"value": alice}},
	}), http.StatusCreated)
	gid := r.str("id")
	if !scimIDRE.MatchString(gid) || r.str("displayName") != "Engineering" || r.str("externalId") != "eng-1" || r.str("meta.resourceType") != "Group" {
		t.Errorf("POST /Groups: %s", r.raw)
	}
	if fmt.Sprint(r.body["schemas"]) != "[urn:ietf:params:scim:schemas:core:2.0:Group]" {
		t.Errorf("group schemas %v", r.body["schemas"])
	}
	g := e.want(e.do("GET", "/Groups/"+gid, nil), http.StatusOK)
	if m, ok := g.body["members"].([]any); !ok || len(m) != 0 {
		t.Errorf("GET /Groups/{id} shows members %v; AWS shows an empty list", g.body["members"])
	}
	if g.str("displayName") != "Engineering" {
		t.Errorf("GET /Groups/{id}: %s", g.raw)
	}
	// yet the member is there
	q := "/Groups?" + filterQuery(`id eq "`+gid+`" and members eq "`+alice+`"`)
	if n := len(e.want(e.do("GET", q, nil), 200).resources()); n != 1 {
		t.Errorf("membership check after POST with members: %d", n)
	}

	e.wantError(e.do("POST", "/Groups", map[string]any{"displayName": "engineering"}), http.StatusConflict, "uniqueness")
	e.wantError(e.do("POST", "/Groups", map[string]any{"displayName": "Other", "externalId": "eng-1"}), http.StatusConflict, "uniqueness")
	e.wantError(e.do("POST", "/Groups", map[string]any{"externalId": "x"}), http.StatusBadRequest, "invalidValue", "displayName")
	e.wantError(e.do("POST", "/Groups", map[string]any{"displayName": "Nested", "members": []any{map[string]any{"value": gid}}}), http.StatusBadRequest, "invalidValue", "nested")
	e.wantError(e.do("POST", "/Groups", map[string]any{"displayName": "Ghosts", "members": []any{map[string]any{"value": "0000000000-00000000-0000-4000-8000-000000000000"}}}), http.StatusBadRequest, "invalidValue")
	e.wantError(e.do("GET", "/Groups/0000000000-00000000-0000-4000-8000-000000000000", nil), http.StatusNotFound, "")

	other := e.createGroup("Sales", nil)
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`displayName eq "Engineering"`, []string{gid}},
		{`displayName eq "SALES"`, []string{other}},
		{`externalId eq "eng-1"`, []string{gid}},
		{`displayName eq "Nobody"`, nil},
		{`id eq "` + other + `"`, []string{other}},
	} {
		r := e.want(e.do("GET", "/Groups?"+filterQuery(tc.filter), nil), http.StatusOK)
		var got []string
		for _, res := range r.resources() {
			got = append(got, res["id"].(string))
			if m, _ := res["members"].([]any); len(m) != 0 {
				t.Errorf("a listed group shows members")
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("filter %s: %v, want %v", tc.filter, got, tc.want)
		}
	}
	if n := len(e.want(e.do("GET", "/Groups", nil), 200).resources()); n != 2 {
		t.Errorf("GET /Groups: %d groups, want 2", n)
	}

	// PUT on a group is not supported by AWS: 400
	e.wantError(e.do("PUT", "/Groups/"+gid, map[string]any{"displayName": "X"}), http.StatusBadRequest, "", "not supported")

	// PATCH on displayName and externalId
	e.want(e.do("PATCH", "/Groups/"+gid, patchOp(
		map[string]any{"op": "replace", "path": "displayName", "value": "Platform"},
		map[string]any{"op": "replace", "path": "externalId", "value": "plat-1"},
	)), http.StatusNoContent)
	g = e.want(e.do("GET", "/Groups/"+gid, nil), http.StatusOK)
	if g.str("displayName") != "Platform" || g.str("externalId") != "plat-1" {
		t.Errorf("after PATCH: %s", g.raw)
	}
	// the AWS documentation's example: a path-less replace naming the id
	e.want(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": "Platform Team"}})), http.StatusNoContent)
	if n := len(e.want(e.do("GET", "/Groups?"+filterQuery(`displayName eq "Platform Team"`), nil), 200).resources()); n != 1 {
		t.Errorf("renamed group found %d times", n)
	}
	if n := len(e.want(e.do("GET", "/Groups?"+filterQuery(`displayName eq "Engineering"`), nil), 200).resources()); n != 0 {
		t.Errorf("old name found %d times", n)
	}
	e.wantError(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "sales"})), http.StatusConflict, "uniqueness")
	e.wantError(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "replace", "path": "description", "value": "x"})), http.StatusBadRequest, "invalidPath")
	e.wantError(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "remove", "path": "displayName"})), http.StatusBadRequest, "invalidValue")
	e.wantError(e.do("PATCH", "/Groups/0000000000-00000000-0000-4000-8000-000000000000", patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "Y"})), http.StatusNotFound, "")

	// DELETE
	e.want(e.do("DELETE", "/Groups/"+gid, nil), http.StatusNoContent)
	e.wantError(e.do("GET", "/Groups/"+gid, nil), http.StatusNotFound, "")
	e.wantError(e.do("DELETE", "/Groups/"+gid, nil), http.StatusNotFound, "")
	if n := len(e.want(e.do("GET", "/Users?"+filterQuery(`groups.value eq "`+gid+`"`), nil), 200).resources()); n != 0 {
		t.Errorf("deleted group still has %d members", n)
	}
}

func TestSCIMGroupMembers(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1})
	var users []string
	if err := e.sim.Update(func(d *idcsim.Directory) error {
		for i := range 120 {
			id, err := d.CreateUser(fmt.Sprintf("member%03d", i), "Member", fmt.Sprint(i), "")
			if err != nil {
				return err
			}
			users = append(users, id)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	gid := e.createGroup("Team", nil)
	other := e.createGroup("Other", nil)
	isMember := func(uid string) bool {
		t.Helper()
		q := "/Groups?" + filterQuery(`id eq "`+gid+`" and members eq "`+uid+`"`)
		res := e.want(e.do("GET", q, nil), http.StatusOK).resources()
		if len(res) == 1 && res[0]["id"] != gid {
			t.Fatalf("membership check answered another group: %v", res[0])
		}
		return len(res) == 1
	}
	members := func(values ...string) []any {
		var out []any
		for _, v := range values {
			out = append(out, map[string]any{"value": v})
		}
		return out
	}

	r := e.want(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": members(users[0], users[1], users[2])})), http.StatusNoContent)
	if r.raw != "" {
		t.Errorf("204 with a body: %q", r.raw)
	}
	for i, want := range []bool{true, true, true, false} {
		if got := isMember(users[i]); got != want {
			t.Errorf("user %d member: %v, want %v", i, got, want)
		}
	}
	// the users' side: groups.value lists a group's members; members eq alone lists a user's groups
	res := e.want(e.do("GET", "/Users?"+filterQuery(`groups.value eq "`+gid+`"`), nil), http.StatusOK).resources()
	if len(res) != 3 {
		t.Errorf("groups.value filter: %d users, want 3", len(res))
	}
	if res := e.want(e.do("GET", "/Groups?"+filterQuery(`members eq "`+users[0]+`"`), nil), http.StatusOK).resources(); len(res) != 1 || res[0]["id"] != gid {
		t.Errorf("members filter: %v", res)
	}
	// adding a member again changes nothing; remove with a filter path and with a value list
	e.want(e.do("PATCH", "/Groups/"+gid, patchOp(
		map[string]any{"op": "add", "path": "members", "value": members(users[0])},
		map[string]any{"op": "remove", "path": `members[value eq "` + users[1] + `"]`},
	)), http.StatusNoContent)
	if !isMember(users[0]) || isMember(users[1]) {
		t.Error("after add-again and remove by filter")
	}
	e.want(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "remove", "path": "members", "value": members(users[2], users[3])})), http.StatusNoContent)
	if isMember(users[2]) || !isMember(users[0]) {
		t.Error("after remove by value list")
	}
	// add then remove in one request: the last word wins
	e.want(e.do("PATCH", "/Groups/"+gid, patchOp(
		map[string]any{"op": "add", "path": "members", "value": members(users[5])},
		map[string]any{"op": "remove", "path": `members[value eq "` + users[5] + `"]`},
	)), http.StatusNoContent)
	if isMember(users[5]) {
		t.Error("add then remove left a member")
	}
	// path-less add with members
	e.want(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "value": map[string]any{"members": members(users[6])}})), http.StatusNoContent)
	if !isMember(users[6]) {
		t.Error("path-less add of members")
	}

	// refused: nested groups, unknown users, replacing or removing all members, too many changes
	e.wantError(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": members(other)})), http.StatusBadRequest, "invalidValue", "nested")
	e.wantError(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": members("0000000000-00000000-0000-4000-8000-000000000000")})), http.StatusBadRequest, "invalidValue")
	e.wantError(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "replace", "path": "members", "value": members(users[7])})), http.StatusBadRequest, "invalidValue")
	e.wantError(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "remove", "path": "members"})), http.StatusBadRequest, "invalidValue")
	e.wantError(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": "not a list"})), http.StatusBadRequest, "invalidValue")
	e.wantError(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": members(users[:101]...)})), http.StatusBadRequest, "tooMany")
	// 101 spread over operations is still too many
	e.wantError(e.do("PATCH", "/Groups/"+gid, patchOp(
		map[string]any{"op": "add", "path": "members", "value": members(users[:60]...)},
		map[string]any{"op": "remove", "path": "members", "value": members(users[60:101]...)},
	)), http.StatusBadRequest, "tooMany")
	// none of the refused requests changed anything
	if isMember(users[7]) || isMember(users[10]) || !isMember(users[0]) || !isMember(users[6]) {
		t.Error("a refused PATCH changed memberships")
	}
	// exactly 100 is allowed
	e.want(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": members(users[10:110]...)})), http.StatusNoContent)
	if n := len(e.want(e.do("GET", "/Users?count=100&"+filterQuery(`groups.value eq "`+gid+`"`), nil), http.StatusOK).resources()); n != 100 {
		t.Errorf("first page of members: %d", n)
	}
	r = e.want(e.do("GET", "/Users?"+filterQuery(`groups.value eq "`+gid+`"`), nil), http.StatusOK)
	if r.body["totalResults"] != float64(102) {
		t.Errorf("members after adding 100: %v, want 102", r.body["totalResults"])
	}
	// creating a group with more than 100 members is refused as well
	e.wantError(e.do("POST", "/Groups", map[string]any{"displayName": "Big", "members": members(users[:101]...)}), http.StatusBadRequest, "tooMany")
}

func TestSCIMSharedWithIdentityStore(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1})
	ctx := context.Background()
	uid := e.createUser("scim.user", map[string]any{"externalId": "okta-123"})
	gid := e.createGroup("SCIM Group", nil)
	e.want(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uid}}})), http.StatusNoContent)

	// SCIM -> identitystore
	list, err := e.ids.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: aws.String(e.storeID)})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, u := range list.Users {
		found = found || (aws.ToString(u.UserId) == uid && aws.ToString(u.UserName) == "scim.user")
	}
	if !found {
		t.Fatalf("the SCIM user is not in ListUsers: %+v", list.Users)
	}
	du, err := e.ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(e.storeID), UserId: aws.String(uid)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(du.DisplayName) != "User scim.user" || aws.ToString(du.Name.GivenName) != "Givenscim.user" || len(du.Emails) != 1 || !du.Emails[0].Primary {
		t.Errorf("DescribeUser: %+v", du)
	}
	wantIssuer := "https://scim.us-east-1.amazonaws.com/" + e.storeID
	if len(du.ExternalIds) != 1 || aws.ToString(du.ExternalIds[0].Issuer) != wantIssuer || aws.ToString(du.ExternalIds[0].Id) != "okta-123" {
		t.Errorf("ExternalIds %+v, want one from %s", du.ExternalIds, wantIssuer)
	}
	got, err := e.ids.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: aws.String(e.storeID),
		AlternateIdentifier: &istypes.AlternateIdentifierMemberExternalId{Value: istypes.ExternalId{Issuer: aws.String(wantIssuer), Id: aws.String("okta-123")}}})
	if err != nil || aws.ToString(got.UserId) != uid {
		t.Errorf("GetUserId by the SCIM external id: %v %v", got, err)
	}
	ms, err := e.ids.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{IdentityStoreId: aws.String(e.storeID), GroupId: aws.String(gid)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms.GroupMemberships) != 1 {
		t.Fatalf("ListGroupMemberships: %d memberships, want 1", len(ms.GroupMemberships))
	}
	if m, ok := ms.GroupMemberships[0].MemberId.(*istypes.MemberIdMemberUserId); !ok || m.Value != uid {
		t.Errorf("membership member %#v, want user %s", ms.GroupMemberships[0].MemberId, uid)
	}
	dg, err := e.ids.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: aws.String(e.storeID), GroupId: aws.String(gid)})
	if err != nil || aws.ToString(dg.DisplayName) != "SCIM Group" {
		t.Errorf("DescribeGroup: %+v %v", dg, err)
	}
	// a SCIM removal shows too
	e.want(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "remove", "path": `members[value eq "` + uid + `"]`})), http.StatusNoContent)
	ms, err = e.ids.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{IdentityStoreId: aws.String(e.storeID), GroupId: aws.String(gid)})
	if err != nil || len(ms.GroupMemberships) != 0 {
		t.Errorf("after SCIM removal: %v %v", ms, err)
	}

	// identitystore -> SCIM
	cu, err := e.ids.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: aws.String(e.storeID), UserName: aws.String("api.user"),
		DisplayName: aws.String("API User"), Name: &istypes.Name{GivenName: aws.String("Api"), FamilyName: aws.String("User")}})
	if err != nil {
		t.Fatal(err)
	}
	r := e.want(e.do("GET", "/Users?"+filterQuery(`userName eq "api.user"`), nil), http.StatusOK)
	if res := r.resources(); len(res) != 1 || res[0]["id"] != aws.ToString(cu.UserId) || res[0]["displayName"] != "API User" || res[0]["active"] != true {
		t.Errorf("identitystore user over SCIM: %s", r.raw)
	}
	if _, err := e.ids.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: aws.String(e.storeID),
		GroupId: aws.String(gid), MemberId: &istypes.MemberIdMemberUserId{Value: aws.ToString(cu.UserId)}}); err != nil {
		t.Fatal(err)
	}
	q := "/Groups?" + filterQuery(`id eq "`+gid+`" and members eq "`+aws.ToString(cu.UserId)+`"`)
	if n := len(e.want(e.do("GET", q, nil), http.StatusOK).resources()); n != 1 {
		t.Errorf("identitystore membership over SCIM: %d", n)
	}
	// an identitystore update shows over SCIM; a SCIM PATCH of that user works
	if _, err := e.ids.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: aws.String(e.storeID), UserId: cu.UserId,
		Operations: []istypes.AttributeOperation{{AttributePath: aws.String("displayName"), AttributeValue: document.NewLazyDocument("API User 2")}}}); err != nil {
		t.Fatal(err)
	}
	if s := e.want(e.do("GET", "/Users/"+aws.ToString(cu.UserId), nil), http.StatusOK).str("displayName"); s != "API User 2" {
		t.Errorf("displayName over SCIM after UpdateUser: %q", s)
	}
	e.want(e.do("PATCH", "/Users/"+aws.ToString(cu.UserId), patchOp(map[string]any{"op": "replace", "path": "active", "value": false})), http.StatusOK)
	// deleting over identitystore is seen over SCIM, and the other way round
	if _, err := e.ids.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: aws.String(e.storeID), UserId: cu.UserId}); err != nil {
		t.Fatal(err)
	}
	e.wantError(e.do("GET", "/Users/"+aws.ToString(cu.UserId), nil), http.StatusNotFound, "")
	e.want(e.do("DELETE", "/Users/"+uid, nil), http.StatusNoContent)
	if _, err := e.ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(e.storeID), UserId: aws.String(uid)}); err == nil {
		t.Error("a user deleted over SCIM is still described")
	}
}

func TestSCIMThrottle(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)} // the bucket refills only when the test says so
	e := newSCIMEnv(t, idcsim.Options{Seed: 1, CallRate: 1, Burst: 1, Now: c.Now})
	e.want(e.do("GET", "/ServiceProviderConfig", nil), http.StatusOK)
	r := e.do("GET", "/Users", nil)
	e.wantError(r, http.StatusTooManyRequests, "")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	st := e.sim.Stats()
	if st.Throttled != 1 || st.Calls["scim:GET /ServiceProviderConfig"] != 1 || st.Calls["scim:GET /Users"] != 1 {
		t.Errorf("stats %+v", st)
	}
	// the bucket is shared with the JSON APIs
	c.Advance(1100 * time.Millisecond)
	if _, err := e.ids.ListUsers(context.Background(), &identitystore.ListUsersInput{IdentityStoreId: aws.String(e.storeID)}); err != nil {
		t.Fatal(err)
	}
	e.wantError(e.do("GET", "/Users", nil), http.StatusTooManyRequests, "")
}

func TestSCIMPropagationConflict(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1, ConflictRate: 1, ConflictWindow: time.Minute})
	id := e.createUser("alice", nil)
	title := func(v string) map[string]any {
		return patchOp(map[string]any{"op": "replace", "path": "title", "value": v})
	}
	e.want(e.do("PATCH", "/Users/"+id, title("a")), http.StatusOK)
	e.wantError(e.do("PATCH", "/Users/"+id, title("b")), http.StatusConflict, "")
	if s := e.want(e.do("GET", "/Users/"+id, nil), http.StatusOK).str("title"); s != "a" {
		t.Errorf("title %q after a refused write", s)
	}
	gid := e.createGroup("G", nil)
	add := patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}})
	e.want(e.do("PATCH", "/Groups/"+gid, add), http.StatusNoContent)
	remove := patchOp(map[string]any{"op": "remove", "path": `members[value eq "` + id + `"]`})
	e.wantError(e.do("PATCH", "/Groups/"+gid, remove), http.StatusConflict, "")
	if e.sim.Stats().Conflicts != 2 {
		t.Errorf("conflicts %d, want 2", e.sim.Stats().Conflicts)
	}
}

func TestSCIMDiscoveryAndRoutes(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1})
	r := e.want(e.do("GET", "/ServiceProviderConfig", nil), http.StatusOK)
	var spc struct {
		Schemas []string
		Patch   struct{ Supported bool }
		Bulk    struct{ Supported bool }
		Filter  struct {
			Supported  bool
			MaxResults int
		}
		ChangePassword        struct{ Supported bool }
		Sort                  struct{ Supported bool }
		Etag                  struct{ Supported bool }
		AuthenticationSchemes []struct{ Type string }
	}
	if err := json.Unmarshal([]byte(r.raw), &spc); err != nil {
		t.Fatal(err)
	}
	if !spc.Patch.Supported || spc.Bulk.Supported || !spc.Filter.Supported || spc.Filter.MaxResults != 100 || spc.ChangePassword.Supported ||
		spc.Sort.Supported || spc.Etag.Supported || len(spc.AuthenticationSchemes) != 1 || spc.AuthenticationSchemes[0].Type != "oauthbearertoken" ||
		fmt.Sprint(spc.Schemas) != "[urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig]" {
		t.Errorf("ServiceProviderConfig: %s", r.raw)
	}
	rt := e.want(e.do("GET", "/ResourceTypes", nil), http.StatusOK)
	if n := len(rt.resources()); n != 2 {
		t.Errorf("ResourceTypes: %d", n)
	}
	if u := e.want(e.do("GET", "/ResourceTypes/User", nil), http.StatusOK); u.str("endpoint") != "/Users" {
		t.Errorf("ResourceTypes/User: %s", u.raw)
	}
	sc := e.want(e.do("GET", "/Schemas", nil), http.StatusOK)
	if n := len(sc.resources()); n != 3 {
		t.Errorf("Schemas: %d", n)
	}
	if g := e.want(e.do("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group", nil), http.StatusOK); g.str("name") != "Group" {
		t.Errorf("Schemas/Group: %s", g.raw)
	}
	e.wantError(e.do("GET", "/Schemas/urn:nope", nil), http.StatusNotFound, "")
	// not supported by AWS: 400; unknown paths: 404
	e.wantError(e.do("POST", "/Bulk", map[string]any{}), http.StatusBadRequest, "")
	e.wantError(e.do("GET", "/Me", nil), http.StatusBadRequest, "")
	e.wantError(e.do("POST", "/.search", map[string]any{}), http.StatusBadRequest, "")
	e.wantError(e.do("DELETE", "/Users", nil), http.StatusBadRequest, "")
	e.wantError(e.do("GET", "/Nothing", nil), http.StatusNotFound, "")
	e.wantError(e.do("GET", "/Users/a/b", nil), http.StatusNotFound, "")
	// an Accept of application/json alone is answered in application/json
	req, _ := http.NewRequest("GET", e.srv.URL+"/scim/v2/ServiceProviderConfig", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Accept: application/json answered in %q", ct)
	}
	st := e.sim.Stats()
	for _, k := range []string{"scim:GET /ServiceProviderConfig", "scim:GET /ResourceTypes", "scim:GET /ResourceTypes/{id}", "scim:GET /Schemas/{id}", "scim:POST /Bulk"} {
		if st.Calls[k] == 0 {
			t.Errorf("Stats.Calls has no %s: %v", k, st.Calls)
		}
	}
}
