package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/chromedp/chromedp"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/testenv"
	"github.com/wardenhq/warden/internal/web/browsertest"
)

// uiAdminEnv is a fresh `warden serve` against `warden sim` (the demo organisation, nothing
// imported yet) and an administrator signed in with a password and TOTP in Chromium.
type uiAdminEnv struct {
	t         *testing.T
	srv       *serveProc
	base, sim string
	cli       []string
	b         *browsertest.Browser
}

const uiAdmin = "root@example.com"

func newUIAdminEnv(t *testing.T) *uiAdminEnv {
	t.Helper()
	browsertest.Require(t)
	// Assignments stay IN_PROGRESS a while, so that the pages show the sync's work in flight.
	simURL, _, _ := startSim(t, "--seed", "demo", "--provisioning-delay", "10s")
	env, cfg := syncEnv(t, simURL)
	dataDir := t.TempDir()
	srv := startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--config", cfg)
	e := &uiAdminEnv{t: t, srv: srv, base: srv.addr, sim: simURL, cli: append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_DATA_DIR="+dataDir)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("warden serve's log:\n%s", srv.log())
		}
	})
	f := writeFile(t, t.TempDir(), "admin.yaml", "kind: user\nversion: v1\nmetadata: {name: "+uiAdmin+"}\nspec: {given_name: Root, family_name: Admin, email: "+uiAdmin+", admin: true}\n")
	mustRun(t, e.cli, "", "create", "-f", f)
	e.b = browsertest.New(t, browsertest.WithTimeout(5*time.Minute))
	e.signInTOTP(uiAdmin)
	return e
}

// signInTOTP enrols user through an invitation (password, authenticator app) and signs them in
// with both: the session has a fresh second factor, which administrative changes need.
func (e *uiAdminEnv) signInTOTP(user string) {
	e.t.Helper()
	enrolAndSignInTOTP(e.t, e.b, e.cli, e.base, user)
}

// open navigates to path and checks the page: warden's, accessible, showing selector.
func (e *uiAdminEnv) open(path, selector string) {
	e.t.Helper()
	e.b.Navigate(e.base + path)
	e.b.WaitVisible(selector)
	e.page(path)
}

func (e *uiAdminEnv) page(what string) {
	e.t.Helper()
	if u := e.b.URL(); !strings.HasPrefix(u, e.base+"/") {
		e.t.Fatalf("%s: the browser is at %s, not warden", what, u)
	}
	e.b.CheckAccessibility()
}

func (e *uiAdminEnv) has(selector string, want ...string) {
	e.t.Helper()
	got := e.b.Text(selector)
	for _, w := range want {
		if !strings.Contains(got, w) {
			e.t.Fatalf("%s says %q, not %q", selector, got, w)
		}
	}
}

// stepState is what the steps' list says of step n: done, to do, under way, not available.
func (e *uiAdminEnv) stepState(n int) string {
	e.t.Helper()
	return e.b.Text("#step-" + strconv.Itoa(n) + "-state")
}

func httpBody(t *testing.T, method, url string, body []byte) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, url, res.StatusCode, b)
	}
	return b
}

