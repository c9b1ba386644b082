package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/testenv"
)

const requestOrg = `
kind: account
version: v1
metadata: {name: "058264527036"}
spec: {name: Staging}
---
kind: permission_set
version: v1
metadata: {name: AdministratorAccess}
spec: {arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-aaaaaaaaaaaaaaaa"}
---
kind: permission_set
version: v1
metadata: {name: ReadOnlyAccess}
spec: {arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-bbbbbbbbbbbbbbbb"}
---
kind: role
version: v1
metadata: {name: staging-admin}
spec: {allow: {account_assignments: [{account: Staging, permission_set: AdministratorAccess}]}}
---
kind: role
version: v1
metadata: {name: developer}
spec:
  allow:
    request:
      roles: [staging-admin]
      account_assignments: [{account: Staging, permission_set: ReadOnlyAccess}]
      max_duration: 4h
      reason: required
      thresholds: [{approve: 2, deny: 1}]
---
kind: role
version: v1
metadata: {name: lead}
spec: {allow: {review_requests: {roles: [staging-admin]}}}
---
kind: user
version: v1
metadata: {name: dan}
spec: {roles: [developer]}
---
kind: user
version: v1
metadata: {name: erin}
spec: {}
---
kind: access_list
version: v1
metadata: {name: leads}
spec: {title: Leads, owners: [alice], grants: {roles: [lead]}}
---
kind: user
version: v1
metadata: {name: alice}
spec: {}
---
kind: user
version: v1
metadata: {name: bob}
spec: {}
---
kind: user
version: v1
metadata: {name: carol}
spec: {}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: leads, member: alice}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: leads, member: bob}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: leads, member: carol}
`

