package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/auth"
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
		// Anyone's own (no identity_center region here: 404 for every caller), never without a token.
		{"my AWS CLI config", func() (string, string, string) { return "GET", "/v1/me/aws-config?requestable=true", "" }, [7]int{404, 404, 404, 404, 404, 404, 401}},
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
		{"read the SCIM tokens (sync off)", func() (string, string, string) { return "GET", "/v1/integration/scim-token", "" }, [7]int{503, 403, 403, 403, 403, 403, 401}},
		{"set a SCIM token (sync off)", func() (string, string, string) { return "PUT", "/v1/integration/scim-token", `{"token":"x"}` }, [7]int{503, 403, 403, 403, 403, 403, 401}},
		{"test the SCIM connection (sync off)", func() (string, string, string) { return "POST", "/v1/integration/scim-test", "" }, [7]int{503, 403, 403, 403, 403, 403, 401}},
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

// caller is one way of calling the API in the session and step-up matrix.
type caller struct {
	name   string
	token  string       // a bearer token, or
	cookie *http.Cookie // a session cookie,
	csrf   string       // with this CSRF token (none: "")
	exempt bool         // auth.step_up_exempt_tokens while this caller calls
}

// The authorization matrix of sessions and step-up: session cookies with and without their CSRF
// token, a second factor fresh and stale, minted tokens exempt and not, warden login tokens, the
// bootstrap token. Each cell is a status, and for a 403 why: "csrf" (the token is missing),
// "step" (a second factor is needed: step_up true) or "" (not allowed at all).
func TestAuthorizationMatrixSessionsAndStepUp(t *testing.T) {
	e := newEnv(t)
	e.apply(matrixOrg)
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	e.srv.SetClock(func() time.Time { return now })
	sessions := e.srv.Sessions()
	fresh := auth.MethodUse{Method: auth.MethodTOTP, At: now.Add(-time.Minute)}
	stale := auth.MethodUse{Method: auth.MethodTOTP, At: now.Add(-11 * time.Minute)}
	session := func(user string, second auth.MethodUse) (*http.Cookie, string) {
		w := httptest.NewRecorder()
		ss, err := sessions.Issue(e.ctx, w, httptest.NewRequest("POST", "/login", nil), user, auth.MethodUse{Method: auth.MethodPassword}, second)
		if err != nil {
			t.Fatal(err)
		}
		return w.Result().Cookies()[0], sessions.CSRFToken(ss)
	}
	minted := func(user string) string {
		tok, err := e.admin.CreateToken(e.ctx, user, "1h")
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	// loginToken is a token as warden login receives it: marked with its flow, carrying the
	// confirming session's second factor.
	loginToken := func(user string, second time.Time) string {
		tok := minted(user)
		id := strings.SplitN(tok, "_", 3)[1]
		o, err := e.store.Get(e.ctx, resource.KindAPIToken, id)
		if err != nil {
			t.Fatal(err)
		}
		spec := o.Spec.(*resource.APITokenSpec)
		spec.Login, spec.SecondFactorAt, spec.Issuer, spec.OnBehalf = "loopback", second, user, false
		if err := e.store.Update(e.ctx, o); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	bootstrap := e.admin.Token
	admFresh, admCSRF := session("adm", fresh)
	admStale, admStaleCSRF := session("adm", stale)
	revFresh, revCSRF := session("reviewer", fresh)
	revStale, revStaleCSRF := session("reviewer", stale)
	strFresh, strCSRF := session("stranger", fresh)
	admMinted, revMinted := minted("adm"), minted("reviewer")
	callers := []caller{
		{name: "adm session, fresh second factor", cookie: admFresh, csrf: admCSRF},
		{name: "adm session without CSRF token", cookie: admFresh},
		{name: "adm session, another session's CSRF token", cookie: admFresh, csrf: admStaleCSRF},
		{name: "adm session, stale second factor", cookie: admStale, csrf: admStaleCSRF},
		{name: "adm minted token, not exempt", token: admMinted},
		{name: "adm minted token, exempt", token: admMinted, exempt: true},
		{name: "bootstrap token, not exempt", token: bootstrap},
		{name: "adm login token, fresh", token: loginToken("adm", now.Add(-time.Minute))},
		{name: "adm login token, stale (exemption on)", token: loginToken("adm", now.Add(-11*time.Minute)), exempt: true},
		{name: "reviewer session, fresh", cookie: revFresh, csrf: revCSRF},
		{name: "reviewer session, stale", cookie: revStale, csrf: revStaleCSRF},
		{name: "reviewer minted token, not exempt", token: revMinted},
		{name: "reviewer minted token, exempt", token: revMinted, exempt: true},
		{name: "stranger session, fresh", cookie: strFresh, csrf: strCSRF},
	}
	newRequest := func() string {
		o := resource.New(resource.KindAccessRequest, "")
		o.Spec = &resource.AccessRequestSpec{User: "requester", Roles: []string{"staging-admin"}}
		return e.seed(o)[0].Metadata.Name
	}
	n := 0
	type cell struct {
		code int
		why  string
	}
	ok := func(code int) cell { return cell{code, ""} }
	no, csrf, step := cell{403, ""}, cell{403, "csrf"}, cell{403, "step"}
	cases := []struct {
		name string
		req  func() (method, path, body string)
		want []cell // in the order of callers
	}{
		{"whoami", func() (string, string, string) { return "GET", "/v1/whoami", "" },
			[]cell{ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200)}},
		{"create a role", func() (string, string, string) {
			n++
			return "POST", "/v1/role", fmt.Sprintf(`{"kind":"role","version":"v1","metadata":{"name":"s%d"},"spec":{"allow":{}}}`, n)
		}, []cell{ok(201), csrf, csrf, step, step, ok(201), ok(201), ok(201), step, no, no, no, no, no}},
		{"issue a token", func() (string, string, string) { return "POST", "/v1/tokens", `{"user":"stranger"}` },
			[]cell{ok(201), csrf, csrf, step, step, ok(201), ok(201), ok(201), step, no, no, no, no, no}},
		{"batch", func() (string, string, string) {
			n++
			return "POST", "/v1/batch", fmt.Sprintf(`{"mode":"create","items":[{"kind":"role","version":"v1","metadata":{"name":"b%d"},"spec":{}}]}`, n)
		}, []cell{ok(200), csrf, csrf, step, step, ok(200), ok(200), ok(200), step, no, no, no, no, no}},
		{"add a member as an administrator who owns nothing", func() (string, string, string) {
			n++
			name := fmt.Sprintf("m%d", n)
			e.apply(fmt.Sprintf("kind: user\nversion: v1\nmetadata: {name: %s}\n", name))
			return "POST", "/v1/access/lists/team/members", fmt.Sprintf(`{"member":%q}`, name)
		}, []cell{ok(201), csrf, csrf, step, step, ok(201), ok(201), ok(201), step, no, no, no, no, no}},
		{"approve a request", func() (string, string, string) {
			return "POST", "/v1/access/requests/" + newRequest() + "/review", `{"decision":"APPROVE"}`
		}, []cell{ok(200), csrf, csrf, step, step, ok(200), ok(200), ok(200), step, ok(200), step, step, ok(200), no}},
		{"deny a request (no second factor needed)", func() (string, string, string) {
			return "POST", "/v1/access/requests/" + newRequest() + "/review", `{"decision":"DENY","reason":"no"}`
		}, []cell{ok(200), csrf, csrf, ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), no}},
		{"revoke a request", func() (string, string, string) { return "POST", "/v1/access/requests/" + newRequest() + "/revoke", "" },
			[]cell{ok(200), csrf, csrf, step, step, ok(200), ok(200), ok(200), step, no, no, no, no, no}},
		{"list one's sessions", func() (string, string, string) { return "GET", "/v1/sessions", "" },
			[]cell{ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200)}},
		{"list everyone's sessions", func() (string, string, string) { return "GET", "/v1/sessions?all=true", "" },
			[]cell{ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), ok(200), no, no, no, no, no}},
		{"end another user's sessions", func() (string, string, string) {
			return "POST", "/v1/sessions/revoke-all?user=member", ""
		}, []cell{ok(200), csrf, csrf, step, step, ok(200), ok(200), ok(200), step, no, no, no, no, no}},
	}
	for _, c := range cases {
		if len(c.want) != len(callers) {
			t.Fatalf("%s: %d cells for %d callers", c.name, len(c.want), len(callers))
		}
		for i, who := range callers {
			e.srv.SetStepUp(10*time.Minute, who.exempt)
			method, path, body := c.req()
			code, msg := e.call(method, path, body, who)
			want := c.want[i]
			why := ""
			if code == 403 {
				switch errText, _ := msg["error"].(string); {
				case msg["step_up"] == true && strings.Contains(errText, "step-up needed"):
					why = "step"
				case strings.Contains(errText, "CSRF token"):
					why = "csrf"
				}
			}
			if code != want.code || why != want.why {
				t.Errorf("%s (%s %s) as %s: %d %q %v, want %d %q", c.name, method, path, who.name, code, why, msg, want.code, want.why)
			}
		}
	}
	e.srv.SetStepUp(10*time.Minute, true)

	// A session's whoami gives its CSRF token; a token's does not.
	_, body := e.call("GET", "/v1/whoami", "", callers[0])
	if body["csrf_token"] != admCSRF || body["method"] != "session" || body["user"] != "adm" || body["admin"] != true {
		t.Fatalf("whoami of a session: %v", body)
	}
	if _, body = e.call("GET", "/v1/whoami", "", callers[4]); body["csrf_token"] != nil || body["method"] != "token" {
		t.Fatalf("whoami of a token: %v", body)
	}
	if _, body = e.call("GET", "/v1/whoami", "", callers[6]); body["method"] != "bootstrap" {
		t.Fatalf("whoami of the bootstrap token: %v", body)
	}
	// whoami says whether step-up is satisfied, and until when.
	for _, c := range []struct {
		who               caller
		satisfied, exempt bool
		until             string
		exemptTokens      bool
	}{
		{callers[0], true, false, now.Add(9 * time.Minute).Format(time.RFC3339), false},
		{callers[3], false, false, now.Add(-time.Minute).Format(time.RFC3339), false},
		{callers[4], false, false, "", false},
		{callers[5], true, true, "", true},
		{callers[6], true, true, "", false},
		{callers[8], false, false, now.Add(-time.Minute).Format(time.RFC3339), true},
	} {
		e.srv.SetStepUp(10*time.Minute, c.exemptTokens)
		_, body := e.call("GET", "/v1/whoami", "", c.who)
		su, _ := body["step_up"].(map[string]any)
		if su["satisfied"] != c.satisfied || (su["exempt"] == true) != c.exempt || fmt.Sprint(su["until"]) != map[bool]string{true: c.until, false: "<nil>"}[c.until != ""] || su["window"] != "10m" {
			t.Errorf("whoami of %s: step_up %v", c.who.name, su)
		}
	}
	e.srv.SetStepUp(10*time.Minute, true)
	// A bearer token is judged alone, whatever cookie comes with it; a form post carries the token
	// in its field.
	both := caller{token: minted("stranger"), cookie: admFresh, csrf: admCSRF}
	if code, body := e.call("POST", "/v1/role", `{"kind":"role","version":"v1","metadata":{"name":"both"},"spec":{}}`, both); code != 403 || body["step_up"] != nil {
		t.Fatalf("a stranger's token with an administrator's cookie: %d %v", code, body)
	}
	req, _ := http.NewRequest("POST", e.url+"/v1/sessions/revoke-all", strings.NewReader(url.Values{"csrf": {strCSRF}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(strFresh)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("sign out everywhere by a form with its csrf field: %d", resp.StatusCode)
	}
	// The session has ended: 401, on reads too.
	if code, body := e.call("GET", "/v1/whoami", "", callers[13]); code != 401 || !strings.Contains(fmt.Sprint(body["error"]), "session has ended") {
		t.Fatalf("an ended session: %d %v", code, body)
	}
}

// call makes a request as who: its bearer token, or its cookie and CSRF token.
func (e *env) call(method, path, body string, who caller) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if who.token != "" {
		req.Header.Set("Authorization", "Bearer "+who.token)
	}
	if who.cookie != nil {
		req.AddCookie(who.cookie)
	}
	if who.csrf != "" {
		req.Header.Set("X-CSRF-Token", who.csrf)
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
