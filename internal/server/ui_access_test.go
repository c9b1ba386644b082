package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// The access pages' organisation: production and staging, two permission sets; dan may request
// prod-admin (a role) and ReadOnlyAccess on any account, with a reason, for up to 4h; carol and
// frank review prod-admin; eve holds nothing. dan is in Ops (staging-admin) since the start.
const uiAccessOrg = `
kind: account
version: v1
metadata: {name: "111111111111"}
spec: {name: production}
---
kind: account
version: v1
metadata: {name: "058264527036"}
spec: {name: staging}
---
kind: permission_set
version: v1
metadata: {name: AdministratorAccess}
spec: {}
---
kind: permission_set
version: v1
metadata: {name: ReadOnlyAccess}
spec: {}
---
kind: role
version: v1
metadata: {name: prod-admin}
spec: {allow: {account_assignments: [{account: production, permission_set: AdministratorAccess}]}}
---
kind: role
version: v1
metadata: {name: requester}
spec: {allow: {request: {roles: [prod-admin], account_assignments: [{account: "*", permission_set: ReadOnlyAccess}], max_duration: 4h, reason: required}}}
---
kind: role
version: v1
metadata: {name: reviewer}
spec: {allow: {review_requests: {roles: [prod-admin]}}}
---
kind: user
version: v1
metadata: {name: dan}
spec: {roles: [requester]}
---
kind: user
version: v1
metadata: {name: carol}
spec: {roles: [reviewer]}
---
kind: user
version: v1
metadata: {name: frank}
spec: {roles: [reviewer]}
---
kind: user
version: v1
metadata: {name: eve}
spec: {}
---
kind: user
version: v1
metadata: {name: grace}
spec: {admin: true}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: ops, member: dan}
`

// uiAccessEnv is the sign-in env with the organisation above.
func newUIAccessEnv(t *testing.T) *signinEnv {
	t.Helper()
	e := newSigninEnv(t, "optional")
	e.apply(uiAccessOrg)
	e.srv.SetClock(e.clk.Now) // the workflow's time is the sessions' (windows, step-up)
	return e
}

// as signs user in with a password alone (no second factor: optional), returning their browser.
func (e *signinEnv) uiAs(user string) *browser {
	e.t.Helper()
	b := e.browser()
	link := e.invite(user)
	p := b.get(link)
	b.post(link, url.Values{"csrf": {csrfOf(e.t, p)}, "step": {"password"}, "password": {alicePassword}, "confirm": {alicePassword}})
	p = b.get(link)
	if p = b.post(link, url.Values{"csrf": {csrfOf(e.t, p)}, "step": {"skip"}}); p.status != 200 {
		e.t.Fatalf("%s's enrolment: %d\n%s", user, p.status, p.body)
	}
	e.clk.Advance(time.Second)
	if p := e.signIn(b, user, alicePassword, "/"); p.status != http.StatusSeeOther {
		e.t.Fatalf("%s's sign-in: %d\n%s", user, p.status, p.body)
	}
	return b
}

// asWithTOTP signs user in with a password and a TOTP code: a fresh second factor.
func (e *signinEnv) uiAsTOTP(user string) *browser {
	e.t.Helper()
	b := e.browser()
	key, _ := e.enrol(b, e.invite(user), alicePassword)
	e.clk.Advance(30 * time.Second)
	if p := e.signIn(b, user, alicePassword, "/"); p.status != http.StatusSeeOther {
		e.t.Fatalf("%s's sign-in: %d\n%s", user, p.status, p.body)
	}
	if p := e.secondFactor(b, totpCode(e.t, key, e.clk.Now())); p.status != http.StatusSeeOther {
		e.t.Fatalf("%s's second factor: %d\n%s", user, p.status, p.body)
	}
	return b
}

// requestsOf lists user's requests in the store.
func (e *signinEnv) requestsOf(user string) []*resource.Object {
	e.t.Helper()
	objs, err := e.store.List(e.ctx, resource.KindAccessRequest, store.ListOptions{Filters: store.Filter(resource.IndexUser, user)})
	if err != nil {
		e.t.Fatal(err)
	}
	return objs
}

