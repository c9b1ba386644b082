package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/fuzzcheck"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// The fuzz targets drive the API over HTTP only, so that they outlive changes to the handlers.

const fuzzOrg = `
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
kind: role
version: v1
metadata: {name: staging-admin}
spec: {allow: {account_assignments: [{account: Staging, permission_set: AdministratorAccess}]}}
---
kind: role
version: v1
metadata: {name: jit}
spec: {allow: {request: {roles: [staging-admin], account_assignments: [{account: Staging, permission_set: "*"}], max_duration: 4h, thresholds: [{approve: 1, deny: 1}]}}}
---
kind: role
version: v1
metadata: {name: rev}
spec: {allow: {review_requests: {roles: [staging-admin]}}}
---
kind: user
version: v1
metadata: {name: adm}
spec: {admin: true}
---
kind: user
version: v1
metadata: {name: requester}
spec: {roles: [jit]}
---
kind: user
version: v1
metadata: {name: reviewer}
spec: {roles: [rev]}
---
kind: user
version: v1
metadata: {name: stranger}
spec: {}
---
kind: access_list
version: v1
metadata: {name: team}
spec: {title: Team, owners: [reviewer], grants: {roles: [staging-admin]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: team, member: stranger}
`

// fuzzCallers, in the order fuzz inputs pick them: the local admin token, an administrator, the
// requester, the reviewer, someone with no role, and no token at all.
var fuzzCallers = []string{"admin", "adm", "requester", "reviewer", "stranger", ""}

type fuzzAPI struct {
	h      http.Handler
	tokens map[string]string
}

func newFuzzAPI(f *testing.F) *fuzzAPI {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "warden.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	srv := server.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs := httptest.NewServer(srv)
	f.Cleanup(hs.Close)
	tokenFile := filepath.Join(f.TempDir(), "admin.token")
	if _, err := srv.Tokens().EnsureAdminToken(ctx, tokenFile); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		f.Fatal(err)
	}
	a := &fuzzAPI{h: srv, tokens: map[string]string{"admin": strings.TrimSpace(string(b))}}
	c := client.New(hs.URL, a.tokens["admin"])
	objs, err := resource.DecodeAll("org", []byte(fuzzOrg))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := c.Batch(ctx, "apply", objs); err != nil {
		f.Fatal(err)
	}
	for _, u := range fuzzCallers[1:5] {
		tok, err := c.CreateToken(ctx, u, "24h")
		if err != nil {
			f.Fatal(err)
		}
		a.tokens[u] = tok.Token
	}
	return a
}

// do sends one request as caller, and fails the target on a call that allocates over 100 MB, a 500
// (bad input is a 4xx, never warden's failure) or an API error that is not JSON.
func (a *fuzzAPI) do(t *testing.T, method, path, rawQuery string, body []byte, caller string) (int, []byte) {
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	req.URL.Path, req.URL.RawQuery = path, rawQuery
	if tok := a.tokens[caller]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	fuzzcheck.Limit(t, func() { a.h.ServeHTTP(rec, req) })
	out := rec.Body.Bytes()
	if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("%s %s?%s as %q with %q: %d %s", method, path, rawQuery, caller, body, rec.Code, out)
	}
	if strings.HasPrefix(path, "/v1/") && rec.Code >= 400 && !json.Valid(out) {
		t.Fatalf("%s %s as %q: %d with a body that is not JSON: %q", method, path, caller, rec.Code, out)
	}
	return rec.Code, out
}

var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH"}

