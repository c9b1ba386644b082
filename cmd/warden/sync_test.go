package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// simState reads the simulator's state through its introspection endpoint.
type simSnapshot struct {
	Users       map[string]struct{ UserName string }
	Groups      map[string]struct{ DisplayName string }
	Memberships map[string]struct {
		GroupId  string
		MemberId struct{ UserId string }
	}
	Assignments map[string]struct {
		AccountId, PermissionSetArn, PrincipalType, PrincipalId string
	}
}

func readSim(t *testing.T, ep string) *simSnapshot {
	t.Helper()
	resp, err := http.Get(ep + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s simSnapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// hasGroup says whether a group of that display name exists.
func (s *simSnapshot) hasGroup(name string) bool {
	for _, g := range s.Groups {
		if g.DisplayName == name {
			return true
		}
	}
	return false
}

// members lists a group's user names, sorted, by display name.
func (s *simSnapshot) members(group string) []string {
	var gid string
	for id, g := range s.Groups {
		if g.DisplayName == group {
			gid = id
		}
	}
	var out []string
	for _, m := range s.Memberships {
		if m.GroupId == gid && gid != "" {
			out = append(out, s.Users[m.MemberId.UserId].UserName)
		}
	}
	sortStrings(out)
	return out
}

func (s *simSnapshot) assignmentsOf(principal string) int {
	ids := map[string]bool{}
	for id, u := range s.Users {
		if u.UserName == principal {
			ids[id] = true
		}
	}
	for id, g := range s.Groups {
		if g.DisplayName == principal {
			ids[id] = true
		}
	}
	n := 0
	for _, a := range s.Assignments {
		if ids[a.PrincipalId] {
			n++
		}
	}
	return n
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func simStats(t *testing.T, ep string) map[string]any {
	t.Helper()
	v, err := httpGetJSON(ep + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func syncEnv(t *testing.T, simURL string) ([]string, string) {
	cfg := writeFile(t, t.TempDir(), "warden.yaml", "identity_center:\n  region: us-east-1\n  retry_max_backoff: 100ms\n")
	return cleanEnv(t, "AWS_ENDPOINT_URL="+simURL, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"), cfg
}

const syncOrg = `
kind: user
version: v1
metadata: {name: zoe@example.com}
spec: {given_name: Zoe, family_name: Park, email: zoe@example.com}
---
kind: role
version: v1
metadata: {name: platform-access}
spec:
  allow:
    account_assignments:
      - {account: Staging, permission_set: AdministratorAccess}
      - {account: Development, permission_set: PowerUserAccess}
      - {account: "*", permission_set: ReadOnlyAccess}
---
kind: access_list
version: v1
metadata: {name: platform}
spec: {title: Platform, owners: [zoe@example.com], grants: {roles: [platform-access]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: platform, member: zoe@example.com}
`

// warden serve with an identity_center section syncs a change made with warden create into the
// simulator, and warden sync plan then reports nothing to do.
func TestServeSyncsToIdentityCenter(t *testing.T) {
	simURL, _, _ := startSim(t, "--seed", "demo")
	env, cfg := syncEnv(t, simURL)
	dataDir := t.TempDir()
	srv := startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--config", cfg)
	if !strings.Contains(srv.log(), "Identity Center sync is on") {
		t.Fatalf("sync not on:\n%s", srv.log())
	}
	cli := append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_DATA_DIR="+dataDir)
	mustRun(t, cli, syncOrg, "create", "-f", "-")
	waitFor(t, func() bool { return strings.Join(readSim(t, simURL).members("Platform"), ",") == "zoe@example.com" }, "Platform to appear in Identity Center with zoe")
	waitFor(t, func() bool { return readSim(t, simURL).assignmentsOf("Platform") == 8 }, "Platform's 8 assignments (6 accounts read-only, 2 more)")
	// A member added with warden create shows up in the group.
	mustRun(t, cli, `{"kind": "user", "version": "v1", "metadata": {"name": "yuri@example.com"}, "spec": {"display_name": "Yuri Ito"}}`, "create", "-f", "-")
	mustRun(t, cli, `{"kind": "access_list_member", "version": "v1", "metadata": {}, "spec": {"list": "platform", "member": "yuri@example.com"}}`, "create", "-f", "-")
	waitFor(t, func() bool {
		return strings.Join(readSim(t, simURL).members("Platform"), ",") == "yuri@example.com,zoe@example.com"
	}, "yuri to join Platform")
	// The demo's own groups are not warden's: untouched.
	if got := strings.Join(readSim(t, simURL).members("DevOps"), ","); got != "alice@example.com,bob@example.com,carol@example.com" {
		t.Fatalf("a group warden does not own changed: %s", got)
	}
	r := run(t, cli, "", "sync", "plan")
	if r.code != 0 || !strings.Contains(r.out, "No changes") {
		t.Fatalf("sync plan after convergence: exit %d\n%s%s", r.code, r.out, r.err)
	}
	// A change behind warden's back is a pending change (exit 2), and apply corrects it.
	mustRun(t, cli, "", "delete", "member", "platform/yuri@example.com")
	waitFor(t, func() bool { return strings.Join(readSim(t, simURL).members("Platform"), ",") == "zoe@example.com" }, "yuri to leave Platform")
	if out := mustRun(t, cli, "", "sync", "status"); !strings.Contains(out, `"last_run"`) || !strings.Contains(out, `"calls"`) ||
		!strings.Contains(out, `"health": "ok"`) || !strings.Contains(out, `"progress": {`) || !strings.Contains(out, `"converged": true`) {
		t.Fatalf("sync status: %s", out)
	}
	// /readyz, which anyone may read, says how the sync is (no error text).
	resp, err := http.Get(srv.addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "ready\nsync: ok (last success 20") {
		t.Fatalf("/readyz: %d %s", resp.StatusCode, body)
	}
	srv.stop(t)

	// Without the section, sync commands say that sync is off.
	srv = startServe(t, cleanEnv(t), "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	r = run(t, append(cleanEnv(t), "WARDEN_ADDR="+srv.addr, "WARDEN_DATA_DIR="+dataDir), "", "sync", "plan")
	if r.code != 1 || !strings.Contains(r.err, "sync is off") {
		t.Fatalf("sync plan with sync off: exit %d %s", r.code, r.err)
	}
	srv.stop(t)
}

// Killed between sending assignment creations and seeing them end, a restarted warden neither sends
// them again nor forgets them.
func TestCrashBetweenCreateAndPoll(t *testing.T) {
	simURL, _, _ := startSim(t, "--seed", "demo", "--provisioning-delay", "3s")
	env, cfg := syncEnv(t, simURL)
	dataDir := t.TempDir()
	srv := startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--config", cfg)
	cli := append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_DATA_DIR="+dataDir)
	mustRun(t, cli, syncOrg, "create", "-f", "-")
	waitFor(t, func() bool {
		out, _ := simStats(t, simURL)["outstanding"].(float64)
		return out >= 8
	}, "the 8 assignment creations to be in flight")
	// Read warden's journal beside it (SQLite lets another process read while it writes).
	st, err := sqlite.Open(context.Background(), filepath.Join(dataDir, "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		recs, err := st.List(context.Background(), resource.KindSyncRecord, store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sent := 0
		for _, r := range recs {
			if s := r.Spec.(*resource.SyncRecordSpec); s.Op == "create" && s.RequestID != "" {
				sent++
			}
		}
		return sent == 8
	}, "the 8 creations' RequestIds to be on record in warden's journal")
	st.Close()
	if out, _ := simStats(t, simURL)["outstanding"].(float64); out < 8 {
		t.Fatalf("only %v creations still in flight when warden is killed: the test proves nothing", out)
	}
	srv.cmd.Process.Signal(syscall.SIGKILL)
	<-srv.done

	srv = startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--config", cfg)
	waitFor(t, func() bool { return readSim(t, simURL).assignmentsOf("Platform") == 8 }, "the 8 assignments after the restart")
	cli = append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_DATA_DIR="+dataDir)
	waitFor(t, func() bool { return run(t, cli, "", "sync", "plan").code == 0 }, "a plan with no changes")
	calls := simStats(t, simURL)["calls"].(map[string]any)
	if n := calls["sso-admin:CreateAccountAssignment"].(float64); n != 8 {
		t.Fatalf("CreateAccountAssignment called %v times for 8 assignments: an operation was repeated", n)
	}
	srv.stop(t)
}

// Two replicas on one PostgreSQL database: one leads the sync; when it dies, the other takes over.
func TestSyncLeaderFailover(t *testing.T) {
	dsn := pgtest.DSN(t)
	simURL, _, _ := startSim(t, "--seed", "demo")
	env, _ := syncEnv(t, simURL)
	cfg := writeFile(t, t.TempDir(), "warden.yaml", "identity_center:\n  region: us-east-1\n  retry_max_backoff: 100ms\n  lease_ttl: 2s\n")
	dirA, dirB := t.TempDir(), t.TempDir()
	a := startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", dirA, "--store", dsn, "--config", cfg)
	waitFor(t, func() bool { return strings.Contains(a.log(), "this replica leads") }, "replica a to lead")
	shareReplicaFiles(t, dirA, dirB) // replicas share the admin token and the audit key
	b := startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", dirB, "--store", dsn, "--config", cfg)
	cliB := append(env, "WARDEN_ADDR="+b.addr, "WARDEN_DATA_DIR="+dirB)
	mustRun(t, cliB, syncOrg, "create", "-f", "-")
	waitFor(t, func() bool { return strings.Join(readSim(t, simURL).members("Platform"), ",") == "zoe@example.com" }, "the leader to sync a change made through the other replica")
	if strings.Contains(b.log(), "this replica leads") {
		t.Fatal("both replicas lead")
	}
	a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
	waitFor(t, func() bool { return strings.Contains(b.log(), "this replica leads") }, "replica b to take over")
	mustRun(t, cliB, `{"kind": "user", "version": "v1", "metadata": {"name": "yuri@example.com"}, "spec": {"display_name": "Yuri Ito"}}`, "create", "-f", "-")
	mustRun(t, cliB, `{"kind": "access_list_member", "version": "v1", "metadata": {}, "spec": {"list": "platform", "member": "yuri@example.com"}}`, "create", "-f", "-")
	waitFor(t, func() bool {
		return strings.Join(readSim(t, simURL).members("Platform"), ",") == "yuri@example.com,zoe@example.com"
	}, "the new leader to sync")
	b.stop(t)
}

// An existing Identity Center is previewed and imported through the CLI; the plan after it is empty.
func TestPreviewAndImport(t *testing.T) {
	simURL, _, _ := startSim(t, "--seed", "demo")
	env, cfg := syncEnv(t, simURL)
	dataDir := t.TempDir()
	srv := startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--config", cfg)
	cli := append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_DATA_DIR="+dataDir)
	out := mustRun(t, cli, "", "integration", "preview")
	for _, want := range []string{"6 accounts, 5 permission sets, 12 users, 4 groups, 2 user-level assignments", "DevOps", "AdministratorAccess-on-staging"} {
		if !strings.Contains(out, want) {
			t.Fatalf("preview lacks %q:\n%s", want, out)
		}
	}
	if r := run(t, cli, "", "integration", "import"); r.code == 0 || !strings.Contains(r.err, "--default-owner") {
		t.Fatalf("import without owners: exit %d %s", r.code, r.err)
	}
	if r := run(t, cli, "", "integration", "import", "--default-owner", "nobody@example.com"); r.code == 0 || !strings.Contains(r.err, `user "nobody@example.com" does not exist`) {
		t.Fatalf("import with an unknown owner: exit %d %s", r.code, r.err)
	}
	mustRun(t, cli, "", "integration", "import", "--default-owner", "alice@example.com")
	if out := mustRun(t, cli, "", "get", "list"); !strings.Contains(out, "devops") || !strings.Contains(out, "alice@example.com") {
		t.Fatalf("lists after import:\n%s", out)
	}
	waitFor(t, func() bool { return run(t, cli, "", "sync", "plan").code == 0 }, "an empty plan after the import")
	// The loop did not change the demo's groups: DevOps keeps its members.
	if got := strings.Join(readSim(t, simURL).members("DevOps"), ","); got != "alice@example.com,bob@example.com,carol@example.com" {
		t.Fatalf("DevOps after import: %s", got)
	}
	srv.stop(t)
}

// warden integration uninstall, driven by the CLI against the demo: it asks, deletes what warden
// made (a group it created and that group's assignment), keeps what it imported, stops the sync,
// and an import takes the sync up again.
func TestUninstallCLI(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t)
	d := startCmd(t, env, "demo", "--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0", "--data-dir", dataDir)
	defer d.stop(t)
	waitFor(t, func() bool { return demoSimRE.MatchString(d.stdout.String()) }, "the demo's instructions")
	simURL := demoSimRE.FindStringSubmatch(d.stdout.String())[1]
	cli := append(env, "WARDEN_ADDR="+d.addr, "WARDEN_DATA_DIR="+dataDir)
	mustRun(t, cli, `
kind: access_list
version: v1
metadata: {name: oncall}
spec: {title: On call, owners: [alice@example.com], grants: {roles: [AdministratorAccess-on-production]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: oncall, member: kemi@example.com}
`, "create", "-f", "-")
	waitFor(t, func() bool { return readSim(t, simURL).assignmentsOf("On call") == 1 }, "the On call group and its assignment")
	devs := readSim(t, simURL).assignmentsOf("Developers")

	// A misspelt field is refused, not ignored: {"dryrun": true} must not uninstall for real.
	tok, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", d.addr+"/v1/integration/uninstall", strings.NewReader(`{"dryrun": true}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `unknown field \"dryrun\"`) {
		t.Fatalf("uninstall with a misspelt field: %d %s", resp.StatusCode, body)
	}
	if r := run(t, cli, "no\n", "integration", "uninstall", "--delete-groups"); r.code == 0 || !strings.Contains(r.out, "assignment AdministratorAccess on Production (637423191929) for GROUP On call") ||
		!strings.Contains(r.out, "group On call") || !strings.Contains(r.err, "not confirmed") {
		t.Fatalf("unconfirmed uninstall: %+v", r)
	}
	if readSim(t, simURL).assignmentsOf("On call") != 1 {
		t.Fatal("an unconfirmed uninstall changed Identity Center")
	}
	out := mustRun(t, cli, "", "integration", "uninstall", "--delete-groups", "--yes")
	if !strings.Contains(out, "Done: 1 assignments and 1 groups deleted") || !strings.Contains(out, "Left to do in AWS") {
		t.Fatalf("uninstall:\n%s", out)
	}
	after := readSim(t, simURL)
	for _, g := range after.Groups {
		if g.DisplayName == "On call" {
			t.Fatal("the group warden created is still there")
		}
	}
	if after.assignmentsOf("Developers") != devs || len(after.members("Developers")) == 0 {
		t.Fatal("uninstall touched an imported group")
	}
	if r := run(t, cli, "", "sync", "plan"); r.code == 0 || !strings.Contains(r.err, "uninstalled") {
		t.Fatalf("sync plan after uninstall: %+v", r)
	}
	// A change in warden reaches Identity Center no more...
	mustRun(t, cli, `{"kind": "access_list_member", "version": "v1", "metadata": {}, "spec": {"list": "developers", "member": "lena@example.com"}}`, "create", "-f", "-")
	if r := run(t, cli, "", "sync", "apply"); r.code == 0 || !strings.Contains(r.err, "uninstalled") {
		t.Fatalf("sync apply after uninstall: %+v", r)
	}
	// ...until an import takes the integration up again; then the sync catches up.
	mustRun(t, cli, "", "integration", "import", "--default-owner", "alice@example.com")
	waitFor(t, func() bool {
		s := readSim(t, simURL)
		return s.assignmentsOf("On call") == 1 && strings.Contains(strings.Join(s.members("Developers"), ","), "lena@example.com")
	}, "the sync to resume after the import")
}

// A user warden adopted (there before it) and no longer has stays in Identity Center, unmanaged;
// warden sync plan names it, and --delete-in-aws plans and makes its deletion.
func TestSyncDeleteInAWS(t *testing.T) {
	simURL, _, _ := startSim(t, "--seed", "demo")
	env, cfg := syncEnv(t, simURL)
	dataDir := t.TempDir()
	srv := startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--config", cfg)
	defer srv.stop(t)
	cli := append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_DATA_DIR="+dataDir)
	has := func(name string) bool {
		for _, u := range readSim(t, simURL).Users {
			if u.UserName == name {
				return true
			}
		}
		return false
	}
	// alice@example.com exists in Identity Center (in DevOps and Everyone): warden adopts her.
	mustRun(t, cli, `{"kind": "user", "version": "v1", "metadata": {"name": "alice@example.com"}, "spec": {"display_name": "Alice"}}`, "create", "-f", "-")
	waitFor(t, func() bool {
		r := run(t, cli, "", "sync", "plan")
		return r.code == 0 && strings.Contains(r.out, "No changes")
	}, "alice adopted")
	mustRun(t, cli, "", "delete", "user", "alice@example.com")
	var r result
	waitFor(t, func() bool {
		r = run(t, cli, "", "sync", "plan")
		return r.code == 0 && strings.Contains(r.out, "--delete-in-aws deletes them): user alice@example.com.")
	}, "alice left in Identity Center, named by the plan")
	if !strings.Contains(r.out, "No changes") || !has("alice@example.com") {
		t.Fatalf("sync plan after alice left warden:\n%s", r.out)
	}
	r = run(t, cli, "", "sync", "plan", "--delete-in-aws")
	if want := "- delete user alice@example.com (there before warden; with its 2 memberships in groups warden does not manage)"; r.code != 2 || !strings.Contains(r.out, want) {
		t.Fatalf("sync plan --delete-in-aws: exit %d, want 2 and %q:\n%s%s", r.code, want, r.out, r.err)
	}
	out := mustRun(t, cli, "", "sync", "apply", "--delete-in-aws")
	if !strings.Contains(out, "Applied 1 operation.") || has("alice@example.com") {
		t.Fatalf("sync apply --delete-in-aws:\n%s", out)
	}
}