func mustContain(t *testing.T, what string, p page, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(p.body, w) {
			t.Errorf("%s (%d) lacks %q", what, p.status, w)
		}
	}
	if t.Failed() {
		t.Fatalf("%s:\n%s", what, p.body)
	}
}

func mustNotContain(t *testing.T, what string, p page, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(p.body, n) {
			t.Fatalf("%s (%d) shows %q:\n%s", what, p.status, n, p.body)
		}
	}
}

var requestIDRE = regexp.MustCompile(`^/requests/([0-9a-f-]{36})`)

// The catalog, the cart and the checkout: what dan may request, found by search, carried in the
// query across searches; checkout refuses a missing reason and a duration over the cap beside
// their fields and makes nothing; then a cart of three items becomes three requests at once.
func TestUICatalogCartCheckout(t *testing.T) {
	e := newUIAccessEnv(t)
	dan := e.uiAs("dan")

	p := dan.get("/request")
	mustContain(t, "the catalog", p, "prod-admin", "AdministratorAccess on production", "ReadOnlyAccess on production",
		"ReadOnlyAccess on staging", "Up to 4h, reason required, 1 approval", `aria-current="page">Request access`)
	mustNotContain(t, "the catalog", p, "staging-admin") // he may not request it (he holds it)

	p = dan.get("/request?q=staging&item=role:prod-admin")
	mustContain(t, "a search with a cart", p, `value="role:prod-admin" id="cart-role:prod-admin" checked`, `value="aa:058264527036:ReadOnlyAccess"`, "Check out (1)")
	if strings.Count(p.body, `value="aa:`) != 1 {
		t.Fatalf("a search for staging shows other accounts:\n%s", p.body)
	}
	p = dan.get("/request?q=nothing-like-it&item=role:prod-admin&item=role:staging-admin")
	mustContain(t, "a search for nothing", p, `value="role:prod-admin" id="cart-role:prod-admin" checked`, "Nothing you may request matches", "Taken out of your cart", "you may not request role")

	items := url.Values{"item": {"role:prod-admin", "aa:111111111111:ReadOnlyAccess", "aa:058264527036:ReadOnlyAccess"}}
	p = dan.get("/request/checkout?" + items.Encode())
	mustContain(t, "the checkout", p, "Your 3 requests", "Reason (required)", "At most 4h", `<option value="4h0m0s">4h</option>`,
		`<option value="30m0s">30m</option>`, "holders of role reviewer", "Waits for review", "up to 1d", "Start time (<span data-utc-label>UTC</span>)")
	csrf := csrfOf(t, p)

	post := func(reason, duration, start, at string) page {
		f := url.Values{"csrf": {csrf}, "item": items["item"], "reason": {reason}, "duration": {duration}, "start": {start}, "start_at": {at}}
		return dan.post("/request/checkout", f)
	}
	p = post("", "1h0m0s", "now", "")
	mustContain(t, "no reason", p, `id="reason-error"`, "is required by the roles", `aria-invalid="true"`)
	p = post("hotfix", "5h0m0s", "now", "")
	mustContain(t, "too long", p, `id="duration-error"`, "at most 4h")
	past := e.clk.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04")
	p = post("hotfix", "1h0m0s", "later", past)
	mustContain(t, "a start in the past", p, `id="start-error"`, "is in the past")
	far := time.Now().Add(30 * 24 * time.Hour).UTC().Format("2006-01-02T15:04")
	p = post("hotfix", "1h0m0s", "later", far)
	mustContain(t, "a start too far ahead", p, `id="start-error"`, "requests.max_start_ahead")
	if p.status != http.StatusBadRequest {
		t.Fatalf("refused checkout: %d", p.status)
	}
	if n := len(e.requestsOf("dan")); n != 0 {
		t.Fatalf("%d requests made by refused checkouts", n)
	}
	// Without the CSRF token: refused, nothing made.
	f := url.Values{"item": items["item"], "reason": {"hotfix"}, "duration": {"1h0m0s"}, "start": {"now"}}
	if p := dan.post("/request/checkout", f); p.status != http.StatusForbidden {
		t.Fatalf("checkout without csrf: %d", p.status)
	}

	p = post("hotfix 42", "1h30m0s", "now", "")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/?flash=") {
		t.Fatalf("checkout: %d %q\n%s", p.status, p.location, p.body)
	}
	reqs := e.requestsOf("dan")
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (one for the role, one per account × permission set)", len(reqs))
	}
	for _, o := range reqs {
		r := o.Spec.(*resource.AccessRequestSpec)
		if r.Reason != "hotfix 42" || r.Duration != "1h30m0s" || r.State != resource.StatePending || len(r.Roles)+len(r.Resources) != 1 {
			t.Errorf("request %s: %+v", o.Metadata.Name, r)
		}
	}
	home := dan.get(p.location)
	mustContain(t, "My access after checkout", home, "3 requests sent", "Waiting for review", "prod-admin",
		"ReadOnlyAccess on production", "ReadOnlyAccess on staging", "hotfix 42")

	// A cart of one: the request page.
	p = dan.get("/request/checkout?item=role:prod-admin")
	p = dan.post("/request/checkout", url.Values{"csrf": {csrfOf(t, p)}, "item": {"role:prod-admin"}, "reason": {"one"}, "duration": {"30m0s"}, "start": {"now"}})
	if p.status != http.StatusSeeOther || !requestIDRE.MatchString(p.location) {
		t.Fatalf("checkout of one: %d %q", p.status, p.location)
	}
	mustContain(t, "the new request", dan.get(p.location), "Request sent", "PENDING", "0 of 1 approvals", "holders of role reviewer")

	// Someone whose roles allow nothing sees an empty catalog and cannot check out.
	eve := e.uiAs("eve")
	mustContain(t, "eve's catalog", eve.get("/request"), "Your roles let you request nothing")
	p = eve.get("/request/checkout?item=role:prod-admin")
	mustContain(t, "eve's checkout", p, "you may not request role", "Nothing to check out")
	p = eve.post("/request/checkout", url.Values{"csrf": {csrfOf(t, p)}, "item": {"role:prod-admin"}, "reason": {"x"}, "duration": {"1h0m0s"}})
	if p.status != http.StatusBadRequest || len(e.requestsOf("eve")) != 0 {
		t.Fatalf("eve's checkout: %d, %d requests", p.status, len(e.requestsOf("eve")))
	}
}

