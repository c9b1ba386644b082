package access_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
)

const roles = `
kind: role
version: v1
metadata: {name: prod-admin}
spec: {allow: {account_assignments: [{account: Production, permission_set: AdministratorAccess}]}}
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
      roles: [prod-*, staging-admin]
      account_assignments: [{account: "*", permission_set: ReadOnlyAccess}, {account: Production, permission_set: "Admin*"}]
      max_duration: 4h
      reason: required
      thresholds: [{approve: 2, deny: 1}]
  deny:
    request: {roles: [prod-break-glass]}
---
kind: role
version: v1
metadata: {name: prod-break-glass}
spec: {allow: {account_assignments: [{account: Production, permission_set: AdministratorAccess}]}}
---
kind: role
version: v1
metadata: {name: contractor}
spec: {allow: {request: {roles: [staging-admin]}}}
---
kind: role
version: v1
metadata: {name: lead}
spec: {allow: {review_requests: {roles: ["*"]}}, deny: {review_requests: {roles: [prod-break-glass]}}}
---
kind: role
version: v1
metadata: {name: staging-lead}
spec: {allow: {review_requests: {roles: [staging-admin]}}}
`

const (
	adminARN = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-aaaaaaaaaaaaaaaa"
	roARN    = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-bbbbbbbbbbbbbbbb"
)

// catalog is the accounts and permission sets the rules resolve names against.
func catalog() *policy.Catalog {
	return policy.NewCatalog(
		[]policy.Account{{ID: "637423191929", Name: "Production"}, {ID: "058264527036", Name: "Staging"}},
		[]policy.PermissionSet{{Name: "AdministratorAccess", ARN: adminARN}, {Name: "ReadOnlyAccess", ARN: roARN}})
}

var accounts = catalog()

// res asks for one account × permission set, named as a person would.
func res(account, ps string) []resource.RequestedResource {
	return []resource.RequestedResource{{Account: account, PermissionSet: ps}}
}

func load(t *testing.T) map[string]*resource.Object {
	t.Helper()
	objs, err := resource.DecodeAll("roles.yaml", []byte(roles))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*resource.Object{}
	for _, o := range objs {
		out[o.Metadata.Name] = o
	}
	return out
}

func pick(all map[string]*resource.Object, names ...string) []*resource.Object {
	var out []*resource.Object
	for _, n := range names {
		out = append(out, all[n])
	}
	return out
}

