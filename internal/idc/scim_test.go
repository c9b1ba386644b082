package idc_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
)

// scimClient is newClient writing through the simulator's SCIM endpoint with tokens.
func scimClient(t *testing.T, opts idcsim.Options, tokens func(sim *idcsim.Sim) idc.SCIMTokens) (*idc.Client, *idcsim.Sim) {
	t.Helper()
	c, sim := newClient(t, opts, idc.Config{})
	if err := c.UseSCIM(idc.SCIMConfig{Endpoint: os.Getenv("AWS_ENDPOINT_URL") + "/scim/v2"}, tokens(sim), nil); err != nil {
		t.Fatal(err)
	}
	return c, sim
}

func simToken(sim *idcsim.Sim) idc.SCIMTokens { return idc.StaticTokens{sim.SCIMToken()} }

// Users, groups and memberships written over SCIM are what the identitystore API reads back, and
// carry warden's externalId; a membership change of 100 users is one call; nothing is written
// through the identitystore API.
func TestSCIMDirectoryWrites(t *testing.T) {
	c, sim := scimClient(t, idcsim.Options{Seed: 3}, simToken)
	ctx := context.Background()
	d := c.Dir()
	if d.Kind() != idc.DirectorySCIM || d.MembersPerCall() != 100 {
		t.Fatalf("directory %s, %d members per call", d.Kind(), d.MembersPerCall())
	}
	uid, err := d.CreateUser(ctx, idc.User{UserName: "zed@example.com", DisplayName: "Zed Z", GivenName: "Zed", FamilyName: "Z", Email: "zed@example.com"}, "warden:user:zed@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.DescribeUser(ctx, uid); err != nil || got.UserName != "zed@example.com" || got.Email != "zed@example.com" || got.GivenName != "Zed" {
		t.Fatalf("read back %+v %v", got, err)
	}
	if _, err := d.CreateUser(ctx, idc.User{UserName: "zed@example.com", DisplayName: "Zed", GivenName: "Z", FamilyName: "Z"}, ""); idc.ErrorCode(err) != "ConflictException" {
		t.Fatalf("a second user of the name: %v (code %q), want ConflictException", err, idc.ErrorCode(err))
	}
	if err := d.UpdateUser(ctx, uid, idc.User{DisplayName: "Zed Zulu", GivenName: "Zed", FamilyName: "Zulu", Email: "zz@example.com"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.DescribeUser(ctx, uid); got.DisplayName != "Zed Zulu" || got.FamilyName != "Zulu" || got.Email != "zz@example.com" {
		t.Fatalf("after the update: %+v", got)
	}
	var uids []string
	for i := range 150 {
		id, err := d.CreateUser(ctx, idc.User{UserName: fmt.Sprintf("u%03d@example.com", i), DisplayName: "U", GivenName: "U", FamilyName: "U"}, "")
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, id)
	}
	gid, err := d.CreateGroup(ctx, "Zed's team", "warden access list zed", "warden:group:zed")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateGroup(ctx, "zed's TEAM", "", ""); idc.ErrorCode(err) != "ConflictException" {
		t.Fatalf("a second group of the name: %v, want ConflictException", err)
	}
	if _, err := d.AddMembers(ctx, gid, uids); err == nil {
		t.Fatal("150 membership changes in one PATCH were sent; Identity Center takes 100")
	}
	sim.ResetStats()
	mids, err := d.AddMembers(ctx, gid, uids[:100])
	if err != nil || len(mids) != 100 || mids[0] != idc.MembershipUnknown {
		t.Fatalf("adding 100: %v %v", mids, err)
	}
	if _, err := d.AddMembers(ctx, gid, uids[100:]); err != nil {
		t.Fatal(err)
	}
	if n := sim.Stats().Calls["scim:PATCH /Groups/{id}"]; n != 2 {
		t.Fatalf("150 members added in %d PATCH calls, want 2", n)
	}
	members, err := c.Memberships(ctx, gid)
	if err != nil || len(members) != 150 {
		t.Fatalf("members read back: %d %v", len(members), err)
	}
	var out []idc.Membership
	for _, u := range uids[:60] {
		out = append(out, idc.Membership{UserID: u})
	}
	if err := d.RemoveMembers(ctx, gid, out); err != nil {
		t.Fatal(err)
	}
	if members, _ := c.Memberships(ctx, gid); len(members) != 90 {
		t.Fatalf("after removing 60: %d members", len(members))
	}
	if err := d.RenameGroup(ctx, gid, "Zed's crew"); err != nil {
		t.Fatal(err)
	}
	if id, _ := c.GroupID(ctx, "Zed's crew"); id != gid {
		t.Fatalf("renamed group found as %q", id)
	}
	if err := d.DeleteGroup(ctx, gid); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteGroup(ctx, gid); err != nil {
		t.Fatalf("deleting a group already gone: %v", err)
	}
	if err := d.DeleteUser(ctx, uid); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteUser(ctx, uid); err != nil {
		t.Fatalf("deleting a user already gone: %v", err)
	}
	if _, err := c.DescribeUser(ctx, uid); !idc.IsNotFound(err) {
		t.Fatalf("the deleted user reads back: %v", err)
	}
	for op, n := range sim.Stats().Calls {
		if strings.HasPrefix(op, "identitystore:") && !strings.HasPrefix(op, "identitystore:List") && !strings.HasPrefix(op, "identitystore:Get") && !strings.HasPrefix(op, "identitystore:Describe") {
			t.Errorf("written through the identitystore API: %s x%d", op, n)
		}
	}
}

// rotation records what a token source was told.
type rotation struct {
	tokens   []string
	accepted []string
}

func (r *rotation) Tokens(context.Context) ([]string, error) { return r.tokens, nil }
func (r *rotation) Accepted(_ context.Context, tok string)   { r.accepted = append(r.accepted, tok) }

// Rotation: a new token is tried first; while Identity Center refuses it the old one serves (and
// the new one is not retried before every call); once it is accepted, the source is told so. With
// every token refused, the error says how to set one.
func TestSCIMTokenRotation(t *testing.T) {
	rot := &rotation{}
	var sim *idcsim.Sim
	c, sim := scimClient(t, idcsim.Options{Seed: 4}, func(s *idcsim.Sim) idc.SCIMTokens {
		rot.tokens = []string{"not-yet-valid", s.SCIMToken()}
		return rot
	})
	ctx := context.Background()
	d := c.Dir()
	for i := range 3 {
		if _, err := d.CreateGroup(ctx, fmt.Sprintf("G%d", i), "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Calls()["scim:POST /Groups"]; n != 4 {
		t.Fatalf("%d calls for 3 creations: the refused new token was retried before every call (want 4: one refusal)", n)
	}
	if len(rot.accepted) != 1 || rot.accepted[0] != sim.SCIMToken() {
		t.Fatalf("accepted %v, want the old token once", rot.accepted)
	}
	// The new token becomes valid in Identity Center; a fresh client (a restart) tries it first.
	fresh, err := sim.CreateSCIMToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.CreateSCIMToken(); err == nil {
		t.Fatal("a third SCIM token was made; Identity Center keeps two")
	}
	rot2 := &rotation{tokens: []string{fresh, sim.SCIMToken()}}
	if err := c.UseSCIM(idc.SCIMConfig{Endpoint: os.Getenv("AWS_ENDPOINT_URL") + "/scim/v2"}, rot2, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Dir().CreateGroup(ctx, "G-new", "", ""); err != nil {
		t.Fatal(err)
	}
	if len(rot2.accepted) != 1 || rot2.accepted[0] != fresh {
		t.Fatalf("accepted %v, want the new token", rot2.accepted)
	}
	// Every token refused: the error says what to do.
	bad := &rotation{tokens: []string{"wrong"}}
	if err := c.UseSCIM(idc.SCIMConfig{Endpoint: os.Getenv("AWS_ENDPOINT_URL") + "/scim/v2"}, bad, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.Dir().CreateGroup(ctx, "G-bad", "", "")
	if err == nil || !strings.Contains(err.Error(), "warden integration scim-token set") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("with every token refused: %v", err)
	}
}

// Throttled SCIM calls are retried and succeed; the connection test passes against the simulator
// and fails, naming the status, against something that is not a SCIM endpoint.
func TestSCIMThrottlingAndConnectionTest(t *testing.T) {
	c, sim := scimClient(t, idcsim.Options{Seed: 5, ThrottleRate: 0.3}, simToken)
	ctx := context.Background()
	d := c.Dir().(*idc.SCIMDirectory)
	for i := range 10 {
		if _, err := d.CreateGroup(ctx, fmt.Sprintf("T%d", i), "", ""); err != nil {
			t.Fatalf("a throttled creation was not retried to success: %v", err)
		}
	}
	if sim.Stats().Throttled == 0 {
		t.Fatal("nothing throttled; the test proves nothing")
	}
	if n, err := d.TestConnection(ctx); err != nil || n != 1 {
		t.Fatalf("connection test: token %d, %v", n, err)
	}
	other := httptest.NewServer(nil) // answers 404 to everything
	t.Cleanup(other.Close)
	if err := c.UseSCIM(idc.SCIMConfig{Endpoint: other.URL + "/scim/v2"}, simToken(sim), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Dir().(*idc.SCIMDirectory).TestConnection(ctx); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("connection test against a non-SCIM server: %v", err)
	}
}

// The endpoint must be https (the token is a bearer credential), except on loopback.
func TestSCIMConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		endpoint, want string
	}{
		{"", "identity_center.scim.endpoint: required"},
		{"http://scim.example.com/x/scim/v2", "in clear; use https"},
		{"https://scim.us-east-1.amazonaws.com/abc/scim/v2?x=1", "without query"},
		{"ftp://x/scim", "not an http(s) URL"},
	} {
		err := idc.SCIMConfig{Endpoint: tc.endpoint}.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.endpoint, err, tc.want)
		}
	}
	for _, ok := range []string{"https://scim.us-east-1.amazonaws.com/abc-123/scim/v2", "http://127.0.0.1:8080/scim/v2"} {
		if err := (idc.SCIMConfig{Endpoint: ok}).Validate(); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	cfg := idc.Config{Region: "us-east-1", Directory: "ldap"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "identity_center.directory") {
		t.Errorf("directory ldap: %v", err)
	}
}
