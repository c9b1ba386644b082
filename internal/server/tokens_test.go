package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
)

// bossOrg adds to requestOrg an administrator who may also request (boss) and reviews nothing by
// role: as an administrator, boss may review any request but their own.
const bossOrg = requestOrg + `
---
kind: user
version: v1
metadata: {name: boss}
spec: {admin: true, roles: [developer]}
`

// tokenFor issues a token for user with the given client (an administrator's) and returns a client
// acting with it, and the token's id.
func (e *env) tokenFor(by *client.Client, user string) (*client.Client, string) {
	e.t.Helper()
	tok, err := by.CreateToken(e.ctx, user, "1h")
	if err != nil {
		e.t.Fatalf("issuing a token for %s: %v", user, err)
	}
	return client.New(e.url, tok.Token), tok.ID
}

// entries reads the audit log's entries matching f.
func (e *env) entries(f audit.Filter) []*resource.AuditEntrySpec {
	e.t.Helper()
	got, err := audit.List(e.ctx, e.store, f)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// Issuing a token is in the audit log: who issued it (with which token), for whom, for how long,
// and the token's id; never its secret or the secret's hash.
func TestTokenCreationAudited(t *testing.T) {
	e := newEnv(t)
	e.apply(bossOrg)
	boss, bossID := e.tokenFor(e.admin, "boss")
	tok, err := boss.CreateToken(e.ctx, "alice", "2h")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Issuer != "boss" || !tok.OnBehalf {
		t.Fatalf("token response: issuer %q on_behalf %v, want boss, true", tok.Issuer, tok.OnBehalf)
	}
	var found *resource.AuditEntrySpec
	for _, en := range e.entries(audit.Filter{Kind: resource.KindAPIToken}) {
		if en.Name == tok.ID {
			found = en
		}
	}
	if found == nil {
		t.Fatalf("no audit entry for the creation of token %s", tok.ID)
	}
	if found.Actor != "boss" || found.Action != "create" || found.Token != bossID {
		t.Fatalf("entry: actor %q action %q token %q, want boss create %s", found.Actor, found.Action, found.Token, bossID)
	}
	for _, want := range []string{tok.ID, "acting as alice", "issued by boss", "ttl 2h"} {
		if !strings.Contains(found.Detail, want) {
			t.Errorf("entry detail %q lacks %q", found.Detail, want)
		}
	}
	var after struct {
		Spec map[string]any `json:"spec"`
	}
	if err := json.Unmarshal(found.After, &after); err != nil {
		t.Fatal(err)
	}
	if after.Spec["user"] != "alice" || after.Spec["issuer"] != "boss" || after.Spec["on_behalf"] != true || after.Spec["expires"] == nil {
		t.Fatalf("entry's token: %s", found.After)
	}
	if _, leaked := after.Spec["secret_hash"]; leaked || strings.Contains(string(found.After), "secret") {
		t.Fatalf("the audit entry holds the secret's hash: %s", found.After)
	}
	secret := tok.Token[strings.LastIndex(tok.Token, tok.ID)+len(tok.ID)+1:]
	for _, en := range e.entries(audit.Filter{}) {
		b, _ := json.Marshal(en)
		if strings.Contains(string(b), secret) {
			t.Fatalf("audit entry %d holds the token's secret", en.Seq)
		}
	}
	// whoami says whose token it is and who minted it.
	alice := client.New(e.url, tok.Token)
	who, err := alice.WhoAmI(e.ctx)
	if err != nil || who["user"] != "alice" || who["issuer"] != "boss" || who["on_behalf"] != true || who["token_id"] != tok.ID {
		t.Fatalf("whoami with a token boss minted for alice: %v %v", who, err)
	}
	if entries := e.verify(); entries == 0 {
		t.Fatal("empty log")
	}
}

func (e *env) verify() int {
	e.t.Helper()
	n, err := audit.Verify(e.ctx, e.store)
	if err != nil {
		e.t.Fatalf("verify: %v", err)
	}
	return n
}

// What is done with a token an administrator minted for someone else is recorded as such: the
// token's id and its issuer on every entry and on the review; and it does not defeat the review
// rules: the administrator's reviews count once whichever user's token they use, and the
// administrator reviews no request they made, in their own name or through such a token.
func TestAdminMintedReviewIsMarked(t *testing.T) {
	e := newEnv(t)
	e.apply(bossOrg)
	boss, bossID := e.tokenFor(e.admin, "boss")
	dan, _ := e.tokenFor(e.admin, "dan")
	bob, _ := e.tokenFor(e.admin, "bob")
	asAlice, aliceID := e.tokenFor(boss, "alice") // boss holds a token acting as alice
	asCarol, _ := e.tokenFor(boss, "carol")       // ... and one acting as carol

	got, err := dan.RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	id := got.Request.Metadata.Name
	r, err := asAlice.RequestReview(e.ctx, id, server.RequestReview{Decision: "APPROVE"})
	if err != nil {
		t.Fatalf("review with the token boss minted for alice: %v", err)
	}
	rv := r.Request.Spec.(*resource.AccessRequestSpec).Reviews[0]
	if rv.Author != "alice" || rv.TokenIssuer != "boss" {
		t.Fatalf("review recorded as %+v, want author alice, token_issuer boss", rv)
	}
	var review *resource.AuditEntrySpec
	for _, en := range e.entries(audit.Filter{Kind: resource.KindAccessRequest}) {
		if en.Action == "review" {
			review = en
		}
	}
	if review == nil || review.Actor != "alice" || review.Token != aliceID || review.TokenIssuer != "boss" {
		t.Fatalf("audit entry of the review: %+v, want actor alice, token %s, token_issuer boss", review, aliceID)
	}
	// The same person again, whichever token: refused, so the threshold of two is not met by one.
	for name, c := range map[string]*client.Client{"boss's own token": boss, "a token boss minted for carol": asCarol} {
		if _, err := c.RequestReview(e.ctx, id, server.RequestReview{Decision: "APPROVE"}); status(err) != 403 || !strings.Contains(err.Error(), "boss has reviewed") {
			t.Fatalf("boss approving again with %s: %v, want 403", name, err)
		}
	}
	if cur, _ := e.admin.Request(e.ctx, id); cur.Spec.(*resource.AccessRequestSpec).State != resource.StatePending {
		t.Fatal("one person's two approvals approved the request")
	}
	// Another person's approval is the second.
	if r, err := bob.RequestReview(e.ctx, id, server.RequestReview{Decision: "APPROVE"}); err != nil || r.Request.Spec.(*resource.AccessRequestSpec).State != resource.StateApproved {
		t.Fatalf("bob's approval: %v", err)
	}

	// boss's own request: not reviewed by boss through alice's token.
	mine, err := boss.RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asAlice.RequestReview(e.ctx, mine.Request.Metadata.Name, server.RequestReview{Decision: "APPROVE"}); status(err) != 403 || !strings.Contains(err.Error(), "own request") {
		t.Fatalf("boss approving his own request with alice's token: %v, want 403", err)
	}
	// A request boss made through a token acting as dan is recorded as such, and boss does not review it.
	asDan, danID := e.tokenFor(boss, "dan")
	made, err := asDan.RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	if spec := made.Request.Spec.(*resource.AccessRequestSpec); spec.User != "dan" || spec.TokenIssuer != "boss" {
		t.Fatalf("request made with boss's token for dan: user %q token_issuer %q", spec.User, spec.TokenIssuer)
	}
	created := e.entries(audit.Filter{Token: danID})
	if len(created) != 1 || created[0].Action != "create" || created[0].Actor != "dan" || created[0].TokenIssuer != "boss" {
		t.Fatalf("entries made with boss's token for dan: %+v", created)
	}
	if _, err := boss.RequestReview(e.ctx, made.Request.Metadata.Name, server.RequestReview{Decision: "APPROVE"}); status(err) != 403 || !strings.Contains(err.Error(), "own request") {
		t.Fatalf("boss approving the request he made as dan: %v, want 403", err)
	}
	// Entries made with one's own token carry its id, and no issuer of someone else.
	byBoss := e.entries(audit.Filter{Token: bossID})
	if len(byBoss) == 0 {
		t.Fatal("no entries carry boss's token")
	}
	for _, en := range byBoss {
		if en.Actor != "boss" {
			t.Fatalf("entry %d made with boss's token says actor %q", en.Seq, en.Actor)
		}
	}
	e.verify()
}

// An import is recorded as the administrator who ran it, with their token; not as warden:admin.
func TestImportAuditedAsItsAdministrator(t *testing.T) {
	e := newEnv(t)
	sim := idcsim.New(idcsim.Options{Seed: 3})
	if err := sim.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sim)
	t.Cleanup(hs.Close)
	cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}
	c, err := idc.NewFromConfig(context.Background(), aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("A", "B", ""), BaseEndpoint: aws.String(hs.URL)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.SetSync(reconcile.New(e.store, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))))
	e.apply("kind: user\nversion: v1\nmetadata: {name: ops}\nspec: {admin: true}\n")
	ops, opsID := e.tokenFor(e.admin, "ops")
	if _, err := ops.Import(e.ctx, []string{"ops"}); err != nil {
		t.Fatal(err)
	}
	imported := e.entries(audit.Filter{Kind: resource.KindAccessList})
	if len(imported) == 0 {
		t.Fatal("the import wrote no access lists")
	}
	for _, en := range imported {
		if en.Actor != "ops" || en.Token != opsID {
			t.Fatalf("imported %s %s recorded as actor %q token %q, want ops with %s", en.Kind, en.Name, en.Actor, en.Token, opsID)
		}
	}
	for _, en := range e.entries(audit.Filter{Actor: resource.BootstrapAdmin, Kind: resource.KindUser}) {
		if en.Name != "ops" { // the one user created before the import
			t.Fatalf("imported user %s recorded as %s", en.Name, resource.BootstrapAdmin)
		}
	}
}