func TestCheckRequest(t *testing.T) {
	all := load(t)
	for _, c := range []struct {
		name   string
		holds  []string
		req    resource.AccessRequestSpec
		errHas string // empty: allowed
		terms  access.Terms
	}{
		{"role by glob", []string{"developer"}, resource.AccessRequestSpec{Roles: []string{"prod-admin"}, Reason: "incident"}, "", access.Terms{MaxDuration: 4 * time.Hour, ReasonRequired: true, Approvals: 2, Denials: 1}},
		{"deny wins over allow", []string{"developer"}, resource.AccessRequestSpec{Roles: []string{"prod-break-glass"}, Reason: "x"}, `spec.roles[0]: you may not request role "prod-break-glass"`, access.Terms{}},
		{"reason required", []string{"developer"}, resource.AccessRequestSpec{Roles: []string{"prod-admin"}}, "spec.reason: required", access.Terms{}},
		{"not requestable", []string{"contractor"}, resource.AccessRequestSpec{Roles: []string{"prod-admin"}}, `spec.roles[0]: you may not request role "prod-admin"`, access.Terms{}},
		{"unknown role", []string{"developer"}, resource.AccessRequestSpec{Roles: []string{"nope"}, Reason: "x"}, `spec.roles[0]: role "nope" does not exist`, access.Terms{}},
		{"defaults", []string{"contractor"}, resource.AccessRequestSpec{Roles: []string{"staging-admin"}}, "", access.Terms{MaxDuration: access.DefaultMaxDuration, Approvals: 1, Denials: 1}},
		{"resource by account name", []string{"developer"}, resource.AccessRequestSpec{Resources: res("Staging", "ReadOnlyAccess"), Reason: "x"}, "", access.Terms{MaxDuration: 4 * time.Hour, ReasonRequired: true, Approvals: 2, Denials: 1}},
		{"resource by account id", []string{"developer"}, resource.AccessRequestSpec{Resources: res("637423191929", "AdministratorAccess"), Reason: "x"}, "", access.Terms{MaxDuration: 4 * time.Hour, ReasonRequired: true, Approvals: 2, Denials: 1}},
		{"resource not requestable", []string{"developer"}, resource.AccessRequestSpec{Resources: res("Staging", "AdministratorAccess"), Reason: "x"}, "spec.resources[0]: you may not request AdministratorAccess on Staging", access.Terms{}},
		{"resource on unknown account", []string{"developer"}, resource.AccessRequestSpec{Resources: res("Nowhere", "ReadOnlyAccess"), Reason: "x"}, `spec.resources[0].account: "Nowhere" is not an account id`, access.Terms{}},
		{"two resources", []string{"developer"}, resource.AccessRequestSpec{Resources: append(res("Staging", "ReadOnlyAccess"), res("Production", "ReadOnlyAccess")...)}, "spec.resources: a resource request is for one", access.Terms{}},
		{"roles and a resource", []string{"developer"}, resource.AccessRequestSpec{Roles: []string{"prod-admin"}, Resources: res("Staging", "ReadOnlyAccess")}, "not both", access.Terms{}},
		{"nothing asked", []string{"developer"}, resource.AccessRequestSpec{}, "spec.roles: a request asks for roles or", access.Terms{}},
		{"no roles at all", nil, resource.AccessRequestSpec{Roles: []string{"staging-admin"}}, "you may not request", access.Terms{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			terms, err := access.CheckRequest(&c.req, pick(all, c.holds...), all, accounts)
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("error %v, want one containing %q", err, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := *terms
			got.Resources, got.CappedBy = nil, ""
			if !reflect.DeepEqual(got, c.terms) {
				t.Fatalf("terms %+v, want %+v", *terms, c.terms)
			}
		})
	}
}

func TestWindowIsCapped(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 500, time.UTC)
	terms := &access.Terms{MaxDuration: 4 * time.Hour}
	from, to, capped, err := access.Window(&resource.AccessRequestSpec{Duration: "8h"}, terms, now)
	if err != nil || !capped || to.Sub(from) != 4*time.Hour {
		t.Fatalf("8h under a 4h cap: %v..%v capped=%v %v", from, to, capped, err)
	}
	_, to, capped, _ = access.Window(&resource.AccessRequestSpec{Duration: "90m"}, terms, now)
	if capped || to != now.Truncate(time.Second).Add(90*time.Minute) {
		t.Fatalf("90m: %v capped=%v", to, capped)
	}
	if _, _, _, err := access.Window(&resource.AccessRequestSpec{Duration: "-1h"}, terms, now); err == nil || !strings.Contains(err.Error(), "spec.duration") {
		t.Fatalf("negative duration: %v", err)
	}
}

func TestReviewsAndThresholds(t *testing.T) {
	all := load(t)
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	req := &resource.AccessRequestSpec{User: "dan@example.com", Roles: []string{"prod-admin"}, Reason: "incident", Duration: "2h", State: resource.StatePending}
	terms, err := access.CheckRequest(req, pick(all, "developer"), all, accounts)
	if err != nil {
		t.Fatal(err)
	}
	lead := pick(all, "lead")
	if err := access.CanReview(req, "dan@example.com", lead, all, accounts); err == nil || !strings.Contains(err.Error(), "own request") {
		t.Fatalf("self review: %v", err)
	}
	if err := access.CanReview(req, "erin@example.com", pick(all, "staging-lead"), all, accounts); err == nil {
		t.Fatal("a staging lead may review a production request")
	}
	if err := access.CanReview(req, "erin@example.com", pick(all, "developer"), all, accounts); err == nil {
		t.Fatal("a requester-only role may review")
	}
	if err := access.CanReview(req, "alice@example.com", lead, all, accounts); err != nil {
		t.Fatal(err)
	}
	changed, err := access.Review(req, terms, resource.Review{Author: "alice@example.com", Decision: resource.DecisionApprove}, now)
	if err != nil || changed || req.State != resource.StatePending {
		t.Fatalf("one of two approvals moved the request: %v %v %s", changed, err, req.State)
	}
	if err := access.CanReview(req, "alice@example.com", lead, all, accounts); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("a second review by the same person: %v", err)
	}
	changed, err = access.Review(req, terms, resource.Review{Author: "bob@example.com", Decision: resource.DecisionApprove}, now.Add(time.Minute))
	if err != nil || !changed || req.State != resource.StateApproved {
		t.Fatalf("two approvals: %v %v %s", changed, err, req.State)
	}
	if !req.Start.Equal(now.Add(time.Minute)) || !req.End.Equal(now.Add(time.Minute+2*time.Hour)) {
		t.Fatalf("window %v..%v", req.Start, req.End)
	}
	if _, err := access.Review(req, terms, resource.Review{Author: "carol@example.com", Decision: resource.DecisionDeny}, now); err == nil {
		t.Fatal("an approved request was reviewed again")
	}

	// One denial denies; a denied request cannot be approved or cancelled.
	req2 := &resource.AccessRequestSpec{User: "dan@example.com", Roles: []string{"prod-admin"}, Reason: "x", State: resource.StatePending}
	if changed, err := access.Review(req2, terms, resource.Review{Author: "alice@example.com", Decision: resource.DecisionDeny}, now); err != nil || !changed || req2.State != resource.StateDenied {
		t.Fatalf("denial: %v %v %s", changed, err, req2.State)
	}
	if _, err := access.Review(req2, terms, resource.Review{Author: "bob@example.com", Decision: resource.DecisionApprove}, now); err == nil {
		t.Fatal("a denied request was approved")
	}
	if err := access.Cancel(req2, now); err == nil {
		t.Fatal("a denied request was cancelled")
	}
	if _, err := access.Review(&resource.AccessRequestSpec{State: resource.StatePending}, terms, resource.Review{Author: "x", Decision: "MAYBE"}, now); err == nil {
		t.Fatal("a review that is neither APPROVE nor DENY")
	}
}

