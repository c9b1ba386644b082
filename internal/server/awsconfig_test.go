package server_test

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/awsconfig"
	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/samlidp"
	"github.com/wardenhq/warden/internal/server"
)

const awsOrg = requestOrg + `
---
kind: user
version: v1
metadata: {name: ops}
spec: {roles: [staging-admin]}
`

// GET /v1/me/aws-config: the caller's own holdings (standing and approved requests in their
// window), what they may request with requestable=true, the ini block with format=ini; nobody
// else's.
func TestAWSConfigAPI(t *testing.T) {
	e := newEnv(t)
	e.apply(awsOrg)
	as := func(user string) (*client.Client, string) {
		tok, err := e.admin.CreateToken(e.ctx, user, "1h")
		if err != nil {
			t.Fatal(err)
		}
		return client.New(e.url, tok.Token), tok.Token
	}
	dan, danTok := as("dan")
	ops, _ := as("ops")
	erin, _ := as("erin")
	get := func(c *client.Client, query string) (*awsconfig.Config, error) {
		var out awsconfig.Config
		err := c.Do(e.ctx, "GET", "/v1/me/aws-config"+query, nil, &out)
		return &out, err
	}
	if _, err := get(dan, ""); status(err) != 404 || !strings.Contains(err.Error(), "identity_center") {
		t.Fatalf("without a region: %v", err)
	}
	e.srv.SetAWSRegion("us-east-1")
	if _, err := get(dan, ""); status(err) != 404 || !strings.Contains(err.Error(), "start URL") {
		t.Fatalf("without a start URL: %v", err)
	}
	box, err := secret.LoadOrCreateBox(filepath.Join(t.TempDir(), "auth.key"))
	if err != nil {
		t.Fatal(err)
	}
	e.srv.SetSAML(samlidp.New(e.store, box, samlidp.Config{BaseURL: e.url, StartURL: "https://d-1234567890.awsapps.com/start"}), true)

	profiles := func(c *awsconfig.Config) string {
		var out []string
		for _, p := range c.Profiles {
			s := p.Name + "=" + p.AccountID + "/" + p.PermissionSet
			if p.Requestable {
				s += " (" + p.Request + ")"
			}
			out = append(out, s)
		}
		return strings.Join(out, "; ")
	}
	c, err := get(ops, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Session.Name != "warden" || c.Session.StartURL != "https://d-1234567890.awsapps.com/start" || c.Session.Region != "us-east-1" || c.Session.RegistrationScopes != "sso:account:access" {
		t.Fatalf("session %+v", c.Session)
	}
	if got := profiles(c); got != "AdministratorAccess-on-staging=058264527036/AdministratorAccess" {
		t.Fatalf("ops's profiles: %s", got)
	}
	// dan holds nothing yet; he may request two things.
	if c, err := get(dan, ""); err != nil || len(c.Profiles) != 0 {
		t.Fatalf("dan's profiles: %v %s", err, profiles(c))
	}
	c, err = get(dan, "?requestable=true&region=eu-west-1&session_name=acme&output=table")
	if err != nil {
		t.Fatal(err)
	}
	want := "AdministratorAccess-on-staging=058264527036/AdministratorAccess (warden request create --roles staging-admin); " +
		"ReadOnlyAccess-on-staging=058264527036/ReadOnlyAccess (warden request create --resource account=058264527036,permission_set=ReadOnlyAccess)"
	if got := profiles(c); got != want {
		t.Fatalf("dan's requestable profiles:\n%s\nwant\n%s", got, want)
	}
	if c.Session.Name != "acme" || c.Profiles[0].Region != "eu-west-1" || c.Profiles[0].Output != "table" {
		t.Fatalf("settings: %+v %+v", c.Session, c.Profiles[0])
	}
	// Approved, dan holds it; what he holds is no longer requestable.
	req, err := dan.RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		rv, _ := as(u)
		if _, err := rv.RequestReview(e.ctx, req.Request.Metadata.Name, server.RequestReview{Decision: "APPROVE"}); err != nil {
			t.Fatal(err)
		}
	}
	c, err = get(dan, "?requestable=true")
	if err != nil {
		t.Fatal(err)
	}
	want = "AdministratorAccess-on-staging=058264527036/AdministratorAccess; " +
		"ReadOnlyAccess-on-staging=058264527036/ReadOnlyAccess (warden request create --resource account=058264527036,permission_set=ReadOnlyAccess)"
	if got := profiles(c); got != want {
		t.Fatalf("dan's profiles once approved:\n%s\nwant\n%s", got, want)
	}
	// Nobody else's: erin holds nothing, and there is no way to name another user.
	if c, err := get(erin, "?requestable=true"); err != nil || len(c.Profiles) != 0 {
		t.Fatalf("erin's profiles: %v %s", err, profiles(c))
	}
	for _, q := range []string{"?user=dan", "?requestable=maybe", "?format=xml", "?region=mars", "?name_template={{.Nope}}", "?session_name=a%20b"} {
		if _, err := get(erin, q); status(err) != 400 {
			t.Errorf("%s: %v, want 400", q, err)
		}
	}
	// The ini block.
	r, _ := http.NewRequest("GET", e.url+"/v1/me/aws-config?format=ini", nil)
	r.Header.Set("Authorization", "Bearer "+danTok)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ini := string(b)
	if resp.StatusCode != 200 || !strings.HasPrefix(ini, awsconfig.BeginMarker("warden")+"\n[sso-session warden]\n") ||
		!strings.Contains(ini, "[profile AdministratorAccess-on-staging]\nsso_session = warden\nsso_account_id = 058264527036\nsso_role_name = AdministratorAccess\nregion = us-east-1\noutput = json\n") ||
		!strings.HasSuffix(ini, awsconfig.EndMarker("warden")+"\n") {
		t.Fatalf("ini %d:\n%s", resp.StatusCode, ini)
	}
	// A disabled user holds nothing.
	e.apply("kind: user\nversion: v1\nmetadata: {name: ops}\nspec: {roles: [staging-admin], disabled: true}\n")
	if c, err := get(ops, ""); err != nil || len(c.Profiles) != 0 {
		t.Fatalf("a disabled user's profiles: %v %s", err, profiles(c))
	}
	// Unauthenticated: refused.
	if code, _ := e.raw("GET", "/v1/me/aws-config", "", ""); code != 401 {
		t.Fatalf("no token: %d", code)
	}
}

