package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/testenv"
)

var wardenBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "warden-cli-test")
	if err != nil {
		panic(err)
	}
	wardenBin = filepath.Join(dir, "warden")
	build := exec.Command("go", "build", "-o", wardenBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building warden:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cleanEnv is the environment without WARDEN_* settings, and with private state and config directories, so that
// neither the developer's settings nor their data leak into a test.
func cleanEnv(t testing.TB, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WARDEN_") && !strings.HasPrefix(kv, "XDG_STATE_HOME=") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			env = append(env, kv)
		}
	}
	// The config directory too: warden login's credentials.json must not leak in.
	env = append(env, "XDG_STATE_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	return append(env, extra...)
}

type serveProc struct {
	cmd    *exec.Cmd
	addr   string
	dir    string
	mu     sync.Mutex
	stderr bytes.Buffer
	stdout syncBuffer
	done   chan error
}

func (s *serveProc) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

var servingRE = regexp.MustCompile(`msg="warden is serving" addr=(\S+)`)

// startServe runs `warden serve` and waits until it listens.
func startServe(t testing.TB, env []string, args ...string) *serveProc {
	t.Helper()
	return startCmd(t, env, append([]string{"serve"}, args...)...)
}

// startCmd runs a server command (serve, demo) and waits until it listens.
func startCmd(t testing.TB, env []string, args ...string) *serveProc {
	t.Helper()
	s := &serveProc{done: make(chan error, 1)}
	s.cmd = exec.Command(wardenBin, args...)
	s.cmd.Stdout = &s.stdout
	s.cmd.Env = env
	pr, pw := io.Pipe()
	s.cmd.Stderr = pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.mu.Lock()
			s.stderr.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { s.done <- s.cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	select {
	case s.addr = <-found:
	case err := <-s.done:
		t.Fatalf("warden serve exited early (%v):\n%s", err, s.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("warden serve did not start in 60s:\n%s", s.log())
	}
	return s
}

// stop sends SIGTERM and expects a clean exit.
func (s *serveProc) stop(t testing.TB) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("warden serve exited with %v after SIGTERM:\n%s", err, s.log())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("warden serve did not stop within 30s of SIGTERM")
	}
	if !strings.Contains(s.log(), "stopped") {
		t.Fatalf("no clean shutdown in the log:\n%s", s.log())
	}
}

type result struct {
	out, err string
	code     int
}

