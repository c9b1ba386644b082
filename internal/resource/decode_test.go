package resource_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/resource"
)

// architectureRole is the role example of ARCHITECTURE.md, "Resources".
const architectureRole = `kind: role
version: v1
metadata: {name: aws-dev-access, description: Developers on staging}
spec:
  allow:
    account_assignments:                 # account: 12-digit id or account name; globs allowed
      - {account: "058264527036", permission_set: AdministratorAccess}   # name or ARN
    request:                             # what holders of this role may ask for
      roles: [AdministratorAccess-on-Production]
      account_assignments: [{account: Production, permission_set: "*"}]
      max_duration: 8h
      reason: required
      thresholds: [{approve: 2, deny: 1}]
    review_requests: {roles: [AdministratorAccess-on-Production]}
  deny:
    account_assignments: []
`

func intp(n int) *int { return &n }

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestDecodeAllAccepts(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string // the objects, as Object.String gives them
		check func(t *testing.T, objs []*resource.Object)
	}{
		{
			name:  "the role example of ARCHITECTURE.md",
			input: architectureRole,
			want:  []string{`role "aws-dev-access"`},
			check: func(t *testing.T, objs []*resource.Object) {
				o := objs[0]
				if o.Version != "v1" || o.Metadata.Description != "Developers on staging" {
					t.Errorf("envelope = %q %+v", o.Version, o.Metadata)
				}
				want := &resource.RoleSpec{
					Allow: resource.RoleConditions{
						AccountAssignments: []resource.AccountAssignment{{Account: "058264527036", PermissionSet: "AdministratorAccess"}},
						Request: &resource.RequestConditions{
							Roles:              []string{"AdministratorAccess-on-Production"},
							AccountAssignments: []resource.AccountAssignment{{Account: "Production", PermissionSet: "*"}},
							MaxDuration:        "8h",
							Reason:             "required",
							Thresholds:         []resource.Threshold{{Approve: intp(2), Deny: intp(1)}},
						},
						ReviewRequests: &resource.ReviewConditions{Roles: []string{"AdministratorAccess-on-Production"}},
					},
				}
				got := o.Spec.(*resource.RoleSpec)
				if len(got.Deny.AccountAssignments) != 0 || got.Deny.Request != nil || got.Deny.ReviewRequests != nil {
					t.Errorf("deny = %+v; want nothing denied", got.Deny)
				}
				got.Deny = resource.RoleConditions{} // [] and absent mean the same; compared above
				if !reflect.DeepEqual(got, want) {
					t.Errorf("spec =\n%s\nwant\n%s", js(got), js(want))
				}
				if d := got.Allow.Request.MaxDurationValue(); d != 8*time.Hour {
					t.Errorf("MaxDurationValue = %v; want 8h", d)
				}
				th := got.Allow.Request.Thresholds[0]
				if th.ApproveCount() != 2 || th.DenyCount() != 1 {
					t.Errorf("threshold counts = %d/%d; want 2/1", th.ApproveCount(), th.DenyCount())
				}
			},
		},
		{
			name: "unquoted account id keeps its leading zero",
			input: `kind: role
metadata: {name: dev}
spec:
  allow:
    account_assignments:
      - {account: 058264527036, permission_set: ReadOnly}
      - {account: 123456789012, permission_set: ReadOnly}
      - {account: 000000000017, permission_set: ReadOnly}
`,
			want: []string{`role "dev"`},
			check: func(t *testing.T, objs []*resource.Object) {
				as := objs[0].Spec.(*resource.RoleSpec).Allow.AccountAssignments
				for i, want := range []string{"058264527036", "123456789012", "000000000017"} {
					if as[i].Account != want {
						t.Errorf("account_assignments[%d].account = %q; want %q", i, as[i].Account, want)
					}
				}
			},
		},
		{
			name:  "unquoted account id as an account's name",
			input: "kind: account\nmetadata: {name: 058264527036}\nspec: {name: Production, email: aws@example.com, status: ACTIVE}\n",
			want:  []string{`account "058264527036"`},
		},
		{
			name:  "account id glob",
			input: "kind: role\nmetadata: {name: dev}\nspec: {allow: {account_assignments: [{account: \"0582*\", permission_set: \"Admin?\"}]}}\n",
			want:  []string{`role "dev"`},
		},
		{
			name:  "a JSON object",
			input: `{"kind": "user", "version": "v1", "metadata": {"name": "alice", "labels": {"team": "platform"}}, "spec": {"email": "alice@example.com", "roles": ["dev"], "admin": true, "traits": {"team": ["platform", "sre"]}}}`,
			want:  []string{`user "alice"`},
			check: func(t *testing.T, objs []*resource.Object) {
				want := &resource.UserSpec{Email: "alice@example.com", Roles: []string{"dev"}, Admin: true,
					Traits: map[string][]string{"team": {"platform", "sre"}}}
				if got := objs[0].Spec; !reflect.DeepEqual(got, want) {
					t.Errorf("spec = %s; want %s", js(got), js(want))
				}
				if objs[0].Metadata.Labels["team"] != "platform" {
					t.Errorf("labels = %v", objs[0].Metadata.Labels)
				}
			},
		},
		{
			name: "a JSON array of two objects",
			input: `[
  {"kind": "user", "metadata": {"name": "alice"}},
  {"kind": "access_list", "metadata": {"name": "eng"}, "spec": {"title": "Engineering", "owners": ["alice"], "grants": {"roles": ["dev"]}}}
]`,
			want: []string{`user "alice"`, `access_list "eng"`},
			check: func(t *testing.T, objs []*resource.Object) {
				for _, o := range objs {
					if o.Version != "v1" {
						t.Errorf("%s: version = %q; want it defaulted to v1", o, o.Version)
					}
				}
			},
		},
		{
			name:  "a YAML list of objects",
			input: "- {kind: user, metadata: {name: alice}}\n- {kind: user, metadata: {name: bob}}\n",
			want:  []string{`user "alice"`, `user "bob"`},
		},
		{
			name:  "multi-document YAML with empty documents",
			input: "---\n---\nkind: user\nmetadata: {name: alice}\n---\n---\n# only a comment\n---\nkind: user\nmetadata: {name: bob}\n---\n",
			want:  []string{`user "alice"`, `user "bob"`},
		},
		{
			name:  "empty input",
			input: "",
			want:  nil,
		},
		{
			name:  "only empty documents",
			input: "---\n---\n",
			want:  nil,
		},
		{
			name:  "member without metadata.name",
			input: "kind: access_list_member\nmetadata: {}\nspec: {list: eng, member: alice, expires: 2026-03-01, reason: onboarding}\n",
			want:  []string{`access_list_member "eng/alice"`},
			check: func(t *testing.T, objs []*resource.Object) {
				m := objs[0].Spec.(*resource.AccessListMemberSpec)
				if m.Kind() != resource.MemberUser {
					t.Errorf("Kind() = %q; want user by default", m.Kind())
				}
				if m.Expires == nil || !m.Expires.Equal(mustTime(t, "2026-03-01T00:00:00Z")) {
					t.Errorf("expires = %v; want 2026-03-01 midnight UTC", m.Expires)
				}
			},
		},
		{
			name:  "member without metadata at all",
			input: "kind: access_list_member\nspec: {list: eng, member: platform, member_kind: list}\n",
			want:  []string{`access_list_member "eng/list:platform"`},
		},
		{
			name:  "member with its derived name given",
			input: "kind: access_list_member\nmetadata: {name: eng/alice}\nspec: {list: eng, member: alice}\n",
			want:  []string{`access_list_member "eng/alice"`},
		},
		{
			name: "day_of_month 1, 15 and last",
			input: `kind: access_list
metadata: {name: a}
spec: {title: A, owners: [alice], audit: {recurrence: {frequency: 1, day_of_month: 1}, next_audit_date: 2026-02-01}}
---
kind: access_list
metadata: {name: b}
spec: {title: B, owners: [alice], audit: {recurrence: {frequency: 3, day_of_month: 15}}}
---
kind: access_list
metadata: {name: c}
spec: {title: C, owners: [alice], audit: {recurrence: {frequency: 12, day_of_month: last}}}
---
kind: access_list
metadata: {name: d}
spec: {title: D, owners: [alice], audit: {recurrence: {frequency: 6, day_of_month: "15"}}}
---
kind: access_list
metadata: {name: e}
spec: {title: E, owners: [alice], audit: {recurrence: {frequency: 6}}}
`,
			want: []string{`access_list "a"`, `access_list "b"`, `access_list "c"`, `access_list "d"`, `access_list "e"`},
			check: func(t *testing.T, objs []*resource.Object) {
				for i, want := range []resource.DayOfMonth{"1", "15", "last", "15", ""} {
					got := objs[i].Spec.(*resource.AccessListSpec).Audit.Recurrence.DayOfMonth
					if got != want {
						t.Errorf("%s: day_of_month = %q; want %q", objs[i], got, want)
					}
				}
				next := objs[0].Spec.(*resource.AccessListSpec).Audit.NextAuditDate
				if next == nil || !next.Equal(mustTime(t, "2026-02-01T00:00:00Z")) {
					t.Errorf("next_audit_date = %v", next)
				}
			},
		},
		{
			name: "permission set with ISO-8601 session durations at both ends",
			input: `kind: permission_set
metadata: {name: ReadOnly, description: read only}
spec:
  arn: arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef
  session_duration: PT1H
  inline_policy: '{"Version": "2012-10-17", "Statement": []}'
  managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess, arn:aws:iam::aws:policy/job-function/ViewOnlyAccess]
  managed: true
---
kind: permission_set
metadata: {name: Admin_Access+1}
spec: {session_duration: PT12H}
`,
			want: []string{`permission_set "ReadOnly"`, `permission_set "Admin_Access+1"`},
		},
		{
			name: "access request with a window and reviews",
			input: `kind: access_request
metadata: {name: req-1}
spec:
  user: alice
  resources: [{account: "058264527036", permission_set: AdministratorAccess}]
  reason: incident 42
  state: APPROVED
  duration: 4h
  start: 2026-01-02T10:00:00+02:00
  end: "2026-01-02T12:00:00Z"
  reviews:
    - {author: bob, decision: APPROVE, created: "2026-01-02T07:55:00Z"}
    - {author: carol, decision: DENY}
`,
			want: []string{`access_request "req-1"`},
			check: func(t *testing.T, objs []*resource.Object) {
				r := objs[0].Spec.(*resource.AccessRequestSpec)
				if r.Start == nil || !r.Start.Equal(mustTime(t, "2026-01-02T08:00:00Z")) {
					t.Errorf("start = %v", r.Start)
				}
				if len(r.Reviews) != 2 || !r.Reviews[0].Created.Equal(mustTime(t, "2026-01-02T07:55:00Z")) {
					t.Errorf("reviews = %+v", r.Reviews)
				}
			},
		},
		{
			name:  "access request without a name",
			input: "kind: access_request\nmetadata: {}\nspec: {user: alice, roles: [ops]}\n",
			want:  []string{`access_request ""`},
		},
		{
			name:  "status is accepted and kept",
			input: "kind: user\nmetadata: {name: alice}\nstatus: {synced: true, errors: [], at: 2026-01-02}\n",
			want:  []string{`user "alice"`},
			check: func(t *testing.T, objs []*resource.Object) {
				var st map[string]any
				if err := json.Unmarshal(objs[0].Status, &st); err != nil {
					t.Fatalf("status %s: %v", objs[0].Status, err)
				}
				if st["synced"] != true {
					t.Errorf("status = %s", objs[0].Status)
				}
			},
		},
		{
			name:  "YAML anchors and aliases",
			input: "kind: access_list\nmetadata: {name: eng}\nspec:\n  title: &t Engineering\n  owners: &o [alice, bob]\n  membership_requires: {traits: {team: [*t]}}\n",
			want:  []string{`access_list "eng"`},
			check: func(t *testing.T, objs []*resource.Object) {
				s := objs[0].Spec.(*resource.AccessListSpec)
				if s.MembershipRequires.Traits["team"][0] != "Engineering" {
					t.Errorf("alias not followed: %+v", s.MembershipRequires)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := resource.DecodeAll("good.yaml", []byte(tc.input))
			if err != nil {
				t.Fatalf("DecodeAll: %v", err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.String())
			}
			if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
				t.Fatalf("objects = %q; want %q", got, tc.want)
			}
			for _, o := range objs {
				if err := resource.Validate(o); err != nil {
					t.Errorf("%s: Validate after DecodeAll: %v", o, err)
				}
			}
			if tc.check != nil {
				tc.check(t, objs)
			}
		})
	}
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestDocumentErrorNamesFileDocumentAndObject(t *testing.T) {
	input := `kind: role
metadata: {name: ops}
---
kind: user
metadata: {name: alice}
spec: {roles: [ops]}
---
kind: role
metadata: {name: dev}
spec:
  allow:
    account_assignments:
      - {account: "058264527036", permission_set: ReadOnly}
      - {account: "12345", permission_set: ReadOnly}
`
	objs, err := resource.DecodeAll("roles.yaml", []byte(input))
	if err == nil {
		t.Fatalf("DecodeAll accepted %d objects", len(objs))
	}
	const want = `roles.yaml: document 3 (role "dev"): spec.allow.account_assignments[1].account: "12345" is not a 12-digit account id, an account name or a glob`
	if err.Error() != want {
		t.Errorf("err.Error() =\n%s\nwant\n%s", err.Error(), want)
	}
	var de *resource.DocumentError
	if !errors.As(err, &de) {
		t.Fatalf("%T is not a *DocumentError", err)
	}
	if de.Source != "roles.yaml" || de.Doc != 3 || de.Kind != resource.KindRole || de.Name != "dev" {
		t.Errorf("DocumentError = %+v", de)
	}
	var es resource.Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Errorf("DocumentError does not unwrap to one resource.Errors: %v", de.Err)
	}
}

