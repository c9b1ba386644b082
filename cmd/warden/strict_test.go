package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// A misspelt subcommand, at any level, is an error that suggests the right one and exits 1; a
// command that only groups others, given nothing, shows its help.
func TestUnknownSubcommandsAreErrors(t *testing.T) {
	env := cleanEnv(t)
	for _, c := range []struct {
		args       []string
		parent     string
		suggestion string
	}{
		{[]string{"request", "craete", "--roles", "x"}, "warden request", "create"},
		{[]string{"sync", "plna"}, "warden sync", "plan"},
		{[]string{"list", "members", "ad", "ops", "bob"}, "warden list members", "add"},
		{[]string{"token", "revok", "abc"}, "warden token", "revoke"},
		{[]string{"integration", "improt"}, "warden integration", "import"},
		{[]string{"audit", "verfy"}, "warden audit", "verify"},
		{[]string{"craete", "-f", "x.yaml"}, "warden", "create"},
	} {
		r := run(t, env, "", c.args...)
		// The unknown word is the one after the parent's path.
		want := `unknown command "` + c.args[0+strings.Count(c.parent, " ")] + `" for "` + c.parent + `"`
		if r.code != 1 || !strings.Contains(r.err, want) || !strings.Contains(r.err, "Did you mean this?\n\t"+c.suggestion) {
			t.Errorf("warden %s: exit %d\n%s\nwant exit 1, %s, and the suggestion %s", strings.Join(c.args, " "), r.code, r.err+r.out, want, c.suggestion)
		}
	}
	if r := run(t, env, "", "request"); r.code != 0 || !strings.Contains(r.out, "Available Commands:") || !strings.Contains(r.out, "create") {
		t.Errorf("warden request alone: exit %d\n%s%s", r.code, r.out, r.err)
	}
}

// warden version and --version say the same: the version, the module, the commit, the Go release.
func TestVersion(t *testing.T) {
	env := cleanEnv(t)
	v := mustRun(t, env, "", "version")
	if flag := mustRun(t, env, "", "--version"); flag != v {
		t.Fatalf("--version:\n%s\nwarden version:\n%s", flag, v)
	}
	lines := strings.Split(strings.TrimSpace(v), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "warden ") || lines[1] != "module github.com/wardenhq/warden" ||
		!strings.HasPrefix(lines[2], "commit ") || !strings.HasPrefix(lines[3], "go1.") {
		t.Fatalf("warden version:\n%s", v)
	}
	// The commit is the checkout's when Go recorded it, else it says why it is unknown.
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err == nil && !strings.Contains(lines[2], strings.TrimSpace(string(head))) && !strings.Contains(lines[2], "unknown: built without version control information") {
		t.Fatalf("commit line %q: neither HEAD %s nor why it is unknown", lines[2], head)
	}
}

// A build from a git checkout (go build, go install) names the commit Go recorded, and its time;
// a version set at build time wins over the module's.
func TestVersionFromBuildInfo(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/wardenhq/warden", Version: "v0.0.0-20261129203500-36dc877abcde+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "36dc877abcdef0123456789abcdef0123456789a"}, {Key: "vcs.time", Value: "2026-11-29T20:35:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := formatVersion("", "", info)
	for _, want := range []string{"warden v0.0.0-20261129203500-36dc877abcde+dirty\n", "module github.com/wardenhq/warden\n",
		"commit 36dc877abcdef0123456789abcdef0123456789a (2026-11-29T20:35:00Z, with uncommitted changes)\n", "go1.26.8 "} {
		if !strings.Contains(got, want) {
			t.Errorf("version text lacks %q:\n%s", want, got)
		}
	}
	if got := formatVersion("v1.2.0", "abc123", info); !strings.HasPrefix(got, "warden v1.2.0\n") || !strings.Contains(got, "commit abc123 ") {
		t.Errorf("with -ldflags -X main.version=v1.2.0 -X main.commit=abc123:\n%s", got)
	}
}

const requestsYAML = `
kind: role
version: v1
metadata: {name: dev}
spec: {allow: {request: {roles: [staging-admin], max_duration: 2h}}}
---
kind: user
version: v1
metadata: {name: dan}
spec: {roles: [dev]}
`