// My access offers the AWS CLI config once warden knows the region and start URL, and /aws-config
// serves the signed-in person's as a file.
func TestUIAWSConfigDownload(t *testing.T) {
	e := newUIAccessEnv(t)
	dan := e.uiAs("dan")
	mustNotContain(t, "My access without a region", dan.get("/"), "Download AWS CLI config")
	if p := dan.get("/aws-config"); p.status != 404 {
		t.Fatalf("/aws-config without a region: %d", p.status)
	}
	e.srv.SetAWSRegion("eu-west-1")
	box, err := secret.LoadOrCreateBox(filepath.Join(t.TempDir(), "auth.key"))
	if err != nil {
		t.Fatal(err)
	}
	e.srv.SetSAML(samlidp.New(e.store, box, samlidp.Config{BaseURL: e.url, StartURL: "https://d-1234567890.awsapps.com/start"}), true)
	mustContain(t, "My access", dan.get("/"), `href="/aws-config"`, "Download AWS CLI config", "aws sso login --profile")
	p := dan.get("/aws-config")
	if p.status != 200 || !strings.Contains(p.header.Get("Content-Disposition"), "attachment") ||
		!strings.Contains(p.body, "[profile AdministratorAccess-on-staging]\nsso_session = warden\nsso_account_id = 058264527036\n") ||
		!strings.Contains(p.body, "sso_region = eu-west-1") || strings.Contains(p.body, "requestable") {
		t.Fatalf("/aws-config: %d %v\n%s", p.status, p.header, p.body)
	}
	p = dan.get("/aws-config?requestable=true")
	if !strings.Contains(p.body, "# requestable: warden request create --roles prod-admin\n[profile AdministratorAccess-on-production]") {
		t.Fatalf("/aws-config?requestable=true:\n%s", p.body)
	}
	eve := e.uiAs("eve")
	if p := eve.get("/aws-config"); p.status != 200 || strings.Contains(p.body, "[profile") {
		t.Fatalf("eve's config: %d\n%s", p.status, p.body)
	}
}

