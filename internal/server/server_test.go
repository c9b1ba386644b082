package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

type env struct {
	t     *testing.T
	url   string
	store store.Store
	admin *client.Client
	ctx   context.Context
	srv   *server.Server
}

// newEnv starts the real server over real HTTP on a real SQLite store.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := server.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// The tests act with tokens the bootstrap admin token mints, as automation would: exempt from
	// step-up (auth.step_up_exempt_tokens). The step-up tests turn the exemption off.
	srv.SetStepUp(0, true)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	tokenFile := filepath.Join(t.TempDir(), "admin.token")
	if _, err := srv.Tokens().EnsureAdminToken(ctx, tokenFile); err != nil {
		t.Fatal(err)
	}
	token, err := readToken(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, url: hs.URL, store: st, admin: client.New(hs.URL, token), ctx: ctx, srv: srv}
}

// raw sends a request and returns the status and decoded JSON error body (if any).
func (e *env) raw(method, path, token, body string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func (e *env) apply(yamlDocs string) {
	e.t.Helper()
	objs, err := resource.DecodeAll("test", []byte(yamlDocs))
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.admin.Batch(e.ctx, "apply", objs); err != nil {
		e.t.Fatal(err)
	}
}

// seed writes objects straight into the store, as the request workflow's own writes do: the API
// refuses access requests as resources (even from an administrator).
func (e *env) seed(objs ...*resource.Object) []*resource.Object {
	e.t.Helper()
	res, err := manage.New(e.store).Create(e.ctx, manage.Actor{User: "test", Admin: true}, objs)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]*resource.Object, len(res))
	for i, r := range res {
		out[i] = r.Object
	}
	return out
}

// seedYAML decodes and seeds YAML documents.
func (e *env) seedYAML(docs string) {
	e.t.Helper()
	objs, err := resource.DecodeAll("test", []byte(docs))
	if err != nil {
		e.t.Fatal(err)
	}
	e.seed(objs...)
}

func status(err error) int {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Status
	}
	return 0
}

const base = `
kind: user
version: v1
metadata: {name: alice}
spec: {email: alice@example.com, given_name: Alice, family_name: A}
---
kind: user
version: v1
metadata: {name: bob}
spec: {email: bob@example.com}
---
kind: role
version: v1
metadata: {name: staging-admin}
spec: {allow: {account_assignments: [{account: "058264527036", permission_set: AdministratorAccess}]}}
---
kind: access_list
version: v1
metadata: {name: ops}
spec: {title: Ops, owners: [alice], grants: {roles: [staging-admin]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: ops, member: bob}
`

func TestHealthReadyMetricsNeedNoToken(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, _ := e.raw("GET", p, "", ""); code != 200 {
			t.Errorf("GET %s: %d, want 200", p, code)
		}
	}
	e.admin.List(e.ctx, resource.KindRole, nil)
	resp, err := http.Get(e.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `warden_http_requests_total{code="200",method="GET",route="/v1/{kind}"}`) {
		t.Errorf("/metrics lacks the request counter for GET /v1/{kind}:\n%.2000s", b)
	}
}

