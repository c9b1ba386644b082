package scim_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/fuzzcheck"
	"github.com/wardenhq/warden/internal/scim"
)

const ann = `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "2819c223", "externalId": "E1",
 "userName": "Ann@Example.com", "displayName": "Ann Example", "active": true,
 "name": {"givenName": "Ann", "familyName": "Example"},
 "emails": [{"value": "ann@example.com", "type": "work", "primary": true}, {"value": "ann@home.org", "type": "home"}],
 "members": [{"value": "u1"}, {"value": "u2"}],
 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Platform", "manager": {"value": "m1"}},
 "meta": {"version": "W/\"3\""}}`

func res(t testing.TB) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(ann), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSCIMFilterMatches(t *testing.T) {
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{`userName eq "ann@example.com"`, true},
		{`USERNAME EQ "ANN@EXAMPLE.COM"`, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ann@example.com"`, true},
		{`externalId eq "e1"`, false},
		{`externalId eq "E1"`, true},
		{`id eq "2819C223"`, false},
		{`displayName co "exam"`, true},
		{`displayName sw "Ann"`, true},
		{`displayName ew "ample"`, true},
		{`displayName ne "Ann Example"`, false},
		{`name.familyName eq "example"`, true},
		{`emails.value eq "ann@home.org"`, true},
		{`emails eq "ann@home.org"`, true},
		{`emails[type eq "work" and value co "example"]`, true},
		{`emails[type eq "other"]`, false},
		{`members.value eq "u2"`, true},
		{`members.value eq "U2"`, false},
		{`active eq true`, true},
		{`active eq "True"`, true},
		{`active eq false`, false},
		{`title pr`, false},
		{`name pr and emails pr`, true},
		{`userName sw "b" or displayName sw "a"`, true},
		{`userName sw "b" or (displayName sw "a" and active eq false)`, false},
		{`not (userName sw "b")`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "platform"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1"`, true},
		{`meta.version eq "W/\"3\""`, true},
		{`userName gt "a" and userName lt "b"`, true},
	} {
		e, err := scim.ParseFilter(tc.filter)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got := scim.Match(e, res(t)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestSCIMFilterRefusesMalformed(t *testing.T) {
	for _, f := range []string{``, `userName`, `userName eq`, `userName eq "a`, `userName xx "a"`, `(userName pr`, `userName pr)`,
		`userName eq "a" and`, `emails[type eq "work"`, `userName eq 'a'`, `not userName pr`, `a.b.c pr`, `1abc pr`,
		strings.Repeat("(", 100) + "a pr" + strings.Repeat(")", 100), strings.Repeat("a pr and ", 600) + "a pr",
		"userName eq \"" + strings.Repeat("x", scim.MaxFilterLength) + "\""} {
		if _, err := scim.ParseFilter(f); err == nil {
			t.Errorf("%q parsed", f)
		}
	}
}

func TestSCIMPathParses(t *testing.T) {
	for _, tc := range []struct{ path, attr, sub string }{
		{`members`, "members", ""},
		{`name.givenName`, "name.givenName", ""},
		{`members[value eq "2819c223"]`, "members", ""},
		{`emails[type eq "work"].value`, "emails", "value"},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department", ""},
	} {
		p, err := scim.ParsePath(tc.path)
		if err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		if p.Attr.String() != tc.attr || p.Sub != tc.sub {
			t.Errorf("%s: %s . %s", tc.path, p.Attr, p.Sub)
		}
	}
	for _, bad := range []string{``, `members[`, `members[value eq "a"`, `members[value eq "a"]x`, `name.givenName[value pr]`, `a b`} {
		if _, err := scim.ParsePath(bad); err == nil {
			t.Errorf("path %q parsed", bad)
		}
	}
}

// The parser and the evaluation never panic, loop or allocate without bound, whatever the filter;
// what parses evaluates.
func FuzzSCIMFilter(f *testing.F) {
	for _, s := range []string{`userName eq "a"`, `emails[type eq "work" and value co "@"]`, `not (a pr) or b.c gt 1.5e3`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq null`, `members.value eq "x" and active eq "False"`, `((a pr))`} {
		f.Add(s)
	}
	m := res(f)
	f.Fuzz(func(t *testing.T, s string) {
		fuzzcheck.Limit(t, func() {
			e, err := scim.ParseFilter(s)
			if err == nil {
				scim.Match(e, m)
			}
			if p, err := scim.ParsePath(s); err == nil && p.Filter != nil {
				scim.Match(p.Filter, m)
			}
		})
	})
}