// FuzzAPI sends any request to any route as any caller. Beyond do's checks: nobody but an
// administrator writes a resource through /v1/{kind}, whatever the body.
func FuzzAPI(f *testing.F) {
	a := newFuzzAPI(f)
	seeds := []struct {
		method, path, query, body string
		caller                    uint8
	}{
		{"GET", "/v1/whoami", "", "", 2},
		{"GET", "/v1/me/aws-config", "requestable=true&format=ini", "", 3},
		{"GET", "/v1/me/aws-config", "name_template={{range .}}{{end}}&session_name=x", "", 2},
		{"GET", "/v1/user", "limit=2&after=a", "", 4},
		{"GET", "/v1/access_list_member", "list=team&member=stranger", "", 3},
		{"GET", "/v1/access_request", "user=requester&state=PENDING", "", 2},
		{"GET", "/v1/access_request", "user=someone", "", 4},
		{"GET", "/v1/user", "limit=0", "", 0},
		{"GET", "/v1/role", "colour=red", "", 0},
		{"POST", "/v1/role", "", `{"kind":"role","version":"v1","metadata":{"name":"r1"},"spec":{"allow":{}}}`, 0},
		{"POST", "/v1/role", "", `{"kind":"role","version":"v1","metadata":{"name":"r2"},"spec":{"allow":{}}}`, 4},
		{"PUT", "/v1/user/stranger", "", "kind: user\nmetadata: {name: stranger, revision: 1}\nspec: {admin: true}\n", 4},
		{"PUT", "/v1/role/jit", "", `{"kind":"role","metadata":{"name":"jit"},"spec":{}}`, 1},
		{"DELETE", "/v1/role/staging-admin", "revision=x", "", 0},
		{"POST", "/v1/batch", "", `{"mode":"apply","items":[{"kind":"user","metadata":{"name":"u1"}}]}`, 0},
		{"POST", "/v1/batch", "", `{"mode":"create","items":[{"kind":"user","metadata":{"name":"u2"}}]}`, 3},
		{"POST", "/v1/batch", "", `{"mode":"create","items":[null]}`, 0},
		{"POST", "/v1/tokens", "", `{"user":"stranger","ttl":"99999999h"}`, 0},
		{"DELETE", "/v1/tokens/nope", "", "", 4},
		{"POST", "/v1/access/requests", "", `{"roles":["staging-admin"],"reason":"x","duration":"2h","start":"2030-01-01T00:00:00Z"}`, 2},
		{"POST", "/v1/access/requests", "", `{"resources":[{"account":"Staging","permission_set":"Admin*"}],"duration":"-1h"}`, 2},
		{"POST", "/v1/access/requests/x/review", "", `{"decision":"APPROVE"}`, 3},
		{"POST", "/v1/access/lists/team/members", "", `{"member":"requester","expires":"2030-01-01"}`, 3},
		{"POST", "/v1/access/lists/team/review", "", `{"notes":"ok","remove":["stranger"]}`, 3},
		{"GET", "/v1/audit", "since=2026-01-01&actor=adm&kind=user", "", 0},
		{"POST", "/v1/sync/plan", "", "", 0},
		{"POST", "/v1/integration/uninstall", "", `{"dry_run":true}`, 0},
		{"POST", "/v1/user", "", fuzzNested(1 << 16), 4},
		{"POST", "/v1/user", "", fuzzNested(1 << 16), 0},
		{"POST", "/v1/user", "", attackBodies()["alias bomb"], 0},
	}
	for _, s := range seeds {
		var method uint8
		for i, m := range fuzzMethods {
			if m == s.method {
				method = uint8(i)
			}
		}
		f.Add(method, s.path, s.query, []byte(s.body), s.caller)
	}
	f.Fuzz(func(t *testing.T, method uint8, path, query string, body []byte, caller uint8) {
		if !strings.HasPrefix(path, "/") {
			path = "/v1/" + path
		}
		m, who := fuzzMethods[int(method)%len(fuzzMethods)], fuzzCallers[int(caller)%len(fuzzCallers)]
		code, out := a.do(t, m, path, query, body, who)
		if who != "admin" && who != "adm" && code/100 == 2 && (m == "POST" || m == "PUT" || m == "DELETE") {
			if rest, ok := strings.CutPrefix(path, "/v1/"); ok {
				seg, _, _ := strings.Cut(rest, "/")
				if _, err := resource.ParseKind(seg); err == nil {
					t.Fatalf("%s %s as %s: %d %s; only administrators write resources", m, path, who, code, out)
				}
			}
		}
	})
}

// fuzzNested is a user whose status is size bytes of nested lists.
func fuzzNested(size int) string {
	head := `{"kind":"user","metadata":{"name":"mallory"},"status":`
	n := (size - len(head) - 1) / 2
	return head + strings.Repeat("[", n) + strings.Repeat("]", n) + "}"
}

