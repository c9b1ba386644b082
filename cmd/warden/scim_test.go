package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// warden serve with scim.connectors serves /scim/v2/; warden scim token create prints a
// connector's token once, and a second replaces the first; the users the connector provisions
// show their origin in warden get user.
func TestSCIMTokenCLI(t *testing.T) {
	dataDir := t.TempDir()
	cfg := writeFile(t, t.TempDir(), "warden.yaml", "scim:\n  connectors:\n    - name: entra\n      default_owners: [alice]\n")
	env := cleanEnv(t, "WARDEN_DATA_DIR="+dataDir)
	srv := startServe(t, env, "--listen", "127.0.0.1:0", "--config", cfg)
	defer srv.stop(t)
	cli := append(env, "WARDEN_ADDR="+srv.addr)

	scimCall := func(token, method, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.addr+"/scim/v2/Users", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	r := run(t, cli, "", "scim", "token", "create", "entra")
	first := strings.TrimSpace(r.out)
	if r.code != 0 || !strings.HasPrefix(first, "wsc_entra_") || !strings.Contains(r.err, srv.addr+"/scim/v2/") {
		t.Fatalf("token create: exit %d, out %q, err %q", r.code, r.out, r.err)
	}
	if code := scimCall(first, "GET", ""); code != 200 {
		t.Fatalf("GET /scim/v2/Users with the token: %d", code)
	}
	r = run(t, cli, "", "scim", "token", "create", "entra")
	second := strings.TrimSpace(r.out)
	if r.code != 0 || second == first || !strings.Contains(r.err, "the former one no longer works") {
		t.Fatalf("rotation: exit %d, err %q", r.code, r.err)
	}
	if code := scimCall(first, "GET", ""); code != 401 {
		t.Fatalf("the replaced token: %d, want 401", code)
	}
	if r := run(t, cli, "", "scim", "token", "create", "okta"); r.code == 0 || !strings.Contains(r.err, `"okta" is not a SCIM connector`) {
		t.Fatalf("an unknown connector: exit %d %s", r.code, r.err)
	}
	if code := scimCall(second, "POST", `{"userName": "ann@example.com", "active": true}`); code != 201 {
		t.Fatalf("provisioning a user: %d", code)
	}
	if out := mustRun(t, cli, "", "get", "user"); !strings.Contains(out, "ORIGIN") || !strings.Contains(out, "scim:entra") {
		t.Fatalf("get user shows no origin:\n%s", out)
	}
	if strings.Contains(srv.log(), strings.TrimPrefix(second, "wsc_entra_")) {
		t.Fatal("the token is in the server's log")
	}
}