// dan's My access: his standing access and why, then his request from pending to active (with a
// countdown and End now) to ended.
func TestUIMyAccess(t *testing.T) {
	e := newUIAccessEnv(t)
	dan := e.uiAs("dan")
	p := dan.get("/")
	mustContain(t, "My access", p, "Standing access", "staging-admin", "AdministratorAccess on staging",
		`member of <a href="/lists/ops">Ops</a> since <time`, "role requester given to you directly", "No request of yours is waiting")
	mustNotContain(t, "My access", p, "Your apps") // no SAML identity provider here

	id := e.danRequests(dan, "role:prod-admin")
	frank := e.uiAsTOTP("frank")
	p = frank.get("/requests/" + id)
	p = frank.post("/requests/"+id+"/review", url.Values{"csrf": {csrfOf(t, p)}, "decision": {"APPROVE"}, "reason": {"ok"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("frank's approval: %d\n%s", p.status, p.body)
	}
	p = dan.get("/")
	mustContain(t, "My access with an active grant", p, "Temporary access now", `href="/requests/`+id+`">prod-admin</a>`, "data-countdown", "End now",
		`action="/requests/`+id+`/cancel"`, `data-confirm=`)
	e.clk.Advance(10 * time.Minute)
	p = dan.post("/requests/"+id+"/cancel", url.Values{"csrf": {csrfOf(t, p)}, "back": {"/"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/?flash=Ended") {
		t.Fatalf("End now: %d %q", p.status, p.location)
	}
	p = dan.get(p.location)
	mustContain(t, "My access after End now", p, "Ended: prod-admin", "Recently ended", "CANCELLED", "All your requests")
	mustContain(t, "the ended request", dan.get("/requests/"+id), "CANCELLED", "frank approved", "access window opens", "dan ended it early")
	mustContain(t, "his requests", dan.get("/requests"), "prod-admin", "CANCELLED")
	mustContain(t, "his cancelled requests", dan.get("/requests?state=cancelled"), "prod-admin")
}

// danRequests checks out items as dan and returns the first request's id.
func (e *signinEnv) danRequests(dan *browser, items ...string) string {
	e.t.Helper()
	p := dan.get("/request/checkout?" + url.Values{"item": items}.Encode())
	p = dan.post("/request/checkout", url.Values{"csrf": {csrfOf(e.t, p)}, "item": items, "reason": {"hotfix 42"}, "duration": {"1h0m0s"}, "start": {"now"}})
	m := requestIDRE.FindStringSubmatch(p.location)
	if p.status != http.StatusSeeOther || m == nil {
		e.t.Fatalf("checkout: %d %q\n%s", p.status, p.location, p.body)
	}
	return m[1]
}

// The request page: the requester and reviewers read it, a stranger gets 403 and none of it, and
// may do nothing to it; nobody reviews their own request; approving without a recent second
// factor offers the step-up, denying does not need one; a review from the inbox returns there.
func TestUIRequestPage(t *testing.T) {
	e := newUIAccessEnv(t)
	dan := e.uiAs("dan")
	id := e.danRequests(dan, "role:prod-admin")
	path := "/requests/" + id

	p := dan.get(path)
	mustContain(t, "dan's request page", p, "dan asks for prod-admin", "PENDING", "0 of 1 approvals", "hotfix 42", "<dt>Duration</dt><dd>1h</dd>",
		"holders of role reviewer", `data-live="3"`, "Cancel the request", "dan asked for prod-admin")
	mustNotContain(t, "dan's request page", p, `id="approve"`, `id="deny"`, `id="step-up"`)
	csrf := csrfOf(t, p)
	if p := dan.post(path+"/review", url.Values{"csrf": {csrf}, "decision": {"DENY"}}); p.status != http.StatusForbidden || !strings.Contains(p.body, "nobody reviews their own request") {
		t.Fatalf("dan reviewing his own request: %d\n%s", p.status, p.body)
	}
	if p := dan.post(path+"/cancel", url.Values{}); p.status != http.StatusForbidden {
		t.Fatalf("cancel without csrf: %d", p.status)
	}

	eve := e.uiAs("eve")
	p = eve.get(path)
	if p.status != http.StatusForbidden || strings.Contains(p.body, "hotfix 42") || strings.Contains(p.body, "prod-admin") {
		t.Fatalf("eve reading dan's request: %d\n%s", p.status, p.body)
	}
	csrfEve := csrfOf(t, eve.get("/"))
	for _, action := range []string{"/cancel", "/revoke", "/review"} {
		if p := eve.post(path+action, url.Values{"csrf": {csrfEve}, "decision": {"DENY"}}); p.status != http.StatusForbidden {
			t.Fatalf("eve posting %s: %d\n%s", action, p.status, p.body)
		}
	}
	if p := eve.get("/requests/no-such-request"); p.status != http.StatusNotFound {
		t.Fatalf("a request that does not exist: %d", p.status)
	}

	carol := e.uiAs("carol") // a reviewer without a second factor in this session
	p = carol.get(path)
	mustContain(t, "carol's view", p, "Your review", `href="/login/step-up?next=/requests/`+id+`"`, "Confirm your second factor", `id="deny"`)
	mustNotContain(t, "carol's view", p, `id="approve"`, "Cancel the request")
	csrfCarol := csrfOf(t, p)
	p = carol.post(path+"/review", url.Values{"csrf": {csrfCarol}, "decision": {"APPROVE"}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "second factor") {
		t.Fatalf("approving without step-up: %d\n%s", p.status, p.body)
	}
	if st := e.requestsOf("dan")[0].Spec.(*resource.AccessRequestSpec); st.State != resource.StatePending || len(st.Reviews) != 0 {
		t.Fatalf("after a refused approval: %+v", st)
	}
	p = carol.post(path+"/review", url.Values{"csrf": {csrfCarol}, "decision": {"MAYBE"}})
	mustContain(t, "a bad decision", p, `id="decision-error"`, "is not APPROVE or DENY")

	// Deny from the inbox: no step-up needed, back to the inbox.
	p = carol.post(path+"/review", url.Values{"csrf": {csrfCarol}, "decision": {"DENY"}, "reason": {"not now"}, "back": {"/reviews"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/reviews?flash=Denied") {
		t.Fatalf("carol's denial: %d %q\n%s", p.status, p.location, p.body)
	}
	p = dan.get(path)
	mustContain(t, "a denied request", p, "DENIED", "carol denied", "not now")
	mustNotContain(t, "a denied request", p, `data-live=`, "Cancel the request")
	if p := carol.post(path+"/review", url.Values{"csrf": {csrfCarol}, "decision": {"DENY"}, "back": {"https://evil.example/"}}); p.status == http.StatusSeeOther && !strings.HasPrefix(p.location, "/") {
		t.Fatalf("back off-site: %q", p.location)
	}

	// Approve with a fresh second factor: APPROVED, its window shown.
	id2 := e.danRequests(dan, "role:prod-admin")
	frank := e.uiAsTOTP("frank")
	p = frank.get("/requests/" + id2)
	mustContain(t, "frank's view", p, `id="approve"`)
	p = frank.post("/requests/"+id2+"/review", url.Values{"csrf": {csrfOf(t, p)}, "decision": {"APPROVE"}, "reason": {"go"}})
	if p.status != http.StatusSeeOther || p.location != "/requests/"+id2+"?flash=Approved%3A+prod-admin+for+dan." {
		t.Fatalf("frank's approval: %d %q\n%s", p.status, p.location, p.body)
	}
	p = frank.get(p.location)
	mustContain(t, "an approved request", p, "APPROVED", "1 of 1 approvals", "frank approved", "Window", "data-countdown")
	mustNotContain(t, "an approved request (frank)", p, "End now", `id="approve"`)
	mustContain(t, "an approved request (dan)", dan.get("/requests/"+id2), "End now")

	// An administrator revokes it (with a fresh second factor); the timeline says who.
	grace := e.uiAsTOTP("grace")
	p = grace.get("/requests/" + id2)
	mustContain(t, "the administrator's view", p, `id="revoke"`, "Revoke")
	mustNotContain(t, "the administrator's view", p, `id="cancel"`)
	p = grace.post("/requests/"+id2+"/revoke", url.Values{"csrf": {csrfOf(t, p)}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/requests/"+id2+"?flash=Ended") {
		t.Fatalf("revoke: %d %q\n%s", p.status, p.location, p.body)
	}
	mustContain(t, "a revoked request", dan.get("/requests/"+id2), "CANCELLED", "grace revoked it")
}

// The server keeps the rules' catalog between requests; a change to a role is seen by the very
// next request, page or API, however quickly it follows.
func TestUICatalogSeesRoleChangesAtOnce(t *testing.T) {
	e := newUIAccessEnv(t)
	dan := e.uiAs("dan")
	role := func(requestable string) string {
		return `
kind: role
version: v1
metadata: {name: requester}
spec: {allow: {request: {roles: [` + requestable + `], max_duration: 4h, reason: required}}}
`
	}
	for i := range 10 {
		want, gone := "prod-admin", "staging-admin"
		if i%2 == 1 {
			want, gone = gone, want
		}
		e.apply(role(want))
		p := dan.get("/request")
		mustContain(t, "the catalog after a change", p, `value="role:`+want+`"`)
		mustNotContain(t, "the catalog after a change", p, `value="role:`+gone+`"`)
	}
}
