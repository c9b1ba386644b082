package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// The audit key is made at the first start; warden audit head exports the head; cutting the log
// back past it (with the server stopped, in its database) is found by verify --expect-head; and
// a server given another key refuses to start.
func TestAuditHeadAndTruncationCLI(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t, "WARDEN_DATA_DIR="+dataDir)
	srv := startServe(t, env, "--listen", "127.0.0.1:0")
	keyFile := filepath.Join(dataDir, "audit.key")
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("audit.key after the first start: %v %v", fi, err)
	}
	cli := slices.Concat(env, []string{"WARDEN_ADDR=" + srv.addr})
	mustRun(t, cli, "", "create", "-f", writeFile(t, t.TempDir(), "org.yaml", orgYAML))
	if out := mustRun(t, cli, "", "audit", "ls"); !strings.Contains(out, audit.KeyedAction) {
		t.Fatalf("no seal in the log:\n%s", out)
	}
	early := strings.TrimSpace(mustRun(t, cli, "", "audit", "head"))
	mustRun(t, cli, "", "delete", "member", "ops/bob")
	mustRun(t, cli, "", "delete", "access_list", "ops")
	exported := strings.TrimSpace(mustRun(t, cli, "", "audit", "head"))
	if out := mustRun(t, cli, "", "audit", "verify", "--expect-head", exported); !strings.Contains(out, "holds the exported head "+exported) {
		t.Fatalf("verify --expect-head: %s", out)
	}
	if r := run(t, cli, "", "audit", "verify", "--expect-head", "12"); r.code == 0 || !strings.Contains(r.err, "--expect-head") {
		t.Fatalf("a malformed --expect-head: %+v", r)
	}
	srv.stop(t)

	// Someone with the database cuts the entries after the early head and moves the head back.
	h, err := audit.ParseHead(early)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dataDir, "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	last, _ := audit.Last(ctx, db)
	for seq := last; seq > h.Seq; seq-- {
		if _, err := db.Delete(ctx, resource.KindAuditEntry, audit.EntryName(seq), 0); err != nil {
			t.Fatal(err)
		}
	}
	head, _ := db.Get(ctx, resource.KindAuditEntry, "head")
	head.Spec.(*resource.AuditEntrySpec).Seq, head.Spec.(*resource.AuditEntrySpec).Hash = h.Seq, h.Hash
	if err := db.Update(ctx, head); err != nil {
		t.Fatal(err)
	}
	db.Close()

	srv = startServe(t, env, "--listen", "127.0.0.1:0")
	cli = slices.Concat(env, []string{"WARDEN_ADDR=" + srv.addr})
	if out := mustRun(t, cli, "", "audit", "verify"); !strings.Contains(out, "audit log intact") {
		t.Fatalf("the cut log on its own: %s", out)
	}
	r := run(t, cli, "", "audit", "verify", "--expect-head", exported)
	if r.code == 0 || !strings.Contains(r.err, "no longer holds entry") {
		t.Fatalf("verify --expect-head after the cut: exit %d\n%s%s", r.code, r.out, r.err)
	}
	srv.stop(t)

	// Another key: the server refuses to start, naming the setting.
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("ab", audit.KeySize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, wardenBin, "serve", "--listen", "127.0.0.1:0")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "audit.key_file") || !strings.Contains(string(out), "does not verify with this audit key") {
		t.Fatalf("serve with another audit key: %v\n%s", err, out)
	}
}
