package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// An owner governs their list's members through the CLI; others may not; a member added with an
// expiry leaves the Identity Center group at that instant.
func TestListMembersEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t)
	d := startCmd(t, env, "demo", "--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0", "--data-dir", dataDir)
	defer d.stop(t)
	waitFor(t, func() bool { return demoSimRE.MatchString(d.stdout.String()) }, "the demo's instructions")
	simURL := demoSimRE.FindStringSubmatch(d.stdout.String())[1]
	admin := append(slices.Clone(env), "WARDEN_ADDR="+d.addr, "WARDEN_DATA_DIR="+dataDir)
	mustRun(t, admin, `
kind: access_list
version: v1
metadata: {name: oncall}
spec: {title: On call, owners: [lena@example.com], grants: {roles: [AdministratorAccess-on-staging]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: oncall, member: jon@example.com}
`, "create", "-f", "-")
	as := func(user string) []string {
		tok := strings.TrimSpace(mustRun(t, admin, "", "token", "create", "--user", user, "--ttl", "1h"))
		return append(slices.Clone(env), "WARDEN_ADDR="+d.addr, "WARDEN_TOKEN="+tok)
	}
	lena, dan := as("lena@example.com"), as("dan@example.com")
	if r := run(t, dan, "", "list", "members", "add", "oncall", "dan@example.com"); r.code == 0 || !strings.Contains(r.err, "only the owners") {
		t.Fatalf("a non-owner adding himself: %+v", r)
	}
	if r := run(t, lena, "", "list", "members", "add", "oncall", "kemi@example.com", "--expires", "2020-01-01T00:00:00Z"); r.code == 0 || !strings.Contains(r.err, "spec.expires") {
		t.Fatalf("an expiry in the past: %+v", r)
	}
	if r := run(t, lena, "", "list", "members", "add", "oncall", "nobody@example.com"); r.code == 0 {
		t.Fatalf("adding a user who does not exist: %+v", r)
	}
	mustRun(t, lena, "", "list", "members", "add", "oncall", "kemi@example.com", "--expires", "4s", "--reason", "incident")
	if out := mustRun(t, lena, "", "list", "members", "ls", "oncall"); !strings.Contains(out, "kemi@example.com") || !strings.Contains(out, "lena@example.com") {
		t.Fatalf("members (added by lena):\n%s", out)
	}
	waitFor(t, func() bool {
		return slices.Equal(readSim(t, simURL).members("On call"), []string{"jon@example.com", "kemi@example.com"})
	}, "kemi in the On call group")
	waitFor(t, func() bool {
		return slices.Equal(readSim(t, simURL).members("On call"), []string{"jon@example.com"})
	}, "kemi to leave the group at her membership's expiry")
	if out := mustRun(t, lena, "", "list", "members", "ls", "oncall"); !regexp.MustCompile(`kemi@example.com .* expired\n`).MatchString(out) ||
		!regexp.MustCompile(`jon@example.com .* active\n`).MatchString(out) {
		t.Fatalf("kemi's membership should show as expired, jon's as active:\n%s", out)
	}
	// A member who lacks what the list requires stays on it, shown as ineligible, and is not synced.
	mustRun(t, admin, `
kind: access_list
version: v1
metadata: {name: dba}
spec: {title: DBA, owners: [lena@example.com], grants: {roles: [AdministratorAccess-on-staging]}, membership_requires: {traits: {team: [data]}}}
`, "create", "-f", "-")
	mustRun(t, lena, "", "list", "members", "add", "dba", "jon@example.com")
	if out := mustRun(t, lena, "", "list", "members", "ls", "dba"); !strings.Contains(out, "ineligible (lacks trait team=data)") {
		t.Fatalf("jon should show as ineligible for DBA:\n%s", out)
	}
	waitFor(t, func() bool { return readSim(t, simURL).hasGroup("DBA") }, "the DBA group in Identity Center")
	// Once the sync has nothing left to do, a sync that would add jon has added him.
	waitFor(t, func() bool { return run(t, admin, "", "sync", "plan").code == 0 }, "a sync plan with no changes")
	if m := readSim(t, simURL).members("DBA"); len(m) != 0 {
		t.Fatalf("an ineligible member was synced to the group: %v", m)
	}
	if r := run(t, dan, "", "list", "members", "remove", "oncall", "jon@example.com"); r.code == 0 {
		t.Fatalf("a non-owner removing a member: %+v", r)
	}
	mustRun(t, lena, "", "list", "members", "remove", "oncall", "jon@example.com")
	waitFor(t, func() bool { return len(readSim(t, simURL).members("On call")) == 0 }, "jon to leave the group")
}