// run runs a warden client command.
func run(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(wardenBin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func mustRun(t *testing.T, env []string, stdin string, args ...string) string {
	t.Helper()
	r := run(t, env, stdin, args...)
	if r.code != 0 {
		t.Fatalf("warden %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r.out
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const orgYAML = `
kind: user
version: v1
metadata: {name: alice}
spec: {email: alice@example.com, admin: true}
---
kind: user
version: v1
metadata: {name: bob}
spec: {email: bob@example.com}
---
kind: role
version: v1
metadata: {name: staging-admin, description: Admin on staging}
spec:
  allow:
    account_assignments:
      - {account: 058264527036, permission_set: AdministratorAccess}
---
kind: access_list
version: v1
metadata: {name: ops}
spec: {title: Ops, owners: [alice], grants: {roles: [staging-admin]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: ops, member: bob, reason: on call}
`

func TestServeCreateGetApplyDeleteRestart(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	env := cleanEnv(t)
	srv := startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", dataDir)

	tokenFile := filepath.Join(dataDir, "admin.token")
	fi, err := os.Stat(tokenFile)
	if err != nil {
		t.Fatalf("no admin token after first start: %v\n%s", err, srv.log())
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin.token mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(srv.log(), tokenFile) {
		t.Fatalf("the server did not say where the admin token is:\n%s", srv.log())
	}
	token, _ := os.ReadFile(tokenFile)
	cli := append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_TOKEN="+strings.TrimSpace(string(token)))

	dir := t.TempDir()
	org := writeFile(t, dir, "org.yaml", orgYAML)
	out := mustRun(t, cli, "", "create", "-f", org)
	for _, want := range []string{`user "alice" created`, `access_list_member "ops/bob" created`} {
		if !strings.Contains(out, want) {
			t.Fatalf("create output lacks %q:\n%s", want, out)
		}
	}

	// The table is aligned: every row's columns start where the header's do.
	table := mustRun(t, cli, "", "get", "users")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("user table:\n%s", table)
	}
	col := strings.Index(lines[0], "DISPLAY NAME")
	for _, l := range lines[1:] {
		if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Fatalf("column DISPLAY NAME (at %d) not aligned in:\n%s", col, table)
		}
	}

	// YAML output applies back unchanged; the unquoted account id kept its leading zero.
	y := mustRun(t, cli, "", "get", "role", "staging-admin", "-o", "yaml")
	if !strings.Contains(y, `account: "058264527036"`) {
		t.Fatalf("role as YAML:\n%s", y)
	}
	if out := mustRun(t, cli, y, "apply", "-f", "-"); !strings.Contains(out, `role "staging-admin" unchanged`) {
		t.Fatalf("re-applying get output: %s", out)
	}
	changed := strings.Replace(y, "Admin on staging", "Administrators on staging", 1)
	if out := mustRun(t, cli, changed, "apply", "-f", "-"); !strings.Contains(out, `role "staging-admin" updated`) {
		t.Fatalf("applying a change: %s", out)
	}
	var members []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, cli, "", "get", "member", "--list", "ops", "-o", "json")), &members); err != nil || len(members) != 1 {
		t.Fatalf("members as JSON: %v %v", members, err)
	}

	// Deleting a role a list grants is refused and says why; exit status is non-zero.
	r := run(t, cli, "", "delete", "role", "staging-admin")
	if r.code == 0 || !strings.Contains(r.err, `access_list "ops"`) {
		t.Fatalf("deleting a granted role: exit %d, %s", r.code, r.err)
	}
	mustRun(t, cli, "", "delete", "member", "ops/bob")
	if r := run(t, cli, "", "get", "member", "ops/bob"); r.code == 0 || !strings.Contains(r.err, "not found") {
		t.Fatalf("get after delete: exit %d %s", r.code, r.err)
	}

	srv.stop(t)

	// A restart reuses the token and keeps the data.
	srv = startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	again, _ := os.ReadFile(tokenFile)
	if string(again) != string(token) {
		t.Fatal("the admin token changed across a restart")
	}
	if !strings.Contains(srv.log(), "using the admin API token") {
		t.Fatalf("restart log:\n%s", srv.log())
	}
	cli = append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_TOKEN="+strings.TrimSpace(string(token)))
	if out := mustRun(t, cli, "", "get", "role", "staging-admin", "-o", "json"); !strings.Contains(out, "Administrators on staging") {
		t.Fatalf("data after restart: %s", out)
	}
	srv.stop(t)
}

func TestFailedCreateKeepsNothingAndNamesTheDocument(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t, "WARDEN_DATA_DIR="+dataDir)
	srv := startServe(t, env, "--listen", "127.0.0.1:0")
	// No WARDEN_TOKEN: the CLI uses the data directory's admin token.
	cli := append(env, "WARDEN_ADDR="+srv.addr)
	dir := t.TempDir()
	mustRun(t, cli, "", "create", "-f", writeFile(t, dir, "base.yaml", orgYAML))
	snapshot := func() string {
		var b strings.Builder
		for _, k := range []string{"user", "role", "access_list", "access_list_member"} {
			b.WriteString(mustRun(t, cli, "", "get", k, "-o", "json"))
		}
		return b.String()
	}
	before := snapshot()

	// Validation error, caught before anything is sent.
	roles := writeFile(t, dir, "roles.yaml", `
kind: role
version: v1
metadata: {name: a}
spec: {allow: {}}
---
kind: role
version: v1
metadata: {name: b}
spec: {allow: {}}
---
kind: role
version: v1
metadata: {name: dev}
spec:
  allow:
    account_assignments:
      - {account: "058264527036", permission_set: ReadOnlyAccess}
      - {account: "12345", permission_set: ReadOnlyAccess}
`)
	r := run(t, cli, "", "create", "-f", roles)
	want := roles + `: document 3 (role "dev"): spec.allow.account_assignments[1].account: "12345" is not a 12-digit account id, an account name or a glob`
	if r.code == 0 || strings.TrimSpace(r.err) != "error: "+want {
		t.Fatalf("exit %d, stderr:\n%s\nwant:\nerror: %s", r.code, r.err, want)
	}

	// Reference error, caught by the server after earlier documents were written in the transaction.
	refs := writeFile(t, dir, "refs.yaml", `
kind: user
version: v1
metadata: {name: carol}
spec: {}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: ops, member: carol}
---
kind: access_list
version: v1
metadata: {name: broken}
spec: {title: Broken, owners: [carol], grants: {roles: [no-such-role]}}
`)
	r = run(t, cli, "", "create", "-f", roles[:len(roles)-len("roles.yaml")]+"base.yaml", "-f", refs)
	if r.code == 0 || !strings.Contains(r.err, "base.yaml: document 1 (user \"alice\")") {
		t.Fatalf("re-creating existing resources: exit %d %s", r.code, r.err)
	}
	r = run(t, cli, "", "create", "-f", refs)
	want = refs + `: document 3 (access_list "broken"): spec.grants.roles[0]: role "no-such-role" does not exist`
	if r.code == 0 || strings.TrimSpace(r.err) != "error: "+want {
		t.Fatalf("exit %d, stderr:\n%s\nwant:\nerror: %s", r.code, r.err, want)
	}
	if after := snapshot(); after != before {
		t.Fatalf("a failed create changed the store:\nbefore %s\nafter %s", before, after)
	}
	// Unknown fields and bad YAML name their document too.
	bad := writeFile(t, dir, "bad.yaml", "kind: user\nversion: v1\nmetadata: {name: x}\nspec: {emial: x@example.com}\n")
	if r := run(t, cli, "", "apply", "-f", bad); r.code == 0 || !strings.Contains(r.err, `bad.yaml: document 1 (user "x"): spec.emial: unknown field`) {
		t.Fatalf("unknown field: exit %d %s", r.code, r.err)
	}
	srv.stop(t)
}

