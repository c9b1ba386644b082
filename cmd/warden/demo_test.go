package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// shell is one bash session that the test types into, as a person pastes into a terminal: what a
// line defines (variables, functions) stays for the next.
type shell struct {
	t      *testing.T
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *syncBuffer
}

func newShell(t *testing.T, env []string) *shell {
	t.Helper()
	cmd := exec.Command("bash", "--noprofile", "--norc")
	cmd.Env = env
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sh := &shell{t: t, in: in, out: bufio.NewReader(out), stderr: &syncBuffer{}}
	cmd.Stderr = sh.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	return sh
}

// run types line and returns what it printed and its exit status.
func (sh *shell) run(line string) (string, int) {
	sh.t.Helper()
	const marker = "__warden_test_done__"
	if _, err := fmt.Fprintf(sh.in, "%s\nprintf '\\n%s %%d\\n' $?\n", line, marker); err != nil {
		sh.t.Fatal(err)
	}
	var b strings.Builder
	for {
		l, err := sh.out.ReadString('\n')
		if err != nil {
			sh.t.Fatalf("the shell ended running %q: %v\n%s", line, err, sh.stderr.String())
		}
		if rest, ok := strings.CutPrefix(l, marker+" "); ok {
			var code int
			fmt.Sscan(rest, &code)
			return strings.TrimRight(b.String(), "\n"), code
		}
		b.WriteString(l)
	}
}

// must runs line and fails unless it exits 0.
func (sh *shell) must(line string) string {
	sh.t.Helper()
	out, code := sh.run(line)
	if code != 0 {
		sh.t.Fatalf("%s\nexit %d\nstdout: %s\nstderr: %s", line, code, out, sh.stderr.String())
	}
	return out
}

var tourEndRE = regexp.MustCompile(`Ctrl-C stops the demo`)

// tourSteps are the lines of the printed tour to paste: the indented ones, in order.
func tourSteps(out string) []string {
	var steps []string
	for _, l := range strings.Split(out[strings.Index(out, "Try it in another terminal"):], "\n") {
		if s, ok := strings.CutPrefix(l, "  "); ok {
			steps = append(steps, s)
		}
	}
	return steps
}

