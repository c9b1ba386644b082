package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
)

// The organisation of the hardening tests: production, its AdministratorAccess, a developer role
// that may request anything but AdministratorAccess, and leads who review.
const hardenOrg = requestOrg + `
---
kind: account
version: v1
metadata: {name: "637423191929"}
spec: {name: Production}
---
kind: role
version: v1
metadata: {name: prod-admin}
spec: {allow: {account_assignments: [{account: Production, permission_set: AdministratorAccess}]}}
---
kind: role
version: v1
metadata: {name: prod-read}
spec: {allow: {account_assignments: [{account: Production, permission_set: ReadOnlyAccess}]}}
---
kind: role
version: v1
metadata: {name: anything-but-admin}
spec:
  allow: {request: {roles: ["*"], account_assignments: [{account: "*", permission_set: "*"}], max_duration: 12h}}
  deny: {request: {account_assignments: [{account: "*", permission_set: AdministratorAccess}]}}
---
kind: role
version: v1
metadata: {name: short-prod}
spec: {allow: {request: {roles: [prod-read], max_duration: 1h}}}
---
kind: role
version: v1
metadata: {name: long-staging}
spec: {allow: {request: {roles: [staging-admin], max_duration: 12h}}}
---
kind: role
version: v1
metadata: {name: prod-lead}
spec: {allow: {review_requests: {roles: ["*"]}}}
---
kind: user
version: v1
metadata: {name: mallory}
spec: {roles: [anything-but-admin, short-prod, long-staging]}
---
kind: user
version: v1
metadata: {name: rita}
spec: {roles: [prod-lead]}
`

const adminARN = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-aaaaaaaaaaaaaaaa"

func (e *env) as(user string) *client.Client {
	e.t.Helper()
	tok, err := e.admin.CreateToken(e.ctx, user, "1h")
	if err != nil {
		e.t.Fatal(err)
	}
	return client.New(e.url, tok.Token)
}

