package idcsim_test

// The real AWS CLI v2 (Debian's 2.9.19) against the simulator: `aws sso login --no-browser`, the
// verification completed on the portal by an HTTP client signed in as the user, then `aws sts
// get-caller-identity --profile X`. AWS CLI 2.9 ignores endpoint variables and services sections
// for sso-oidc and sso; it reads endpoint rule files from $HOME/.aws/models, which this test
// writes in a temporary HOME (a test device only: internal/testenv/awscli).

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/testenv/awscli"
)

func TestAWSCLISSOLogin(t *testing.T) {
	awscli.Need(t)
	c := &clock{t: time.Now()}
	e := newPortalEnvClock(t, c, time.Now)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := awscli.Home(t, e.srv.URL, fmt.Sprintf(`[sso-session warden]
sso_start_url = %s
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile AdministratorAccess-on-staging]
sso_session = warden
sso_account_id = 058264527036
sso_role_name = AdministratorAccess
region = us-east-1
output = json

[profile AdministratorAccess-on-production]
sso_session = warden
sso_account_id = 637423191929
sso_role_name = AdministratorAccess
region = us-east-1
`, e.ep.StartURL))

	login := awscli.StartLogin(t, ctx, home, e.srv.URL, "--profile", "AdministratorAccess-on-staging")
	if login.URI != e.srv.URL+"/start/device" {
		t.Fatalf("verification URI %s", login.URI)
	}
	// The person, signed in to the portal through the IdP, enters the code and allows.
	if h := e.approveDevice(e.signIn("alice@example.com"), login.URI+"?user_code="+login.Code, true); !strings.HasPrefix(h, "Allow botocore-client-warden") {
		t.Fatalf("consent page: %q", h)
	}
	if err := login.Wait(); err != nil {
		t.Fatal(err)
	}
	loginTook := time.Since(login.Started)

	// The token cache the CLI wrote: sha1 of the session's name.
	cache, _ := filepath.Glob(filepath.Join(home, ".aws", "sso", "cache", "*.json"))
	if len(cache) == 0 {
		t.Fatal("no token in ~/.aws/sso/cache")
	}

	callerIdentity := func(profile string) (map[string]string, string, error) {
		awscli.ClearCache(home) // the CLI caches role credentials
		cmd := awscli.Command(ctx, home, "sts", "get-caller-identity", "--profile", profile, "--output", "json")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		var id map[string]string
		if err == nil {
			err = json.Unmarshal(b, &id)
		}
		return id, stderr.String(), err
	}
	started := time.Now()
	id, errOut, err := callerIdentity("AdministratorAccess-on-staging")
	if err != nil {
		t.Fatalf("aws sts get-caller-identity: %v\n%s", err, errOut)
	}
	stsTook := time.Since(started)
	if !regexp.MustCompile(`^arn:aws:sts::058264527036:assumed-role/AWSReservedSSO_AdministratorAccess_[0-9a-f]{16}/alice@example\.com$`).MatchString(id["Arn"]) ||
		id["Account"] != "058264527036" || !strings.HasSuffix(id["UserId"], ":alice@example.com") {
		t.Fatalf("caller identity %v", id)
	}
	// Production's AdministratorAccess is not alice's: the portal API refuses, the CLI says so.
	if _, errOut, err := callerIdentity("AdministratorAccess-on-production"); err == nil || !strings.Contains(errOut, "ForbiddenException") {
		t.Fatalf("a profile alice holds nothing for: %v %s", err, errOut)
	}
	// Revoked in Identity Center: refused at the next call.
	if err := e.sim.Update(func(d *idcsim.Directory) error {
		g, _ := d.GroupID("DevOps")
		ps, _ := d.PermissionSetARN("AdministratorAccess")
		d.Unassign(idcsim.Assignment{AccountID: "058264527036", PermissionSetARN: ps, PrincipalType: "GROUP", PrincipalID: g})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := callerIdentity("AdministratorAccess-on-staging"); err == nil || !strings.Contains(errOut, "ForbiddenException") {
		t.Fatalf("after the assignment's deletion: %v %s", err, errOut)
	}
	st := e.sim.Stats()
	t.Logf("aws sso login %v (calls: register %d, start %d, create token %d); get-caller-identity %v (GetRoleCredentials %d, GetCallerIdentity %d)",
		loginTook.Round(time.Millisecond), st.Calls["sso-oidc:RegisterClient"], st.Calls["sso-oidc:StartDeviceAuthorization"], st.Calls["sso-oidc:CreateToken"],
		stsTook.Round(time.Millisecond), st.Calls["sso:GetRoleCredentials"], st.Calls["sts:GetCallerIdentity"])
	if st.Calls["sso-oidc:RegisterClient"] != 1 || st.Calls["sso-oidc:StartDeviceAuthorization"] != 1 || st.Calls["sso-oidc:CreateToken"] < 2 || st.Calls["sts:GetCallerIdentity"] != 1 {
		t.Fatalf("calls %v", st.Calls)
	}
}