func TestResourceRequestReviewers(t *testing.T) {
	all := load(t)
	req := &resource.AccessRequestSpec{User: "dan@example.com", Resources: res("Staging", "AdministratorAccess")}
	// staging-lead reviews staging-admin, which grants AdministratorAccess on Staging.
	if err := access.CanReview(req, "erin@example.com", pick(all, "staging-lead"), all, accounts); err != nil {
		t.Fatal(err)
	}
	prod := &resource.AccessRequestSpec{User: "dan@example.com", Resources: res("Production", "AdministratorAccess")}
	if err := access.CanReview(prod, "erin@example.com", pick(all, "staging-lead"), all, accounts); err == nil {
		t.Fatal("a staging lead may review production administrator access")
	}
	// lead may review prod-admin (which grants it), though not prod-break-glass (which also does).
	if err := access.CanReview(prod, "alice@example.com", pick(all, "lead"), all, accounts); err != nil {
		t.Fatal(err)
	}
}

func TestCancelAndExpire(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	start, end := now.Add(-time.Hour), now.Add(time.Hour)
	req := &resource.AccessRequestSpec{State: resource.StateApproved, Start: &start, End: &end}
	if err := access.Cancel(req, now); err != nil || req.State != resource.StateCancelled || !req.End.Equal(now) {
		t.Fatalf("cancel during the window: %v %s %v", err, req.State, req.End)
	}
	if err := access.Cancel(req, now); err == nil {
		t.Fatal("cancelled twice")
	}
	pending := &resource.AccessRequestSpec{State: resource.StatePending}
	if access.Expire(pending, now.Add(-23*time.Hour), access.DefaultPendingTTL, now) {
		t.Fatal("a pending request expired before its TTL")
	}
	if !access.Expire(pending, now.Add(-24*time.Hour), access.DefaultPendingTTL, now) || pending.State != resource.StateExpired {
		t.Fatal("a pending request outlived its TTL")
	}
	if _, err := access.Review(pending, &access.Terms{Approvals: 1, Denials: 1}, resource.Review{Author: "a", Decision: resource.DecisionApprove}, now); err == nil {
		t.Fatal("an expired request was approved")
	}
	over := now.Add(-time.Second)
	done := &resource.AccessRequestSpec{State: resource.StateApproved, Start: &start, End: &over}
	if !access.Expire(done, now, access.DefaultPendingTTL, now) || done.State != resource.StateExpired {
		t.Fatal("an approved request past its end did not expire")
	}
}

func TestNextAudit(t *testing.T) {
	from := time.Date(2026, 11, 21, 15, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		freq int
		day  resource.DayOfMonth
		want string
	}{
		{1, "", "2026-12-01"}, {3, "15", "2027-02-15"}, {3, "last", "2027-02-28"}, {6, "1", "2027-05-01"},
		{12, "last", "2027-11-30"}, {1, "last", "2026-12-31"},
	} {
		got := access.NextAudit(resource.Recurrence{Frequency: c.freq, DayOfMonth: c.day}, from)
		if got.Format("2006-01-02") != c.want || got.Hour() != 0 {
			t.Errorf("every %d months on %q after %s: %s, want %s", c.freq, c.day, from, got, c.want)
		}
	}
	// From the 31st of January, a month later is in February, not March.
	if got := access.NextAudit(resource.Recurrence{Frequency: 1, DayOfMonth: "last"}, time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)); got.Format("2006-01-02") != "2027-02-28" {
		t.Errorf("last day after Jan 31: %s", got)
	}
}