// The demo's tour works as printed, pasted line by line into a shell with no WARDEN_* settings: a
// token for a developer, a request for AdministratorAccess on Production, its approval by a
// reviewer of DevOps, the assignment seen in the simulated Identity Center with the AWS CLI v2, the
// window it lasts, and its end. /readyz says ready only once the organisation is imported.
func TestDemoTour(t *testing.T) {
	aws := awsV2(t)
	state := t.TempDir()
	env := append(cleanEnv(t), "XDG_STATE_HOME="+state) // the demo's default data directory, under it
	d := startCmd(t, env, "demo", "--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0")

	// From the moment it listens until the tour is printed: ready means imported.
	sawStarting := false
	for !tourEndRE.MatchString(d.stdout.String()) {
		resp, err := http.Get(d.addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case 503:
			sawStarting = true
			if strings.TrimSpace(string(body)) != "not ready: starting" {
				t.Fatalf("/readyz while starting: %q", body)
			}
		case 200:
			if !strings.Contains(mustRun(t, append(env, "WARDEN_ADDR="+d.addr), "", "get", "role", demoRequestRole, "-o", "name"), demoRequestRole) {
				t.Fatal("/readyz said ready before the demo's import and roles were done")
			}
		}
		select {
		case err := <-d.done:
			t.Fatalf("the demo exited (%v):\n%s", err, d.log())
		default:
		}
	}
	t.Logf("/readyz answered 503 while starting: %v", sawStarting)
	out := d.stdout.String()
	if !strings.Contains(out, "Imported the sample organisation") {
		t.Fatalf("the first run does not say it imported:\n%s", out)
	}

	shEnv := append(slicesClone(env), "PATH="+filepath.Dir(aws)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1")
	sh := newShell(t, shEnv)
	value := func(name string) string { return sh.must(`printf '%s\n' "$` + name + `"`) }
	var assignments string // the step that lists dan's assignments
	for _, step := range tourSteps(out) {
		switch {
		case strings.HasPrefix(step, "warden get access_list"):
			if got := sh.must(step); !strings.Contains(got, "developers") || !strings.Contains(got, "devops") {
				t.Fatalf("%s:\n%s", step, got)
			}
		case strings.HasPrefix(step, "warden get role "):
			if got := sh.must(step); !strings.Contains(got, demoTarget) || !strings.Contains(got, "max_duration: 2h") {
				t.Fatalf("%s:\n%s", step, got)
			}
		case strings.HasPrefix(step, "DAN=$("), strings.HasPrefix(step, "BOB=$("):
			sh.must(step)
			if tok := value(step[:3]); !strings.HasPrefix(tok, "wdn_") {
				t.Fatalf("%s: %s is %q", step, step[:3], tok)
			}
		case strings.HasPrefix(step, "REQ=$("):
			sh.must(step)
			if id := value("REQ"); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f-]{27}$`).MatchString(id) {
				t.Fatalf("%s: REQ is %q", step, id)
			}
		case strings.Contains(step, "request ls --to-review"):
			if got := sh.must(step); !strings.Contains(got, value("REQ")) || !strings.Contains(got, "PENDING") {
				t.Fatalf("%s: bob does not see dan's request to review:\n%s", step, got)
			}
		case strings.Contains(step, "request review $REQ --approve"):
			if got := sh.must(step); !strings.Contains(got, "APPROVED") {
				t.Fatalf("%s:\n%s", step, got)
			}
		case strings.HasPrefix(step, "DAN_ID=$("):
			sh.must(step)
			if value("DAN_ID") == "" {
				t.Fatalf("%s: no user id", step)
			}
		case strings.Contains(step, "list-account-assignments"):
			assignments = step
			waitFor(t, func() bool { return strings.Contains(sh.must(step), value("DAN_ID")) }, "dan's assignment in Identity Center, listed by the AWS CLI")
		case strings.HasPrefix(step, "warden request show $REQ"):
			got := sh.must(step)
			start := regexp.MustCompile(`(?m)^  start: "?([^"\n]+)`).FindStringSubmatch(got)
			end := regexp.MustCompile(`(?m)^  end: "?([^"\n]+)`).FindStringSubmatch(got)
			if start == nil || end == nil || !strings.Contains(got, "state: APPROVED") {
				t.Fatalf("%s:\n%s", step, got)
			}
			s, err1 := time.Parse(time.RFC3339, start[1])
			e, err2 := time.Parse(time.RFC3339, end[1])
			if err1 != nil || err2 != nil || e.Sub(s) != 2*time.Hour {
				t.Fatalf("%s: the window is %s to %s, want 2h:\n%s", step, start[1], end[1], got)
			}
		case strings.Contains(step, "request cancel $REQ"):
			if got := sh.must(step); !strings.Contains(got, "CANCELLED") {
				t.Fatalf("%s:\n%s", step, got)
			}
			waitFor(t, func() bool { return !strings.Contains(sh.must(assignments), value("DAN_ID")) }, "dan's assignment to leave Identity Center")
		default:
			sh.must(step) // definitions and settings
		}
	}
	if assignments == "" {
		t.Fatalf("the tour lists no assignments:\n%s", out)
	}
	d.stop(t)
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// How the tour calls warden depends on how the demo was started: go run leaves its binary in a
// go-build directory that is gone when it exits, so the tour runs go run again from the module's
// root; a binary named by a path is called by that path; one found on PATH, by its name.
func TestTourInvocation(t *testing.T) {
	goRun := filepath.Join(os.TempDir(), "go-build1234567", "b001", "exe", "warden")
	inv := cliInvocation(goRun)
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	if inv.define != `warden() { go run ./cmd/warden "$@"; }` || inv.dir != root {
		t.Fatalf("under go run: %+v, want go run from %s", inv, root)
	}
	if inv := cliInvocation("/opt/my tools/warden"); inv.define != `warden() { '/opt/my tools/warden' "$@"; }` || inv.dir != "" {
		t.Fatalf("a binary by its path: %+v", inv)
	}
	if inv := cliInvocation("warden"); inv.define != "" || inv.dir != "" {
		t.Fatalf("a binary on PATH: %+v", inv)
	}
}
