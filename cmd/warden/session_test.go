package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// warden session ls and revoke, against a server whose sessions the test issues (the sign-in
// pages are another part's).
func TestSessionLsAndRevoke(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := server.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.SetStepUp(10*time.Minute, false)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tokenFile := filepath.Join(t.TempDir(), "admin.token")
	if _, err := srv.Tokens().EnsureAdminToken(ctx, tokenFile); err != nil {
		t.Fatal(err)
	}
	bootstrap := strings.TrimSpace(readFileT(t, tokenFile))
	alice := resource.New(resource.KindUser, "alice")
	alice.Spec.(*resource.UserSpec).Admin = true
	if _, err := manage.New(st).Create(ctx, manage.Actor{User: "test", Admin: true}, []*resource.Object{alice, resource.New(resource.KindUser, "bob")}); err != nil {
		t.Fatal(err)
	}
	ids := map[string][]string{}
	for _, u := range []string{"alice", "alice", "bob"} {
		r := httptest.NewRequest("POST", "/login", nil)
		r.Header.Set("User-Agent", "Firefox/140")
		ss, err := srv.Sessions().Issue(ctx, httptest.NewRecorder(), r, u, auth.MethodUse{Method: auth.MethodPassword}, auth.MethodUse{Method: auth.MethodTOTP})
		if err != nil {
			t.Fatal(err)
		}
		ids[u] = append(ids[u], ss.ID)
	}
	bobTok, _, err := srv.Tokens().Create(ctx, "bob", false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	aliceTok, _, err := srv.Tokens().Create(ctx, "alice", false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	env := cleanEnv(t, "WARDEN_ADDR="+hs.URL)
	as := func(tok string) []string { return append(env[:len(env):len(env)], "WARDEN_TOKEN="+tok) }

	out := mustRun(t, as(bobTok), "", "session", "ls")
	if !strings.Contains(out, ids["bob"][0]) || strings.Contains(out, ids["alice"][0]) || !regexp.MustCompile(`pwd\+otp\s+\S+\s+192\.0\.2\.1 Firefox/140`).MatchString(out) {
		t.Fatalf("bob's sessions:\n%s", out)
	}
	if r := run(t, as(bobTok), "", "session", "ls", "--all"); r.code == 0 || !strings.Contains(r.err, "only their own sessions") {
		t.Fatalf("bob lists everyone's: exit %d %s", r.code, r.err)
	}
	out = mustRun(t, as(bootstrap), "", "session", "ls", "--all")
	if n := strings.Count(out, "\n"); n != 4 {
		t.Fatalf("everyone's sessions (%d lines):\n%s", n, out)
	}
	out = mustRun(t, as(bootstrap), "", "session", "ls", "--user", "alice", "-o", "json")
	if !strings.Contains(out, ids["alice"][1]) || strings.Contains(out, ids["bob"][0]) || strings.Contains(out, "secret") {
		t.Fatalf("alice's sessions as JSON:\n%s", out)
	}
	if r := run(t, as(bobTok), "", "session", "revoke", ids["alice"][0]); r.code == 0 || !strings.Contains(r.err, "not found") {
		t.Fatalf("bob revokes alice's session: exit %d %s", r.code, r.err)
	}
	if out := mustRun(t, as(bobTok), "", "session", "revoke", ids["bob"][0]); !strings.Contains(out, "session "+ids["bob"][0]+" of bob ended") {
		t.Fatalf("bob revokes his own: %s", out)
	}
	if r := run(t, as(aliceTok), "", "session", "revoke", "--all", "--user", "bob"); r.code == 0 || !strings.Contains(r.err, "step-up needed") {
		t.Fatalf("an administrator's minted token ends bob's sessions without step-up: exit %d %s", r.code, r.err)
	}
	if out := mustRun(t, as(bootstrap), "", "session", "revoke", "--all", "--user", "alice"); !strings.Contains(out, "2 sessions of alice ended") {
		t.Fatalf("revoke --all --user alice: %s", out)
	}
	if out := mustRun(t, as(bobTok), "", "session", "revoke", "--all"); !strings.Contains(out, "0 sessions of bob ended") {
		t.Fatalf("sign out everywhere with none left: %s", out)
	}
	for _, bad := range [][]string{{"session", "revoke"}, {"session", "revoke", "x", "--all"}, {"session", "revoke", "x", "--user", "bob"}, {"session", "ls", "--all", "--user", "bob"}} {
		if r := run(t, as(bootstrap), "", bad...); r.code == 0 {
			t.Errorf("warden %s: exit 0", strings.Join(bad, " "))
		}
	}
	if r := run(t, as(bootstrap), "", "session", "revoke", "nothex"); r.code == 0 || !strings.Contains(r.err, "not a session id") {
		t.Fatalf("a malformed id: exit %d %s", r.code, r.err)
	}
	entries, err := audit.List(ctx, st, audit.Filter{Kind: resource.KindSession})
	if err != nil {
		t.Fatal(err)
	}
	var revokes []string
	for _, e := range entries {
		if e.Action == "revoke" {
			revokes = append(revokes, e.Actor+": "+e.Detail)
		}
	}
	if len(revokes) != 3 || !strings.Contains(revokes[0], "bob: session "+ids["bob"][0]+" of bob revoked by bob") ||
		!strings.Contains(revokes[1], "warden:admin: session") || !strings.Contains(revokes[1], "on alice's behalf") {
		t.Fatalf("audited revocations:\n%s", strings.Join(revokes, "\n"))
	}
}

func readFileT(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
