package server_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/integration"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/testenv"
)

// uiAdminEnv: alice, an administrator, and bob, who is not, each signed in with a password and
// TOTP in their own browser; the server's clock is the test's (the step-up window moves with it).
type uiAdminEnv struct {
	*signinEnv
	alice, bob *browser
	aliceKey   string
}

func newUIAdminEnv(t *testing.T) *uiAdminEnv {
	t.Helper()
	e := newSigninEnv(t, "required")
	e.srv.SetClock(e.clk.Now)
	e.apply("kind: user\nversion: v1\nmetadata: {name: alice}\nspec: {email: alice@example.com, given_name: Alice, family_name: A, admin: true}\n")
	u := &uiAdminEnv{signinEnv: e, alice: e.browser(), bob: e.browser()}
	u.aliceKey = u.signInTOTP(u.alice, "alice")
	u.signInTOTP(u.bob, "bob")
	return u
}

// signInTOTP enrols user through an invitation and signs them in with password and TOTP; it
// returns the TOTP key.
func (e *uiAdminEnv) signInTOTP(b *browser, user string) string {
	e.t.Helper()
	key, _ := e.enrol(b, e.invite(user), alicePassword)
	e.clk.Advance(30 * time.Second)
	if p := e.signIn(b, user, alicePassword, "/"); p.status != http.StatusSeeOther || p.location != "/login/second-factor" {
		e.t.Fatalf("%s: password: %d %q", user, p.status, p.location)
	}
	if p := e.secondFactor(b, totpCode(e.t, key, e.clk.Now())); p.status != http.StatusSeeOther {
		e.t.Fatalf("%s: second factor: %d\n%s", user, p.status, p.body)
	}
	return key
}

// stepUp confirms alice's second factor again (the step-up page).
func (e *uiAdminEnv) stepUp(b *browser, key string) {
	e.t.Helper()
	e.clk.Advance(30 * time.Second)
	p := b.get("/login/step-up?next=/admin")
	if p = b.post("/login/step-up", url.Values{"csrf": {csrfOf(e.t, p)}, "code": {totpCode(e.t, key, e.clk.Now())}, "next": {"/admin"}}); p.status != http.StatusSeeOther {
		e.t.Fatalf("step-up: %d\n%s", p.status, p.body)
	}
}

var adminPages = []string{"/audit", "/audit?kind=role", "/audit/export.csv", "/audit/export.json", "/admin", "/admin/users",
	"/admin/users/alice", "/admin/identity", "/admin/setup", "/admin/setup/aws", "/admin/setup/preview",
	"/admin/setup/identity-source", "/admin/setup/scim", "/admin/setup/import", "/admin/setup/app", "/admin/setup/uninstall"}

