package scim_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/wardenhq/warden/internal/fuzzcheck"
	"github.com/wardenhq/warden/internal/scim"
)

func patched(t *testing.T, body string) map[string]any {
	t.Helper()
	ops, err := scim.DecodePatch([]byte(body))
	if err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	m := res(t)
	if err := scim.Apply(m, ops); err != nil {
		t.Fatalf("apply %s: %v", body, err)
	}
	return m
}

func memberValues(m map[string]any) []string {
	var out []string
	for _, x := range m["members"].([]any) {
		out = append(out, x.(map[string]any)["value"].(string))
	}
	return out
}

// The forms of PATCH the providers send, each landing where RFC 7644 says.
func TestSCIMPatchForms(t *testing.T) {
	m := patched(t, `{"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}`)
	if m["active"] != "False" {
		t.Fatalf("capitalised Replace: %v", m["active"])
	}
	m = patched(t, `{"Operations": [{"op": "replace", "value": {"active": false, "displayName": "X", "name.givenName": "Y",
	  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Sales"}}]}`)
	ext := m["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	if m["active"] != false || m["displayName"] != "X" || m["name"].(map[string]any)["givenName"] != "Y" || m["name"].(map[string]any)["familyName"] != "Example" || ext["department"] != "Sales" {
		t.Fatalf("replace without a path: %v", m)
	}
	m = patched(t, `{"Operations": [{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u1"}]}]}`)
	if got := memberValues(m); !reflect.DeepEqual(got, []string{"u2"}) {
		t.Fatalf("remove by value: %v", got)
	}
	m = patched(t, `{"Operations": [{"op": "remove", "path": "members[value eq \"u2\"]"}]}`)
	if got := memberValues(m); !reflect.DeepEqual(got, []string{"u1"}) {
		t.Fatalf("remove by filter: %v", got)
	}
	m = patched(t, `{"Operations": [{"op": "add", "path": "members", "value": [{"value": "u2"}, {"value": "u3"}]}]}`)
	if got := memberValues(m); !reflect.DeepEqual(got, []string{"u1", "u2", "u3"}) {
		t.Fatalf("add (u2 already in): %v", got)
	}
	m = patched(t, `{"Operations": [{"op": "replace", "path": "members", "value": [{"value": "u9"}]}]}`)
	if got := memberValues(m); !reflect.DeepEqual(got, []string{"u9"}) {
		t.Fatalf("replace members: %v", got)
	}
	m = patched(t, `{"Operations": [{"op": "remove", "path": "members"}]}`)
	if _, has := m["members"]; has {
		t.Fatal("remove members without a value left them")
	}
	m = patched(t, `{"Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}]}`)
	if m["emails"].([]any)[0].(map[string]any)["value"] != "new@example.com" || m["emails"].([]any)[1].(map[string]any)["value"] != "ann@home.org" {
		t.Fatalf("filtered replace: %v", m["emails"])
	}
	m = patched(t, `{"Operations": [{"op": "add", "path": "emails[type eq \"other\"].value", "value": "o@example.com"}]}`)
	if es := m["emails"].([]any); len(es) != 3 || es[2].(map[string]any)["type"] != "other" || es[2].(map[string]any)["value"] != "o@example.com" {
		t.Fatalf("a filtered add matching nothing: %v", m["emails"])
	}
	m = patched(t, `{"Operations": [{"op": "remove", "path": "name.familyName"}, {"op": "add", "path": "nickName", "value": "A"}]}`)
	if _, has := m["name"].(map[string]any)["familyName"]; has || m["nickName"] != "A" {
		t.Fatalf("remove a sub-attribute, add an attribute: %v", m)
	}
	m = patched(t, `{"Operations": [{"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Ops"}}}]}`)
	if m["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)["department"] != "Ops" {
		t.Fatalf("a schema's attributes as one value: %v", m)
	}

	var u scim.User
	b, _ := json.Marshal(patched(t, `{"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}`))
	if err := json.Unmarshal(b, &u); err != nil || u.Active == nil || bool(*u.Active) {
		t.Fatalf("the string False read as a boolean: %v %v", u.Active, err)
	}
}

func TestSCIMPatchRefusesMalformed(t *testing.T) {
	for _, body := range []string{``, `{}`, `{"Operations": []}`, `{"Operations": [{"op": "move", "path": "a", "value": 1}]}`,
		`{"Operations": [{"op": "remove"}]}`, `{"Operations": [{"op": "replace", "value": "x"}]}`, `{"Operations": [{"op": "add", "path": "a"}]}`,
		`{"Operations": [{"op": "add", "path": "a[", "value": 1}]}`, `{"Operations": "no"}`} {
		if _, err := scim.DecodePatch([]byte(body)); err == nil {
			t.Errorf("%s decoded", body)
		}
	}
}

// Decoding and applying any PATCH body never panics nor allocates without bound; what applies
// still marshals.
func FuzzSCIMPatch(f *testing.F) {
	for _, s := range []string{
		`{"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}`,
		`{"Operations": [{"op": "replace", "value": {"active": false, "name.givenName": "Y"}}]}`,
		`{"Operations": [{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u1"}]}]}`,
		`{"Operations": [{"op": "add", "path": "emails[type eq \"x\"].value", "value": "a"}]}`,
		`{"Operations": [{"op": "remove", "path": "members[value eq \"u2\"]"}]}`,
		`{"Operations": [{"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Ops"}}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > scim.MaxBody {
			return
		}
		fuzzcheck.Limit(t, func() {
			ops, err := scim.DecodePatch(b)
			if err != nil {
				return
			}
			m := res(t)
			if scim.Apply(m, ops) == nil {
				if _, err := json.Marshal(m); err != nil {
					t.Fatalf("applied, then not JSON: %v", err)
				}
			}
		})
	})
}