// FuzzRequestWorkflow files an access request as the fuzzer asks, then reviews, cancels, revokes and
// reads it in the order the fuzzer picks, as the callers it picks, over HTTP. An ended request never
// changes; nobody reviews their own request; only its requester and administrators cancel it, and
// only administrators revoke it.
func FuzzRequestWorkflow(f *testing.F) {
	a := newFuzzAPI(f)
	f.Add(`{"roles":["staging-admin"],"reason":"deploy","duration":"2h"}`, []byte{0x13, 0x11, 0x23, 0x05})
	f.Add(`{"resources":[{"account":"058264527036","permission_set":"AdministratorAccess"}],"duration":"90m"}`, []byte{0x03, 0x12, 0x25})
	f.Add(`{"roles":["staging-admin"],"start":"2030-01-01T00:00:00Z"}`, []byte{0x33, 0x03, 0x02, 0x05, 0x04})
	f.Add(`{"roles":["staging-admin"],"duration":"9999999h","reason":"`+strings.Repeat("x", 5000)+`"}`, []byte{0x13, 0x14})
	f.Add(`{"roles":["staging-admin","jit"],"resources":[{"account":"*","permission_set":"*"}]}`, []byte{0x13})
	f.Fuzz(func(t *testing.T, create string, ops []byte) {
		if len(ops) > 16 {
			return
		}
		code, out := a.do(t, "POST", "/v1/access/requests", "", []byte(create), "requester")
		if code != http.StatusCreated {
			return
		}
		var created server.RequestResponse
		if err := json.Unmarshal(out, &created); err != nil || created.Request == nil {
			t.Fatalf("created: %s (%v)", out, err)
		}
		id := created.Request.Metadata.Name
		state := func() string {
			code, out := a.do(t, "GET", "/v1/access/requests/"+id, "", nil, "admin")
			var o resource.Object
			if code != http.StatusOK || json.Unmarshal(out, &o) != nil {
				t.Fatalf("reading %s: %d %s", id, code, out)
			}
			return o.Spec.(*resource.AccessRequestSpec).State
		}
		for _, op := range ops {
			who := fuzzCallers[int(op>>4)%len(fuzzCallers)]
			before := state()
			var path, body string
			switch op % 6 {
			case 0, 1:
				path = "/v1/access/requests/" + id + "/review"
				body = fmt.Sprintf(`{"decision":%q,"reason":"r"}`, []string{"APPROVE", "DENY"}[op%6])
			case 2:
				path = "/v1/access/requests/" + id + "/cancel"
			case 3:
				path = "/v1/access/requests/" + id + "/revoke"
			case 4:
				path = "/v1/access/requests/" + id
			case 5:
				path = "/v1/access/requests"
			}
			method := "POST"
			if op%6 >= 4 {
				method = "GET"
			}
			code, out := a.do(t, method, path, "", []byte(body), who)
			after := state()
			if fuzzEnded[before] && after != before {
				t.Fatalf("%s %s as %q moved a %s request to %s", method, path, who, before, after)
			}
			if code/100 == 2 && method == "POST" {
				switch {
				case op%6 <= 1 && (who == "requester" || who == "stranger" || who == ""):
					t.Fatalf("%q reviewed request %s: %d %s", who, id, code, out)
				case op%6 == 2 && who != "requester" && who != "admin" && who != "adm":
					t.Fatalf("%q cancelled request %s: %d %s", who, id, code, out)
				case op%6 == 3 && who != "admin" && who != "adm":
					t.Fatalf("%q revoked request %s: %d %s", who, id, code, out)
				}
			}
		}
	})
}

var fuzzEnded = map[string]bool{resource.StateDenied: true, resource.StateExpired: true, resource.StateCancelled: true}

// FuzzAuthorization sends any Authorization header: a made-up or altered token is never accepted,
// and is refused with 401, never with a failure. $ADMIN and $USER stand for real tokens.
func FuzzAuthorization(f *testing.F) {
	a := newFuzzAPI(f)
	for _, s := range []string{"Bearer $ADMIN", "Bearer $USER", "Bearer  $USER \t", "bearer $USER", "Bearer $USERx", "Bearer x$USER", "Bearer wdn_", "Bearer wdn_0123456789abcdef_",
		"Bearer wdn_0123456789abcdef_secret", "Bearer wdn_../../etc/passw_x", "Bearer wdn_%00%00%00%00%00%00%00%00_x", "Basic YTpi", "", "Bearer "} {
		f.Add(s)
	}
	real := map[string]bool{}
	for _, tok := range a.tokens {
		real[tok] = true
	}
	vars := strings.NewReplacer("$ADMIN", a.tokens["admin"], "$USER", a.tokens["requester"])
	f.Fuzz(func(t *testing.T, header string) {
		header = vars.Replace(header)
		req := httptest.NewRequest("GET", "/v1/whoami", nil)
		req.Header.Set("Authorization", header)
		rec := httptest.NewRecorder()
		fuzzcheck.Limit(t, func() { a.h.ServeHTTP(rec, req) })
		switch rec.Code {
		case http.StatusOK:
			tok, _ := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
			if !real[strings.TrimSpace(tok)] {
				t.Fatalf("Authorization %q was accepted: %s", header, rec.Body)
			}
		case http.StatusUnauthorized:
		default:
			t.Fatalf("Authorization %q: %d %s", header, rec.Code, rec.Body)
		}
	})
}