// Someone who is not an administrator gets the 403 page on every page, export and form, and none
// of their data; the administrator gets each page.
func TestUIAdminPagesForAdministratorsOnly(t *testing.T) {
	e := newUIAdminEnv(t)
	for _, path := range adminPages {
		p := e.bob.get(path)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "Only warden administrators") {
			t.Fatalf("bob GET %s: %d\n%s", path, p.status, p.body)
		}
		for _, leak := range []string{"alice@example.com", "audit-entries", "seq,time", "\"hash\""} {
			if strings.Contains(p.body, leak) {
				t.Fatalf("bob GET %s shows %q", path, leak)
			}
		}
		if p := e.alice.get(path); p.status != http.StatusOK {
			t.Fatalf("alice GET %s: %d\n%s", path, p.status, p.body)
		}
	}
	// Forms too, with bob's own valid CSRF token.
	csrf := csrfOf(t, e.bob.get("/account"))
	for _, path := range []string{"/audit/verify", "/admin/sync/plan", "/admin/sync/apply", "/admin/users/invite", "/admin/users/alice/disable",
		"/admin/users/alice/sessions/revoke", "/admin/users/alice/tokens/revoke", "/admin/setup/aws/test", "/admin/setup/identity-source",
		"/admin/setup/import", "/admin/setup/uninstall"} {
		if p := e.bob.post(path, url.Values{"csrf": {csrf}, "disabled": {"true"}, "user": {"alice"}}); p.status != http.StatusForbidden {
			t.Fatalf("bob POST %s: %d\n%s", path, p.status, p.body)
		}
	}
	if o, _ := e.store.Get(e.ctx, resource.KindUser, "alice"); o.Spec.(*resource.UserSpec).Disabled {
		t.Fatal("bob disabled alice")
	}
	// The navigation shows the links to administrators only.
	if p := e.bob.get("/account"); strings.Contains(p.body, `href="/audit"`) {
		t.Fatal("bob's navigation links to the audit log")
	}
	if p := e.alice.get("/account"); !strings.Contains(p.body, `href="/audit"`) || !strings.Contains(p.body, `href="/admin"`) {
		t.Fatal("alice's navigation lacks the audit log and administration")
	}
	// Without the sync, the pages say so.
	mustContain(t, "admin page", e.alice.get("/admin"), `id="sync-off"`)
	mustContain(t, "setup", e.alice.get("/admin/setup"), "warden writes users and groups through the identitystore API")
	mustContain(t, "setup step 4", e.alice.get("/admin/setup/scim"), "no <code>identity_center</code> section")
	if p := e.alice.get("/admin/setup/preview?read=1"); p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "sync is off") {
		t.Fatalf("preview without the sync: %d\n%s", p.status, p.body)
	}
}

var entryRE = regexp.MustCompile(`<tr id="entry-(\d+)">`)