// JSON input is read as JSON: its "\/" escape (not YAML) works, and a user and a list of the same
// name are different members.
func TestDecodeJSONEscapesAndMemberKinds(t *testing.T) {
	objs, err := resource.DecodeAll("in.json", []byte(`[
{"kind": "access_list_member", "version": "v1", "metadata": {}, "spec": {"list": "eng", "member": "ops", "reason": "a\/b \u00e9"}},
{"kind": "access_list_member", "version": "v1", "metadata": {}, "spec": {"list": "eng", "member": "ops", "member_kind": "list"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if got := objs[0].Spec.(*resource.AccessListMemberSpec).Reason; got != "a/b é" {
		t.Fatalf("reason decoded as %q", got)
	}
	if objs[0].Metadata.Name != "eng/ops" || objs[1].Metadata.Name != "eng/list:ops" {
		t.Fatalf("member names %q and %q", objs[0].Metadata.Name, objs[1].Metadata.Name)
	}
}

func TestDecodeAllSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, input string
		wantPrefix  string
	}{
		{"first document", "kind: [user\n", "roles.yaml: document 1: not valid YAML or JSON: "},
		{"third document", "kind: user\nmetadata: {name: a}\n---\nkind: user\nmetadata: {name: b}\n---\nkind: user\nmetadata: {name: \"c\n",
			"roles.yaml: document 3: not valid YAML or JSON: "},
		{"after empty documents", "---\n---\nkind: user\nmetadata: {name: a}\n---\n---\nkind: user\n  metadata: x\n", "roles.yaml: document 2: not valid YAML or JSON: "},
		{"after a list of two", "[{kind: user, metadata: {name: a}}, {kind: user, metadata: {name: b}}]\n---\n{kind: user\n", "roles.yaml: document 3: not valid YAML or JSON: "},
		{"broken JSON", `{"kind": "user", "metadata": {"name": "a"}`, "roles.yaml: document 1: not valid YAML or JSON: "},
		{"tab indentation", "kind: user\nmetadata:\n\tname: a\n", "roles.yaml: document 1: not valid YAML or JSON: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := resource.DecodeAll("roles.yaml", []byte(tc.input))
			if err == nil {
				t.Fatalf("DecodeAll accepted %d objects", len(objs))
			}
			if !strings.HasPrefix(err.Error(), tc.wantPrefix) {
				t.Errorf("err = %q; want prefix %q", err, tc.wantPrefix)
			}
			if strings.Contains(err.Error(), "yaml: yaml:") || strings.Contains(err.Error(), "JSON: yaml:") {
				t.Errorf("err = %q repeats the parser's prefix", err)
			}
			if fe := resource.First(err); fe != nil && fe.Field != "" {
				t.Errorf("a syntax error is reported on field %q; it concerns no field", fe.Field)
			}
		})
	}
}

func TestDocumentErrorFormat(t *testing.T) {
	inner := errors.New("spec.x: bad")
	tests := []struct {
		name string
		err  *resource.DocumentError
		want string
	}{
		{"everything", &resource.DocumentError{Source: "a.yaml", Doc: 2, Kind: resource.KindUser, Name: "alice", Err: inner}, `a.yaml: document 2 (user "alice"): spec.x: bad`},
		{"kind without name", &resource.DocumentError{Source: "a.yaml", Doc: 2, Kind: resource.KindUser, Err: inner}, `a.yaml: document 2 (user): spec.x: bad`},
		{"no kind", &resource.DocumentError{Source: "-", Doc: 1, Err: inner}, `-: document 1: spec.x: bad`},
		{"no source", &resource.DocumentError{Doc: 4, Kind: resource.KindRole, Name: "dev", Err: inner}, `document 4 (role "dev"): spec.x: bad`},
		{"whole input", &resource.DocumentError{Source: "a.yaml", Err: inner}, `a.yaml: spec.x: bad`},
		{"nothing but the error", &resource.DocumentError{Err: inner}, `spec.x: bad`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q; want %q", got, tc.want)
			}
			if !errors.Is(tc.err, inner) {
				t.Errorf("DocumentError does not unwrap to its error")
			}
		})
	}
}

func TestDecode(t *testing.T) {
	o, err := resource.Decode([]byte("kind: user\nmetadata: {name: alice}\n"))
	if err != nil || o.String() != `user "alice"` {
		t.Fatalf("Decode = %v, %v", o, err)
	}

	_, err = resource.Decode([]byte("kind: user\nmetadata: {name: a}\n---\nkind: user\nmetadata: {name: b}\n"))
	if err == nil || err.Error() != "expected one resource, found more than one" {
		t.Errorf("Decode of two = %v; want expected one resource, found more than one", err)
	}
	_, err = resource.Decode([]byte("---\n"))
	if err == nil || err.Error() != "expected one resource, found 0" {
		t.Errorf("Decode of none = %v; want expected one resource, found 0", err)
	}

	// Decode's errors are the field errors themselves, without the document prefix.
	_, err = resource.Decode([]byte("kind: user\nmetadata: {name: alice}\nspec: {email: nope}\n"))
	var de *resource.DocumentError
	if errors.As(err, &de) {
		t.Errorf("Decode returned a DocumentError: %v", err)
	}
	if fe := resource.First(err); fe == nil || fe.Field != "spec.email" {
		t.Errorf("Decode error = %v; want one on spec.email", err)
	}
	if err == nil || err.Error() != `spec.email: "nope" is not an email address like alice@example.com` {
		t.Errorf("Decode error text = %v", err)
	}
}

func TestDecodeStopsAtFirstBadDocument(t *testing.T) {
	input := "kind: user\nmetadata: {name: a}\n---\nkind: user\nmetadata: {name: \"b c\"}\n---\nkind: robot\n"
	objs, err := resource.DecodeAll("x.yaml", []byte(input))
	if objs != nil {
		t.Errorf("objects = %v; want none with an error", objs)
	}
	var de *resource.DocumentError
	if !errors.As(err, &de) || de.Doc != 2 || de.Name != "b c" {
		t.Errorf("error = %v; want document 2", err)
	}
}

func TestRoundTripThroughJSON(t *testing.T) {
	inputs := []string{
		architectureRole,
		"kind: user\nmetadata: {name: alice, labels: {team: sre}}\nspec: {display_name: Alice, email: alice@example.com, roles: [dev, ops], traits: {team: [sre], empty: []}, admin: true, origin: warden}\n",
		"kind: user\nmetadata: {name: bob@example.com}\nspec: {roles: [dev, admin-role], traits: {team: [sre, ops]}, origin: \"oidc:okta\", upstream: {\"oidc:okta\": {subject: 00u1ab, roles: [admin-role], traits: {team: [sre]}}, \"oidc:google-2\": {}}}\n",
		"kind: access_list\nmetadata: {name: eng}\nspec:\n  title: Engineering\n  owners: [alice]\n  grants: {roles: [dev], traits: {team: [eng]}}\n  audit: {recurrence: {frequency: 3, day_of_month: 15}, next_audit_date: 2026-04-15}\n  membership_requires: {roles: [employee]}\n  origin: identity_center\n",
		"kind: access_list\nmetadata: {name: bare}\nspec: {title: Bare, owners: [alice], grants: {}}\n",
		"kind: access_list_member\nmetadata: {}\nspec: {list: eng, member: alice, expires: \"2026-03-01T12:30:00+01:00\", reason: new hire, added_by: bob}\n",
		"kind: access_list_member\nmetadata: {}\nspec: {list: eng, member: platform, member_kind: list}\n",
		"kind: access_request\nmetadata: {name: r1}\nspec:\n  user: alice\n  roles: [ops]\n  state: DENIED\n  duration: 90m\n  start: 2026-01-02T10:00:00Z\n  end: 2026-01-02T11:30:00Z\n  reviews: [{author: bob, decision: DENY, reason: no, created: 2026-01-02T09:00:00.5Z}]\n",
		"kind: access_request\nmetadata: {}\nspec: {user: alice, resources: [{account: \"058264527036\", permission_set: ReadOnly}]}\n",
		"kind: permission_set\nmetadata: {name: ReadOnly}\nspec: {session_duration: PT8H, relay_state: \"https://console.aws.amazon.com/\", managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess], managed: true}\n",
		"kind: account\nmetadata: {name: 058264527036}\nspec: {name: Production, email: aws@example.com, status: ACTIVE}\n",
		"kind: role\nmetadata: {name: empty}\nspec:\n  allow:\n    request: {roles: [], thresholds: []}\n  deny: {}\n",
	}
	for _, input := range inputs {
		objs, err := resource.DecodeAll("", []byte(input))
		if err != nil {
			t.Errorf("DecodeAll: %v\n%s", err, input)
			continue
		}
		o := objs[0]
		t.Run(o.String(), func(t *testing.T) {
			b, err := json.Marshal(o)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			var back resource.Object
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("Unmarshal %s: %v", b, err)
			}
			if back.Kind != o.Kind || back.Version != o.Version || back.Metadata.Name != o.Metadata.Name {
				t.Errorf("envelope changed: %s %s %q", back.Kind, back.Version, back.Metadata.Name)
			}
			if !reflect.DeepEqual(back.Spec, o.Spec) {
				t.Errorf("spec changed in a JSON round trip:\n got %#v\nwant %#v\njson %s", back.Spec, o.Spec, b)
			}
			if err := resource.Validate(&back); err != nil {
				t.Errorf("Validate after the round trip: %v", err)
			}
			if c := o.Clone(); !reflect.DeepEqual(c.Spec, o.Spec) {
				t.Errorf("Clone changed the spec:\n got %#v\nwant %#v", c.Spec, o.Spec)
			}
		})
	}
}

func TestObjectUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name, input string
		wantErr     string
		check       func(t *testing.T, o *resource.Object)
	}{
		{name: "lenient about unknown fields", input: `{"kind":"user","version":"v1","metadata":{"name":"a","revision":7},"spec":{"email":"a@example.com","future":1},"extra":true}`,
			check: func(t *testing.T, o *resource.Object) {
				if o.Metadata.Revision != 7 || o.Spec.(*resource.UserSpec).Email != "a@example.com" {
					t.Errorf("object = %+v", o)
				}
			}},
		{name: "null spec gives an empty spec", input: `{"kind":"role","metadata":{"name":"r"},"spec":null}`,
			check: func(t *testing.T, o *resource.Object) {
				if _, ok := o.Spec.(*resource.RoleSpec); !ok {
					t.Errorf("spec = %T; want *RoleSpec", o.Spec)
				}
			}},
		{name: "internal kinds are stored too", input: `{"kind":"api_token","metadata":{"name":"t"},"spec":{"user":"alice","secret_hash":"h"}}`,
			check: func(t *testing.T, o *resource.Object) {
				if o.Spec.(*resource.APITokenSpec).User != "alice" {
					t.Errorf("spec = %+v", o.Spec)
				}
			}},
		{name: "day_of_month as a number", input: `{"kind":"access_list","metadata":{"name":"l"},"spec":{"audit":{"recurrence":{"frequency":1,"day_of_month":15}}}}`,
			check: func(t *testing.T, o *resource.Object) {
				if d := o.Spec.(*resource.AccessListSpec).Audit.Recurrence.DayOfMonth; d != "15" {
					t.Errorf("day_of_month = %q", d)
				}
			}},
		{name: "day_of_month as a list", input: `{"kind":"access_list","metadata":{"name":"l"},"spec":{"audit":{"recurrence":{"day_of_month":[1]}}}}`,
			wantErr: `access_list "l": spec: day_of_month must be 1, 15 or last`},
		{name: "unknown kind", input: `{"kind":"robot","metadata":{"name":"r"}}`, wantErr: `unknown kind "robot"`},
		{name: "wrong spec type", input: `{"kind":"user","metadata":{"name":"u"},"spec":{"roles":"dev"}}`, wantErr: `user "u": spec: `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o resource.Object
			err := json.Unmarshal([]byte(tc.input), &o)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Unmarshal = %v; want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			tc.check(t, &o)
		})
	}
}

// budgetDoc is a user whose decoding takes exactly 5 + 5*(1+n) + extra = resource.MaxValues + extra
// node conversions (the budget per resource): metadata and its name, spec, traits, 5 traits that
// are each the same aliased list of n values, then display_name and, when extra > 0, given_name.
func budgetDoc(extra int) string {
	n := (resource.MaxValues-5)/5 - 1
	var b strings.Builder
	b.WriteString("kind: user\nmetadata: {name: alice}\nspec:\n  traits:\n    k0: &L [")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("v")
	}
	b.WriteString("]\n")
	for i := 1; i < 5; i++ {
		b.WriteString("    k" + strconv.Itoa(i) + ": *L\n")
	}
	b.WriteString("  display_name: Alice\n")
	if extra > 0 {
		b.WriteString("  given_name: A\n")
	}
	return b.String()
}

func TestDecodeNodeBudget(t *testing.T) {
	if (resource.MaxValues-5)%5 != 0 {
		t.Fatalf("budgetDoc cannot make a document of exactly MaxValues (%d) values", resource.MaxValues)
	}
	t.Run("exactly the budget decodes completely", func(t *testing.T) {
		objs, err := resource.DecodeAll("big.yaml", []byte(budgetDoc(0)))
		if err != nil {
			t.Fatalf("DecodeAll: %v", err)
		}
		s := objs[0].Spec.(*resource.UserSpec)
		if s.DisplayName != "Alice" {
			t.Errorf("display_name = %q: the last node within the budget was dropped without an error", s.DisplayName)
		}
		if len(s.Traits) != 5 || len(s.Traits["k4"]) != (resource.MaxValues-5)/5-1 {
			t.Errorf("traits: %d keys", len(s.Traits))
		}
	})
	t.Run("one node over the budget is an error on that node", func(t *testing.T) {
		_, err := resource.DecodeAll("big.yaml", []byte(budgetDoc(1)))
		fe := resource.First(err)
		if fe == nil || fe.Field != "spec.given_name" || fe.Message != "input too large or too deeply aliased" {
			t.Fatalf("DecodeAll = %v; want spec.given_name: input too large or too deeply aliased", err)
		}
		if !strings.HasPrefix(err.Error(), `big.yaml: document 1 (user "alice"): spec.given_name: input too large`) {
			t.Errorf("err = %v", err)
		}
	})
}