func TestTokenCreateActsAsUser(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t, "WARDEN_DATA_DIR="+dataDir)
	// The minted tokens administer: exempt from step-up, as automation's would be.
	cfg := writeFile(t, t.TempDir(), "warden.yaml", "auth: {step_up_exempt_tokens: true}\n")
	srv := startServe(t, env, "--listen", "127.0.0.1:0", "--config", cfg)
	cli := append(env, "WARDEN_ADDR="+srv.addr)
	mustRun(t, cli, "", "create", "-f", writeFile(t, t.TempDir(), "org.yaml", orgYAML))
	if r := run(t, cli, "", "token", "create", "--user", "nobody"); r.code == 0 || !strings.Contains(r.err, `user "nobody" does not exist`) {
		t.Fatalf("token for a missing user: exit %d %s", r.code, r.err)
	}
	tok := strings.TrimSpace(mustRun(t, cli, "", "token", "create", "--user", "bob", "--ttl", "1h"))
	bob := append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_TOKEN="+tok)
	if out := mustRun(t, bob, "", "get", "roles"); !strings.Contains(out, "staging-admin") {
		t.Fatalf("bob listing roles: %s", out)
	}
	r := run(t, bob, "", "delete", "role", "staging-admin")
	if r.code == 0 || !strings.Contains(r.err, "only administrators") {
		t.Fatalf("bob deleting a role: exit %d %s", r.code, r.err)
	}
	if r := run(t, bob, "", "token", "create", "--user", "alice"); r.code == 0 || !strings.Contains(r.err, "only administrators") {
		t.Fatalf("bob issuing a token: exit %d %s", r.code, r.err)
	}
	// alice is an admin user: her token may do what the bootstrap token may.
	aliceTok := strings.TrimSpace(mustRun(t, cli, "", "token", "create", "--user", "alice"))
	alice := append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_TOKEN="+aliceTok)
	mustRun(t, alice, "", "delete", "member", "ops/bob")
	if r := run(t, append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_TOKEN=wdn_0000000000000000_x"), "", "get", "roles"); r.code == 0 || !strings.Contains(r.err, "unknown or revoked token") {
		t.Fatalf("bad token: exit %d %s", r.code, r.err)
	}
	srv.stop(t)
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestSettingsPrecedence(t *testing.T) {
	fileAddr, envAddr, flagAddr := freePort(t), freePort(t), freePort(t)
	dataDir := t.TempDir()
	cfg := writeFile(t, t.TempDir(), "warden.yaml", fmt.Sprintf("listen: %s\ndata_dir: %s\nlog_level: debug\n", fileAddr, dataDir))
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"file", nil, []string{"--config", cfg}, fileAddr},
		{"env over file", []string{"WARDEN_LISTEN=" + envAddr}, []string{"--config", cfg}, envAddr},
		{"flag over env", []string{"WARDEN_LISTEN=" + envAddr}, []string{"--config", cfg, "--listen", flagAddr}, flagAddr},
		{"config from env", []string{"WARDEN_CONFIG=" + cfg}, nil, fileAddr},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := startServe(t, cleanEnv(t, c.env...), c.args...)
			if srv.addr != "http://"+c.want {
				t.Fatalf("serving on %s, want %s", srv.addr, c.want)
			}
			if _, err := os.Stat(filepath.Join(dataDir, "admin.token")); err != nil {
				t.Fatalf("data_dir from the file was not used: %v", err)
			}
			srv.stop(t)
		})
	}
	// A bad setting is named.
	bad := writeFile(t, t.TempDir(), "bad.yaml", "listen: 127.0.0.1:0\nlisten_addr: x\n")
	r := run(t, cleanEnv(t), "", "serve", "--config", bad)
	if r.code == 0 || !strings.Contains(r.err, "listen_addr") {
		t.Fatalf("unknown config key: exit %d %s", r.code, r.err)
	}
	r = run(t, cleanEnv(t, "WARDEN_STORE=mysql://x"), "", "serve", "--listen", "127.0.0.1:0")
	if r.code == 0 || !strings.Contains(r.err, "store:") {
		t.Fatalf("bad store: exit %d %s", r.code, r.err)
	}
}

