package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

func newTokens(t *testing.T) (*Tokens, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return NewTokens(st), st
}

func TestTokenLifecycle(t *testing.T) {
	ctx := context.Background()
	tk, st := newTokens(t)
	if _, _, err := tk.Create(ctx, "nobody", false, time.Hour); resource.First(err) == nil || resource.First(err).Field != "user" {
		t.Fatalf("token for a missing user: %v, want a field error on user", err)
	}
	u := resource.New(resource.KindUser, "erin")
	if err := st.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tk.now = func() time.Time { return now }
	token, obj, err := tk.Create(ctx, "erin", false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Only a hash of the secret is stored.
	// wdn_<id>_<secret>: the id is hex; the secret (base64url) may itself hold underscores.
	parts := strings.SplitN(token, "_", 3)
	if len(parts) != 3 || parts[0] != "wdn" {
		t.Fatalf("token %q is not wdn_<id>_<secret>", token)
	}
	secret := parts[2]
	if strings.Contains(obj.Spec.(*resource.APITokenSpec).SecretHash, secret) {
		t.Fatal("the stored token holds its secret")
	}
	p, err := tk.Authenticate(ctx, token)
	if err != nil || p.User != "erin" || p.Admin {
		t.Fatalf("authenticate: %+v %v", p, err)
	}
	for _, bad := range []string{"", "wdn_", token + "x", strings.Replace(token, secret, strings.Repeat("A", len(secret)), 1), "Bearer " + token} {
		if _, err := tk.Authenticate(ctx, bad); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("token %q: %v, want ErrUnauthenticated", bad, err)
		}
	}
	now = now.Add(time.Hour)
	if _, err := tk.Authenticate(ctx, token); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: %v", err)
	}
}