// A server held (the demo importing its organisation) is live but not ready until every hold is
// released; /readyz says only that it is starting.
func TestReadyzWaitsForHolds(t *testing.T) {
	e := newEnv(t)
	readyz := func() (int, string) {
		resp, err := http.Get(e.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	importing, other := e.srv.Hold(), e.srv.Hold()
	if code, body := readyz(); code != 503 || body != "not ready: starting" {
		t.Fatalf("held: %d %q, want 503 not ready: starting", code, body)
	}
	if code, _ := e.raw("GET", "/healthz", "", ""); code != 200 {
		t.Fatalf("/healthz while held: %d", code)
	}
	importing()
	importing() // released twice counts once
	if code, _ := readyz(); code != 503 {
		t.Fatalf("with one hold left: %d, want 503", code)
	}
	other()
	if code, body := readyz(); code != 200 || body != "ready" {
		t.Fatalf("released: %d %q", code, body)
	}
}

func TestUnauthenticatedIs401AndForbiddenIs403(t *testing.T) {
	e := newEnv(t)
	e.apply(base)
	code, body := e.raw("GET", "/v1/role", "", "")
	if code != 401 || !strings.Contains(body["error"].(string), "missing API token") {
		t.Fatalf("no token: %d %v", code, body)
	}
	if code, _ := e.raw("GET", "/v1/role", "wdn_0123456789abcdef_nope", ""); code != 401 {
		t.Fatalf("unknown token: %d, want 401", code)
	}
	if code, _ := e.raw("GET", "/v1/role", "garbage", ""); code != 401 {
		t.Fatalf("malformed token: %d, want 401", code)
	}
	tok, err := e.admin.CreateToken(e.ctx, "bob", "1h")
	if err != nil {
		t.Fatal(err)
	}
	bob := client.New(e.url, tok.Token)
	if _, err := bob.List(e.ctx, resource.KindRole, nil); err != nil {
		t.Fatalf("bob reading roles: %v", err)
	}
	role := resource.New(resource.KindRole, "mine")
	if _, err := bob.Create(e.ctx, role); status(err) != 403 {
		t.Fatalf("bob creating a role: %v (status %d), want 403", err, status(err))
	}
	if err := bob.Delete(e.ctx, resource.KindAccessListMember, "ops/bob", 0); status(err) != 403 {
		t.Fatalf("bob removing himself from a list: %v, want 403", err)
	}
	if _, err := bob.CreateToken(e.ctx, "alice", ""); status(err) != 403 {
		t.Fatalf("bob issuing a token: %v, want 403", err)
	}
	// Requests go through /v1/access/requests and the rules of what his roles allow: not the generic API,
	// not for someone else, not already approved.
	mine := resource.New(resource.KindAccessRequest, "")
	mine.Spec = &resource.AccessRequestSpec{User: "bob", Roles: []string{"staging-admin"}, Reason: "deploy"}
	if _, err := bob.Create(e.ctx, mine); status(err) != 403 {
		t.Fatalf("bob creating a request through the generic API: %v, want 403", err)
	}
	if _, err := bob.RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "deploy"}); status(err) != 400 || !strings.Contains(err.Error(), "you may not request role") {
		t.Fatalf("bob requesting a role none of his roles lets him request: %v, want 400", err)
	}
	forAlice := resource.New(resource.KindAccessRequest, "")
	forAlice.Spec = &resource.AccessRequestSpec{User: "alice", Roles: []string{"staging-admin"}}
	if _, err := bob.Create(e.ctx, forAlice); status(err) != 403 {
		t.Fatalf("bob requesting for alice: %v, want 403", err)
	}
	approved := resource.New(resource.KindAccessRequest, "")
	approved.Spec = &resource.AccessRequestSpec{User: "bob", Roles: []string{"staging-admin"}, State: resource.StateApproved}
	if _, err := bob.Create(e.ctx, approved); status(err) != 403 {
		t.Fatalf("bob creating an approved request: %v, want 403", err)
	}
	if _, err := e.admin.Create(e.ctx, mine); status(err) != 403 { // nor may an administrator file one for him
		t.Fatalf("an administrator creating a request through the generic API: %v, want 403", err)
	}
	e.seed(mine)
	// Alice's request is invisible to bob; his list shows only his.
	aliceReq := resource.New(resource.KindAccessRequest, "alice-req")
	aliceReq.Spec = &resource.AccessRequestSpec{User: "alice", Roles: []string{"staging-admin"}}
	e.seed(aliceReq)
	if _, err := bob.Get(e.ctx, resource.KindAccessRequest, "alice-req"); status(err) != 403 {
		t.Fatalf("bob reading alice's request: %v, want 403", err)
	}
	reqs, err := bob.List(e.ctx, resource.KindAccessRequest, nil)
	if err != nil || len(reqs) != 1 || reqs[0].Spec.(*resource.AccessRequestSpec).User != "bob" {
		t.Fatalf("bob's request list: %v %v", reqs, err)
	}
	if _, err := bob.List(e.ctx, resource.KindAccessRequest, map[string]string{"user": "alice"}); status(err) != 403 {
		t.Fatalf("bob listing alice's requests: %v, want 403", err)
	}
	// Promoting bob to admin takes effect on his existing token.
	u, _ := e.admin.Get(e.ctx, resource.KindUser, "bob")
	u.Spec.(*resource.UserSpec).Admin = true
	if _, err := e.admin.Update(e.ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Create(e.ctx, role); err != nil {
		t.Fatalf("bob as admin creating a role: %v", err)
	}
	// Deleting bob revokes his token: 401, not 403.
	if err := e.admin.Delete(e.ctx, resource.KindAccessListMember, "ops/bob", 0); err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		_ = r
	}
	if err := e.admin.Delete(e.ctx, resource.KindUser, "bob", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.List(e.ctx, resource.KindRole, nil); status(err) != 401 {
		t.Fatalf("deleted user's token: %v, want 401", err)
	}
}

func TestCRUDAndRevisions(t *testing.T) {
	e := newEnv(t)
	u := resource.New(resource.KindUser, "carol")
	u.Spec.(*resource.UserSpec).Email = "carol@example.com"
	created, err := e.admin.Create(e.ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if created.Metadata.Revision == 0 || created.Metadata.CreatedAt.IsZero() {
		t.Fatalf("created %+v", created.Metadata)
	}
	if _, err := e.admin.Create(e.ctx, u); status(err) != 409 {
		t.Fatalf("second create: %v, want 409", err)
	}
	got, err := e.admin.Get(e.ctx, resource.KindUser, "carol")
	if err != nil {
		t.Fatal(err)
	}
	got.Spec.(*resource.UserSpec).DisplayName = "Carol"
	updated, err := e.admin.Update(e.ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	if updated.Metadata.Revision <= created.Metadata.Revision {
		t.Fatalf("update revision %d after %d", updated.Metadata.Revision, created.Metadata.Revision)
	}
	// The revision read before the update is stale now.
	if _, err := e.admin.Update(e.ctx, got); status(err) != 409 {
		t.Fatalf("update with stale revision: %v, want 409", err)
	}
	noRev := updated.Clone()
	noRev.Metadata.Revision = 0
	if _, err := e.admin.Update(e.ctx, noRev); status(err) != 400 {
		t.Fatalf("update without revision: %v, want 400", err)
	} else if ce := err.(*client.Error); ce.Field != "metadata.revision" {
		t.Fatalf("update without revision names field %q", ce.Field)
	}
	// If-Match carries the revision too.
	body, _ := json.Marshal(noRev)
	req, _ := http.NewRequest("PUT", e.url+"/v1/user/carol", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+e.admin.Token)
	req.Header.Set("If-Match", fmt.Sprintf(`"%d"`, updated.Metadata.Revision))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("update with If-Match: %d", resp.StatusCode)
	}
	if err := e.admin.Delete(e.ctx, resource.KindUser, "carol", updated.Metadata.Revision); status(err) != 409 {
		t.Fatalf("delete with stale revision: %v, want 409", err)
	}
	if err := e.admin.Delete(e.ctx, resource.KindUser, "carol", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.Get(e.ctx, resource.KindUser, "carol"); status(err) != 404 {
		t.Fatalf("get after delete: %v, want 404", err)
	}
	if code, _ := e.raw("GET", "/v1/widgets", e.admin.Token, ""); code != 404 {
		t.Fatalf("unknown kind: %d, want 404", code)
	}
}

func TestBadInputIs400NamingTheField(t *testing.T) {
	e := newEnv(t)
	e.apply(base)
	cases := []struct {
		name, path, body, field, msg string
	}{
		{"bad account", "/v1/role", `{"kind":"role","version":"v1","metadata":{"name":"x"},"spec":{"allow":{"account_assignments":[{"account":"12345","permission_set":"ReadOnlyAccess"}]}}}`,
			"spec.allow.account_assignments[0].account", "not a 12-digit account id"},
		{"unknown field", "/v1/role", `{"kind":"role","version":"v1","metadata":{"name":"x"},"spec":{"allow":{},"permit":{}}}`,
			"spec.permit", "unknown field"},
		{"wrong type", "/v1/user", `{"kind":"user","version":"v1","metadata":{"name":"x"},"spec":{"roles":"staging-admin"}}`,
			"spec.roles", "must be a list"},
		{"kind mismatch", "/v1/user", `{"kind":"role","version":"v1","metadata":{"name":"x"},"spec":{}}`,
			"kind", `"role" sent to /v1/user`},
		{"missing role", "/v1/user", `{"kind":"user","version":"v1","metadata":{"name":"x"},"spec":{"roles":["nope"]}}`,
			"spec.roles[0]", `role "nope" does not exist`},
		{"nested in itself", "/v1/access_list_member", `{"kind":"access_list_member","version":"v1","metadata":{},"spec":{"list":"ops","member":"ops","member_kind":"list"}}`,
			"spec.member", "cannot be a member of itself"},
		{"bad session duration", "/v1/permission_set", `{"kind":"permission_set","version":"v1","metadata":{"name":"P"},"spec":{"session_duration":"8h"}}`,
			"spec.session_duration", "PT8H"},
		{"bad limit", "/v1/user?limit=0", "", "limit", "not a number"},
		{"bad filter", "/v1/user?state=PENDING", "", "state", "cannot be filtered"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := "POST"
			if c.body == "" {
				method = "GET"
			}
			code, body := e.raw(method, c.path, e.admin.Token, c.body)
			if code != 400 {
				t.Fatalf("status %d (%v), want 400", code, body)
			}
			if body["field"] != c.field || !strings.Contains(fmt.Sprint(body["error"]), c.msg) {
				t.Fatalf("got field %q error %q, want field %q error containing %q", body["field"], body["error"], c.field, c.msg)
			}
		})
	}
	if code, body := e.raw("POST", "/v1/role", e.admin.Token, `{"kind": "role",`); code != 400 {
		t.Fatalf("truncated JSON: %d %v", code, body)
	}
}

func TestBatchIsAllOrNothing(t *testing.T) {
	e := newEnv(t)
	e.apply(base)
	before, _ := e.store.Revision(e.ctx)
	objs, err := resource.DecodeAll("batch.yaml", []byte(`
kind: user
version: v1
metadata: {name: dave}
spec: {email: dave@example.com}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: ops, member: dave}
---
kind: access_list
version: v1
metadata: {name: broken}
spec: {title: Broken, owners: [alice], grants: {roles: [no-such-role]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.Batch(e.ctx, "create", objs)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 400 || ce.Item != 3 || ce.Field != "spec.grants.roles[0]" || ce.Name != "broken" {
		t.Fatalf("batch error %+v, want item 3 broken spec.grants.roles[0]", err)
	}
	if after, _ := e.store.Revision(e.ctx); after != before {
		t.Fatalf("a failed batch moved the revision from %d to %d", before, after)
	}
	for _, o := range objs {
		if _, err := e.store.Get(e.ctx, o.Kind, o.Metadata.Name); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s was kept after its batch failed: %v", o, err)
		}
	}
	// A name used twice in one batch, and a name that exists, both fail naming the item.
	dup := []*resource.Object{objs[0], objs[0].Clone()}
	if _, err := e.admin.Batch(e.ctx, "create", dup); !errors.As(err, &ce) || ce.Item != 2 {
		t.Fatalf("duplicate in batch: %v", err)
	}
	exists := resource.New(resource.KindUser, "alice")
	if _, err := e.admin.Batch(e.ctx, "create", []*resource.Object{objs[0], exists}); !errors.As(err, &ce) || ce.Status != 409 || ce.Item != 2 {
		t.Fatalf("existing name in batch: %v", err)
	}
	// Apply: create what is missing, update what differs, leave the rest.
	objs = objs[:2]
	res, err := e.admin.Batch(e.ctx, "apply", objs)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Action != manage.Created || res[1].Action != manage.Created {
		t.Fatalf("first apply: %v %v", res[0].Action, res[1].Action)
	}
	m, err := e.admin.Get(e.ctx, resource.KindAccessListMember, res[1].Name)
	if err != nil {
		t.Fatal(err)
	}
	if m.Spec.(*resource.AccessListMemberSpec).AddedBy != resource.BootstrapAdmin || m.Metadata.Revision != res[1].Revision {
		t.Fatalf("member %+v: added_by is not the admin who added it, or the revision differs from the batch's %d", m, res[1].Revision)
	}
	objs[0].Spec.(*resource.UserSpec).DisplayName = "Dave"
	res, err = e.admin.Batch(e.ctx, "apply", objs)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Action != manage.Updated || res[1].Action != manage.Unchanged {
		t.Fatalf("second apply: %v %v", res[0].Action, res[1].Action)
	}
}

// An applied resource that gives metadata.revision must be at that revision: a file read before
// someone else's change (or deletion) is refused with a conflict naming it, and nothing of its
// batch is written. Without a revision, apply overwrites as before.
func TestApplyHoldsAGivenRevision(t *testing.T) {
	e := newEnv(t)
	e.apply(base)
	read, err := e.admin.Get(e.ctx, resource.KindRole, "staging-admin")
	if err != nil {
		t.Fatal(err)
	}
	newer := read.Clone()
	newer.Metadata.Description = "changed by someone else"
	if _, err := e.admin.Update(e.ctx, newer); err != nil {
		t.Fatal(err)
	}
	stale := read.Clone()
	stale.Metadata.Description = "my change, on what I read"
	extra := &resource.Object{Kind: resource.KindUser, Version: resource.Version, Metadata: resource.Metadata{Name: "zed"}, Spec: &resource.UserSpec{}}
	_, err = e.admin.Batch(e.ctx, "apply", []*resource.Object{extra, stale})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 409 || ce.Item != 2 || ce.Kind != resource.KindRole || ce.Name != "staging-admin" ||
		!strings.Contains(ce.Message, fmt.Sprintf("metadata.revision %d was read, but it has changed since", read.Metadata.Revision)) {
		t.Fatalf("applying a stale revision: %v, want 409 naming item 2, role staging-admin and the revisions", err)
	}
	if o, _ := e.admin.Get(e.ctx, resource.KindRole, "staging-admin"); o.Metadata.Description != "changed by someone else" {
		t.Fatalf("the newer change was overwritten: %q", o.Metadata.Description)
	}
	if _, err := e.admin.Get(e.ctx, resource.KindUser, "zed"); status(err) != 404 {
		t.Fatalf("the rest of the refused batch was written: %v", err)
	}
	// The revision read now applies; no revision overwrites whatever is stored.
	cur, _ := e.admin.Get(e.ctx, resource.KindRole, "staging-admin")
	mine := cur.Clone()
	mine.Metadata.Description = "my change, on the latest"
	if res, err := e.admin.Batch(e.ctx, "apply", []*resource.Object{mine}); err != nil || res[0].Action != manage.Updated {
		t.Fatalf("applying the current revision: %v %v", res, err)
	}
	blind := cur.Clone()
	blind.Metadata.Revision = 0
	blind.Metadata.Description = "no revision given"
	if res, err := e.admin.Batch(e.ctx, "apply", []*resource.Object{blind}); err != nil || res[0].Action != manage.Updated {
		t.Fatalf("applying without a revision: %v %v", res, err)
	}
	// A resource deleted since it was read is not brought back by a file holding its revision.
	gone := &resource.Object{Kind: resource.KindUser, Version: resource.Version, Metadata: resource.Metadata{Name: "gone"}, Spec: &resource.UserSpec{}}
	e.apply("kind: user\nversion: v1\nmetadata: {name: gone}\nspec: {}\n")
	g, _ := e.admin.Get(e.ctx, resource.KindUser, "gone")
	if err := e.admin.Delete(e.ctx, resource.KindUser, "gone", 0); err != nil {
		t.Fatal(err)
	}
	gone.Metadata.Revision = g.Metadata.Revision
	if _, err := e.admin.Batch(e.ctx, "apply", []*resource.Object{gone}); status(err) != 409 || !strings.Contains(err.Error(), "no longer exists") {
		t.Fatalf("applying a deleted resource's revision: %v, want 409 saying it no longer exists", err)
	}
}

// A filter value that names nothing would match nothing: it is an error naming the filter, not an
// empty answer. Request states are read in any case.
func TestFiltersThatNameNothingAreErrors(t *testing.T) {
	e := newEnv(t)
	e.apply(base)
	e.seedYAML(`
kind: access_request
version: v1
metadata: {name: r1}
spec: {user: bob, roles: [staging-admin], state: APPROVED, reason: x}
`)
	for _, c := range []struct{ path, field, want string }{
		{"/v1/access_request?state=BOGUS", "state", `"BOGUS" is not a request state (PENDING, APPROVED, DENIED, EXPIRED, CANCELLED; any case)`},
		{"/v1/access/requests?state=approve", "state", `"approve" is not a request state`},
		{"/v1/access_list_member?list=nosuchlist", "list", `access list "nosuchlist" does not exist`},
		{"/v1/access_list_member?member=nobody", "member", `no user or access list is named "nobody"`},
		{"/v1/access_list_member?member=ops&member_kind=user", "member", `user "ops" does not exist`},
		{"/v1/access_list_member?member_kind=group", "member_kind", `"group" is not user or list`},
		{"/v1/audit?kind=rolez", "kind", `"rolez" is not a kind (access_list, access_list_member, access_request, account, permission_set, role, saml_service_provider, user, api_token, sync_record)`},
	} {
		code, body := e.raw("GET", c.path, e.admin.Token, "")
		if code != 400 || body["field"] != c.field || !strings.Contains(fmt.Sprint(body["error"]), c.want) {
			t.Errorf("GET %s: %d %v; want 400 on %s: %s", c.path, code, body, c.field, c.want)
		}
	}
	for _, c := range []struct {
		path string
		n    int
	}{
		{"/v1/access_request?state=approved", 1}, {"/v1/access/requests?state=Approved", 1}, {"/v1/access_request?state=pending", 0},
		{"/v1/access_list_member?list=ops", 1}, {"/v1/access_list_member?member=bob", 1}, {"/v1/access_list_member?member=bob&member_kind=user", 1},
	} {
		var page server.ListResponse
		if err := e.admin.Do(e.ctx, "GET", c.path, nil, &page); err != nil || len(page.Items) != c.n {
			t.Errorf("GET %s: %d items, %v; want %d", c.path, len(page.Items), err, c.n)
		}
	}
	if entries, err := e.admin.Audit(e.ctx, "", "", "roles"); err != nil || len(entries) == 0 || entries[0].Kind != resource.KindRole {
		t.Errorf("audit of kind roles (a plural): %d entries, %v", len(entries), err)
	}
}

func TestDeleteReferencedAndCascade(t *testing.T) {
	e := newEnv(t)
	e.apply(base)
	err := e.admin.Delete(e.ctx, resource.KindRole, "staging-admin", 0)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 409 || !strings.Contains(ce.Message, `access_list "ops"`) {
		t.Fatalf("deleting a granted role: %v, want 409 naming access_list ops", err)
	}
	if err := e.admin.Delete(e.ctx, resource.KindUser, "bob", 0); status(err) != 409 {
		t.Fatalf("deleting a member: %v, want 409", err)
	}
	// A list takes its members with it; then its role is free to go.
	if err := e.admin.Delete(e.ctx, resource.KindAccessList, "ops", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.Get(e.ctx, resource.KindAccessListMember, "ops/bob"); status(err) != 404 {
		t.Fatalf("member after its list was deleted: %v, want 404", err)
	}
	if err := e.admin.Delete(e.ctx, resource.KindRole, "staging-admin", 0); err != nil {
		t.Fatal(err)
	}
}

func TestListPagesAndFilters(t *testing.T) {
	e := newEnv(t)
	e.apply(base)
	var users []*resource.Object
	for i := 0; i < 25; i++ {
		users = append(users, resource.New(resource.KindUser, fmt.Sprintf("u%02d", i)))
	}
	if _, err := e.admin.Batch(e.ctx, "create", users); err != nil {
		t.Fatal(err)
	}
	var page server.ListResponse
	req, _ := http.NewRequest("GET", e.url+"/v1/user?limit=10&after=u09", nil)
	req.Header.Set("Authorization", "Bearer "+e.admin.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if len(page.Items) != 10 || page.Items[0].Metadata.Name != "u10" || page.Next != "u19" {
		t.Fatalf("page after u09: %d items from %s, next %q", len(page.Items), page.Items[0].Metadata.Name, page.Next)
	}
	all, err := e.admin.List(e.ctx, resource.KindUser, nil)
	if err != nil || len(all) != 27 {
		t.Fatalf("all users: %d %v", len(all), err)
	}
	members, err := e.admin.List(e.ctx, resource.KindAccessListMember, map[string]string{"member": "bob"})
	if err != nil || len(members) != 1 || members[0].Metadata.Name != "ops/bob" {
		t.Fatalf("bob's memberships: %v %v", members, err)
	}
	// A member's name holds a slash; it is addressable as a path.
	if _, err := e.admin.Get(e.ctx, resource.KindAccessListMember, "ops/bob"); err != nil {
		t.Fatal(err)
	}
}

func readToken(path string) (string, error) {
	b, err := osReadFile(path)
	return strings.TrimSpace(string(b)), err
}

func TestNonAdminCannotApplyOrOverwrite(t *testing.T) {
	e := newEnv(t)
	e.apply(base)
	tok, err := e.admin.CreateToken(e.ctx, "bob", "1h")
	if err != nil {
		t.Fatal(err)
	}
	bob := client.New(e.url, tok.Token)
	aliceReq := resource.New(resource.KindAccessRequest, "req-alice")
	aliceReq.Spec = &resource.AccessRequestSpec{User: "alice", Roles: []string{"staging-admin"}}
	e.seed(aliceReq)
	takeover := resource.New(resource.KindAccessRequest, "req-alice")
	takeover.Spec = &resource.AccessRequestSpec{User: "bob", Roles: []string{"staging-admin"}}
	if _, err := bob.Batch(e.ctx, "apply", []*resource.Object{takeover}); status(err) != 403 {
		t.Fatalf("bob applying over alice's request: %v, want 403", err)
	}
	if _, err := bob.Batch(e.ctx, "create", []*resource.Object{takeover}); status(err) != 403 {
		t.Fatalf("bob creating alice's request name: %v, want 403", err)
	}
	got, _ := e.admin.Get(e.ctx, resource.KindAccessRequest, "req-alice")
	if got.Spec.(*resource.AccessRequestSpec).User != "alice" {
		t.Fatalf("alice's request now belongs to %q", got.Spec.(*resource.AccessRequestSpec).User)
	}
	// His own request he may not rewrite.
	mine := resource.New(resource.KindAccessRequest, "req-bob")
	mine.Spec = &resource.AccessRequestSpec{User: "bob", Roles: []string{"staging-admin"}}
	created := e.seed(mine)[0]
	created.Spec.(*resource.AccessRequestSpec).State = resource.StateApproved
	if _, err := bob.Update(e.ctx, created); status(err) != 403 {
		t.Fatalf("bob approving his own request by PUT: %v, want 403", err)
	}
	noRev := created.Clone()
	noRev.Metadata.Revision = 0
	if _, err := bob.Update(e.ctx, noRev); status(err) != 403 {
		t.Fatalf("bob PUT without revision: %v, want 403", err)
	}
}

func TestBodyLimitsAndMalformedBodies(t *testing.T) {
	e := newEnv(t)
	e.apply(base)
	tok, err := e.admin.CreateToken(e.ctx, "bob", "1h")
	if err != nil {
		t.Fatal(err)
	}
	big := `{"kind":"access_request","version":"v1","metadata":{},"spec":{"user":"bob","roles":["staging-admin"],"reason":"` +
		strings.Repeat("x", server.MaxObjectBody) + `"}}`
	bigUser := `{"kind":"user","version":"v1","metadata":{"name":"big"},"spec":{"display_name":"` + strings.Repeat("x", server.MaxObjectBody) + `"}}`
	if code, body := e.raw("POST", "/v1/user", e.admin.Token, bigUser); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d %v, want 413", code, body)
	}
	// A caller who may not write the kind is refused before the body is read, however large.
	if code, body := e.raw("POST", "/v1/access_request", tok.Token, big); code != http.StatusForbidden {
		t.Fatalf("oversized body of a kind bob may not write: %d %v, want 403", code, body)
	}
	if code, _ := e.raw("POST", "/v1/batch", tok.Token, `{"mode":"create","items":[`+big+`]}`); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("non-admin oversized batch: %d, want 413", code)
	}
	for _, body := range []string{"", "---\n---\n", `[{"kind":"user","version":"v1","metadata":{"name":"a"}},{"kind":"user","version":"v1","metadata":{"name":"b"}}]`} {
		if code, resp := e.raw("POST", "/v1/user", e.admin.Token, body); code != 400 {
			t.Errorf("body %q: %d %v, want 400", body, code, resp)
		}
	}
	if code, resp := e.raw("POST", "/v1/batch", e.admin.Token, `{"mode":"create","items":[null]}`); code != 400 {
		t.Errorf("batch of null: %d %v, want 400", code, resp)
	}
}

// A role naming an account or permission set that warden does not know is written (the catalog
// may catch up), with a warning in the batch's answer and the problem on the role's status for as
// long as it lasts.
func TestRoleNamingWhatTheCatalogLacks(t *testing.T) {
	e := newEnv(t)
	e.apply(requestOrg) // Staging, AdministratorAccess, ReadOnlyAccess
	objs, err := resource.DecodeAll("roles.yaml", []byte(`
kind: role
version: v1
metadata: {name: fine}
spec: {allow: {account_assignments: [{account: Staging, permission_set: "*"}]}}
---
kind: role
version: v1
metadata: {name: typos}
spec:
  allow:
    account_assignments:
      - {account: Prod, permission_set: AdministratorAccess}
      - {account: "058264527036", permission_set: AdminAccess}
      - {account: "Stag*", permission_set: ReadOnlyAccess}
    request: {account_assignments: [{account: Nowhere, permission_set: Nothing}]}
  deny: {account_assignments: [{account: Production, permission_set: "*"}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.admin.BatchResponse(e.ctx, "apply", objs)
	if err != nil {
		t.Fatal(err)
	}
	want := []server.Warning{
		{Item: 2, Kind: "role", Name: "typos", Field: "spec.allow.account_assignments[0]", Message: `account "Prod" matches no account warden knows, so this grants nothing (warden get account)`},
		{Item: 2, Kind: "role", Name: "typos", Field: "spec.allow.account_assignments[1]", Message: `permission set "AdminAccess" matches no permission set warden knows, so this grants nothing (warden get permission_set)`},
		{Item: 2, Kind: "role", Name: "typos", Field: "spec.allow.request.account_assignments[0]", Message: `account "Nowhere" and permission set "Nothing" match nothing warden knows, so this grants nothing (warden get account, warden get permission_set)`},
		{Item: 2, Kind: "role", Name: "typos", Field: "spec.deny.account_assignments[0]", Message: `account "Production" matches no account warden knows, so this grants nothing (warden get account)`},
	}
	if fmt.Sprint(res.Warnings) != fmt.Sprint(want) {
		t.Fatalf("warnings:\n%v\nwant:\n%v", res.Warnings, want)
	}
	problems := func(name string) []string {
		t.Helper()
		o, err := e.admin.Get(e.ctx, resource.KindRole, name)
		if err != nil {
			t.Fatal(err)
		}
		var st struct{ Problems []string }
		json.Unmarshal(o.Status, &st)
		return st.Problems
	}
	if p := problems("typos"); len(p) != 4 || p[0] != "spec.allow.account_assignments[0]: "+want[0].Message {
		t.Fatalf("status.problems of typos: %q", p)
	}
	if p := problems("fine"); len(p) != 0 {
		t.Fatalf("status.problems of fine: %q", p)
	}
	var page server.ListResponse
	if err := e.admin.Do(e.ctx, "GET", "/v1/role", nil, &page); err != nil || len(page.Items) != 5 || page.Items[4].Metadata.Name != "typos" ||
		!strings.Contains(string(page.Items[4].Status), "AdminAccess") || page.Items[1].Status != nil {
		t.Fatalf("the listing does not show the problems: %v %v", page.Items, err)
	}
	// The catalog catches up: the problems go.
	e.apply(`
kind: account
version: v1
metadata: {name: "637423191929"}
spec: {name: Prod}
---
kind: permission_set
version: v1
metadata: {name: AdminAccess}
spec: {arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-cccccccccccccccc"}
`)
	if p := problems("typos"); len(p) != 2 || !strings.Contains(p[0], "request.account_assignments[0]") || !strings.Contains(p[1], `account "Production"`) {
		t.Fatalf("status.problems once Prod and AdminAccess exist: %q", p)
	}
}
