package resource_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/resource"
)

// fakeLookup is an in-memory resource.Lookup.
type fakeLookup struct {
	exists  map[string]bool     // "<kind>:<name>" of every resource that exists
	nested  map[string][]string // list -> the lists that are its members
	failOn  string              // Exists fails for this "<kind>:<name>", NestedLists for this list name
	err     error
	asked   []string // every Exists question, as "<kind>:<name>"
	visited []string // every NestedLists question
}

func (f *fakeLookup) Exists(_ context.Context, k resource.Kind, name string) (bool, error) {
	key := resource.RefValue(k, name)
	f.asked = append(f.asked, key)
	if key == f.failOn {
		return false, f.err
	}
	return f.exists[key], nil
}

func (f *fakeLookup) NestedLists(_ context.Context, list string) ([]string, error) {
	f.visited = append(f.visited, list)
	if list == f.failOn {
		return nil, f.err
	}
	return f.nested[list], nil
}

// world holds users alice and bob, roles dev, ops and admin, and lists a, b, c, d, eng and solo,
// nested a -> b -> c -> d and eng -> b.
func world() *fakeLookup {
	f := &fakeLookup{exists: map[string]bool{}, nested: map[string][]string{
		"a": {"b"}, "b": {"c"}, "c": {"d"}, "eng": {"b"},
	}}
	for _, u := range []string{"alice", "bob"} {
		f.exists[resource.RefValue(resource.KindUser, u)] = true
	}
	for _, r := range []string{"dev", "ops", "admin"} {
		f.exists[resource.RefValue(resource.KindRole, r)] = true
	}
	for _, l := range []string{"a", "b", "c", "d", "eng", "solo"} {
		f.exists[resource.RefValue(resource.KindAccessList, l)] = true
	}
	return f
}

func member(list, name, kind string) *resource.Object {
	o := resource.New(resource.KindAccessListMember, resource.MemberName(list, name, kind))
	o.Spec = &resource.AccessListMemberSpec{List: list, Member: name, MemberKind: kind}
	return o
}

func obj(k resource.Kind, name string, spec resource.Spec) *resource.Object {
	o := resource.New(k, name)
	o.Spec = spec
	return o
}

type fieldMsg struct{ field, msg string }

