package idcsim_test

// The real AWS CLI v2 (Debian's 2.9.19) against the simulator: `aws sso login --no-browser`, the
// verification completed on the portal by an HTTP client signed in as the user, then `aws sts
// get-caller-identity --profile X`. AWS CLI 2.9 ignores endpoint variables and services sections
// for sso-oidc and sso; it reads endpoint rule files from $HOME/.aws/models, which this test
// writes in a temporary HOME (a test device only).

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/testenv"
)

// endpointRuleSet is a one-rule endpoint rule set sending every call to url.
func endpointRuleSet(url string) []byte {
	param := func(builtIn, typ string) map[string]any {
		p := map[string]any{"required": false, "documentation": builtIn, "type": typ}
		if builtIn != "" {
			p["builtIn"] = builtIn
		}
		return p
	}
	b, _ := json.Marshal(map[string]any{
		"version": "1.0",
		"parameters": map[string]any{
			"Region":            param("AWS::Region", "String"),
			"UseDualStack":      param("AWS::UseDualStack", "Boolean"),
			"UseFIPS":           param("AWS::UseFIPS", "Boolean"),
			"Endpoint":          param("SDK::Endpoint", "String"),
			"UseGlobalEndpoint": param("AWS::STS::UseGlobalEndpoint", "Boolean"),
		},
		"rules": []any{map[string]any{"conditions": []any{}, "type": "endpoint",
			"endpoint": map[string]any{"url": url, "properties": map[string]any{}, "headers": map[string]any{}}}},
	})
	return b
}

// awsHome is a temporary HOME for the AWS CLI: config, and endpoint rules aiming sso-oidc, sso and
// sts at the simulator.
func awsHome(t *testing.T, simURL, config string) string {
	t.Helper()
	home := t.TempDir()
	for _, m := range []struct{ service, version string }{{"sso-oidc", "2019-06-10"}, {"sso", "2019-06-10"}, {"sts", "2011-06-15"}} {
		dir := filepath.Join(home, ".aws", "models", m.service, m.version)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "endpoint-rule-set-1.json"), endpointRuleSet(simURL), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

func awsCommand(ctx context.Context, home string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "/usr/bin/aws", args...)
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "HTTPS_PROXY=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "LANG=C.UTF-8"}
	return cmd
}

func TestAWSCLISSOLogin(t *testing.T) {
	if _, err := os.Stat("/usr/bin/aws"); err != nil {
		testenv.Need(t, fmt.Errorf("the AWS CLI v2 at /usr/bin/aws (Debian: apt-get install awscli): %v", err))
	}
	c := &clock{t: time.Now()}
	e := newPortalEnvClock(t, c, time.Now)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := awsHome(t, e.srv.URL, fmt.Sprintf(`[sso-session warden]
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

	started := time.Now()
	login := awsCommand(ctx, home, "sso", "login", "--no-browser", "--profile", "AdministratorAccess-on-staging")
	out, err := login.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	login.Stderr = &stderr
	if err := login.Start(); err != nil {
		t.Fatal(err)
	}
	var uri, code string
	var printed strings.Builder
	sc := bufio.NewScanner(out)
	codeRe := regexp.MustCompile(`^[A-Z]{4}-[A-Z]{4}$`)
	for (uri == "" || code == "") && sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		printed.WriteString(line + "\n")
		switch {
		case strings.HasPrefix(line, e.srv.URL):
			uri = line
		case codeRe.MatchString(line):
			code = line
		}
	}
	if uri == "" || code == "" {
		login.Wait()
		t.Fatalf("aws sso login printed no URL and code:\n%s\n%s", printed.String(), stderr.String())
	}
	if uri != e.srv.URL+"/start/device" {
		t.Fatalf("verification URI %s", uri)
	}
	// The person, signed in to the portal through the IdP, enters the code and allows.
	if h := e.approveDevice(e.signIn("alice@example.com"), uri+"?user_code="+code, true); !strings.HasPrefix(h, "Allow botocore-client-warden") {
		t.Fatalf("consent page: %q", h)
	}
	go func() {
		for sc.Scan() {
			printed.WriteString(sc.Text() + "\n")
		}
	}()
	if err := login.Wait(); err != nil {
		t.Fatalf("aws sso login: %v\n%s\n%s", err, printed.String(), stderr.String())
	}
	loginTook := time.Since(started)

	// The token cache the CLI wrote: sha1 of the session's name.
	cache, _ := filepath.Glob(filepath.Join(home, ".aws", "sso", "cache", "*.json"))
	if len(cache) == 0 {
		t.Fatal("no token in ~/.aws/sso/cache")
	}

	callerIdentity := func(profile string) (map[string]string, string, error) {
		os.RemoveAll(filepath.Join(home, ".aws", "cli", "cache")) // the CLI caches role credentials
		cmd := awsCommand(ctx, home, "sts", "get-caller-identity", "--profile", profile, "--output", "json")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		var id map[string]string
		if err == nil {
			err = json.Unmarshal(b, &id)
		}
		return id, stderr.String(), err
	}
	started = time.Now()
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
