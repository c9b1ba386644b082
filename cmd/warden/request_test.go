package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Just-in-time access end to end, through the CLI, the server and the simulated Identity Center:
// kemi asks for administrator access to Staging for a few seconds, lena approves, the assignment
// appears in Identity Center, and at the window's end it is gone and the request EXPIRED.
func TestRequestEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t)
	d := startCmd(t, env, "demo", "--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0", "--data-dir", dataDir)
	defer d.stop(t)
	waitFor(t, func() bool { return demoSimRE.MatchString(d.stdout.String()) }, "the demo's instructions")
	simURL := demoSimRE.FindStringSubmatch(d.stdout.String())[1]
	admin := append(slices.Clone(env), "WARDEN_ADDR="+d.addr, "WARDEN_DATA_DIR="+dataDir)
	mustRun(t, admin, `
kind: role
version: v1
metadata: {name: jit-production}
spec: {allow: {request: {roles: [AdministratorAccess-on-staging], max_duration: 1h, reason: required}}}
---
kind: role
version: v1
metadata: {name: production-approver}
spec: {allow: {review_requests: {roles: [AdministratorAccess-on-staging]}}}
---
kind: access_list
version: v1
metadata: {name: oncall}
spec: {title: On call, owners: [alice@example.com], grants: {roles: [jit-production]}}
---
kind: access_list
version: v1
metadata: {name: approvers}
spec: {title: Approvers, owners: [alice@example.com], grants: {roles: [production-approver]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: oncall, member: kemi@example.com}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: approvers, member: lena@example.com}
`, "create", "-f", "-")
	as := func(user string) []string {
		tok := strings.TrimSpace(mustRun(t, admin, "", "token", "create", "--user", user, "--ttl", "1h"))
		return append(slices.Clone(env), "WARDEN_ADDR="+d.addr, "WARDEN_TOKEN="+tok)
	}
	kemi, lena := as("kemi@example.com"), as("lena@example.com")
	if n := readSim(t, simURL).assignmentsOf("kemi@example.com"); n != 1 { // her imported standing role
		t.Fatalf("kemi starts with %d assignments", n)
	}

	if r := run(t, kemi, "", "request", "create", "--roles", "AdministratorAccess-on-staging"); r.code == 0 || !strings.Contains(r.err, "spec.reason") {
		t.Fatalf("a request without the required reason: %+v", r)
	}
	r := run(t, kemi, "", "request", "create", "--roles", "AdministratorAccess-on-staging", "--reason", "incident 42", "--duration", "6s")
	if r.code != 0 {
		t.Fatalf("request create: %+v", r)
	}
	id := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}`).FindString(r.out)
	if id == "" || !strings.Contains(r.out, "PENDING") {
		t.Fatalf("request create printed:\n%s", r.out)
	}
	if out := mustRun(t, lena, "", "request", "ls", "--to-review"); !strings.Contains(out, id) {
		t.Fatalf("lena's requests to review:\n%s", out)
	}
	if r := run(t, kemi, "", "request", "review", id, "--approve"); r.code == 0 || !strings.Contains(r.err, "own request") {
		t.Fatalf("kemi approving her own request: %+v", r)
	}
	if out := mustRun(t, lena, "", "request", "review", id, "--approve", "--reason", "go"); !strings.Contains(out, "APPROVED") {
		t.Fatalf("approval:\n%s", out)
	}
	waitFor(t, func() bool { return readSim(t, simURL).assignmentsOf("kemi@example.com") == 2 }, "the approved assignment in Identity Center")
	// While the window lasts, show says what the request grants and where it stands.
	granted := regexp.MustCompile(`permission_set: AdministratorAccess\n(.*\n)*\s+state: (creating|granted)`)
	if show := mustRun(t, kemi, "", "request", "show", id); !granted.MatchString(show) {
		t.Fatalf("request show during the window lacks the assignment:\n%s", show)
	}
	waitFor(t, func() bool { return strings.Contains(mustRun(t, kemi, "", "request", "show", id), "state: granted") }, "show to say granted once the creation is seen to end")
	waitFor(t, func() bool { return readSim(t, simURL).assignmentsOf("kemi@example.com") == 1 }, "the assignment to go at the window's end")
	show := mustRun(t, kemi, "", "request", "show", id)
	for _, want := range []string{"state: EXPIRED", "author: lena@example.com", "reason: incident 42"} {
		if !strings.Contains(show, want) {
			t.Fatalf("request show lacks %q:\n%s", want, show)
		}
	}
	// The audit log has the request's whole story, and its chain is intact.
	log := mustRun(t, admin, "", "audit", "ls", "--kind", "access_request")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`kemi@example.com\s+create\s+access_request\s+` + id),
		regexp.MustCompile(`lena@example.com\s+review\s+access_request\s+` + id),
		regexp.MustCompile(`warden\s+expire\s+access_request\s+` + id),
	} {
		if !want.MatchString(log) {
			t.Fatalf("audit log lacks %s:\n%s", want, log)
		}
	}
	// And what the sync did in Identity Center, with AWS's request ids.
	// (the deletion's outcome is logged once it is polled, a moment after it is sent)
	waitFor(t, func() bool {
		synclog := mustRun(t, admin, "", "audit", "ls", "--actor", "warden:sync")
		return strings.Contains(synclog, "sync.create_assignment") && strings.Contains(synclog, "sync.delete_assignment") && strings.Contains(synclog, "AWS request")
	}, "the sync's creation and revocation in the audit log")
	if r := run(t, kemi, "", "audit", "ls"); r.code == 0 || !strings.Contains(r.err, "only administrators") {
		t.Fatalf("a non-admin reading the audit log: %+v", r)
	}
	if out := mustRun(t, admin, "", "audit", "verify"); !strings.Contains(out, "audit log intact") {
		t.Fatalf("audit verify: %s", out)
	}
}