func TestCheckRefs(t *testing.T) {
	tests := []struct {
		name  string
		obj   *resource.Object
		setup func(f *fakeLookup)
		want  []fieldMsg // every error, in order; nil means none
		asked []string   // when set, exactly the Exists questions asked
	}{
		{
			name: "user with existing roles",
			obj:  obj(resource.KindUser, "carol", &resource.UserSpec{Roles: []string{"dev", "ops"}}),
		},
		{
			name: "user with a missing role",
			obj:  obj(resource.KindUser, "carol", &resource.UserSpec{Roles: []string{"dev", "x"}}),
			want: []fieldMsg{{"spec.roles[1]", `role "x" does not exist`}},
		},
		{
			name: "access list with missing owner and roles",
			obj: obj(resource.KindAccessList, "new", &resource.AccessListSpec{Title: "New", Owners: []string{"alice", "zed"},
				Grants:             resource.Grants{Roles: []string{"x", "dev", "y"}},
				MembershipRequires: &resource.Requires{Roles: []string{"employee"}}}),
			want: []fieldMsg{
				{"spec.owners[1]", `user "zed" does not exist`},
				{"spec.grants.roles[0]", `role "x" does not exist`},
				{"spec.grants.roles[2]", `role "y" does not exist`},
				{"spec.membership_requires.roles[0]", `role "employee" does not exist`},
			},
		},
		{
			name: "role: globs are not looked up",
			obj: obj(resource.KindRole, "r", &resource.RoleSpec{
				Allow: resource.RoleConditions{
					Request:        &resource.RequestConditions{Roles: []string{"prod-*", "ops", "x", "?dmin"}},
					ReviewRequests: &resource.ReviewConditions{Roles: []string{"*", "y"}},
				},
				Deny: resource.RoleConditions{
					Request:        &resource.RequestConditions{Roles: []string{"admin", "z*", "z"}},
					ReviewRequests: &resource.ReviewConditions{Roles: []string{"w"}},
				},
			}),
			want: []fieldMsg{
				{"spec.allow.request.roles[2]", `role "x" does not exist`},
				{"spec.allow.review_requests.roles[1]", `role "y" does not exist`},
				{"spec.deny.request.roles[2]", `role "z" does not exist`},
				{"spec.deny.review_requests.roles[0]", `role "w" does not exist`},
			},
			asked: []string{"role:ops", "role:x", "role:y", "role:admin", "role:z", "role:w"},
		},
		{
			name:  "role: account assignments are not references",
			obj:   obj(resource.KindRole, "r", &resource.RoleSpec{Allow: resource.RoleConditions{AccountAssignments: []resource.AccountAssignment{{Account: "Nowhere", PermissionSet: "Nothing"}}}}),
			asked: []string{},
		},
		{
			name:  "user member",
			obj:   member("eng", "alice", ""),
			asked: []string{"access_list:eng", "user:alice"},
		},
		{
			name: "member of a missing list, missing user",
			obj:  member("nope", "zed", resource.MemberUser),
			want: []fieldMsg{
				{"spec.list", `access list "nope" does not exist`},
				{"spec.member", `user "zed" does not exist`},
			},
		},
		{
			name: "missing nested list",
			obj:  member("eng", "ghost", resource.MemberList),
			want: []fieldMsg{{"spec.member", `access list "ghost" does not exist`}},
		},
		{
			name:  "user named like a list is looked up as a user",
			obj:   member("eng", "solo", resource.MemberUser),
			want:  []fieldMsg{{"spec.member", `user "solo" does not exist`}},
			asked: []string{"access_list:eng", "user:solo"},
		},
		{
			name: "nesting without a cycle",
			obj:  member("solo", "a", resource.MemberList),
		},
		{
			name: "nesting into a diamond is no cycle",
			obj:  member("a", "eng", resource.MemberList), // a -> eng -> b, and a -> b already
		},
		{
			name: "cycle c -> a -> b -> c",
			obj:  member("c", "a", resource.MemberList),
			want: []fieldMsg{{"spec.member", `access list "c" would be nested in itself: c → a → b → c`}},
		},
		{
			name: "cycle of two",
			obj:  member("b", "a", resource.MemberList),
			want: []fieldMsg{{"spec.member", `access list "b" would be nested in itself: b → a → b`}},
		},
		{
			name: "longer cycle through eng",
			obj:  member("d", "eng", resource.MemberList),
			want: []fieldMsg{{"spec.member", `access list "d" would be nested in itself: d → eng → b → c → d`}},
		},
		{
			name:  "existing cycle elsewhere does not loop",
			setup: func(f *fakeLookup) { f.nested["d"] = []string{"b"} }, // b -> c -> d -> b already
			obj:   member("solo", "b", resource.MemberList),
		},
		{
			name: "access request",
			obj:  obj(resource.KindAccessRequest, "r1", &resource.AccessRequestSpec{User: "zed", Roles: []string{"ops", "x"}}),
			want: []fieldMsg{
				{"spec.user", `user "zed" does not exist`},
				{"spec.roles[1]", `role "x" does not exist`},
			},
		},
		{
			name:  "resource request names no resources to look up",
			obj:   obj(resource.KindAccessRequest, "r2", &resource.AccessRequestSpec{User: "alice", Resources: []resource.RequestedResource{{Account: "Production", PermissionSet: "ReadOnly"}}}),
			asked: []string{"user:alice"},
		},
		{
			name: "api token",
			obj:  obj(resource.KindAPIToken, "t", &resource.APITokenSpec{User: "zed", SecretHash: "h"}),
			want: []fieldMsg{{"spec.user", `user "zed" does not exist`}},
		},
		{
			name:  "permission set and account refer to nothing",
			obj:   obj(resource.KindPermissionSet, "ReadOnly", &resource.PermissionSetSpec{}),
			asked: []string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := world()
			if tc.setup != nil {
				tc.setup(f)
			}
			err := resource.CheckRefs(context.Background(), f, tc.obj)
			var got []fieldMsg
			if err != nil {
				var es resource.Errors
				if !errors.As(err, &es) {
					t.Fatalf("CheckRefs = %T %v; want resource.Errors", err, err)
				}
				for _, e := range es {
					got = append(got, fieldMsg{e.Field, e.Message})
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("CheckRefs errors =\n%q\nwant\n%q", got, tc.want)
			}
			if tc.asked != nil && strings.Join(f.asked, " ") != strings.Join(tc.asked, " ") {
				t.Errorf("Exists asked about %q; want %q", f.asked, tc.asked)
			}
			for _, a := range f.asked {
				if resource.IsGlob(a) {
					t.Errorf("Exists asked about the glob %q", a)
				}
			}
		})
	}
}