func entrySeqs(p page) []int {
	var out []int
	for _, m := range entryRE.FindAllStringSubmatch(p.body, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

var nextRE = regexp.MustCompile(`<a href="([^"]+)" id="page-next"`)

// The audit page searches by kind, object name, actor and time, newest first, in pages with a
// link to the next; each entry shows what changed; the exports hold exactly the search's entries.
func TestUIAuditSearchPagesAndExports(t *testing.T) {
	e := newUIAdminEnv(t)
	var docs []string
	for i := range 60 {
		docs = append(docs, fmt.Sprintf("kind: role\nversion: v1\nmetadata: {name: r%02d}\nspec: {allow: {account_assignments: [{account: \"058264527036\", permission_set: ReadOnlyAccess}]}}\n", i))
	}
	e.apply(strings.Join(docs, "---\n"))

	// By kind: 61 entries (the base's role staging-admin, then these), the newest first, 50 on the
	// first page.
	p := e.alice.get("/audit?kind=role")
	seqs := entrySeqs(p)
	if len(seqs) != 50 {
		t.Fatalf("first page: %d entries\n%s", len(seqs), p.body)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] >= seqs[i-1] {
			t.Fatalf("not newest first: %v", seqs)
		}
	}
	mustContain(t, "first page", p, "role/r59", "warden:admin", "created: ", "spec.allow.account_assignments", "The newest entries")
	if strings.Contains(p.body, "role/r09") {
		t.Fatal("the first page holds the oldest roles")
	}
	m := nextRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no next page link:\n%s", p.body)
	}
	p2 := e.alice.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	seqs2 := entrySeqs(p2)
	if len(seqs2) != 11 || seqs2[0] >= seqs[len(seqs)-1] || nextRE.MatchString(p2.body) {
		t.Fatalf("second page: %v after %v\n%s", seqs2, seqs, p2.body)
	}
	mustContain(t, "second page", p2, "role/r00", "role/staging-admin", "Older entries", `id="page-newest"`)

	// By object name, through its index.
	p = e.alice.get("/audit?name=r07")
	if s := entrySeqs(p); len(s) != 1 || !strings.Contains(p.body, "role/r07") {
		t.Fatalf("name r07: %v\n%s", s, p.body)
	}

	// alice disables bob in the page: the entry names her and shows the field changed.
	csrf := csrfOf(t, e.alice.get("/admin/users/bob"))
	if p := e.alice.post("/admin/users/bob/disable", url.Values{"csrf": {csrf}, "disabled": {"true"}}); p.status != http.StatusSeeOther {
		t.Fatalf("disable: %d\n%s", p.status, p.body)
	}
	p = e.alice.get("/audit?actor=alice&kind=user")
	if s := entrySeqs(p); len(s) != 1 {
		t.Fatalf("alice's user changes: %v\n%s", s, p.body)
	}
	mustContain(t, "alice's change", p, `<a href="/admin/users/bob"><code>user/bob</code></a>`, "1 field changed", "<code>spec.disabled</code>", "<ins>true</ins>")

	// Time ranges: everything so far is before a minute from now, nothing after.
	later := e.clk.Now().Add(time.Minute).UTC().Format("2006-01-02T15:04")
	mustContain(t, "since later", e.alice.get("/audit?since="+later), `id="audit-none"`)
	if s := entrySeqs(e.alice.get("/audit?kind=role&until=" + later)); len(s) != 50 {
		t.Fatalf("until later: %d", len(s))
	}
	p = e.alice.get("/audit?since=yesterday")
	if p.status != http.StatusBadRequest {
		t.Fatalf("a bad time: %d", p.status)
	}
	mustContain(t, "a bad time", p, `id="since-error"`, "is not a time", `aria-invalid="true"`)

	// CSV: the search's 61 entries, newest first, as an attachment.
	res, err := e.alice.c.Get(e.url + "/audit/export.csv?kind=role")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	res.Body.Close()
	if err != nil || len(rows) != 62 || rows[0][0] != "seq" || !strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="warden-audit-`) {
		t.Fatalf("CSV: %d rows, %v, %q", len(rows), err, res.Header.Get("Content-Disposition"))
	}
	if rows[1][0] != strconv.Itoa(seqs[0]) || rows[1][5] != "r59" || rows[60][5] != "r00" || rows[61][5] != "staging-admin" {
		t.Fatalf("CSV order: %v ... %v", rows[1], rows[61])
	}
	for _, r := range rows[1:] {
		if r[4] != "role" || len(r[12]) != 64 {
			t.Fatalf("CSV row: %v", r)
		}
	}
	// JSON: the same entries.
	res, err = e.alice.c.Get(e.url + "/audit/export.json?kind=role&name=r03")
	if err != nil {
		t.Fatal(err)
	}
	var entries []resource.AuditEntrySpec
	err = json.NewDecoder(res.Body).Decode(&entries)
	res.Body.Close()
	if err != nil || len(entries) != 1 || entries[0].Name != "r03" || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON: %v %+v", err, entries)
	}

	// The chain: verified on request, the head shown.
	p = e.alice.get("/audit")
	head, _ := audit.ReadHead(e.ctx, e.store)
	mustContain(t, "chain", p, head.String(), "Not verified since warden started")
	if p := e.alice.post("/audit/verify", url.Values{"csrf": {csrfOf(t, p)}}); p.status != http.StatusSeeOther {
		t.Fatalf("verify: %d", p.status)
	}
	testenv.Eventually(t, 30*time.Second, "the verification's result", func() bool {
		return strings.Contains(e.alice.get("/audit").body, `<span class="badge ok">verified</span>`)
	})
}