// Two replicas on one PostgreSQL database share state.
func TestServeOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	env := cleanEnv(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	a := startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", dirA, "--store", dsn)
	shareReplicaFiles(t, dirA, dirB) // replicas share the bootstrap token and the audit key
	b := startServe(t, append(env, "WARDEN_STORE="+dsn), "--listen", "127.0.0.1:0", "--data-dir", dirB)
	if !strings.Contains(a.log(), `store=postgres`) {
		t.Fatalf("replica a does not say it uses PostgreSQL:\n%s", a.log())
	}
	cliA := append(env, "WARDEN_ADDR="+a.addr, "WARDEN_DATA_DIR="+dirA)
	cliB := append(env, "WARDEN_ADDR="+b.addr, "WARDEN_DATA_DIR="+dirB)
	mustRun(t, cliA, "", "create", "-f", writeFile(t, t.TempDir(), "org.yaml", orgYAML))
	if out := mustRun(t, cliB, "", "get", "member", "--list", "ops"); !strings.Contains(out, "bob") {
		t.Fatalf("replica b does not see replica a's member:\n%s", out)
	}
	// Compare-and-swap holds across replicas: b updates with a's stale revision and loses.
	y := mustRun(t, cliA, "", "get", "role", "staging-admin", "-o", "json")
	mustRun(t, cliB, strings.Replace(mustRun(t, cliB, "", "get", "role", "staging-admin", "-o", "yaml"), "Admin on staging", "changed by b", 1), "apply", "-f", "-")
	var role map[string]any
	json.Unmarshal([]byte(y), &role)
	role["metadata"].(map[string]any)["description"] = "changed by a"
	body, _ := json.Marshal(role)
	req, _ := http.NewRequest("PUT", a.addr+"/v1/role/staging-admin", bytes.NewReader(body))
	tok, _ := os.ReadFile(filepath.Join(dirA, "admin.token"))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("stale update through replica a: %d, want 409", resp.StatusCode)
	}
	a.stop(t)
	b.stop(t)
}

var (
	demoRE    = regexp.MustCompile(`warden demo is running at (\S+)`)
	demoSimRE = regexp.MustCompile(`simulated Identity Center at (\S+)\.`)
)