func TestCheckRefsCycleOnDecodedMember(t *testing.T) {
	objs, err := resource.DecodeAll("m.yaml", []byte("kind: access_list_member\nmetadata: {}\nspec: {list: c, member: a, member_kind: list}\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = resource.CheckRefs(context.Background(), world(), objs[0])
	fe := resource.First(err)
	if fe == nil || fe.Field != "spec.member" || !strings.Contains(fe.Message, "c → a → b → c") {
		t.Errorf("CheckRefs = %v; want a cycle on spec.member", err)
	}
	if err.Error() != `spec.member: access list "c" would be nested in itself: c → a → b → c` {
		t.Errorf("err.Error() = %q", err.Error())
	}
}

func TestCheckRefsLookupFailure(t *testing.T) {
	boom := errors.New("database is locked")
	tests := []struct {
		name    string
		obj     *resource.Object
		failOn  string
		wantMsg string
	}{
		{"Exists fails", obj(resource.KindUser, "carol", &resource.UserSpec{Roles: []string{"x", "dev", "y"}}), "role:dev",
			`looking up role "dev": database is locked`},
		{"Exists fails for the list", member("eng", "alice", ""), "access_list:eng",
			`looking up access_list "eng": database is locked`},
		{"NestedLists fails", member("solo", "a", resource.MemberList), "c",
			`reading members of access list "c": database is locked`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := world()
			f.failOn, f.err = tc.failOn, boom
			err := resource.CheckRefs(context.Background(), f, tc.obj)
			if err == nil {
				t.Fatal("CheckRefs = nil; want the lookup's error")
			}
			if !errors.Is(err, boom) {
				t.Errorf("CheckRefs = %v; want it to wrap the lookup's error", err)
			}
			var es resource.Errors
			if errors.As(err, &es) {
				t.Errorf("CheckRefs = %v is a resource.Errors; a lookup failure is no problem with the resource", err)
			}
			if resource.First(err) != nil {
				t.Errorf("First(%v) = %v; want nil", err, resource.First(err))
			}
			if err.Error() != tc.wantMsg {
				t.Errorf("err = %q; want %q", err, tc.wantMsg)
			}
		})
	}
	// Nothing is asked after the first failure.
	f := world()
	f.failOn, f.err = "role:x", boom
	_ = resource.CheckRefs(context.Background(), f, obj(resource.KindUser, "carol", &resource.UserSpec{Roles: []string{"x", "dev"}}))
	if len(f.asked) != 1 {
		t.Errorf("asked %q after the lookup failed", f.asked)
	}
}

func TestIndex(t *testing.T) {
	ie := func(k, v string) resource.IndexEntry { return resource.IndexEntry{Key: k, Value: v} }
	tests := []struct {
		name string
		obj  *resource.Object
		want []resource.IndexEntry
	}{
		{
			name: "user member, kind defaulted",
			obj:  member("eng", "alice", ""),
			want: []resource.IndexEntry{
				ie(resource.IndexList, "eng"), ie(resource.IndexMember, "alice"), ie(resource.IndexMemberKind, "user"),
				ie(resource.IndexRef, "access_list:eng"), ie(resource.IndexRef, "user:alice"),
			},
		},
		{
			name: "list member",
			obj:  member("eng", "platform", resource.MemberList),
			want: []resource.IndexEntry{
				ie("list", "eng"), ie("member", "platform"), ie("member_kind", "list"),
				ie("ref", "access_list:eng"), ie("ref", "access_list:platform"),
			},
		},
		{
			name: "pending request by default",
			obj:  obj(resource.KindAccessRequest, "r1", &resource.AccessRequestSpec{User: "alice", Roles: []string{"ops"}}),
			want: []resource.IndexEntry{ie(resource.IndexState, resource.StatePending), ie(resource.IndexUser, "alice")},
		},
		{
			name: "approved request",
			obj:  obj(resource.KindAccessRequest, "r2", &resource.AccessRequestSpec{User: "bob", State: resource.StateApproved, Roles: []string{"ops"}}),
			want: []resource.IndexEntry{ie("state", "APPROVED"), ie("user", "bob")},
		},
		{
			name: "user roles are refs, sorted and deduplicated",
			obj:  obj(resource.KindUser, "alice", &resource.UserSpec{Roles: []string{"ops", "dev", "ops"}}),
			want: []resource.IndexEntry{ie("ref", "role:dev"), ie("ref", "role:ops")},
		},
		{
			name: "role refs skip globs and dedupe across allow and deny",
			obj: obj(resource.KindRole, "r", &resource.RoleSpec{
				Allow: resource.RoleConditions{Request: &resource.RequestConditions{Roles: []string{"prod-*", "ops"}},
					ReviewRequests: &resource.ReviewConditions{Roles: []string{"ops", "dev"}}},
				Deny: resource.RoleConditions{Request: &resource.RequestConditions{Roles: []string{"admin", "*"}}},
			}),
			want: []resource.IndexEntry{ie("ref", "role:admin"), ie("ref", "role:dev"), ie("ref", "role:ops")},
		},
		{
			name: "access list owners and roles",
			obj: obj(resource.KindAccessList, "eng", &resource.AccessListSpec{Title: "Eng", Owners: []string{"bob", "alice"},
				Grants: resource.Grants{Roles: []string{"dev"}}, MembershipRequires: &resource.Requires{Roles: []string{"employee", "dev"}}}),
			want: []resource.IndexEntry{ie("ref", "role:dev"), ie("ref", "role:employee"), ie("ref", "user:alice"), ie("ref", "user:bob"), ie("title", "eng")},
		},
		{
			name: "api token",
			obj:  obj(resource.KindAPIToken, "t", &resource.APITokenSpec{User: "alice", SecretHash: "h", Admin: true}),
			want: []resource.IndexEntry{ie("admin", "true"), ie("user", "alice")},
		},
		{
			name: "permission set has none",
			obj:  obj(resource.KindPermissionSet, "ReadOnly", &resource.PermissionSetSpec{}),
			want: nil,
		},
		{
			name: "nil spec",
			obj:  &resource.Object{Kind: resource.KindUser},
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.obj.Index()
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Index() =\n%v\nwant\n%v", got, tc.want)
			}
		})
	}
}