// Tokens are listed (never with a secret or its hash) and revoked: an administrator any, everyone
// else their own; each revocation audited; a revoked token answers 401 at once.
func TestTokenListAndRevoke(t *testing.T) {
	e := newEnv(t)
	e.apply(bossOrg)
	bob, bobID := e.tokenFor(e.admin, "bob")
	bob2, bob2ID := e.tokenFor(e.admin, "bob")
	alice, aliceID := e.tokenFor(e.admin, "alice")

	all, err := e.admin.Tokens(e.ctx, "")
	if err != nil || len(all) != 4 { // the bootstrap token and three
		t.Fatalf("administrator's listing: %d %v, want 4", len(all), err)
	}
	code, body := e.raw("GET", "/v1/tokens", e.admin.Token, "")
	if raw, _ := json.Marshal(body); code != 200 || strings.Contains(string(raw), "secret") || strings.Contains(string(raw), "hash") {
		t.Fatalf("listing: %d %s", code, raw)
	}
	mine, err := bob.Tokens(e.ctx, "")
	if err != nil || len(mine) != 2 || mine[0].User != "bob" || mine[1].User != "bob" {
		t.Fatalf("bob's listing: %+v %v", mine, err)
	}
	current := 0
	for _, tk := range mine {
		if tk.Current {
			current++
			if tk.ID != bobID {
				t.Fatalf("bob's current token is %s, want %s", tk.ID, bobID)
			}
		}
		if tk.Issuer != resource.BootstrapAdmin || !tk.OnBehalf || tk.Expires.IsZero() {
			t.Fatalf("bob's token listed as %+v", tk)
		}
	}
	if current != 1 {
		t.Fatalf("%d tokens marked current", current)
	}
	if _, err := bob.Tokens(e.ctx, "alice"); status(err) != 403 {
		t.Fatalf("bob listing alice's tokens: %v, want 403", err)
	}
	if onlyAlice, err := e.admin.Tokens(e.ctx, "alice"); err != nil || len(onlyAlice) != 1 || onlyAlice[0].ID != aliceID {
		t.Fatalf("administrator listing alice's tokens: %+v %v", onlyAlice, err)
	}
	if code, body := e.raw("GET", "/v1/tokens?usr=bob", e.admin.Token, ""); code != 400 || body["field"] != "usr" {
		t.Fatalf("a misspelt filter: %d %v", code, body)
	}

	// Revocation: not someone else's, one's own yes, an administrator anyone's.
	if _, err := bob.RevokeToken(e.ctx, aliceID); status(err) != 403 {
		t.Fatalf("bob revoking alice's token: %v, want 403", err)
	}
	if _, err := bob.RevokeToken(e.ctx, bob2ID); err != nil {
		t.Fatalf("bob revoking his own: %v", err)
	}
	if _, err := bob2.WhoAmI(e.ctx); status(err) != 401 {
		t.Fatalf("a revoked token: %v, want 401", err)
	}
	if _, err := e.admin.RevokeToken(e.ctx, aliceID); err != nil {
		t.Fatalf("the administrator revoking alice's token: %v", err)
	}
	if _, err := alice.WhoAmI(e.ctx); status(err) != 401 {
		t.Fatalf("alice's revoked token: %v, want 401", err)
	}
	if _, err := e.admin.RevokeToken(e.ctx, aliceID); status(err) != 404 {
		t.Fatalf("revoking again: %v, want 404", err)
	}
	if code, body := e.raw("DELETE", "/v1/tokens/nothex", e.admin.Token, ""); code != 400 || body["field"] != "id" {
		t.Fatalf("a malformed id: %d %v", code, body)
	}
	var revoked []string
	for _, en := range e.entries(audit.Filter{Kind: resource.KindAPIToken}) {
		if en.Action == "revoke" {
			revoked = append(revoked, en.Actor+":"+en.Name)
			if en.Token == "" || strings.Contains(string(en.Before), "secret_hash") {
				t.Fatalf("revocation entry: %+v", en)
			}
		}
	}
	if got := strings.Join(revoked, ","); got != "bob:"+bob2ID+","+resource.BootstrapAdmin+":"+aliceID {
		t.Fatalf("revocations audited: %s", got)
	}
	e.verify()
}