// warden demo runs everything embedded; a change made with warden create shows up in the simulated
// Identity Center; a second run says it resumed the data, reuses it, and serves the simulator on the
// same address.
func TestDemo(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t)
	simAddr := freePort(t)
	d := startCmd(t, env, "demo", "--listen", "127.0.0.1:0", "--sim-listen", simAddr, "--data-dir", dataDir)
	waitFor(t, func() bool { return tourEndRE.MatchString(d.stdout.String()) }, "the demo's instructions")
	out := d.stdout.String()
	for _, want := range []string{"export WARDEN_DATA_DIR=" + dataDir, "warden get access_list", "--endpoint-url http://" + simAddr} {
		if !strings.Contains(out, want) {
			t.Fatalf("demo instructions lack %q:\n%s", want, out)
		}
	}
	simURL := demoSimRE.FindStringSubmatch(out)[1]
	cli := append(env, "WARDEN_ADDR="+d.addr, "WARDEN_DATA_DIR="+dataDir)
	lists := mustRun(t, cli, "", "get", "access_list")
	for _, want := range []string{"devops", "developers", "billingadmin", "everyone", "alice@example.com"} {
		if !strings.Contains(lists, want) {
			t.Fatalf("demo lists lack %s:\n%s", want, lists)
		}
	}
	accounts := mustRun(t, cli, "", "get", "account")
	if !strings.Contains(accounts, "058264527036  Staging") || !strings.Contains(accounts, "637423191929  Production") {
		t.Fatalf("demo accounts:\n%s", accounts)
	}
	mustRun(t, cli, `{"kind": "access_list_member", "version": "v1", "metadata": {}, "spec": {"list": "developers", "member": "kemi@example.com"}}`, "create", "-f", "-")
	waitFor(t, func() bool {
		return strings.Contains(strings.Join(readSim(t, simURL).members("Developers"), ","), "kemi@example.com")
	}, "kemi to join the Developers group in the simulated Identity Center")
	d.cmd.Process.Signal(os.Interrupt)
	if err := <-d.done; err != nil {
		t.Fatalf("demo exited with %v after Ctrl-C:\n%s", err, d.log())
	}
	// A second run says it resumed, reuses the data, the new member included, does not import
	// again, and serves the simulator where it was.
	d = startCmd(t, env, "demo", "--listen", "127.0.0.1:0", "--sim-listen", simAddr, "--data-dir", dataDir)
	waitFor(t, func() bool { return tourEndRE.MatchString(d.stdout.String()) }, "the demo's instructions")
	out = d.stdout.String()
	if !strings.Contains(out, "Resumed the demo's existing state from "+dataDir+": warden's (12 users, 4 access lists,") ||
		!strings.Contains(out, "the simulated Identity Center's from idcsim.json") || strings.Contains(out, "Imported") {
		t.Fatalf("the second run does not say it resumed:\n%s", out)
	}
	if again := demoSimRE.FindStringSubmatch(out)[1]; again != simURL {
		t.Fatalf("the simulator moved from %s to %s", simURL, again)
	}
	cli = append(env, "WARDEN_ADDR="+d.addr, "WARDEN_DATA_DIR="+dataDir)
	if out := mustRun(t, cli, "", "get", "member", "--list", "developers"); !strings.Contains(out, "kemi@example.com") {
		t.Fatalf("second run lost the member:\n%s", out)
	}
	if !strings.Contains(strings.Join(readSim(t, simURL).members("Developers"), ","), "kemi@example.com") {
		t.Fatal("the simulator's state was not kept across runs")
	}
	d.stop(t)
	// Unless told otherwise, the simulator has a fixed address.
	if help := mustRun(t, env, "", "demo", "--help"); !regexp.MustCompile(`--sim-listen string +.*\(default "127\.0\.0\.1:8421"\)`).MatchString(help) {
		t.Fatalf("warden demo --help:\n%s", help)
	}
}

// The example resources in examples/org.yaml stay valid and apply.
func TestExampleApplies(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t, "WARDEN_DATA_DIR="+dataDir)
	srv := startServe(t, env, "--listen", "127.0.0.1:0")
	cli := append(env, "WARDEN_ADDR="+srv.addr)
	out := mustRun(t, cli, "", "create", "-f", filepath.Join("..", "..", "examples", "org.yaml"))
	if !strings.Contains(out, `access_list "everyone" created`) {
		t.Fatalf("example: %s", out)
	}
	srv.stop(t)
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, what, cond)
}