// Session durations against windows: a request's notes say how long credentials fetched during it
// stay valid; a role whose request max_duration is shorter than the session duration of what it
// lets holders request is warned about when written and when read.
func TestSessionDurationNotes(t *testing.T) {
	e := newEnv(t)
	e.apply(requestOrg)
	tok, err := e.admin.CreateToken(e.ctx, "dan", "1h")
	if err != nil {
		t.Fatal(err)
	}
	dan := client.New(e.url, tok.Token)
	got, err := dan.RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "deploy", Duration: "30m"})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(got.Notes, "\n")
	if !strings.Contains(notes, "session duration (1h for AdministratorAccess), longer than the 30m asked for: fetched at its start, they work 30m after it ends") {
		t.Fatalf("notes:\n%s", notes)
	}
	got, err = dan.RequestCreate(e.ctx, server.RequestCreate{Resources: []resource.AccountAssignment{{Account: "Staging", PermissionSet: "ReadOnlyAccess"}}, Reason: "x", Duration: "2h"})
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(got.Notes, "\n"); !strings.Contains(notes, "(up to 1h, ReadOnlyAccess), also after the access ends") {
		t.Fatalf("notes:\n%s", notes)
	}

	res, err := e.admin.BatchResponse(e.ctx, "apply", decodeAll(t, `
kind: permission_set
version: v1
metadata: {name: AdministratorAccess}
spec: {arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-aaaaaaaaaaaaaaaa", session_duration: PT8H}
---
kind: role
version: v1
metadata: {name: short}
spec: {allow: {request: {roles: [staging-*], account_assignments: [{account: Staging, permission_set: ReadOnlyAccess}], max_duration: 2h}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	var ws []string
	for _, w := range res.Warnings {
		ws = append(ws, w.Field+": "+w.Message)
	}
	want := "spec.allow.request.max_duration: 2h is shorter than the session duration of permission sets it lets holders request (AdministratorAccess 8h)"
	if len(ws) != 1 || !strings.HasPrefix(ws[0], want) {
		t.Fatalf("warnings %q", ws)
	}
	o, err := e.admin.Get(e.ctx, resource.KindRole, "short")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(o.Status), "is shorter than the session duration") {
		t.Fatalf("role status %s", o.Status)
	}
	if o, _ := e.admin.Get(e.ctx, resource.KindRole, "developer"); !strings.Contains(string(o.Status), "4h is shorter than the session duration of permission sets it lets holders request (AdministratorAccess 8h)") {
		t.Fatalf("developer (4h, an 8h session) not warned: %s", o.Status)
	}
	if o, _ := e.admin.Get(e.ctx, resource.KindRole, "lead"); strings.Contains(string(o.Status), "session duration") {
		t.Fatalf("lead, who requests nothing, warned: %s", o.Status)
	}
}

func decodeAll(t *testing.T, docs string) []*resource.Object {
	t.Helper()
	objs, err := resource.DecodeAll("test", []byte(docs))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// The administration page names the roles whose requests end before the AWS sessions they allow.
func TestUIAdminRoleSessionWarnings(t *testing.T) {
	e := newUIAccessEnv(t)
	grace := e.uiAs("grace")
	mustNotContain(t, "admin page, sessions of 1h", grace.get("/admin"), "Requests that end before their AWS sessions")
	e.apply(`
kind: permission_set
version: v1
metadata: {name: AdministratorAccess}
spec: {session_duration: PT8H}
`)
	mustContain(t, "admin page, an 8h session", grace.get("/admin"), `id="role-warnings"`, "role <strong>requester</strong>",
		"4h is shorter than the session duration of permission sets it lets holders request (AdministratorAccess 8h)")
}
