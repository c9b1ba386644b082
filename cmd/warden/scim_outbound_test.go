package main

import (
	"regexp"
	"strings"
	"testing"
)

// With identity_center.directory: scim, warden serve writes Identity Center's users, groups and
// memberships over the SCIM endpoint, with the token an administrator pipes into warden
// integration scim-token set; until then, status and the CLI say what is missing. The simulator's
// counts prove nothing was written through the identitystore API.
func TestServeSyncsOverSCIM(t *testing.T) {
	simURL, _, simOut := startSim(t, "--seed", "demo")
	token := regexp.MustCompile(`\(bearer token ([^)\s]+)\)`).FindStringSubmatch(simOut.String())
	if token == nil {
		t.Fatalf("the simulator did not print its SCIM token:\n%s", simOut.String())
	}
	env, _ := syncEnv(t, simURL)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "warden.yaml", "identity_center:\n  region: us-east-1\n  retry_max_backoff: 100ms\n  directory: scim\n  scim:\n    endpoint: "+simURL+"/scim/v2\n")
	dataDir := t.TempDir()
	srv := startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--config", cfg)
	if !strings.Contains(srv.log(), "writes Identity Center's directory over SCIM") {
		t.Fatalf("SCIM mode not on:\n%s", srv.log())
	}
	cli := append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_DATA_DIR="+dataDir)
	if out := mustRun(t, cli, "", "integration", "scim-token", "status"); !strings.Contains(out, "Directory: scim") || !strings.Contains(out, "Warning: no SCIM token") {
		t.Fatalf("status without a token:\n%s", out)
	}
	if r := run(t, cli, "", "integration", "scim-token", "set"); r.code == 0 || !strings.Contains(r.err, "no token on standard input") {
		t.Fatalf("set with nothing piped in: exit %d %s", r.code, r.err)
	}
	if r := run(t, cli, "", "integration", "scim-test"); r.code == 0 || !strings.Contains(r.err, "no SCIM token") {
		t.Fatalf("scim-test without a token: exit %d %s%s", r.code, r.out, r.err)
	}
	out := mustRun(t, cli, token[1]+"\n", "integration", "scim-token", "set")
	if !strings.Contains(out, "Set SCIM token sha256:") || strings.Contains(out, token[1]) {
		t.Fatalf("set: %s", out)
	}
	if out := mustRun(t, cli, "", "integration", "scim-test"); !strings.Contains(out, "SCIM connection works (token 1") {
		t.Fatalf("scim-test: %s", out)
	}
	mustRun(t, cli, syncOrg, "create", "-f", "-")
	waitFor(t, func() bool { return strings.Join(readSim(t, simURL).members("Platform"), ",") == "zoe@example.com" }, "Platform to appear in Identity Center with zoe, over SCIM")
	waitFor(t, func() bool { return readSim(t, simURL).assignmentsOf("Platform") == 8 }, "Platform's 8 assignments")
	calls := simStats(t, simURL)["calls"].(map[string]any)
	scim := 0
	for op, n := range calls {
		name, isIDS := strings.CutPrefix(op, "identitystore:")
		if isIDS && (strings.HasPrefix(name, "Create") || strings.HasPrefix(name, "Update") || strings.HasPrefix(name, "Delete")) {
			t.Errorf("in SCIM mode warden wrote through identitystore: %s x%v", op, n)
		}
		if strings.HasPrefix(op, "scim:POST") || strings.HasPrefix(op, "scim:PATCH") {
			scim += int(n.(float64))
		}
	}
	if scim < 3 { // zoe, Platform, zoe's membership
		t.Fatalf("%d SCIM writes: %v", scim, calls)
	}
	if out := mustRun(t, cli, "", "integration", "scim-token", "status"); !strings.Contains(out, "accepted 20") || strings.Contains(out, "Warning") {
		t.Fatalf("status after the sync:\n%s", out)
	}
	if out := mustRun(t, cli, "", "sync", "status"); !strings.Contains(out, `"directory": "scim"`) || !strings.Contains(out, `"converged": true`) {
		t.Fatalf("sync status: %s", out)
	}
	if strings.Contains(srv.log(), token[1]) {
		t.Fatal("the SCIM token is in warden's log")
	}
}