func TestIndexOfDecodedObjects(t *testing.T) {
	input := `kind: access_list_member
metadata: {}
spec: {list: eng, member: alice}
---
kind: access_request
metadata: {name: r1}
spec: {user: alice, roles: [ops]}
`
	objs, err := resource.DecodeAll("", []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]resource.IndexEntry{
		{{Key: "list", Value: "eng"}, {Key: "member", Value: "alice"}, {Key: "member_kind", Value: "user"},
			{Key: "ref", Value: "access_list:eng"}, {Key: "ref", Value: "user:alice"}},
		{{Key: "state", Value: "PENDING"}, {Key: "user", Value: "alice"}},
	}
	for i, o := range objs {
		if got := o.Index(); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("%s: Index() = %v; want %v", o, got, want[i])
		}
	}
}

func TestKinds(t *testing.T) {
	if got := resource.PublicKinds(); len(got) != 8 || got[0] != resource.KindAccessList || got[7] != resource.KindUser {
		t.Errorf("PublicKinds() = %v", got)
	}
	tests := []struct {
		in      string
		want    resource.Kind
		wantErr bool
	}{
		{"user", resource.KindUser, false},
		{"users", resource.KindUser, false},
		{"roles", resource.KindRole, false},
		{"list", resource.KindAccessList, false},
		{"members", resource.KindAccessListMember, false},
		{"request", resource.KindAccessRequest, false},
		{"permission_sets", resource.KindPermissionSet, false},
		{"account", resource.KindAccount, false},
		{"api_token", "", true},
		{"robot", "", true},
		{"", "", true},
	}
	for _, tc := range tests {
		got, err := resource.ParseKind(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseKind(%q) = %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "known kinds: "+knownKinds) {
			t.Errorf("ParseKind(%q) error %q does not list the known kinds", tc.in, err)
		}
	}
	if !resource.Known(resource.KindAPIToken) || resource.IsPublic(resource.KindAPIToken) || !resource.IsPublic(resource.KindRole) || resource.Known("robot") {
		t.Errorf("Known/IsPublic disagree with the kind table")
	}
	if resource.NewSpec("robot") != nil {
		t.Errorf("NewSpec(robot) != nil")
	}
}