// User tokens are capped by tokens.max_ttl (720h unless configured): longer asks are refused with
// a 400 naming ttl and the cap; a token asked without a ttl gets the cap when it is shorter than 720h.
func TestTokenTTLCap(t *testing.T) {
	e := newEnv(t)
	e.apply(bossOrg)
	code, body := e.raw("POST", "/v1/tokens", e.admin.Token, `{"user": "bob", "ttl": "721h"}`)
	if code != 400 || body["field"] != "ttl" || !strings.Contains(body["error"].(string), "720h") {
		t.Fatalf("721h under the default cap: %d %v", code, body)
	}
	if _, err := e.admin.CreateToken(e.ctx, "bob", "720h"); err != nil {
		t.Fatalf("720h: %v", err)
	}
	e.srv.SetTokenMaxTTL(24 * time.Hour)
	code, body = e.raw("POST", "/v1/tokens", e.admin.Token, `{"user": "bob", "ttl": "25h"}`)
	if code != 400 || body["field"] != "ttl" || !strings.Contains(body["error"].(string), "24h") {
		t.Fatalf("25h under a 24h cap: %d %v", code, body)
	}
	before := time.Now()
	tok, err := e.admin.CreateToken(e.ctx, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Expires.Before(before.Add(24*time.Hour-time.Minute)) || tok.Expires.After(time.Now().Add(24*time.Hour)) {
		t.Fatalf("a token without a ttl under a 24h cap expires %v", tok.Expires)
	}
}

// The server's admin token is issued anew when admin.token is lost (a restart calls
// EnsureAdminToken): the old one answers 401 from then on.
func TestBootstrapTokenRevokedOnReissue(t *testing.T) {
	e := newEnv(t)
	if _, err := e.admin.WhoAmI(e.ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "admin.token") // the file is gone: a restart finds none
	if created, err := e.srv.Tokens().EnsureAdminToken(e.ctx, path); err != nil || !created {
		t.Fatalf("restart without admin.token: %v %v", created, err)
	}
	if code, _ := e.raw("GET", "/v1/whoami", e.admin.Token, ""); code != 401 {
		t.Fatalf("the lost admin token answers %d, want 401", code)
	}
	tok, err := readToken(path)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := e.raw("GET", "/v1/whoami", tok, ""); code != 200 {
		t.Fatalf("the new admin token answers %d", code)
	}
}
