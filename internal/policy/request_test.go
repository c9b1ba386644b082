package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
)

func cat() *policy.Catalog { return policy.NewCatalog(catalog.accounts, catalog.sets) }

func roleSpecs(t *testing.T, docs string) map[string]*resource.RoleSpec {
	t.Helper()
	out := map[string]*resource.RoleSpec{}
	for _, o := range snap(t, docs).Roles {
		out[o.Metadata.Name] = o.Spec.(*resource.RoleSpec)
	}
	return out
}

const denyAdmin = `
kind: role
version: v1
metadata: {name: prod-admin}
spec: {allow: {account_assignments: [{account: Production, permission_set: AdministratorAccess}]}}
---
kind: role
version: v1
metadata: {name: anything-but-admin}
spec:
  allow: {request: {roles: ["*"], account_assignments: [{account: "*", permission_set: "*"}]}}
  deny: {request: {account_assignments: [{account: Production, permission_set: AdministratorAccess}]}}
`

// A deny names a permission set and an account one way; asking for them another way (ARN for
// name, id for name) reaches the same assignment and is denied just the same.
func TestDenyHoldsHoweverTheAssignmentIsNamed(t *testing.T) {
	roles := roleSpecs(t, denyAdmin)
	held := []*resource.RoleSpec{roles["anything-but-admin"]}
	c := cat()
	for _, ask := range [][2]string{
		{"Production", "AdministratorAccess"},
		{"637423191929", "AdministratorAccess"},
		{"Production", admin},
		{"637423191929", admin},
	} {
		it, err := c.Lookup(ask[0], ask[1])
		if err != nil {
			t.Fatal(err)
		}
		if it.AccountID != "637423191929" || it.PermissionSetARN != admin || it.AccountName != "Production" || it.PermissionSetName != "AdministratorAccess" {
			t.Fatalf("%v resolved to %+v", ask, it)
		}
		if _, err := policy.Entitle(nil, []policy.Item{it}, held, roles, c); err == nil || !strings.Contains(err.Error(), "spec.resources[0]") {
			t.Fatalf("%v: the deny did not hold: %v", ask, err)
		}
	}
	// Asking for a role that grants the denied assignment is asking for the assignment.
	if _, err := policy.Entitle([]string{"prod-admin"}, nil, held, roles, c); err == nil || !strings.Contains(err.Error(), "spec.roles[0]") {
		t.Fatalf("a role granting the denied assignment: %v", err)
	}
	// What the deny does not cover stays allowed.
	it, _ := c.Lookup("Production", "ReadOnlyAccess")
	if _, err := policy.Entitle(nil, []policy.Item{it}, held, roles, c); err != nil {
		t.Fatal(err)
	}
}

func TestLookupNamesWhatIsWrong(t *testing.T) {
	c := policy.NewCatalog(append(catalog.accounts, policy.Account{ID: "111111111111", Name: "Staging"}), catalog.sets)
	for _, x := range []struct{ account, ps, want string }{
		{"Nowhere", "ReadOnlyAccess", `account: "Nowhere" is not an account id`},
		{"Staging", "ReadOnlyAccess", `account: "Staging" is the name of 2 accounts`},
		{"Prod*", "ReadOnlyAccess", "account: \"Prod*\": name one account"},
		{"Production", "Read*", "permission_set: \"Read*\": name one permission set"},
		{"Production", "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-ffffffffffffffff", "is not a permission set's name or ARN"},
	} {
		if _, err := c.Lookup(x.account, x.ps); err == nil || !strings.Contains(err.Error(), x.want) {
			t.Errorf("%s × %s: %v, want %q", x.account, x.ps, err, x.want)
		}
	}
}

// An approved request in its window grants nothing once its requester no longer holds what
// allowed it: not after losing a standing role, and not after the membership that gave the
// right expires (the compile wakes at that expiry).
func TestRequestWithoutItsBasisGrantsNothing(t *testing.T) {
	at := func(h int) string { return time.Date(2026, 11, 21, h, 0, 0, 0, time.UTC).Format(time.RFC3339) }
	requests := `
---
kind: access_request
version: v1
metadata: {name: r1}
spec: {user: dan, roles: [staging-admin], state: APPROVED, start: "` + at(11) + `", end: "` + at(16) + `"}
---
kind: access_request
version: v1
metadata: {name: r2}
spec: {user: dan, resources: [{account: "058264527036", permission_set: "` + ro + `"}], state: APPROVED, start: "` + at(11) + `", end: "` + at(16) + `"}
`
	through := roles + requests + `
---
kind: user
version: v1
metadata: {name: dan}
spec: {}
---
kind: access_list
version: v1
metadata: {name: oncall}
spec: {title: On call, owners: [dan], grants: {roles: [requester]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: oncall, member: dan, expires: "` + at(13) + `"}
`
	d, next := policy.Compile(snap(t, through), t0)
	eq(t, "while the membership holds", assignments(d), []string{"USER dan 058264527036 aa until 16:00", "USER dan 058264527036 bb until 16:00"})
	eq(t, "next", next, time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC))
	d, _ = policy.Compile(snap(t, through), time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC))
	eq(t, "after it expired", len(assignments(d)), 0)
	if len(d.Problems) != 2 || !strings.Contains(d.Problems[0].Message, policy.LostBasis) {
		t.Fatalf("problems %+v", d.Problems)
	}

	// Without the standing role that allowed them, from the start.
	d, _ = policy.Compile(snap(t, roles+requests+"\n---\nkind: user\nversion: v1\nmetadata: {name: dan}\nspec: {roles: [read-everything]}\n"), t0)
	eq(t, "without the role", assignments(d), []string{
		"USER dan 058264527036 bb", "USER dan 293847561029 bb", "USER dan 637423191929 bb",
	})
}