// warden apply refuses a file whose metadata.revision is stale, naming it, and writes nothing;
// filters that name nothing are errors naming the flag; states are read in any case.
func TestStaleApplyAndFiltersThatNameNothing(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t, "WARDEN_DATA_DIR="+dataDir)
	srv := startServe(t, env, "--listen", "127.0.0.1:0")
	cli := append(env, "WARDEN_ADDR="+srv.addr)
	mustRun(t, cli, orgYAML+"---\n"+requestsYAML, "create", "-f", "-")

	read := mustRun(t, cli, "", "get", "role", "staging-admin", "-o", "yaml")
	if !regexp.MustCompile(`(?m)^  revision: \d+$`).MatchString(read) {
		t.Fatalf("get -o yaml has no metadata.revision:\n%s", read)
	}
	mustRun(t, cli, strings.Replace(read, "Admin on staging", "changed by someone else", 1), "apply", "-f", "-")
	stale := writeFile(t, t.TempDir(), "role.yaml", strings.Replace(read, "Admin on staging", "my change", 1)+"---\n"+
		"kind: user\nversion: v1\nmetadata: {name: zed}\nspec: {}\n")
	r := run(t, cli, "", "apply", "-f", stale)
	if r.code != 1 || !strings.Contains(r.err, stale+`: document 1 (role "staging-admin"): `) || !strings.Contains(r.err, "has changed since") {
		t.Fatalf("applying a stale file: exit %d\n%s", r.code, r.err)
	}
	if out := mustRun(t, cli, "", "get", "role", "staging-admin", "-o", "yaml"); !strings.Contains(out, "changed by someone else") {
		t.Fatalf("the newer change was overwritten:\n%s", out)
	}
	if r := run(t, cli, "", "get", "user", "zed"); r.code == 0 {
		t.Fatal("the rest of the refused file was written")
	}
	blind := regexp.MustCompile(`(?m)^  revision: \d+\n`).ReplaceAllString(strings.Replace(read, "Admin on staging", "my change", 1), "")
	if out := mustRun(t, cli, blind, "apply", "-f", "-"); !strings.Contains(out, `role "staging-admin" updated`) {
		t.Fatalf("applying without a revision: %s", out)
	}

	tok := strings.TrimSpace(mustRun(t, cli, "", "token", "create", "--user", "dan"))
	dan := append(cleanEnv(t), "WARDEN_ADDR="+srv.addr, "WARDEN_TOKEN="+tok)
	id := strings.TrimSpace(mustRun(t, dan, "", "request", "create", "--roles", "staging-admin", "-o", "name"))
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{cli, []string{"get", "request", "--state", "BOGUS"}, `--state: "BOGUS" is not a request state (PENDING, APPROVED, DENIED, EXPIRED, CANCELLED; any case)`},
		{dan, []string{"request", "ls", "--state", "pendng"}, `--state: "pendng" is not a request state`},
		{cli, []string{"get", "member", "--list", "nosuchlist"}, `--list: access list "nosuchlist" does not exist`},
		{cli, []string{"get", "member", "--member", "nobody"}, `--member: no user or access list is named "nobody"`},
		{cli, []string{"audit", "ls", "--kind", "rolez"}, `--kind: "rolez" is not a kind`},
		{cli, []string{"get", "user", "-o", "yml"}, `-o "yml": use table, yaml, json or name`},
	} {
		if r := run(t, c.env, "", c.args...); r.code != 1 || !strings.Contains(r.err, c.want) {
			t.Errorf("warden %s: exit %d %s%s; want exit 1 and %s", strings.Join(c.args, " "), r.code, r.out, r.err, c.want)
		}
	}
	for _, args := range [][]string{{"get", "request", "--state", "pending", "-o", "name"}, {"request", "ls", "--state", "Pending", "-o", "name"}} {
		if out := mustRun(t, cli, "", args...); strings.TrimSpace(out) != id {
			t.Errorf("warden %s: %q, want the request %s", strings.Join(args, " "), out, id)
		}
	}
	if out := mustRun(t, cli, "", "audit", "ls", "--kind", "roles", "-o", "json"); !strings.Contains(out, `"kind": "role"`) {
		t.Errorf("audit ls --kind roles (a plural):\n%.500s", out)
	}
	srv.stop(t)
}

