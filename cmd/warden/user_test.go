package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// warden user invite prints a one-time enrolment link that opens the enrolment page, once per
// user (a second invitation replaces the first); warden user unlock lifts a lock; both are for
// administrators, and name an unknown user as such.
func TestUserInviteAndUnlock(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t, "WARDEN_DATA_DIR="+dataDir)
	srv := startServe(t, env, "--listen", "127.0.0.1:0")
	cli := append(env, "WARDEN_ADDR="+srv.addr)
	mustRun(t, cli, `{"kind": "user", "version": "v1", "metadata": {"name": "erin"}, "spec": {}}`, "create", "-f", "-")

	r := run(t, cli, "", "user", "invite", "erin")
	link := strings.TrimSpace(r.out)
	if r.code != 0 || !regexp.MustCompile(`^`+regexp.QuoteMeta(srv.addr)+`/enroll/[0-9a-f]{16}[A-Za-z0-9_-]{43}$`).MatchString(link) ||
		!strings.Contains(r.err, "valid once until") {
		t.Fatalf("invite: exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.err)
	}
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("the enrolment page: %d %v", res.StatusCode, res.Header)
	}
	second := strings.TrimSpace(mustRun(t, cli, "", "user", "invite", "erin"))
	for l, want := range map[string]int{link: http.StatusGone, second: 200} {
		res, err := http.Get(l)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("%s: %d, want %d", l, res.StatusCode, want)
		}
	}
	if r := run(t, cli, "", "user", "invite", "nobody"); r.code == 0 || !strings.Contains(r.err, `user "nobody" does not exist`) {
		t.Fatalf("invite of an unknown user: exit %d %s", r.code, r.err)
	}
	if out := mustRun(t, cli, "", "user", "unlock", "erin"); !strings.Contains(out, "erin may sign in again") {
		t.Fatalf("unlock: %s", out)
	}
	erin := strings.TrimSpace(mustRun(t, cli, "", "token", "create", "--user", "erin", "--ttl", "1h"))
	if r := run(t, append(cli, "WARDEN_TOKEN="+erin), "", "user", "invite", "erin"); r.code == 0 || !strings.Contains(r.err, "only administrators") {
		t.Fatalf("a non-administrator invites: exit %d %s", r.code, r.err)
	}
	srv.stop(t)
}
