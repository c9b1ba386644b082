package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// warden token ls and revoke, the TTL cap, and a lost admin.token: the next start issues a new one
// and the old one no longer works.
func TestTokenLsRevokeAndBootstrapReissue(t *testing.T) {
	// Each client's environment is a copy (slices.Concat): appending to a shared env could let one
	// client's settings overwrite another's.
	dataDir := t.TempDir()
	env := cleanEnv(t, "WARDEN_DATA_DIR="+dataDir)
	srv := startServe(t, env, "--listen", "127.0.0.1:0")
	tokenFile := filepath.Join(dataDir, "admin.token")
	oldAdmin, _ := os.ReadFile(tokenFile)
	admin := slices.Concat(env, []string{"WARDEN_ADDR=" + srv.addr, "WARDEN_TOKEN=" + strings.TrimSpace(string(oldAdmin))})
	mustRun(t, admin, "", "create", "-f", writeFile(t, t.TempDir(), "org.yaml", orgYAML))

	if r := run(t, admin, "", "token", "create", "--user", "bob", "--ttl", "9000h"); r.code == 0 || !strings.Contains(r.err, "ttl: 9000h is longer than 720h") {
		t.Fatalf("a token beyond tokens.max_ttl: exit %d %s", r.code, r.err)
	}
	r := run(t, admin, "", "token", "create", "--user", "bob", "--ttl", "1h")
	if r.code != 0 {
		t.Fatalf("token create: %+v", r)
	}
	m := regexp.MustCompile(`token ([0-9a-f]{16}) acts as bob`).FindStringSubmatch(r.err)
	if m == nil {
		t.Fatalf("token create did not say the token's id: %s", r.err)
	}
	id := m[1]
	bob := slices.Concat(env, []string{"WARDEN_ADDR=" + srv.addr, "WARDEN_TOKEN=" + strings.TrimSpace(r.out)})

	table := mustRun(t, admin, "", "token", "ls")
	if !regexp.MustCompile(id+`\s+bob\s+warden:admin for bob`).MatchString(table) || !regexp.MustCompile(`\*\s+warden:admin\s+bootstrap`).MatchString(table) {
		t.Fatalf("token ls:\n%s", table)
	}
	var toks []map[string]any
	out := mustRun(t, admin, "", "token", "ls", "--user", "bob", "-o", "json")
	if err := json.Unmarshal([]byte(out), &toks); err != nil || len(toks) != 1 || toks[0]["id"] != id || strings.Contains(out, "secret") {
		t.Fatalf("token ls --user bob -o json: %s %v", out, err)
	}
	if out := mustRun(t, bob, "", "token", "ls"); !strings.Contains(out, id+" *") || strings.Contains(out, "warden:admin  ") {
		t.Fatalf("bob's token ls:\n%s", out)
	}
	if r := run(t, bob, "", "token", "ls", "--user", "alice"); r.code == 0 || !strings.Contains(r.err, "only their own tokens") {
		t.Fatalf("bob listing alice's tokens: %+v", r)
	}
	if out := mustRun(t, bob, "", "token", "revoke", id); !strings.Contains(out, "token "+id+" (acting as bob) revoked") {
		t.Fatalf("token revoke: %s", out)
	}
	if r := run(t, bob, "", "get", "roles"); r.code == 0 || !strings.Contains(r.err, "unknown or revoked token") {
		t.Fatalf("bob's revoked token: %+v", r)
	}
	if log := mustRun(t, admin, "", "audit", "ls", "--kind", "api_token"); !regexp.MustCompile(`bob\s+revoke\s+api_token\s+` + id + `\s+` + id).MatchString(log) {
		t.Fatalf("the revocation is not in the audit log:\n%s", log)
	}
	srv.stop(t)

	// admin.token is lost; the next start issues a new one and the old one answers 401.
	os.Remove(tokenFile)
	srv = startServe(t, env, "--listen", "127.0.0.1:0")
	admin = slices.Concat(env, []string{"WARDEN_ADDR=" + srv.addr, "WARDEN_TOKEN=" + strings.TrimSpace(string(oldAdmin))})
	if r := run(t, admin, "", "get", "roles"); r.code == 0 || !strings.Contains(r.err, "unknown or revoked token") {
		t.Fatalf("the lost admin token after a restart: %+v", r)
	}
	local := slices.Concat(env, []string{"WARDEN_ADDR=" + srv.addr}) // the new admin.token of the data directory
	if out := mustRun(t, local, "", "audit", "ls", "--actor", "warden"); !strings.Contains(out, "bootstrap admin token") {
		t.Fatalf("the bootstrap token's revocation is not in the audit log:\n%s", out)
	}
	srv.stop(t)
}