// Item 2: a deny on AdministratorAccess holds whether the permission set is named by name or ARN and
// the account by name or id; what is allowed is stored resolved (account id, permission set ARN).
func TestDenyCannotBeBypassedByNamingDifferently(t *testing.T) {
	e := newEnv(t)
	e.apply(hardenOrg)
	mallory := e.as("mallory")
	for _, aa := range []resource.AccountAssignment{
		{Account: "Production", PermissionSet: "AdministratorAccess"},
		{Account: "Production", PermissionSet: adminARN},
		{Account: "637423191929", PermissionSet: adminARN},
		{Account: "637423191929", PermissionSet: "AdministratorAccess"},
	} {
		if _, err := mallory.RequestCreate(e.ctx, server.RequestCreate{Resources: []resource.AccountAssignment{aa}}); status(err) != 400 || !strings.Contains(err.Error(), "may not request") {
			t.Errorf("%s on %s: %v, want 400 (denied)", aa.PermissionSet, aa.Account, err)
		}
	}
	// Nor by asking for a role that grants it, though roles "*" are allowed.
	if _, err := mallory.RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"prod-admin"}}); status(err) != 400 {
		t.Errorf("prod-admin, which grants the denied AdministratorAccess: %v, want 400", err)
	}
	got, err := mallory.RequestCreate(e.ctx, server.RequestCreate{Resources: []resource.AccountAssignment{{Account: "Production", PermissionSet: "ReadOnlyAccess"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := resource.RequestedResource{Account: "637423191929", PermissionSet: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-bbbbbbbbbbbbbbbb", AccountName: "Production", PermissionSetName: "ReadOnlyAccess"}
	if rs := got.Request.Spec.(*resource.AccessRequestSpec).Resources; len(rs) != 1 || rs[0] != want {
		t.Fatalf("stored %+v, want %+v", rs, want)
	}
}

// Item 7: each item is capped by the conditions that allow it; the window is the shortest cap.
func TestBundledRolesKeepTheirOwnCaps(t *testing.T) {
	e := newEnv(t)
	e.apply(hardenOrg)
	// mallory's anything-but-admin allows every role for 12h; take it away so that short-prod (1h)
	// alone allows prod-read.
	e.apply(`
kind: user
version: v1
metadata: {name: mallory}
spec: {roles: [short-prod, long-staging]}
`)
	got, err := e.as("mallory").RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin", "prod-read"}, Duration: "12h"})
	if err != nil {
		t.Fatal(err)
	}
	if d := got.Request.Spec.(*resource.AccessRequestSpec).Duration; d != "1h0m0s" {
		t.Fatalf("a 1h role bundled with a 12h one is asked for %s", d)
	}
	if notes := strings.Join(got.Notes, "; "); !strings.Contains(notes, "capped at 1h") || !strings.Contains(notes, "spec.roles[1]") {
		t.Fatalf("notes %q do not say which item capped it", notes)
	}
	r, err := e.as("rita").RequestReview(e.ctx, got.Request.Metadata.Name, server.RequestReview{Decision: "APPROVE"})
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Request.Spec.(*resource.AccessRequestSpec); s.End.Sub(*s.Start) != time.Hour {
		t.Fatalf("approved for %s", s.End.Sub(*s.Start))
	}
}

// Item 5: a request is read by its requester, administrators, those who may review it and those
// who reviewed it; not by anyone merely because it has a review.
func TestRequestReadRule(t *testing.T) {
	e := newEnv(t)
	e.apply(hardenOrg)
	got, err := e.as("dan").RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	id := got.Request.Metadata.Name
	alice := e.as("alice")
	if _, err := alice.RequestReview(e.ctx, id, server.RequestReview{Decision: "APPROVE"}); err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string]int{"dan": 200, "alice": 200, "bob": 200, "rita": 200, "erin": 403, "mallory": 403} {
		_, err := e.as(user).Request(e.ctx, id)
		if got := map[bool]int{true: 200, false: status(err)}[err == nil]; got != want {
			t.Errorf("%s reading a reviewed request: %d, want %d (%v)", user, got, want, err)
		}
	}
	// alice, who reviewed it, still reads it after she lost the right to review.
	if err := e.admin.Delete(e.ctx, resource.KindAccessListMember, "leads/alice", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Request(e.ctx, id); err != nil {
		t.Errorf("a reviewer reading what she reviewed: %v", err)
	}
}

// Item 14: the request list is paged and filtered in the store; nobody but an administrator sees
// others' requests through it.
func TestRequestListPagesAndFilters(t *testing.T) {
	e := newEnv(t)
	e.apply(hardenOrg)
	var objs []*resource.Object
	for i := 0; i < 25; i++ {
		user := "dan"
		if i%5 == 0 {
			user = "erin"
		}
		o := resource.New(resource.KindAccessRequest, fmt.Sprintf("r%03d", i))
		o.Spec = &resource.AccessRequestSpec{User: user, Roles: []string{"staging-admin"}, Reason: "x", State: resource.StatePending}
		objs = append(objs, o)
	}
	e.seed(objs...)
	dan := e.as("dan")
	page := func(c *client.Client, query string) server.ListResponse {
		t.Helper()
		var out server.ListResponse
		if err := c.Do(e.ctx, "GET", "/v1/access/requests?"+query, nil, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	p := page(dan, "limit=7")
	if len(p.Items) != 7 || p.Next != "r008" {
		t.Fatalf("first page of dan's: %d items, next %q", len(p.Items), p.Next)
	}
	for _, o := range p.Items {
		if u := o.Spec.(*resource.AccessRequestSpec).User; u != "dan" {
			t.Fatalf("dan sees %s's request %s", u, o.Metadata.Name)
		}
	}
	all, err := dan.Requests(e.ctx, "", false, false)
	if err != nil || len(all) != 20 {
		t.Fatalf("all of dan's, paged: %d %v", len(all), err)
	}
	if adm, err := e.admin.Requests(e.ctx, "", false, false); err != nil || len(adm) != 25 {
		t.Fatalf("an administrator's list: %d %v", len(adm), err)
	}
	// To review: alice reviews staging-admin; paging skips none.
	rv, err := e.as("alice").Requests(e.ctx, "", false, true)
	if err != nil || len(rv) != 25 {
		t.Fatalf("alice's to review: %d %v", len(rv), err)
	}
	if p := page(e.as("alice"), "to_review=true&limit=10"); len(p.Items) != 10 || p.Next == "" {
		t.Fatalf("a page of alice's to review: %d next %q", len(p.Items), p.Next)
	}
	if code, body := e.raw("GET", "/v1/access/requests?user=erin", e.tokenOf("dan"), ""); code != 400 || body["field"] != "user" {
		t.Fatalf("an unknown filter: %d %v", code, body)
	}
}

func (e *env) tokenOf(user string) string {
	e.t.Helper()
	tok, err := e.admin.CreateToken(e.ctx, user, "1h")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.Token
}

// Item 8 (and the fuzzer's year-9999 request): a request starts at most max_start_ahead ahead.
func TestRequestStartIsBounded(t *testing.T) {
	e := newEnv(t)
	e.apply(hardenOrg)
	dan := e.as("dan")
	for _, start := range []time.Time{time.Now().Add(8 * 24 * time.Hour), time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC), time.Now().AddDate(5, 0, 0)} {
		if _, err := dan.RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "x", Start: &start}); status(err) != 400 || !strings.Contains(err.Error(), "max_start_ahead") {
			t.Errorf("start %s: %v, want 400 naming requests.max_start_ahead", start, err)
		}
	}
	e.srv.SetMaxStartAhead(30 * 24 * time.Hour)
	ok := time.Now().Add(20 * 24 * time.Hour)
	if _, err := dan.RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "x", Start: &ok}); err != nil {
		t.Fatalf("20 days ahead under a 30-day limit: %v", err)
	}
}

// Item 8: an approved request whose requester loses what allowed it ends, with the state and the
// audit log saying why: during its window at once, and for one approved ahead, when its window
// opens.
func TestRequestThatLostItsBasisEnds(t *testing.T) {
	e := newEnv(t)
	e.apply(hardenOrg)
	clk := clock.NewFake(time.Now())
	e.srv.UseClock(clk)
	dan, alice, bob := e.as("dan"), e.as("alice"), e.as("bob")
	approve := func(in server.RequestCreate) string {
		t.Helper()
		got, err := dan.RequestCreate(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		id := got.Request.Metadata.Name
		for _, c := range []*client.Client{alice, bob} {
			if _, err := c.RequestReview(e.ctx, id, server.RequestReview{Decision: "APPROVE"}); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	now := approve(server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "deploy"})
	later := clk.Now().Add(3 * time.Hour)
	ahead := approve(server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "tomorrow", Start: &later})

	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.srv.KeepRequests(ctx, 24*time.Hour); close(done) }()
	defer func() { cancel(); <-done }()
	stored := func(id string) *resource.AccessRequestSpec {
		o, err := e.store.Get(e.ctx, resource.KindAccessRequest, id)
		if err != nil {
			t.Fatal(err)
		}
		return o.Spec.(*resource.AccessRequestSpec)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	if s := stored(now); s.State != resource.StateApproved {
		t.Fatalf("before anything changed: %s", s.State)
	}
	// A minute into the window, dan loses the developer role, which let him request staging-admin.
	clk.Set(clk.Now().Add(time.Minute))
	e.apply("kind: user\nversion: v1\nmetadata: {name: dan}\nspec: {}\n")
	waitFor("the running request to end", func() bool { return stored(now).State == resource.StateCancelled })
	s := stored(now)
	if !strings.Contains(s.EndReason, "lost its basis") || !strings.Contains(s.EndReason, "staging-admin") || s.End == nil || s.End.After(clk.Now()) {
		t.Fatalf("ended: %+v", s)
	}
	entries, err := audit.List(e.ctx, e.store, audit.Filter{Actor: "warden", Kind: resource.KindAccessRequest})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range entries {
		found = found || (x.Name == now && x.Action == "revoke" && strings.Contains(x.Detail, "lost its basis"))
	}
	if !found {
		t.Fatalf("no audit entry by warden says why %s ended: %+v", now, entries)
	}
	// The request approved ahead is not judged before its window opens...
	if s := stored(ahead); s.State != resource.StateApproved {
		t.Fatalf("a request not yet open was ended early: %+v", s)
	}
	// ...and ends when it opens.
	clk.Set(later.Add(time.Second))
	waitFor("the request approved ahead to end when it opened", func() bool { return stored(ahead).State == resource.StateCancelled })
	if s := stored(ahead); !strings.Contains(s.EndReason, "lost its basis") {
		t.Fatalf("ended ahead: %+v", s)
	}
}