func TestAdminTokenFile(t *testing.T) {
	ctx := context.Background()
	tk, _ := newTokens(t)
	path := filepath.Join(t.TempDir(), "data", "admin.token")
	created, err := tk.EnsureAdminToken(ctx, path)
	if err != nil || !created {
		t.Fatalf("first start: created=%v err=%v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin.token has mode %v, want 0600", fi.Mode().Perm())
	}
	first, _ := os.ReadFile(path)
	p, err := tk.Authenticate(ctx, strings.TrimSpace(string(first)))
	if err != nil || !p.Admin || p.User != BootstrapUser {
		t.Fatalf("admin token authenticates as %+v, %v", p, err)
	}
	created, err = tk.EnsureAdminToken(ctx, path)
	second, _ := os.ReadFile(path)
	if err != nil || created || string(second) != string(first) {
		t.Fatalf("second start: created=%v err=%v, token changed=%v", created, err, string(second) != string(first))
	}
	// A token file that no longer works is replaced.
	os.WriteFile(path, []byte("wdn_0000000000000000_gone\n"), 0o644)
	created, err = tk.EnsureAdminToken(ctx, path)
	if err != nil || !created {
		t.Fatalf("stale token file: created=%v err=%v", created, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("replaced admin.token has mode %v", fi.Mode().Perm())
	}
}

// A token records who issued it and whether it was minted for someone else; a token minted with
// such a token is its issuer's too, so handing tokens down does not launder who holds them. Tokens
// the bootstrap admin token mints count as their users' (that is how people get tokens for now).
func TestIssueRecordsIssuer(t *testing.T) {
	ctx := context.Background()
	tk, st := newTokens(t)
	for _, u := range []struct {
		name  string
		admin bool
	}{{"boss", true}, {"alice", true}, {"carol", false}} {
		o := resource.New(resource.KindUser, u.name)
		o.Spec = &resource.UserSpec{Admin: u.admin}
		if err := st.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	root := &Principal{User: BootstrapUser, Admin: true, TokenID: "00000000000000aa"}
	issue := func(by *Principal, user string) *Principal {
		t.Helper()
		token, _, err := tk.Issue(ctx, by, user, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		p, err := tk.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	boss := issue(root, "boss")
	if boss.Issuer != BootstrapUser || !boss.OnBehalf || boss.Accountable() != "boss" || boss.TokenIssuer() != BootstrapUser {
		t.Fatalf("boss's token from the bootstrap token: %+v accountable %s", boss, boss.Accountable())
	}
	alice := issue(boss, "alice")
	if alice.Issuer != "boss" || !alice.OnBehalf || alice.Accountable() != "boss" {
		t.Fatalf("alice's token minted by boss: %+v accountable %s", alice, alice.Accountable())
	}
	carol := issue(alice, "carol") // minted with the token boss minted for alice
	if carol.Issuer != "boss" || carol.Accountable() != "boss" {
		t.Fatalf("carol's token minted with boss's token for alice: %+v accountable %s", carol, carol.Accountable())
	}
	own := issue(boss, "boss")
	if own.Issuer != "boss" || own.OnBehalf || own.TokenIssuer() != "" {
		t.Fatalf("boss's token minted by boss: %+v", own)
	}
	if _, _, err := tk.Issue(ctx, boss, "carol", 0); resource.First(err) == nil || resource.First(err).Field != "ttl" {
		t.Fatalf("a token without a lifetime: %v, want a field error on ttl", err)
	}
}

// A new bootstrap admin token (admin.token lost, or no longer valid) revokes every earlier one, in
// the audit log; user tokens stay.
func TestBootstrapTokenRevokedOnReissue(t *testing.T) {
	ctx := context.Background()
	tk, st := newTokens(t)
	if err := st.Create(ctx, resource.New(resource.KindUser, "erin")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "admin.token")
	if _, err := tk.EnsureAdminToken(ctx, path); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	root, err := tk.Authenticate(ctx, strings.TrimSpace(string(first)))
	if err != nil {
		t.Fatal(err)
	}
	erin, _, err := tk.Issue(ctx, root, "erin", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The file is lost: the next start issues a new token, and the old one no longer works.
	os.Remove(path)
	if created, err := tk.EnsureAdminToken(ctx, path); err != nil || !created {
		t.Fatalf("restart without admin.token: created=%v err=%v", created, err)
	}
	if _, err := tk.Authenticate(ctx, strings.TrimSpace(string(first))); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("the lost admin token still authenticates: %v", err)
	}
	second, _ := os.ReadFile(path)
	if p, err := tk.Authenticate(ctx, strings.TrimSpace(string(second))); err != nil || !p.Admin {
		t.Fatalf("the new admin token: %+v %v", p, err)
	}
	if _, err := tk.Authenticate(ctx, erin); err != nil {
		t.Fatalf("a user's token was revoked with the bootstrap token: %v", err)
	}
	// A file holding something else (not a bootstrap token) is replaced the same way.
	os.WriteFile(path, []byte(erin+"\n"), 0o600)
	if created, err := tk.EnsureAdminToken(ctx, path); err != nil || !created {
		t.Fatalf("admin.token holding a user's token: created=%v err=%v", created, err)
	}
	if _, err := tk.Authenticate(ctx, strings.TrimSpace(string(second))); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("the replaced admin token still authenticates: %v", err)
	}
	boot, err := st.List(ctx, resource.KindAPIToken, store.ListOptions{Filters: store.Filter(resource.IndexUser, BootstrapUser)})
	if err != nil || len(boot) != 1 {
		t.Fatalf("bootstrap tokens left: %d %v, want 1", len(boot), err)
	}
	entries, err := audit.List(ctx, st, audit.Filter{Kind: resource.KindAPIToken})
	if err != nil {
		t.Fatal(err)
	}
	revoked := 0
	for _, e := range entries {
		if e.Action == "revoke" {
			revoked++
			if e.Actor != WardenActor || !strings.Contains(e.Detail, "bootstrap admin token") {
				t.Fatalf("revocation entry: %+v", e)
			}
		}
	}
	if revoked != 2 {
		t.Fatalf("%d revocations audited, want 2", revoked)
	}
}

// Issue refuses a lifetime over the cap, naming ttl and the cap.
func TestIssueCapsTTL(t *testing.T) {
	ctx := context.Background()
	tk, st := newTokens(t)
	if err := st.Create(ctx, resource.New(resource.KindUser, "erin")); err != nil {
		t.Fatal(err)
	}
	root := &Principal{User: BootstrapUser, Admin: true}
	if tk.MaxTTL() != 720*time.Hour {
		t.Fatalf("default cap %v, want 720h", tk.MaxTTL())
	}
	if _, _, err := tk.Issue(ctx, root, "erin", 721*time.Hour); resource.First(err) == nil || resource.First(err).Field != "ttl" || !strings.Contains(err.Error(), "720h") {
		t.Fatalf("721h under the default cap: %v", err)
	}
	tk.SetMaxTTL(time.Hour)
	if _, _, err := tk.Issue(ctx, root, "erin", 2*time.Hour); resource.First(err) == nil || !strings.Contains(err.Error(), "1h") {
		t.Fatalf("2h under a 1h cap: %v", err)
	}
	if _, _, err := tk.Issue(ctx, root, "erin", time.Hour); err != nil {
		t.Fatal(err)
	}
}