// Each item is capped by the conditions that allow it, and the request by the shortest of those:
// bundling a role capped at 1h with one capped at 12h does not stretch the first to 12h.
func TestBundlingDoesNotStretchACap(t *testing.T) {
	all := load(t)
	objs, err := resource.DecodeAll("more.yaml", []byte(`
kind: role
version: v1
metadata: {name: short}
spec: {allow: {request: {roles: [prod-admin], max_duration: 1h}}}
---
kind: role
version: v1
metadata: {name: long}
spec: {allow: {request: {roles: [staging-admin], max_duration: 12h}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		all[o.Metadata.Name] = o
	}
	req := &resource.AccessRequestSpec{Roles: []string{"staging-admin", "prod-admin"}, Duration: "12h"}
	terms, err := access.CheckRequest(req, pick(all, "short", "long"), all, accounts)
	if err != nil {
		t.Fatal(err)
	}
	if terms.MaxDuration != time.Hour || terms.CappedBy != "spec.roles[1]" {
		t.Fatalf("cap %s by %s, want 1h by spec.roles[1] (prod-admin)", terms.MaxDuration, terms.CappedBy)
	}
	from, to, capped, err := access.Window(req, terms, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	if err != nil || !capped || to.Sub(from) != time.Hour {
		t.Fatalf("window %v..%v capped=%v %v", from, to, capped, err)
	}
	// An item allowed by two conditions takes the longer of their caps.
	terms, err = access.CheckRequest(&resource.AccessRequestSpec{Roles: []string{"prod-admin"}, Reason: "x"}, pick(all, "short", "developer"), all, accounts)
	if err != nil || terms.MaxDuration != 4*time.Hour {
		t.Fatalf("prod-admin allowed by 1h and 4h conditions: %v %v", terms, err)
	}
}

// A request names its resource however the requester likes; the rules see, and the request
// stores, the account id and permission set ARN, with their names.
func TestResourcesAreStoredResolved(t *testing.T) {
	all := load(t)
	for _, r := range [][]resource.RequestedResource{res("Production", "AdministratorAccess"), res("637423191929", adminARN)} {
		terms, err := access.CheckRequest(&resource.AccessRequestSpec{Resources: r, Reason: "x"}, pick(all, "developer"), all, accounts)
		if err != nil {
			t.Fatal(err)
		}
		want := []resource.RequestedResource{{Account: "637423191929", PermissionSet: adminARN, AccountName: "Production", PermissionSetName: "AdministratorAccess"}}
		if !reflect.DeepEqual(terms.Resources, want) {
			t.Fatalf("%v resolved to %+v", r, terms.Resources)
		}
	}
	// The deny of a role matches however the permission set is named (developer denies nothing
	// here; deny-admin does).
	objs, err := resource.DecodeAll("deny.yaml", []byte(`
kind: role
version: v1
metadata: {name: deny-admin}
spec: {allow: {}, deny: {request: {account_assignments: [{account: "*", permission_set: AdministratorAccess}]}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	all["deny-admin"] = objs[0]
	for _, r := range [][]resource.RequestedResource{res("Production", "AdministratorAccess"), res("637423191929", adminARN), res("Production", adminARN)} {
		if _, err := access.CheckRequest(&resource.AccessRequestSpec{Resources: r, Reason: "x"}, pick(all, "developer", "deny-admin"), all, accounts); err == nil {
			t.Fatalf("%v: allowed despite the deny", r)
		}
	}
	// A reviewer of a role that grants the resource reviews it however it was named.
	req := &resource.AccessRequestSpec{User: "dan@example.com", Resources: res("637423191929", adminARN)}
	if err := access.CanReview(req, "alice@example.com", pick(all, "lead"), all, accounts); err != nil {
		t.Fatal(err)
	}
	if err := access.CanReview(req, "erin@example.com", pick(all, "staging-lead"), all, accounts); err == nil {
		t.Fatal("a staging lead may review production administrator access named by ARN")
	}
}
