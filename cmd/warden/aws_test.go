package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/awsconfig"
)

var requestIDRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// waiting is a warden request create --wait running in the background.
type waiting struct {
	out, err syncBuffer
	done     chan int
}

func startWait(t *testing.T, env []string, args ...string) *waiting {
	t.Helper()
	w := &waiting{done: make(chan int, 1)}
	cmd := exec.Command(wardenBin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &w.out, &w.err
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
		}
		w.done <- code
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return w
}

// id waits for the request the command created.
func (w *waiting) id(t *testing.T) string {
	t.Helper()
	waitFor(t, func() bool { return requestIDRE.MatchString(w.out.String()) }, "the request --wait created")
	return requestIDRE.FindString(w.out.String())
}

func (w *waiting) code(t *testing.T) int {
	t.Helper()
	var code int
	waitFor(t, func() bool {
		select {
		case code = <-w.done:
			return true
		default:
			return false
		}
	}, "warden request create --wait to exit")
	return code
}

// The AWS CLI side against the demo: the demo's per-person AWS configs; warden aws config as a
// person (--dry-run, then a write that keeps the person's own profile, then nothing to change);
// request create --wait's exits: granted in the simulator (0, printing the profile), denied (2),
// cancelled (3), timed out (4); and request show's credential validity.
func TestAWSConfigAndWait(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t)
	d := startCmd(t, env, "demo", "--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0", "--data-dir", dataDir)
	defer d.stop(t)
	waitFor(t, func() bool { return tourEndRE.MatchString(d.stdout.String()) }, "the demo's tour")
	simURL := demoSimRE.FindStringSubmatch(d.stdout.String())[1]
	awsDir := filepath.Join(dataDir, "aws")
	if out := d.stdout.String(); !strings.Contains(out, "AWS CLI profiles for each sample person") ||
		!strings.Contains(out, "AWS_CONFIG_FILE="+filepath.Join(awsDir, "dan@example.com.config")+" aws sso login --profile AdministratorAccess-on-production") {
		t.Fatalf("the demo does not say where the AWS configs are:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(awsDir, "dan@example.com.config"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"[sso-session warden]\nsso_start_url = " + simURL + "/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\nservices = warden-sim\n",
		"[services warden-sim]\nsso =\n  endpoint_url = " + simURL + "\nsso_oidc =\n  endpoint_url = " + simURL + "\nsts =\n  endpoint_url = " + simURL + "\n",
		"# requestable: warden request create --roles AdministratorAccess-on-production\n[profile AdministratorAccess-on-production]\nsso_session = warden\nsso_account_id = 637423191929\nsso_role_name = AdministratorAccess\nregion = us-east-1\noutput = json\nservices = warden-sim\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("dan's demo AWS config lacks\n%s\nin\n%s", want, b)
		}
	}

	admin := append(slices.Clone(env), "WARDEN_ADDR="+d.addr, "WARDEN_DATA_DIR="+dataDir)
	as := func(user string) []string {
		tok := strings.TrimSpace(mustRun(t, admin, "", "token", "create", "--user", user, "--ttl", "1h"))
		return append(slices.Clone(env), "WARDEN_ADDR="+d.addr, "WARDEN_TOKEN="+tok)
	}
	dan, bob := as(demoRequester), as(demoReviewer)

	// warden aws config into a file of dan's own.
	file := filepath.Join(t.TempDir(), "config")
	mine := "# dan's\n[profile AdministratorAccess-on-production]\nregion = eu-west-1\n"
	if err := os.WriteFile(file, []byte(mine), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, dan, "", "aws", "config", "--file", file, "--requestable", "--dry-run")
	if r.code != 0 || !strings.Contains(r.out, "+[profile AdministratorAccess-on-production-637423191929]") || !strings.Contains(r.out, "+[sso-session warden]") ||
		!strings.Contains(r.err, `warning: profile "AdministratorAccess-on-production" is yours`) {
		t.Fatalf("aws config --dry-run: %+v", r)
	}
	if b, _ := os.ReadFile(file); string(b) != mine {
		t.Fatalf("--dry-run wrote:\n%s", b)
	}
	r = run(t, append(slices.Clone(dan), "AWS_CONFIG_FILE="+file), "", "aws", "config", "--requestable", "--region", "eu-west-1", "--output", "table")
	if r.code != 0 || !strings.Contains(r.out, "aws sso login --sso-session warden") {
		t.Fatalf("aws config: %+v", r)
	}
	b, _ = os.ReadFile(file)
	if !strings.HasPrefix(string(b), mine) || !strings.Contains(string(b), "[profile AdministratorAccess-on-production-637423191929]\nsso_session = warden\nsso_account_id = 637423191929\nsso_role_name = AdministratorAccess\nregion = eu-west-1\noutput = table\n") {
		t.Fatalf("the written file:\n%s", b)
	}
	if f, err := awsconfig.Parse(b, "warden"); err != nil || !f.HasBlock {
		t.Fatalf("the written block: %v", err)
	}
	r = run(t, dan, "", "aws", "config", "--file", file, "--requestable", "--region", "eu-west-1", "--output", "table")
	if r.code != 0 || !strings.Contains(r.out, "up to date") {
		t.Fatalf("a second run: %+v", r)
	}
	if r := run(t, dan, "", "aws", "config", "--file", file, "--name-template", "{{.Nope"); r.code != 1 || !strings.Contains(r.err, "--name-template") {
		t.Fatalf("a bad template: %+v", r)
	}
	// A block whose end marker was damaged: an error naming its line, nothing written.
	broken := strings.Replace(string(b), awsconfig.EndMarker("warden"), "# <<< warden sso-session warden", 1)
	if err := os.WriteFile(file, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, dan, "", "aws", "config", "--file", file); r.code != 1 || !strings.Contains(r.err, "line 5: warden's block for sso-session warden has no end marker") {
		t.Fatalf("a broken block: %+v", r)
	}
	if b, _ := os.ReadFile(file); string(b) != broken {
		t.Fatal("a broken block's file was written")
	}

	// The demo's own file, renewed by warden aws config with --endpoint-url: the services section
	// that sends the sign-in to the simulator stays; a URL that is none is refused, nothing written.
	demoFile := filepath.Join(awsDir, "dan@example.com.config")
	before, _ := os.ReadFile(demoFile)
	if r := run(t, dan, "", "aws", "config", "--file", demoFile, "--requestable", "--endpoint-url", "ftp://"+strings.TrimPrefix(simURL, "http://")); r.code != 1 || !strings.Contains(r.err, "--endpoint-url") {
		t.Fatalf("a bad --endpoint-url: %+v", r)
	}
	if r := run(t, dan, "", "aws", "config", "--file", demoFile, "--requestable", "--endpoint-url", simURL); r.code != 0 || !strings.Contains(r.out, "up to date") {
		t.Fatalf("aws config --endpoint-url on the demo's file: %+v", r)
	}
	if after, _ := os.ReadFile(demoFile); string(after) != string(before) {
		t.Fatalf("the demo's file changed:\n%s\nwas\n%s", after, before)
	}

	create := []string{"request", "create", "--roles", demoTarget, "--reason", "hotfix", "--duration", "2h", "-o", "name", "--wait", "--timeout", "2m"}
	// Granted: exit 0, the profile printed; show says how long credentials stay valid.
	w := startWait(t, dan, create...)
	id := w.id(t)
	mustRun(t, bob, "", "request", "review", id, "--approve")
	if code := w.code(t); code != 0 || !strings.Contains(w.out.String(), "\n"+demoTarget+"\n") || !strings.Contains(w.err.String(), "granted until") {
		t.Fatalf("--wait, approved: exit %d\nstdout %s\nstderr %s", code, w.out.String(), w.err.String())
	}
	if n := readSim(t, simURL).assignmentsOf(demoRequester); n == 0 {
		t.Fatal("--wait said granted, but the simulator holds no assignment of dan's")
	}
	if !strings.Contains(w.err.String(), "session duration (1h for AdministratorAccess), also after the access ends") &&
		!strings.Contains(w.err.String(), "note: AWS credentials fetched during the access stay valid") {
		t.Errorf("create's notes say nothing of credentials:\n%s", w.err.String())
	}
	r = run(t, dan, "", "request", "show", id)
	if r.code != 0 || !regexp.MustCompile(`note: credentials for AdministratorAccess fetched now stay valid until \S+ \(its session duration, 1h\), before the access ends at`).MatchString(r.err) ||
		!strings.Contains(r.out, "credentials:") {
		t.Fatalf("request show: %+v", r)
	}
	mustRun(t, dan, "", "request", "cancel", id)

	// Denied: exit 2.
	w = startWait(t, dan, create...)
	mustRun(t, bob, "", "request", "review", w.id(t), "--deny", "--reason", "no")
	if code := w.code(t); code != 2 || !strings.Contains(w.err.String(), "denied") {
		t.Fatalf("--wait, denied: exit %d\n%s", code, w.err.String())
	}
	// Cancelled: exit 3.
	w = startWait(t, dan, create...)
	mustRun(t, dan, "", "request", "cancel", w.id(t))
	if code := w.code(t); code != 3 || !strings.Contains(w.err.String(), "CANCELLED") {
		t.Fatalf("--wait, cancelled: exit %d\n%s", code, w.err.String())
	}
	// Nobody reviews it in time: exit 4.
	r = run(t, dan, "", "request", "create", "--roles", demoTarget, "--reason", "x", "-o", "name", "--wait", "--timeout", "1s")
	if r.code != 4 || !strings.Contains(r.err, "not granted within 1s") {
		t.Fatalf("--wait, timed out: %+v", r)
	}
}