// The user page's forms: CSRF refused, step-up needed, and disable, session and token revocation
// done through the API's code, each audited with alice as the actor; an invitation shows its link.
func TestUIAdminUserForms(t *testing.T) {
	e := newUIAdminEnv(t)
	p := e.alice.get("/admin/users")
	mustContain(t, "users", p, `href="/admin/users/alice"`, `href="/admin/users/bob"`, "Make the invitation link")
	mustContain(t, "search", e.alice.get("/admin/users?q=bo"), `href="/admin/users/bob"`)
	if p := e.alice.get("/admin/users?q=bo"); strings.Contains(p.body, `href="/admin/users/alice"`) {
		t.Fatal("search bo lists alice")
	}
	var tok server.TokenResponse
	if err := e.admin.Do(e.ctx, "POST", "/v1/tokens", server.TokenRequest{User: "bob"}, &tok); err != nil {
		t.Fatal(err)
	}
	sessions, err := e.srv.Sessions().List(e.ctx, "bob")
	if err != nil || len(sessions) != 1 {
		t.Fatalf("bob's sessions: %d %v", len(sessions), err)
	}
	bobSession := sessions[0].ID
	p = e.alice.get("/admin/users/bob")
	mustContain(t, "bob's page", p, bobSession, tok.ID, "enabled", `id="user-disable"`)
	csrf := csrfOf(t, p)

	// No CSRF token: refused, nothing changed.
	if p := e.alice.post("/admin/users/bob/disable", url.Values{"disabled": {"true"}}); p.status != http.StatusForbidden || !strings.Contains(p.body, "CSRF") {
		t.Fatalf("without CSRF: %d\n%s", p.status, p.body)
	}
	// A second factor older than the step-up window: the step-up page, nothing changed.
	e.clk.Advance(server.DefaultStepUp + time.Minute)
	if p := e.alice.post("/admin/users/bob/disable", url.Values{"csrf": {csrf}, "disabled": {"true"}}); p.status != http.StatusForbidden || !strings.Contains(p.body, "Confirm your second factor first") {
		t.Fatalf("without step-up: %d\n%s", p.status, p.body)
	}
	mustContain(t, "bob's page, stale", e.alice.get("/admin/users/bob"), "confirm your second factor first")
	if o, _ := e.store.Get(e.ctx, resource.KindUser, "bob"); o.Spec.(*resource.UserSpec).Disabled {
		t.Fatal("bob disabled without CSRF or step-up")
	}
	e.stepUp(e.alice, e.aliceKey)

	// Disable: the user is disabled, the page says so, the entry names alice.
	if p := e.alice.post("/admin/users/bob/disable", url.Values{"csrf": {csrf}, "disabled": {"true"}}); p.status != http.StatusSeeOther {
		t.Fatalf("disable: %d\n%s", p.status, p.body)
	}
	if o, _ := e.store.Get(e.ctx, resource.KindUser, "bob"); !o.Spec.(*resource.UserSpec).Disabled {
		t.Fatal("bob is not disabled")
	}
	mustContain(t, "bob disabled", e.alice.get("/admin/users/bob"), `<span class="badge bad">disabled</span>`, `id="user-enable"`)
	// End bob's session: bob is signed out.
	if p := e.alice.post("/admin/users/bob/sessions/revoke", url.Values{"csrf": {csrf}, "id": {bobSession}}); p.status != http.StatusSeeOther {
		t.Fatalf("end session: %d\n%s", p.status, p.body)
	}
	if p := e.bob.get("/"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login") {
		t.Fatalf("bob after his session ended: %d %q", p.status, p.location)
	}
	// A session id of someone else given for bob: not found.
	aliceSessions, _ := e.srv.Sessions().List(e.ctx, "alice")
	if p := e.alice.post("/admin/users/bob/sessions/revoke", url.Values{"csrf": {csrf}, "id": {aliceSessions[0].ID}}); p.status != http.StatusNotFound {
		t.Fatalf("alice's session under bob: %d", p.status)
	}
	// Revoke bob's token: it no longer works.
	if p := e.alice.post("/admin/users/bob/tokens/revoke", url.Values{"csrf": {csrf}, "id": {tok.ID}}); p.status != http.StatusSeeOther {
		t.Fatalf("revoke token: %d\n%s", p.status, p.body)
	}
	if code, _ := e.raw("GET", "/v1/whoami", tok.Token, ""); code != http.StatusUnauthorized {
		t.Fatalf("bob's revoked token: %d", code)
	}
	mustContain(t, "bob's page after", e.alice.get("/admin/users/bob"), `id="sessions-none"`, `id="tokens-none"`)
	// Each change is audited with alice as its actor.
	es, err := audit.List(e.ctx, e.store, audit.Filter{Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, en := range es {
		got[string(en.Kind)+" "+en.Action] = true
	}
	for _, want := range []string{"user update", "session revoke", "api_token revoke"} {
		if !got[want] {
			t.Errorf("no audit entry %q by alice (%v)", want, got)
		}
	}

	// An invitation shows its link once; a user that does not exist is refused beside the field.
	p = e.alice.post("/admin/users/invite", url.Values{"csrf": {csrf}, "user": {"bob"}})
	mustContain(t, "invitation", p, `id="invite-link"`, e.url+"/enroll/")
	p = e.alice.post("/admin/users/invite", url.Values{"csrf": {csrf}, "user": {"nobody"}})
	if p.status != http.StatusBadRequest {
		t.Fatalf("invite nobody: %d\n%s", p.status, p.body)
	}
	mustContain(t, "invite nobody", p, `id="user-error"`, `value="nobody"`)
}

// The guided integration's forms against a simulated Identity Center (the engine attached, not
// running, so not leading): the preview, the import (CSRF, step-up, an owner who does not exist
// refused beside the field, then done and audited as alice, every group a list), the plan, and an
// uninstall refused as the API refuses it on a replica that does not lead the sync.
func TestUIAdminSetupForms(t *testing.T) {
	e := newUIAdminEnv(t)
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

	p := e.alice.get("/admin/setup")
	mustContain(t, "overview", p, `id="step-5-state">to do`, `id="step-3-state">to do`)
	p = e.alice.get("/admin/setup/preview?read=1&q=dev")
	mustContain(t, "preview", p, "6 accounts, 5 permission sets, 12 users, 4 groups", "DevOps", "Developers", "Development (")
	if strings.Contains(p.body, "<th scope=\"row\">Everyone</th>") {
		t.Fatal("the preview filtered by dev shows Everyone")
	}
	mustContain(t, "after the preview", e.alice.get("/admin/setup"), `id="step-2-state">done`)

	p = e.alice.get("/admin/setup/import")
	mustContain(t, "import step", p, `value="alice"`, `id="import"`)
	csrf := csrfOf(t, p)
	if p := e.alice.post("/admin/setup/import", url.Values{"owners": {"alice"}}); p.status != http.StatusForbidden {
		t.Fatalf("import without CSRF: %d", p.status)
	}
	p = e.alice.post("/admin/setup/import", url.Values{"csrf": {csrf}, "owners": {"nobody"}})
	if p.status != http.StatusBadRequest {
		t.Fatalf("import with an unknown owner: %d\n%s", p.status, p.body)
	}
	mustContain(t, "unknown owner", p, `id="owners-error"`, "nobody", `aria-invalid="true"`)
	e.clk.Advance(server.DefaultStepUp + time.Minute)
	if p := e.alice.post("/admin/setup/import", url.Values{"csrf": {csrf}, "owners": {"alice"}}); p.status != http.StatusForbidden || !strings.Contains(p.body, "Confirm your second factor first") {
		t.Fatalf("import without step-up: %d\n%s", p.status, p.body)
	}
	if lists, _ := e.store.List(e.ctx, resource.KindAccessList, store.ListOptions{}); len(lists) != 1 { // the base's ops
		t.Fatalf("%d lists before the import", len(lists))
	}
	e.stepUp(e.alice, e.aliceKey)
	p = e.alice.post("/admin/setup/import", url.Values{"csrf": {csrf}, "owners": {"alice"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/admin/setup/import?flash=Imported") {
		t.Fatalf("import: %d %q\n%s", p.status, p.location, p.body)
	}
	p = e.alice.get(p.location)
	mustContain(t, "imported", p, `id="import-result"`, `<a href="/lists/devops">devops</a>`, "Every group is an access list.")
	es, err := audit.List(e.ctx, e.store, audit.Filter{Actor: "alice", Kind: resource.KindAccessList})
	if err != nil || len(es) != 4 {
		t.Fatalf("lists the import made, audited as alice: %d %v", len(es), err)
	}

	p = e.alice.post("/admin/sync/plan", url.Values{"csrf": {csrf}})
	mustContain(t, "plan", p, `id="plan-text"`, `id="plan-summary"`)

	p = e.alice.post("/admin/setup/uninstall", url.Values{"csrf": {csrf}})
	mustContain(t, "uninstall's plan", p, "What uninstalling would do", `id="uninstall-confirm"`)
	p = e.alice.post("/admin/setup/uninstall", url.Values{"csrf": {csrf}, "confirm": {"uninstall"}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "lead") {
		t.Fatalf("uninstall on a replica that does not lead: %d\n%s", p.status, p.body)
	}
}

// Step 4 in SCIM mode: no token yet is said; setting one needs CSRF and step-up and refuses bad
// input naming the field; the token is never shown back; the connection test reports the result.
func TestUIAdminSetupSCIM(t *testing.T) {
	e := newUIAdminEnv(t)
	sim := idcsim.New(idcsim.Options{Seed: 4})
	if err := sim.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sim)
	t.Cleanup(hs.Close)
	cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond, Directory: idc.DirectorySCIM,
		SCIM: idc.SCIMConfig{Endpoint: hs.URL + "/scim/v2"}}
	c, err := idc.NewFromConfig(context.Background(), aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("A", "B", ""), BaseEndpoint: aws.String(hs.URL)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	box, err := secret.LoadOrCreateBox(filepath.Join(t.TempDir(), "auth.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UseSCIM(cfg.SCIM, integration.NewSCIMTokens(e.store, box, nil, nil), nil); err != nil {
		t.Fatal(err)
	}
	e.srv.SetSync(reconcile.New(e.store, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))))
	e.srv.SetSCIM(box, false)

	p := e.alice.get("/admin/setup/scim")
	mustContain(t, "no token", p, `id="scim-state"`, "over its SCIM endpoint", "no SCIM token: generate one", `id="set-scim-token"`)
	mustContain(t, "overview", e.alice.get("/admin/setup"), `id="step-4-state">to do`)
	csrf := csrfOf(t, p)
	if p := e.alice.post("/admin/setup/scim/token", url.Values{"token": {"x"}}); p.status != http.StatusForbidden {
		t.Fatalf("a token without CSRF: %d", p.status)
	}
	if p := e.alice.post("/admin/setup/scim/token", url.Values{"csrf": {csrf}, "token": {"two words"}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, `id="token-error"`) || !strings.Contains(p.body, "white space") {
		t.Fatalf("a bad token: %d\n%s", p.status, p.body)
	}
	if p := e.alice.post("/admin/setup/scim/token", url.Values{"csrf": {csrf}, "token": {"abc"}, "expires": {"soon"}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, `id="expires-error"`) {
		t.Fatalf("a bad expiry: %d\n%s", p.status, p.body)
	}
	e.clk.Advance(server.DefaultStepUp + time.Minute)
	if p := e.alice.post("/admin/setup/scim/token", url.Values{"csrf": {csrf}, "token": {sim.SCIMToken()}}); p.status != http.StatusForbidden {
		t.Fatalf("a token without step-up: %d", p.status)
	}
	e.stepUp(e.alice, e.aliceKey)
	p = e.alice.post("/admin/setup/scim/token", url.Values{"csrf": {csrf}, "token": {sim.SCIMToken()}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("setting the token: %d\n%s", p.status, p.body)
	}
	p = e.alice.get(p.location)
	mustContain(t, "token set", p, `id="scim-tokens"`, "sha256:", "not yet accepted")
	if strings.Contains(p.body, sim.SCIMToken()) {
		t.Fatal("the page shows the token")
	}
	p = e.alice.post("/admin/setup/scim/test", url.Values{"csrf": {csrf}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("test: %d\n%s", p.status, p.body)
	}
	mustContain(t, "tested", e.alice.get(p.location), `id="scim-result"`, "connected", "accepted ")
	mustContain(t, "overview after", e.alice.get("/admin/setup"), `id="step-4-state">done`)
}