// An administrator walks the guided integration against the simulator, step by step, each page
// saying what is done and what is left: the role (CloudShell script) and the connection test; the
// preview, filtered; the identity source both ways; SCIM said honestly not to exist yet; the
// import, after which every group is an access list and the first sync's progress reaches
// converged; the aws-identity-center app. Then the administration page's plan is empty, the audit
// log finds the import and exports it, and the uninstall shows its plan. axe-core on every page.
func TestUIAdminJourney(t *testing.T) {
	t.Parallel() // mostly waiting on the simulator's 10 s provisioning: it overlaps with the rest
	e := newUIAdminEnv(t)
	b := e.b

	// The overview: nothing imported, no identity source.
	e.open("/admin/setup", "#setup-steps")
	if got := e.stepState(5); got != "to do" {
		t.Fatalf("step 5 before the import: %q", got)
	}
	if got := e.stepState(3); got != "to do" {
		t.Fatalf("step 3 before the metadata: %q", got)
	}
	if got := e.stepState(4); got != "not available" {
		t.Fatalf("step 4: %q", got)
	}

	// 1. The role and the connection.
	b.ClickAndWait("#step-1-link")
	b.WaitVisible("#idc-config")
	e.page("step 1")
	b.Fill("#trust", "12345")
	b.Submit("#trust")
	b.WaitVisible("#trust-error")
	e.page("step 1, a bad principal")
	b.Fill("#trust", "058264527036")
	b.Submit("#trust")
	b.WaitVisible("#cloudshell")
	e.has("#cloudshell", "aws iam create-role --role-name warden-identity-center", `"AWS": "arn:aws:iam::058264527036:root"`, "identitystore:CreateGroupMembership")
	e.page("step 1, the role")
	b.ClickAndWait("#test-connection")
	b.WaitVisible("#connection-result")
	e.has("#connection-result", "connected", "6 accounts", "5 permission sets")
	e.has("#flash", "The connection works.")
	if got := e.stepState(1); got != "done" {
		t.Fatalf("step 1 after the test: %q", got)
	}
	e.page("step 1, tested")

	// 2. The preview, then filtered.
	b.ClickAndWait("#step-next")
	b.WaitVisible("#preview-not-read")
	e.page("step 2")
	b.ClickAndWait("#read-ic")
	b.WaitVisible("#preview-summary")
	// 12 people, and the administrator the sync has made in Identity Center already.
	e.has("#preview-summary", "6 accounts, 5 permission sets, 13 users, 4 groups, 2 user-level assignments")
	e.has("#preview-groups", "DevOps", "Developers", "BillingAdmin", "Everyone", "new")
	e.page("step 2, read")
	b.Fill("#q", "dev")
	b.Submit("#q")
	b.WaitVisible("#preview-groups")
	if got := b.Text("#preview-groups tbody"); !strings.Contains(got, "DevOps") || !strings.Contains(got, "Developers") || strings.Contains(got, "Everyone") {
		t.Fatalf("groups filtered by dev: %q", got)
	}
	if got := b.Text("#preview-accounts"); !strings.Contains(got, "Development") || strings.Contains(got, "Production") {
		t.Fatalf("accounts filtered by dev: %q", got)
	}
	if got := b.Value("#preview-owners"); got != uiAdmin {
		t.Fatalf("default owners: %q", got)
	}
	if got := e.stepState(2); got != "done" {
		t.Fatalf("step 2 after reading: %q", got)
	}
	e.page("step 2, filtered")

	// 3. The identity source: Identity Center takes warden's IdP metadata (the page's download),
	// warden takes Identity Center's SP metadata (pasted).
	e.open("/admin/setup/identity-source", "#metadata")
	href, _ := b.Attr("#download-idp-metadata", "href")
	idpMD := httpBody(t, "GET", e.base+href, nil)
	httpBody(t, "PUT", e.sim+"/_sim/saml/idp-metadata", idpMD)
	// Identity Center's "Download metadata file", uploaded with the file chooser (assets/setup.js
	// reads it into the field).
	spFile := writeFile(t, t.TempDir(), "Custom SAML 2.0 application_ins-metadata.xml", string(httpBody(t, "GET", e.sim+"/_sim/saml/sp-metadata", nil)))
	uctx, cancel := context.WithTimeout(b.Ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(uctx, chromedp.SetUploadFiles(chromedp.CSS("#metadata-file"), []string{spFile})); err != nil {
		t.Fatal(err)
	}
	b.WaitFor(`document.querySelector("#metadata").value.includes("EntityDescriptor")`)
	e.has("#metadata-file-status", "Read Custom SAML 2.0 application_ins-metadata.xml")
	e.page("step 3, the file read")
	b.Submit("#metadata")
	b.WaitVisible("#sp-set")
	e.has("#flash", "Identity Center is warden's service provider aws-identity-center now.")
	if got := e.stepState(3); got != "done" {
		t.Fatalf("step 3 after the metadata: %q", got)
	}
	e.page("step 3, set")

	// 4. SCIM: the demo writes through identitystore; the step says how to move to SCIM.
	b.ClickAndWait("#step-next")
	b.WaitVisible("#scim-state")
	e.has("#scim-state", "identitystore", "can stay off")
	if n := b.Count("#test-scim"); n != 0 {
		t.Fatal("the SCIM step offers a connection test while warden does not write over SCIM")
	}
	e.page("step 4")

	// 5. The import, and the first sync.
	b.ClickAndWait("#step-next")
	b.WaitVisible("#owners")
	e.page("step 5")
	if got := b.Value("#owners"); got != uiAdmin {
		t.Fatalf("owners: %q", got)
	}
	b.Submit("#owners")
	b.WaitVisible("#import-result")
	e.has("#flash", "Imported:")
	e.has("#import-groups", "DevOps", "devops", "Developers", "BillingAdmin", "Everyone")
	e.has("#every-group", "Every group is an access list.")
	e.page("step 5, imported")
	// The sync's part refreshes itself until the first sync has converged.
	b.WaitFor(`document.querySelector("#setup-converged") !== null && document.querySelector("#setup-sync").getAttribute("data-live") === "5"`)
	e.has("#setup-sync", "converged", "Identity Center matches warden.")
	e.has("#setup-progress", "Done", "API calls spent")
	if got := e.stepState(5); got != "done" {
		// The step list is not live: a reload says it.
		e.open("/admin/setup/import", "#setup-sync")
		if got = e.stepState(5); got != "done" {
			t.Fatalf("step 5 after the sync converged: %q", got)
		}
	}
	e.page("step 5, converged")

	// 6. The app.
	e.open("/admin/setup/app", "#app-ready")
	if href, _ := b.Attr("#app-login", "href"); href != e.base+"/saml/idp-initiated/aws-identity-center" {
		t.Fatalf("the app's link: %q", href)
	}
	e.open("/admin/setup", "#setup-summary")
	for n, want := range map[int]string{1: "done", 2: "done", 3: "done", 4: "not available", 5: "done", 6: "done"} {
		if got := e.stepState(n); got != want {
			t.Fatalf("step %d at the end: %q, want %q", n, got, want)
		}
	}

	// Administration: the sync converged. A standing role given to the administrator (by the CLI)
	// sets it moving: the page, left open, shows the assignment in flight, then converged again.
	e.open("/admin", "#sync-converged")
	calls := b.Text("#sync-progress")
	f := writeFile(t, t.TempDir(), "admin.yaml", "kind: user\nversion: v1\nmetadata: {name: "+uiAdmin+"}\nspec: {given_name: Root, family_name: Admin, email: "+uiAdmin+", admin: true, roles: [AdministratorAccess-on-staging]}\n")
	mustRun(t, e.cli, "", "apply", "-f", f)
	b.WaitFor(`/In flight\s*1/.test(document.querySelector("#sync-progress").textContent)`)
	e.has("#sync-status", "not converged")
	e.page("administration, the sync at work")
	b.WaitFor(`document.querySelector("#sync-converged") !== null`)
	if after := b.Text("#sync-progress"); after == calls {
		t.Fatalf("the sync's progress did not move: %q", after)
	}
	if n := readSim(t, e.sim).assignmentsOf(uiAdmin); n != 1 {
		t.Fatalf("the administrator has %d assignments in the simulator", n)
	}
	// Drift: someone deletes that assignment in Identity Center itself. The plan (a full
	// observation) finds it; Apply, with a fresh second factor, puts it back.
	ctx := context.Background()
	c, err := idc.NewFromConfig(ctx, aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("A", "B", ""),
		BaseEndpoint: aws.String(e.sim)}, idc.Config{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	sim := readSim(t, e.sim)
	for _, a := range sim.Assignments {
		if sim.Users[a.PrincipalId].UserName == uiAdmin {
			if _, err := c.DeleteAssignment(ctx, idc.Assignment{PrincipalType: a.PrincipalType, PrincipalID: a.PrincipalId,
				AccountID: a.AccountId, PermissionSetARN: a.PermissionSetArn}); err != nil {
				t.Fatal(err)
			}
		}
	}
	testenv.Eventually(t, time.Minute, "the assignment deleted in the simulator", func() bool { return readSim(t, e.sim).assignmentsOf(uiAdmin) == 0 })
	b.ClickAndWait("#compute-plan")
	b.WaitVisible("#plan-summary")
	e.has("#plan-summary", "1 change to make in Identity Center.")
	e.has("#plan-text", uiAdmin)
	e.page("administration, a plan with a change")
	b.Eval(`window.confirm = () => true; true`)
	b.ClickAndWait("#apply-plan")
	b.WaitVisible("#plan-summary")
	e.has("#plan-summary", "1 operation applied of 1 change planned.")
	e.page("administration, applied")
	if n := readSim(t, e.sim).assignmentsOf(uiAdmin); n != 1 {
		t.Fatalf("after the apply the administrator has %d assignments in the simulator", n)
	}
	b.ClickAndWait("#compute-plan")
	b.WaitVisible("#plan-summary")
	e.has("#plan-summary", "Nothing to do: Identity Center matches warden.")
	e.page("administration, the plan")
	e.open("/admin/users", "#users")
	e.has("#users", uiAdmin, "dan@example.com", "identity_center")
	e.open("/admin/identity", "#saml-sps")
	e.has("#saml-sps", "aws-identity-center")

	// The audit log: the import's lists, searched and exported.
	e.open("/audit", "#audit-entries")
	b.Fill("#name", "devops")
	b.Submit("#name")
	b.WaitVisible("#audit-entries")
	e.has("#audit-entries", "access_list/devops", uiAdmin, "create")
	e.page("audit, searched")
	csvURL, _ := b.Attr("#export-csv", "href")
	var csvText string
	if err := json.Unmarshal(b.Eval(`fetch(`+strconv.Quote(csvURL)+`).then(r => r.text())`), &csvText); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(csvText)).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "seq" {
		t.Fatalf("the search's CSV (%v): %s", err, csvText)
	}
	if n := b.Count("#audit-entries > tbody > tr"); len(rows)-1 != n {
		t.Fatalf("the CSV has %d entries, the page %d", len(rows)-1, n)
	}
	for _, r := range rows[1:] {
		if r[5] != "devops" {
			t.Fatalf("a CSV row not about devops: %v", r)
		}
	}
	b.ClickAndWait("#verify-now")
	b.WaitVisible("#verify-result")
	e.has("#verify-result", "verified")
	e.page("audit, verified")

	// Uninstall: the plan first (a dry run), nothing stopped yet.
	e.open("/admin/setup/uninstall", "#uninstall-plan")
	b.ClickAndWait("#uninstall-plan")
	b.WaitVisible("#uninstall-confirm")
	e.page("uninstall, its plan")
	e.has("#uninstall-plan-title", "What uninstalling would do")
	if n := b.Count("#uninstall-done"); n != 0 {
		t.Fatal("the dry run says it uninstalled")
	}
	// The administrator's assignment is warden's (it made it for the standing role): listed, and
	// still in the simulator after the dry run.
	e.has("#uninstall-assignments", "AdministratorAccess", uiAdmin)
	if n := readSim(t, e.sim).assignmentsOf(uiAdmin); n != 1 {
		t.Fatalf("after the dry run the administrator has %d assignments in the simulator", n)
	}
	// Then for real: the plan's confirmation (data-confirm answered yes), the sync stopped, the
	// assignment gone, what warden adopted kept.
	b.Eval(`window.confirm = () => true; true`)
	b.ClickAndWait("#uninstall-confirm")
	b.WaitVisible("#uninstall-done")
	e.has("#uninstall-done", "done", "The sync is stopped.")
	e.page("uninstalled")
	if n := readSim(t, e.sim).assignmentsOf(uiAdmin); n != 0 {
		t.Fatalf("after the uninstall the administrator has %d assignments in the simulator", n)
	}
	if got := strings.Join(readSim(t, e.sim).members("DevOps"), ","); got != "alice@example.com,bob@example.com,carol@example.com" {
		t.Fatalf("DevOps after the uninstall: %s", got)
	}
	e.open("/admin", "#sync-uninstalled")
	e.open("/admin/setup/uninstall", "#setup-uninstalled")
	b.ClickAndWait("#uninstall-plan")
	b.WaitVisible("#uninstall-confirm")
	if got := b.Text("#uninstall-assignments"); strings.Contains(got, uiAdmin) {
		t.Fatalf("the plan after the uninstall still lists: %q", got)
	}

	// On a phone, 360 px wide: every page fits, nothing scrolls sideways (tables scroll in their
	// own region), and axe-core passes there too.
	e.b = browsertest.New(t, browsertest.WithTimeout(5*time.Minute), browsertest.WithWindowSize(360, 740))
	e.signInTOTP(uiAdmin)
	for _, path := range []string{"/audit", "/audit?name=devops", "/admin", "/admin/users", "/admin/users/" + uiAdmin, "/admin/identity",
		"/admin/setup", "/admin/setup/aws?trust=058264527036", "/admin/setup/preview?read=1", "/admin/setup/identity-source",
		"/admin/setup/scim", "/admin/setup/import", "/admin/setup/app", "/admin/setup/uninstall"} {
		e.b.Navigate(e.base + path)
		e.b.WaitVisible("main h1")
		if wide := string(e.b.Eval(`document.documentElement.scrollWidth > window.innerWidth`)); wide != "false" {
			t.Errorf("%s scrolls sideways at 360 px (%s px wide)", path, e.b.Eval(`document.documentElement.scrollWidth`))
		}
		e.page(path + " at 360 px")
	}
}
