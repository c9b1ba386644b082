package idcsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The SCIM filter and PATCH path parsers, fuzzed on their own; and bigSim, for the requests of
// limits_test.go. A call must never panic or allocate more than 100 MB.

// bigSim is the demo organisation, a SCIM user and group, and what requests name with
// placeholders: $INSTANCE, $STORE, $USER, $GROUP, $ACCOUNT, $PS.
type bigSim struct {
	sim   *Sim
	token string
	vars  *strings.Replacer
}

func newBigSim(f testing.TB) *bigSim {
	s := New(Options{Seed: 1})
	if err := s.Update(SeedDemo); err != nil {
		f.Fatal(err)
	}
	fs := &bigSim{sim: s, token: s.SCIMToken()}
	id := func(path, body string) string {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+fs.token)
		s.ServeHTTP(rec, req)
		var out struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.ID == "" {
			f.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
		}
		return out.ID
	}
	user := id("/scim/v2/Users", `{"userName":"fuzz","displayName":"Fuzz","name":{"givenName":"F","familyName":"Z"},"emails":[{"value":"fuzz@example.com","type":"work","primary":true}]}`)
	group := id("/scim/v2/Groups", `{"displayName":"Fuzzers"}`)
	var ps string
	s.Update(func(d *Directory) error {
		arn, err := d.CreatePermissionSet("Fuzz", "", "PT1H")
		ps = arn
		return err
	})
	fs.vars = strings.NewReplacer("$INSTANCE", s.InstanceARN(), "$STORE", s.IdentityStoreID(), "$USER", user, "$GROUP", group,
		"$ACCOUNT", "058264527036", "$PS", ps)
	return fs
}

func (fs *bigSim) serve(t testing.TB, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	LimitAlloc(t, func() { fs.sim.ServeHTTP(rec, req) })
	if rec.Code >= 500 {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL, rec.Code, rec.Body)
	}
	if rec.Code >= 400 && !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%s %s: %d with a body that is not JSON: %q", req.Method, req.URL, rec.Code, rec.Body)
	}
	return rec
}

// FuzzSCIMFilter and FuzzSCIMPath read what a SCIM client writes in a filter or a PATCH path.
func FuzzSCIMFilter(f *testing.F) {
	for _, s := range []string{`userName eq "fuzz"`, `name.givenName eq "F" and emails[type eq "work"].value eq "x"`, `displayName co "x"`, `a eq`, `a eq "\`, `"a" eq "b"`, `a eq b and`, `userName EQ "x" AND externalId eq "y"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		LimitAlloc(t, func() {
			conds, err := parseSCIMFilter(s)
			if err == nil && len(conds) == 0 {
				t.Fatalf("parseSCIMFilter(%q) accepted a filter of no conditions", s)
			}
		})
	})
}

func FuzzSCIMPath(f *testing.F) {
	for _, s := range []string{"displayName", "name.givenName", `emails[type eq "work"].value`, `members[value eq "x"]`, `emails[type eq "a]b"]`, "emails[", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "a.b.c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		LimitAlloc(t, func() { parseSCIMPath(s) })
	})
}
