package server_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
)

const matrixOrg = `
kind: user
version: v1
metadata: {name: adm}
spec: {admin: true}
---
kind: role
version: v1
metadata: {name: staging-admin}
spec: {allow: {account_assignments: [{account: "058264527036", permission_set: AdministratorAccess}]}}
---
kind: role
version: v1
metadata: {name: jit}
spec: {allow: {request: {roles: [staging-admin]}}}
---
kind: role
version: v1
metadata: {name: rev}
spec: {allow: {review_requests: {roles: [staging-admin]}}}
---
kind: user
version: v1
metadata: {name: owner}
spec: {}
---
kind: user
version: v1
metadata: {name: member}
spec: {}
---
kind: user
version: v1
metadata: {name: requester}
spec: {roles: [jit]}
---
kind: user
version: v1
metadata: {name: reviewer}
spec: {roles: [rev]}
---
kind: user
version: v1
metadata: {name: stranger}
spec: {}
---
kind: access_list
version: v1
metadata: {name: team}
spec: {title: Team, owners: [owner], grants: {roles: [staging-admin]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: team, member: member}
`

// The authorization matrix: every endpoint, tried by an administrator, a list owner, a list member,
// a requester, a reviewer, a stranger and without a token, each answered exactly as expected.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	e.apply(matrixOrg)
	who := []string{"adm", "owner", "member", "requester", "reviewer", "stranger", ""}
	tokens := map[string]string{}
	for _, u := range who[:6] {
		tok, err := e.admin.CreateToken(e.ctx, u, "1h")
		if err != nil {
			t.Fatal(err)
		}
		tokens[u] = tok.Token
	}
	// newRequest files a fresh pending request by requester, straight into the store.
	newRequest := func() string {
		o := resource.New(resource.KindAccessRequest, "")
		o.Spec = &resource.AccessRequestSpec{User: "requester", Roles: []string{"staging-admin"}}
		return e.seed(o)[0].Metadata.Name
	}
	// reviewedRequest files a request of requester's that the reviewer has denied.
	reviewedRequest := func() string {
		o := resource.New(resource.KindAccessRequest, "")
		o.Spec = &resource.AccessRequestSpec{User: "requester", Roles: []string{"staging-admin"}, State: resource.StateDenied,
			Reviews: []resource.Review{{Author: "reviewer", Decision: resource.DecisionDeny}}}
		return e.seed(o)[0].Metadata.Name
	}
	ensureMember := func(m string, present bool) {
		_, err := e.admin.Get(e.ctx, resource.KindAccessListMember, "team/"+m)
		switch {
		case err == nil && !present:
			if err := e.admin.Delete(e.ctx, resource.KindAccessListMember, "team/"+m, 0); err != nil {
				t.Fatal(err)
			}
		case err != nil && present:
			if _, err := e.admin.MemberAdd(e.ctx, "team", server.MemberAdd{Member: m}); err != nil {
				t.Fatal(err)
			}
		}
	}
	listJSON := func() string {
		o, err := e.admin.Get(e.ctx, resource.KindAccessList, "team")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(o)
		return string(b)
	}
	n := 0
	cases := []struct {
		name string
		req  func() (method, path, body string)
		want [7]int // adm, owner, member, requester, reviewer, stranger, no token
	}{
		{"whoami", func() (string, string, string) { return "GET", "/v1/whoami", "" }, [7]int{200, 200, 200, 200, 200, 200, 401}},
		{"read lists", func() (string, string, string) { return "GET", "/v1/access_list", "" }, [7]int{200, 200, 200, 200, 200, 200, 401}},
		{"create a role", func() (string, string, string) {
			n++
			return "POST", "/v1/role", fmt.Sprintf(`{"kind":"role","version":"v1","metadata":{"name":"r%d"},"spec":{"allow":{}}}`, n)
		}, [7]int{201, 403, 403, 403, 403, 403, 401}},
		{"rewrite a list (grants, owners)", func() (string, string, string) { return "PUT", "/v1/access_list/team", listJSON() }, [7]int{200, 403, 403, 403, 403, 403, 401}},
		{"issue a token", func() (string, string, string) { return "POST", "/v1/tokens", `{"user":"stranger"}` }, [7]int{201, 403, 403, 403, 403, 403, 401}},
		{"issue a token beyond tokens.max_ttl", func() (string, string, string) { return "POST", "/v1/tokens", `{"user":"stranger","ttl":"721h"}` }, [7]int{400, 403, 403, 403, 403, 403, 401}},
		{"list tokens (one's own; an administrator's: all)", func() (string, string, string) { return "GET", "/v1/tokens", "" }, [7]int{200, 200, 200, 200, 200, 200, 401}},
		{"list the owner's tokens", func() (string, string, string) { return "GET", "/v1/tokens?user=owner", "" }, [7]int{200, 200, 403, 403, 403, 403, 401}},
		{"revoke a token of the member's", func() (string, string, string) {
			tok, err := e.admin.CreateToken(e.ctx, "member", "1h")
			if err != nil {
				t.Fatal(err)
			}
			return "DELETE", "/v1/tokens/" + tok.ID, ""
		}, [7]int{200, 403, 200, 403, 403, 403, 401}},
		{"revoke an unknown token", func() (string, string, string) { return "DELETE", "/v1/tokens/0000000000000000", "" }, [7]int{404, 404, 404, 404, 404, 404, 401}},
		{"create a request through the generic API", func() (string, string, string) {
			return "POST", "/v1/access_request", `{"kind":"access_request","version":"v1","metadata":{},"spec":{"user":"requester","roles":["staging-admin"]}}`
		}, [7]int{403, 403, 403, 403, 403, 403, 401}},
		{"approve a request by rewriting it through the generic API", func() (string, string, string) {
			id := newRequest()
			o, err := e.admin.Get(e.ctx, resource.KindAccessRequest, id)
			if err != nil {
				t.Fatal(err)
			}
			o.Spec.(*resource.AccessRequestSpec).State = resource.StateApproved
			b, _ := json.Marshal(o)
			return "PUT", "/v1/access_request/" + id, string(b)
		}, [7]int{403, 403, 403, 403, 403, 403, 401}},
		{"delete a request through the generic API", func() (string, string, string) {
			return "DELETE", "/v1/access_request/" + newRequest(), ""
		}, [7]int{403, 403, 403, 403, 403, 403, 401}},
		{"add a member", func() (string, string, string) {
			ensureMember("stranger", false)
			return "POST", "/v1/access/lists/team/members", `{"member":"stranger"}`
		}, [7]int{201, 201, 403, 403, 403, 403, 401}},
		{"remove a member", func() (string, string, string) {
			ensureMember("member", true)
			return "DELETE", "/v1/access/lists/team/members/member", ""
		}, [7]int{200, 200, 403, 403, 403, 403, 401}},
		{"review a list", func() (string, string, string) { return "POST", "/v1/access/lists/team/review", `{"notes":"ok"}` }, [7]int{400, 400, 403, 403, 403, 403, 401}},
		{"request a role", func() (string, string, string) {
			return "POST", "/v1/access/requests", `{"roles":["staging-admin"],"reason":"x"}`
		}, [7]int{400, 400, 400, 201, 400, 400, 401}},
		{"review a request", func() (string, string, string) {
			return "POST", "/v1/access/requests/" + newRequest() + "/review", `{"decision":"APPROVE"}`
		}, [7]int{200, 403, 403, 403, 200, 403, 401}},
		{"cancel a request", func() (string, string, string) { return "POST", "/v1/access/requests/" + newRequest() + "/cancel", "" }, [7]int{200, 403, 403, 200, 403, 403, 401}},
		{"revoke a request", func() (string, string, string) { return "POST", "/v1/access/requests/" + newRequest() + "/revoke", "" }, [7]int{200, 403, 403, 403, 403, 403, 401}},
		{"read a request", func() (string, string, string) { return "GET", "/v1/access/requests/" + newRequest(), "" }, [7]int{200, 403, 403, 200, 200, 403, 401}},
		{"read a request that has a review", func() (string, string, string) { return "GET", "/v1/access/requests/" + reviewedRequest(), "" }, [7]int{200, 403, 403, 200, 200, 403, 401}},
		{"list requests (one's own; an administrator's: all)", func() (string, string, string) { return "GET", "/v1/access/requests", "" }, [7]int{200, 200, 200, 200, 200, 200, 401}},
		{"list requests filtered by another user", func() (string, string, string) { return "GET", "/v1/access/requests?user=requester", "" }, [7]int{400, 400, 400, 400, 400, 400, 401}},
		{"read a request through the generic API", func() (string, string, string) { return "GET", "/v1/access_request/" + newRequest(), "" }, [7]int{200, 403, 403, 200, 403, 403, 401}},
		{"read the audit log", func() (string, string, string) { return "GET", "/v1/audit", "" }, [7]int{200, 403, 403, 403, 403, 403, 401}},
		{"verify the audit log", func() (string, string, string) { return "GET", "/v1/audit/verify", "" }, [7]int{200, 403, 403, 403, 403, 403, 401}},
		{"read the audit head", func() (string, string, string) { return "GET", "/v1/audit/head", "" }, [7]int{200, 403, 403, 403, 403, 403, 401}},
		{"verify against a malformed head", func() (string, string, string) { return "GET", "/v1/audit/verify?expect_head=1:x", "" }, [7]int{400, 403, 403, 403, 403, 403, 401}},
		{"delete a role", func() (string, string, string) {
			n++
			name := fmt.Sprintf("d%d", n)
			o := resource.New(resource.KindRole, name)
			o.Spec = &resource.RoleSpec{}
			if _, err := e.admin.Create(e.ctx, o); err != nil {
				t.Fatal(err)
			}
			return "DELETE", "/v1/role/" + name, ""
		}, [7]int{200, 403, 403, 403, 403, 403, 401}},
		{"plan a sync (sync off)", func() (string, string, string) { return "POST", "/v1/sync/plan", "" }, [7]int{503, 403, 403, 403, 403, 403, 401}},
		{"uninstall (sync off)", func() (string, string, string) { return "POST", "/v1/integration/uninstall", `{"dry_run":true}` }, [7]int{503, 403, 403, 403, 403, 403, 401}},
	}
	for _, c := range cases {
		for i, u := range who {
			method, path, body := c.req()
			code, msg := e.raw(method, path, tokens[u], body)
			if code != c.want[i] {
				label := u
				if label == "" {
					label = "no token"
				}
				t.Errorf("%s (%s %s) as %s: %d %v, want %d", c.name, method, path, label, code, msg, c.want[i])
			}
		}
	}
}

// The workflow routes live under /v1/access/ and leave the kind aliases of the resource API alone:
// /v1/requests and /v1/lists still list resources page by page.
func TestWorkflowRoutesLeaveKindAliasesAlone(t *testing.T) {
	e := newEnv(t)
	e.apply(matrixOrg)
	tok, err := e.admin.CreateToken(e.ctx, "adm", "1h")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/requests", "/v1/lists", "/v1/access_request", "/v1/access_list"} {
		code, body := e.raw("GET", path, tok.Token, "")
		if _, paged := body["items"]; code != 200 || !paged {
			t.Errorf("GET %s: %d %v, want the paged resource listing", path, code, body)
		}
	}
}
