package integration_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/integration"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// Rotation with overlap, end to end against the simulator: the token set first is used; a new one
// set while Identity Center does not know it yet leaves the old one working; once Identity Center
// has it, warden uses it, drops the old one from its store and says so in the audit log. Tokens are
// sealed at rest and never in the audit log.
func TestSCIMTokenRotation(t *testing.T) {
	ctx := context.Background()
	sim := idcsim.New(idcsim.Options{Seed: 9})
	if err := sim.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sim)
	t.Cleanup(hs.Close)
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, err := secret.LoadOrCreateBox(filepath.Join(t.TempDir(), "auth.key"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := func() time.Time { return now }
	c, err := idc.NewFromConfig(ctx, aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint: aws.String(hs.URL)}, idc.Config{Region: "us-east-1", RetryMaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tokens := integration.NewSCIMTokens(st, box, nil, clock)
	if err := c.UseSCIM(idc.SCIMConfig{Endpoint: hs.URL + "/scim/v2"}, tokens, nil); err != nil {
		t.Fatal(err)
	}
	old := sim.SCIMToken()
	if _, err := integration.SetSCIMToken(ctx, st, box, "alice", old, time.Time{}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Dir().CreateGroup(ctx, "First", "", ""); err != nil {
		t.Fatal(err)
	}
	// A new token, generated in the console but pasted into warden before Identity Center has it.
	next := "the-next-token-not-yet-known"
	if _, err := integration.SetSCIMToken(ctx, st, box, "alice", next, now.Add(200*24*time.Hour), now); err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Second) // past the source's cache
	if _, err := c.Dir().CreateGroup(ctx, "Second", "", ""); err != nil {
		t.Fatalf("with the new token unknown to Identity Center, the old one did not serve: %v", err)
	}
	infos, _ := integration.SCIMTokenInfos(ctx, st, now)
	if len(infos) != 2 {
		t.Fatalf("%d tokens held while the new one is unproven, want 2", len(infos))
	}
	// Identity Center learns the new token (in the simulator, it makes one; warden is given it).
	fresh, err := sim.CreateSCIMToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := integration.SetSCIMToken(ctx, st, box, "bob", fresh, time.Time{}, now); err != nil {
		t.Fatal(err)
	}
	infos, _ = integration.SCIMTokenInfos(ctx, st, now)
	if len(infos) != 2 {
		t.Fatalf("three tokens set: %d held, want 2 (Identity Center keeps two)", len(infos))
	}
	now = now.Add(10 * time.Second)
	if _, err := c.Dir().CreateGroup(ctx, "Third", "", ""); err != nil {
		t.Fatal(err)
	}
	infos, _ = integration.SCIMTokenInfos(ctx, st, now)
	if len(infos) != 1 || infos[0].AcceptedAt.IsZero() || infos[0].SetBy != "bob" || infos[0].Expiring {
		t.Fatalf("after Identity Center accepted the newest token: %+v, want it alone, accepted", infos)
	}
	if err := sim.DeleteSCIMToken(old); err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Second)
	if _, err := c.Dir().CreateGroup(ctx, "Fourth", "", ""); err != nil {
		t.Fatalf("with the old token deleted in Identity Center: %v", err)
	}
	// At rest: sealed; in the audit log: never.
	o, err := st.Get(ctx, resource.KindIDCSCIMToken, integration.SCIMTokenName)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(o)
	entries, err := audit.List(ctx, st, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	rawAudit, _ := json.Marshal(entries)
	for _, tok := range []string{old, next, fresh} {
		if strings.Contains(string(raw), tok) || strings.Contains(string(rawAudit), tok) {
			t.Fatalf("a token in clear in the store or the audit log")
		}
	}
	var accepted, set int
	for _, e := range entries {
		switch e.Action {
		case "integration.scim_token_set":
			set++
		case "integration.scim_token_accepted":
			accepted++
			if strings.Contains(e.Detail, "no longer uses") && !strings.Contains(e.Detail, "delete it in Identity Center's console") {
				t.Errorf("retirement entry: %s", e.Detail)
			}
		}
	}
	if set != 3 || accepted < 2 {
		t.Fatalf("audit: %d sets, %d acceptances", set, accepted)
	}
	// Bad input is refused naming the field.
	for _, tc := range []struct{ token, want string }{{"", "token: empty"}, {"a b", "white space"}, {strings.Repeat("x", 9000), "at most"}} {
		if _, err := integration.SetSCIMToken(ctx, st, box, "alice", tc.token, time.Time{}, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("token %.10q: %v, want %q", tc.token, err, tc.want)
		}
	}
	if _, err := integration.SetSCIMToken(ctx, st, box, "alice", "ok-token", now.Add(-time.Hour), now); err == nil || !strings.Contains(err.Error(), "expires:") {
		t.Errorf("a past expiry: %v", err)
	}
}