// The request workflow through the API: what a role allows, the duration cap, who reviews, two
// approvals, no self-review, one review each, checked transitions, cancel.
func TestRequestWorkflow(t *testing.T) {
	e := newEnv(t)
	e.apply(requestOrg)
	as := func(user string) *client.Client {
		tok, err := e.admin.CreateToken(e.ctx, user, "1h")
		if err != nil {
			t.Fatal(err)
		}
		return client.New(e.url, tok.Token)
	}
	dan, erin, alice, bob, carol := as("dan"), as("erin"), as("alice"), as("bob"), as("carol")

	if _, err := dan.RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}}); status(err) != 400 || !strings.Contains(err.Error(), "spec.reason") {
		t.Fatalf("request without the required reason: %v", err)
	}
	if _, err := erin.RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "x"}); status(err) != 400 {
		t.Fatalf("erin, who may request nothing: %v", err)
	}
	got, err := dan.RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "deploy", Duration: "8h"})
	if err != nil {
		t.Fatal(err)
	}
	id := got.Request.Metadata.Name
	spec := got.Request.Spec.(*resource.AccessRequestSpec)
	if spec.User != "dan" || spec.State != resource.StatePending || spec.Duration != "4h0m0s" || !strings.Contains(strings.Join(got.Notes, "; "), "capped at 4h") {
		t.Fatalf("created: %+v notes %v", spec, got.Notes)
	}
	if rs, err := alice.Requests(e.ctx, "", false, true); err != nil || len(rs) != 1 || rs[0].Metadata.Name != id {
		t.Fatalf("alice's requests to review: %v %v", rs, err)
	}
	if rs, err := erin.Requests(e.ctx, "", false, true); err != nil || len(rs) != 0 {
		t.Fatalf("erin has requests to review: %v %v", rs, err)
	}
	if _, err := erin.Request(e.ctx, id); status(err) != 403 {
		t.Fatalf("erin reading dan's request: %v", err)
	}
	if _, err := dan.RequestReview(e.ctx, id, server.RequestReview{Decision: "APPROVE"}); status(err) != 403 || !strings.Contains(err.Error(), "own request") {
		t.Fatalf("dan approving his own request: %v", err)
	}
	if _, err := erin.RequestReview(e.ctx, id, server.RequestReview{Decision: "APPROVE"}); status(err) != 403 {
		t.Fatalf("erin approving: %v", err)
	}
	if r, err := alice.RequestReview(e.ctx, id, server.RequestReview{Decision: "APPROVE", Reason: "ok"}); err != nil || r.Request.Spec.(*resource.AccessRequestSpec).State != resource.StatePending {
		t.Fatalf("first approval: %v", err)
	}
	if _, err := alice.RequestReview(e.ctx, id, server.RequestReview{Decision: "APPROVE"}); status(err) != 403 || !strings.Contains(err.Error(), "already") {
		t.Fatalf("alice approving twice: %v", err)
	}
	before := time.Now().Add(-time.Second)
	r, err := bob.RequestReview(e.ctx, id, server.RequestReview{Decision: "APPROVE"})
	if err != nil {
		t.Fatal(err)
	}
	spec = r.Request.Spec.(*resource.AccessRequestSpec)
	if spec.State != resource.StateApproved || spec.Start == nil || spec.Start.Before(before) || spec.End.Sub(*spec.Start) != 4*time.Hour {
		t.Fatalf("after two approvals: %+v", spec)
	}
	if _, err := carol.RequestReview(e.ctx, id, server.RequestReview{Decision: "DENY"}); status(err) != 400 || !strings.Contains(err.Error(), "APPROVED") {
		t.Fatalf("denying an approved request: %v", err)
	}
	if _, err := erin.RequestEnd(e.ctx, id, "cancel"); status(err) != 403 {
		t.Fatalf("erin cancelling dan's request: %v", err)
	}
	if _, err := dan.RequestEnd(e.ctx, id, "revoke"); status(err) != 403 {
		t.Fatalf("dan revoking: %v", err)
	}
	if r, err := dan.RequestEnd(e.ctx, id, "cancel"); err != nil || r.Request.Spec.(*resource.AccessRequestSpec).State != resource.StateCancelled {
		t.Fatalf("dan cancelling: %v", err)
	}

	// A resource request, denied by one denial; and an administrator's revoke.
	res, err := dan.RequestCreate(e.ctx, server.RequestCreate{Resources: []resource.AccountAssignment{{Account: "Staging", PermissionSet: "ReadOnlyAccess"}}, Reason: "debug"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dan.RequestCreate(e.ctx, server.RequestCreate{Resources: []resource.AccountAssignment{{Account: "Staging", PermissionSet: "AdministratorAccess"}}, Reason: "x"}); status(err) != 400 {
		t.Fatalf("a resource request the role does not allow: %v", err)
	}
	// The leads review staging-admin, which grants Staging... but not ReadOnlyAccess: only an admin may.
	if _, err := alice.RequestReview(e.ctx, res.Request.Metadata.Name, server.RequestReview{Decision: "DENY"}); status(err) != 403 {
		t.Fatalf("a lead reviewing a resource no role of theirs covers: %v", err)
	}
	if r, err := e.admin.RequestReview(e.ctx, res.Request.Metadata.Name, server.RequestReview{Decision: "DENY", Reason: "no"}); err != nil || r.Request.Spec.(*resource.AccessRequestSpec).State != resource.StateDenied {
		t.Fatalf("an administrator's denial: %v", err)
	}
	if mine, err := dan.Requests(e.ctx, "", true, false); err != nil || len(mine) != 2 {
		t.Fatalf("dan's requests: %d %v", len(mine), err)
	}
	if denied, err := dan.Requests(e.ctx, resource.StateDenied, true, false); err != nil || len(denied) != 1 {
		t.Fatalf("dan's denied requests: %d %v", len(denied), err)
	}
}

// A request nobody reviews expires after the configured pending TTL, and cannot be approved then.
func TestPendingRequestExpires(t *testing.T) {
	e := newEnv(t)
	clk := clock.NewFake(time.Now())
	e.srv.UseClock(clk)
	e.srv.SetPendingTTL(time.Hour)
	e.apply(requestOrg)
	tok, err := e.admin.CreateToken(e.ctx, "dan", "1h")
	if err != nil {
		t.Fatal(err)
	}
	dan := client.New(e.url, tok.Token)
	got, err := dan.RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	id := got.Request.Metadata.Name
	ttlEnds := got.Request.Metadata.CreatedAt.Add(time.Hour)
	clk.Set(ttlEnds.Add(-time.Second))
	if o, err := dan.Request(e.ctx, id); err != nil || o.Spec.(*resource.AccessRequestSpec).State != resource.StatePending {
		t.Fatalf("a second before its pending TTL ends: %v %v", o, err)
	}
	clk.Set(ttlEnds)
	o, err := dan.Request(e.ctx, id)
	if err != nil || o.Spec.(*resource.AccessRequestSpec).State != resource.StateExpired {
		t.Fatalf("after its pending TTL: %v %v", o, err)
	}
	if _, err := e.admin.RequestReview(e.ctx, id, server.RequestReview{Decision: "APPROVE"}); status(err) != 400 || !strings.Contains(err.Error(), "EXPIRED") {
		t.Fatalf("approving an expired request: %v", err)
	}
}

// Requests are written EXPIRED once their window has ended or their reviews did not come in time,
// though nobody reads them, with an audit entry by warden: at the instant the server's clock reaches
// it, and not before.
func TestRequestsExpireUnread(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC().Truncate(time.Second)
	clk := clock.NewFake(now)
	e.srv.UseClock(clk)
	e.srv.SetPendingTTL(2 * time.Hour)
	e.apply(requestOrg)
	e.seedYAML(`
kind: access_request
version: v1
metadata: {name: ended}
spec: {user: dan, roles: [staging-admin], state: APPROVED, reason: x, start: "` + now.Add(-time.Hour).Format(time.RFC3339) + `", end: "` + now.Add(time.Hour).Format(time.RFC3339) + `"}
---
kind: access_request
version: v1
metadata: {name: lasting}
spec: {user: dan, roles: [staging-admin], state: APPROVED, reason: x, start: "` + now.Add(-time.Hour).Format(time.RFC3339) + `", end: "` + now.Add(3*time.Hour).Format(time.RFC3339) + `"}
`)
	tok, err := e.admin.CreateToken(e.ctx, "dan", "1h")
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.New(e.url, tok.Token).RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	pending := got.Request.Metadata.Name
	ttlEnds := got.Request.Metadata.CreatedAt.Add(2 * time.Hour)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.srv.KeepRequests(ctx, 24*time.Hour); close(done) }()
	defer func() { cancel(); <-done }()
	state := func(name string) string { // straight from the store: reading through the API would expire it
		o, err := e.store.Get(e.ctx, resource.KindAccessRequest, name)
		if err != nil {
			t.Fatal(err)
		}
		return o.Spec.(*resource.AccessRequestSpec).State
	}
	waitState := func(name, want string) {
		t.Helper()
		testenv.Eventually(t, 10*time.Second, name+" to be "+want+" in the store", func() bool { return state(name) == want })
	}
	// KeepRequests waits for the first end, "ended"'s.
	if !clk.WaitUntil(10*time.Second, now.Add(time.Hour)) {
		t.Fatalf("KeepRequests does not wait for the window's end at %v: it waits for %v", now.Add(time.Hour), clk.Pending())
	}
	if state("ended") != resource.StateApproved || state(pending) != resource.StatePending {
		t.Fatalf("expired early: ended %s, pending %s", state("ended"), state(pending))
	}
	clk.Set(now.Add(time.Hour))
	waitState("ended", resource.StateExpired)
	if !clk.WaitUntil(10*time.Second, ttlEnds) {
		t.Fatalf("KeepRequests does not wait for the pending TTL's end at %v: it waits for %v", ttlEnds, clk.Pending())
	}
	if s := state(pending); s != resource.StatePending {
		t.Fatalf("the pending request is %s before its TTL ends", s)
	}
	clk.Set(ttlEnds)
	waitState(pending, resource.StateExpired)
	if s := state("lasting"); s != resource.StateApproved {
		t.Fatalf("a request whose window lasts is %s", s)
	}
	entries, err := audit.List(e.ctx, e.store, audit.Filter{Actor: "warden", Kind: resource.KindAccessRequest})
	if err != nil {
		t.Fatal(err)
	}
	expired := map[string]int{}
	for _, x := range entries {
		if x.Action == "expire" {
			expired[x.Name]++
		}
	}
	if expired["ended"] != 1 || expired[pending] != 1 || len(expired) != 2 {
		t.Fatalf("expire entries: %v", expired)
	}
}