// Without a token, a client of a server on this machine finds its admin.token by itself: that of
// warden serve's default data directory or of warden demo's, whichever the server accepts, and
// warden whoami says which.
func TestClientFindsTheLocalAdminToken(t *testing.T) {
	state := t.TempDir()
	env := cleanEnv(t)
	env = append(env, "XDG_STATE_HOME="+state) // the later value wins
	serveDir, demoDir := filepath.Join(state, "warden"), filepath.Join(state, "warden", "demo")
	serve := startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", serveDir)
	demo := startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", demoDir)
	for _, c := range []struct {
		srv *serveProc
		dir string
	}{{serve, serveDir}, {demo, demoDir}} {
		out := mustRun(t, append(env, "WARDEN_ADDR="+c.srv.addr), "", "whoami")
		for _, want := range []string{"server:    " + c.srv.addr, "user:      warden:admin (an administrator)", "found:     " + filepath.Join(c.dir, "admin.token")} {
			if !strings.Contains(out, want) {
				t.Errorf("whoami against %s lacks %q:\n%s", c.srv.addr, want, out)
			}
		}
		mustRun(t, append(env, "WARDEN_ADDR="+c.srv.addr), "", "get", "user")
	}
	// WARDEN_DATA_DIR names the one to use; a token given is used as it is.
	if r := run(t, append(env, "WARDEN_ADDR="+demo.addr, "WARDEN_DATA_DIR="+serveDir), "", "get", "user"); r.code != 1 || !strings.Contains(r.err, "unknown or revoked token") {
		t.Errorf("the serve token against the demo: exit %d %s", r.code, r.err)
	}
	mustRun(t, append(env, "WARDEN_ADDR="+demo.addr), "kind: user\nversion: v1\nmetadata: {name: dan}\nspec: {}\n", "create", "-f", "-")
	tok := strings.TrimSpace(mustRun(t, append(env, "WARDEN_ADDR="+demo.addr), "", "token", "create", "--user", "dan"))
	out := mustRun(t, append(env, "WARDEN_ADDR="+demo.addr, "WARDEN_TOKEN="+tok), "", "whoami")
	if !strings.Contains(out, "user:      dan (a user)") || !strings.Contains(out, "issued by warden:admin") || strings.Contains(out, "found:") {
		t.Errorf("whoami with dan's token:\n%s", out)
	}
	serve.stop(t)
	demo.stop(t)
}

// warden apply of a role naming an account or permission set warden does not know writes it, warns
// naming the file, the document and the field, and the role shows the problem until the catalog
// has what it names.
func TestRoleNamingWhatTheCatalogLacksWarns(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t, "WARDEN_DATA_DIR="+dataDir)
	srv := startServe(t, env, "--listen", "127.0.0.1:0")
	cli := append(env, "WARDEN_ADDR="+srv.addr)
	mustRun(t, cli, `
kind: account
version: v1
metadata: {name: "058264527036"}
spec: {name: Staging}
---
kind: permission_set
version: v1
metadata: {name: AdministratorAccess}
spec: {}
`, "create", "-f", "-")
	file := writeFile(t, t.TempDir(), "roles.yaml", `
kind: role
version: v1
metadata: {name: staging-admin}
spec: {allow: {account_assignments: [{account: Staging, permission_set: AdministratorAccess}]}}
---
kind: role
version: v1
metadata: {name: prod-admin}
spec: {allow: {account_assignments: [{account: Prodution, permission_set: AdministratorAccess}]}}
`)
	r := run(t, cli, "", "apply", "-f", file)
	want := "warning: " + file + `: document 2 (role "prod-admin"): spec.allow.account_assignments[0]: account "Prodution" matches no account warden knows, so this grants nothing (warden get account)`
	if r.code != 0 || !strings.Contains(r.out, `role "prod-admin" created`) || strings.TrimSpace(r.err) != want {
		t.Fatalf("apply: exit %d\nstdout: %s\nstderr: %s\nwant the warning:\n%s", r.code, r.out, r.err, want)
	}
	roles := mustRun(t, cli, "", "get", "role")
	if !regexp.MustCompile(`(?m)^prod-admin .*1 \(-o yaml: status.problems\)$`).MatchString(roles) || !regexp.MustCompile(`(?m)^staging-admin .* -$`).MatchString(roles) {
		t.Fatalf("roles table:\n%s", roles)
	}
	if y := mustRun(t, cli, "", "get", "role", "prod-admin", "-o", "yaml"); !strings.Contains(y, "status:\n  problems:\n    - 'spec.allow.account_assignments[0]: account \"Prodution\" matches no account") {
		t.Fatalf("prod-admin as YAML:\n%s", y)
	}
	srv.stop(t)
}
