package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	sdkconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/wardenhq/warden/internal/testenv"
	"github.com/wardenhq/warden/internal/testenv/awscli"
)

// demoDevelopmentID is the sample organisation's Development account, where Developers (dan
// among them) hold PowerUserAccess standing.
const demoDevelopmentID = "293847561029"

// demoStanding is the profile of something dan holds standing.
const demoStanding = "PowerUserAccess-on-development"

// assumedRoleRE is the ARN STS answers for an Identity Center role of permission set ps in
// account, assumed by user.
func assumedRoleRE(account, ps, user string) *regexp.Regexp {
	return regexp.MustCompile(`^arn:aws:sts::` + account + `:assumed-role/AWSReservedSSO_` + ps + `_[0-9a-f]{16}/` + regexp.QuoteMeta(user) + `$`)
}

// Seed 001 against `warden demo`, with the real AWS CLI v2 (Debian's 2.9.19) in a temporary HOME
// whose endpoint rule files send sso-oidc, sso and sts to the demo's simulator (a test device:
// internal/testenv/awscli), and a proxy that refuses any call to AWS:
//   - dan's AWS config is what `warden aws config --requestable` writes, as dan;
//   - `aws sso login --no-browser` prints a verification URL and code; headless Chromium opens
//     them anonymously, the access portal sends it to warden's sign-in (SAML), dan signs in with
//     his demo password, lands on the portal's device page with the code filled in, confirms and
//     allows; the login ends and the token cache is sha1("warden").json;
//   - `aws sts get-caller-identity` answers dan's assumed role for what he holds standing
//     (PowerUserAccess on Development), and is refused (ForbiddenException) for
//     AdministratorAccess on Production, which he may only request;
//   - `warden request create --wait` (dan) exits 0 printing that profile once bob approved and
//     Identity Center holds the assignment, and the profile works at once;
//   - dan cancels; once the simulator no longer holds the assignment the profile is refused again.
//
// Then the same journey through aws-sdk-go-v2's SSO credential provider, reading the token cache
// the AWS CLI wrote: with AWS_ENDPOINT_URL_SSO, _SSO_OIDC and _STS, and with the demo's own AWS
// config for dan (its services section), its HTTP client unable to reach anything but the
// simulator. A few more approvals measure the time from an approval to the first credentials.
func TestAWSCLIWalkthrough(t *testing.T) {
	awscli.Need(t)
	began := time.Now()
	e := newUIEnv(t)
	if e.sim == "" {
		t.Fatal("the demo printed no simulator address")
	}
	if holdsOnProduction(t, e.sim) {
		t.Fatal("dan already has AdministratorAccess on Production: the walkthrough would prove nothing")
	}
	demoUp := time.Since(began)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	as := func(user string) []string {
		tok := strings.TrimSpace(mustRun(t, e.cli, "", "token", "create", "--user", user, "--ttl", "1h"))
		return append(cleanEnv(t), "WARDEN_ADDR="+e.base, "WARDEN_TOKEN="+tok)
	}
	dan, bob := as(demoRequester), as(demoReviewer)

	// Configure: warden aws config, as dan, into the temporary HOME's ~/.aws/config.
	home := awscli.Home(t, e.sim, "")
	configFile := filepath.Join(home, ".aws", "config")
	if out := mustRun(t, dan, "", "aws", "config", "--requestable", "--file", configFile); !strings.Contains(out, "aws sso login --sso-session warden") {
		t.Fatalf("warden aws config says:\n%s", out)
	}
	written, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"[sso-session warden]\nsso_start_url = " + e.sim + "/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n",
		"[profile " + demoStanding + "]\nsso_session = warden\nsso_account_id = " + demoDevelopmentID + "\nsso_role_name = PowerUserAccess\n",
		"# requestable: warden request create --roles " + demoTarget + "\n[profile " + demoTarget + "]\nsso_session = warden\nsso_account_id = " + demoProductionID + "\nsso_role_name = " + demoPermissionSet + "\n",
	} {
		if !strings.Contains(string(written), want) {
			t.Fatalf("warden aws config wrote no\n%s\nin\n%s", want, written)
		}
	}

	// aws sso login, completed in Chromium signing in through warden.
	login := awscli.StartLogin(t, ctx, home, e.sim, "--profile", demoStanding)
	if login.URI != e.sim+"/start/device" {
		t.Fatalf("aws sso login's verification URI is %s, not the portal's device page", login.URI)
	}
	printed := time.Since(login.Started)
	e.allowDevice(login.URI+"?user_code="+login.Code, demoRequester)
	allowed := time.Since(login.Started)
	if err := login.Wait(); err != nil {
		t.Fatal(err)
	}
	loginTook := time.Since(login.Started)
	if out := login.Output(); !strings.Contains(out, "Successfully logged into Start URL: "+e.sim+"/start") {
		t.Fatalf("aws sso login printed:\n%s", out)
	}
	sum := sha1.Sum([]byte("warden"))
	cacheFile := filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
	var token map[string]any
	if b, err := os.ReadFile(cacheFile); err != nil {
		t.Fatalf("the token cache of the sso-session warden: %v", err)
	} else if err := json.Unmarshal(b, &token); err != nil || token["startUrl"] != e.sim+"/start" || token["region"] != "us-east-1" ||
		token["accessToken"] == "" || token["refreshToken"] == "" {
		t.Fatalf("the token cache: %v %v", err, redact(token))
	}

	// aws sts get-caller-identity, credentials fetched afresh each time.
	callerIdentity := func(profile string) (map[string]string, string, error) {
		t.Helper()
		if err := awscli.ClearCache(home); err != nil {
			t.Fatal(err)
		}
		cmd := awscli.Command(ctx, home, "sts", "get-caller-identity", "--profile", profile)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var id map[string]string
		if err == nil {
			if err = json.Unmarshal(out, &id); err != nil {
				err = fmt.Errorf("%v: %s", err, out)
			}
		}
		return id, stderr.String(), err
	}
	works := func(profile, account, ps string) {
		t.Helper()
		id, errOut, err := callerIdentity(profile)
		if err != nil {
			t.Fatalf("aws sts get-caller-identity --profile %s: %v\n%s", profile, err, errOut)
		}
		if !assumedRoleRE(account, ps, demoRequester).MatchString(id["Arn"]) || id["Account"] != account ||
			!regexp.MustCompile(`^AROA[A-Z0-9]+:`+regexp.QuoteMeta(demoRequester)+`$`).MatchString(id["UserId"]) {
			t.Fatalf("aws sts get-caller-identity --profile %s answered %v", profile, id)
		}
	}
	refused := func(profile, when string) {
		t.Helper()
		id, errOut, err := callerIdentity(profile)
		if err == nil || !strings.Contains(errOut, "ForbiddenException") {
			t.Fatalf("aws sts get-caller-identity --profile %s %s: %v %v\n%s", profile, when, err, id, errOut)
		}
	}
	works(demoStanding, demoDevelopmentID, "PowerUserAccess")
	refused(demoTarget, "before any request")

	// dan asks and waits; bob approves; the profile works as soon as --wait says so.
	w := startWait(t, dan, "request", "create", "--roles", demoTarget, "--reason", "seed 001 walkthrough", "--duration", "1h",
		"-o", "name", "--wait", "--timeout", "2m")
	req := w.id(t)
	mustRun(t, bob, "", "request", "review", req, "--approve", "--reason", "go ahead")
	approved := time.Now()
	if code := w.code(t); code != 0 || !slices.Contains(strings.Split(w.out.String(), "\n"), demoTarget) || !strings.Contains(w.err.String(), "granted until") {
		t.Fatalf("warden request create --wait: exit %d\nstdout %s\nstderr %s", code, w.out.String(), w.err.String())
	}
	waited := time.Since(approved)
	works(demoTarget, demoProductionID, demoPermissionSet)
	cliWorking := time.Since(approved)

	// dan ends it; once Identity Center no longer holds the assignment, the profile is refused.
	mustRun(t, dan, "", "request", "cancel", req)
	waitFor(t, func() bool { return !holdsOnProduction(t, e.sim) }, "the cancelled assignment gone from the simulator")
	refused(demoTarget, "after the request's cancellation")
	cliDone := time.Since(began)

	// The same journey through aws-sdk-go-v2's SSO credential provider.
	sdk := newSDKJourney(t, e, home)
	sdk.works(ctx, demoStanding, demoDevelopmentID, "PowerUserAccess")
	sdk.refused(ctx, demoTarget)
	var took []time.Duration
	for i := range 3 {
		req := strings.TrimSpace(mustRun(t, dan, "", "request", "create", "--roles", demoTarget, "--reason", fmt.Sprintf("sdk run %d", i), "--duration", "1h", "-o", "name"))
		mustRun(t, bob, "", "request", "review", req, "--approve")
		approved := time.Now()
		testenv.Eventually(t, 30*time.Second, "the approved profile to work through the SDK", func() bool { return sdk.try(ctx, demoTarget) == nil })
		took = append(took, time.Since(approved))
		sdk.works(ctx, demoTarget, demoProductionID, demoPermissionSet)
		mustRun(t, dan, "", "request", "cancel", req)
		testenv.Eventually(t, 30*time.Second, "the cancelled profile refused through the SDK", func() bool { return sdk.try(ctx, demoTarget) != nil })
		sdk.refused(ctx, demoTarget)
	}
	// The demo's own AWS config for dan: its services section points the SDK at the simulator.
	sdk.demoConfig(ctx, filepath.Join(e.dataDir, "aws", demoRequester+".config"))
	if n := sdk.stray.Load(); n > 0 {
		t.Fatalf("the SDK tried %d connection(s) to something other than the simulator", n)
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("demo up %v; aws sso login %v (the code printed after %v, allowed in Chromium through warden's sign-in after %v); approval to --wait's exit %v, to the AWS CLI profile working %v; "+
		"approval to the SDK's first credentials over %d runs: p50 %v (%v); the CLI walkthrough %v, the whole test %v",
		demoUp.Round(time.Millisecond), loginTook.Round(time.Millisecond), printed.Round(time.Millisecond), allowed.Round(time.Millisecond), waited.Round(time.Millisecond), cliWorking.Round(time.Millisecond),
		len(took), took[len(took)/2].Round(time.Millisecond), took, cliDone.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// allowDevice completes an AWS CLI's sign-in in a fresh headless Chromium: it opens the
// verification link (verificationUriComplete) anonymously, is sent by the access portal to
// warden's sign-in (SAML), signs in as user with the demo password, lands on the portal's device
// page with the link's code filled in, confirms it and allows the AWS CLI.
func (e *uiEnv) allowDevice(link, user string) {
	t := e.t
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("user_code") == "" || !strings.HasPrefix(link, e.sim+"/start/device?") {
		t.Fatalf("the verification link %q is not the portal's device page with a code", link)
	}
	code := u.Query().Get("user_code")
	b := e.browser()
	b.Navigate(link)
	b.WaitVisible("#password")
	e.page(b, "the sign-in the portal sent the anonymous browser to") // warden's, and accessible
	if u := b.URL(); !strings.HasPrefix(u, e.base+"/login") {
		t.Fatalf("the portal sent the browser to %s, not warden's sign-in", u)
	}
	b.Fill("#user", user)
	b.Fill("#password", e.passwords[user])
	b.Submit("#password")
	b.WaitVisible("#user_code")
	if u := b.URL(); !strings.HasPrefix(u, e.sim+"/start/device") {
		t.Fatalf("signed in, the browser is at %s, not the device page", u)
	}
	if got := b.Text("#user"); got != user {
		t.Fatalf("the device page is signed in as %q", got)
	}
	if got := b.Value("#user_code"); got != code {
		t.Fatalf("the device page's code is %q, the link's %s", got, code)
	}
	b.Submit("#user_code")
	b.WaitVisible("#allow")
	if got := b.Text("#consent"); !strings.HasPrefix(got, "Allow botocore-client-warden") {
		t.Fatalf("the consent page asks %q", got)
	}
	b.ClickAndWait("#allow")
	b.WaitVisible("#result")
	if got := b.Text("#result"); got != "Request approved" {
		t.Fatalf("after Allow the page says %q", got)
	}
	b.CheckConsole()
}

// redact hides the token cache's secrets in a failure message.
func redact(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k == "accessToken" || k == "refreshToken" || k == "clientSecret" {
			v = "(redacted)"
		}
		out[k] = v
	}
	return out
}

// sdkJourney is aws-sdk-go-v2 in this process, in the AWS CLI's temporary HOME (its token cache),
// with an HTTP client that connects to the simulator only.
type sdkJourney struct {
	t     *testing.T
	e     *uiEnv
	home  string
	hc    *awshttp.BuildableClient
	stray atomic.Int32
}

func newSDKJourney(t *testing.T, e *uiEnv, home string) *sdkJourney {
	j := &sdkJourney{t: t, e: e, home: home}
	simAddr := strings.TrimPrefix(e.sim, "http://")
	j.hc = awshttp.NewBuildableClient().WithTimeout(30 * time.Second).WithTransportOptions(func(tr *http.Transport) {
		tr.Proxy = nil
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr != simAddr {
				j.stray.Add(1)
				return nil, fmt.Errorf("a test connects to the simulator (%s) only, not %s", simAddr, addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	})
	// What the SDK reads of the environment: nothing of the developer's.
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_CA_BUNDLE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("HOME", home) // the token cache: ~/.aws/sso/cache
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config")) // what warden aws config wrote
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))
	for _, k := range []string{"AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL_STS"} {
		t.Setenv(k, e.sim)
	}
	return j
}

// try calls sts GetCallerIdentity with the profile's credentials, fetched afresh.
func (j *sdkJourney) try(ctx context.Context, profile string) error {
	_, err := j.callerIdentity(ctx, profile)
	return err
}

func (j *sdkJourney) callerIdentity(ctx context.Context, profile string) (*sts.GetCallerIdentityOutput, error) {
	cfg, err := sdkconfig.LoadDefaultConfig(ctx, sdkconfig.WithSharedConfigProfile(profile), sdkconfig.WithHTTPClient(j.hc))
	if err != nil {
		return nil, err
	}
	return sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
}

func (j *sdkJourney) works(ctx context.Context, profile, account, ps string) {
	j.t.Helper()
	out, err := j.callerIdentity(ctx, profile)
	if err != nil {
		j.t.Fatalf("the SDK, profile %s: %v", profile, err)
	}
	if !assumedRoleRE(account, ps, demoRequester).MatchString(*out.Arn) || *out.Account != account || !strings.HasSuffix(*out.UserId, ":"+demoRequester) {
		j.t.Fatalf("the SDK, profile %s: GetCallerIdentity answered %s %s %s", profile, *out.Arn, *out.Account, *out.UserId)
	}
}

func (j *sdkJourney) refused(ctx context.Context, profile string) {
	j.t.Helper()
	_, err := j.callerIdentity(ctx, profile)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ForbiddenException" {
		j.t.Fatalf("the SDK, profile %s not held: %v, want ForbiddenException from GetRoleCredentials", profile, err)
	}
}

// demoConfig runs the standing profile with the demo's AWS config for dan and no endpoint
// variable: the config's services section alone sends sso and sts to the simulator.
func (j *sdkJourney) demoConfig(ctx context.Context, file string) {
	j.t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		j.t.Fatal(err)
	}
	if !strings.Contains(string(b), "[services "+demoAWSServices+"]") {
		j.t.Fatalf("the demo's AWS config for dan has no services section:\n%s", b)
	}
	for _, k := range []string{"AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL_STS"} {
		os.Unsetenv(k) // t.Setenv restores them
	}
	j.t.Setenv("AWS_CONFIG_FILE", file)
	j.works(ctx, demoStanding, demoDevelopmentID, "PowerUserAccess")
	j.refused(ctx, demoTarget)
}

// examples/aws-cli-walkthrough.sh, run with bash against a demo as a person would, the AWS CLI
// v2 opening "their browser" for the sign-in: BROWSER is a script that hands the link to this
// test, which completes it in Chromium as dan. The script exits 0 having shown each step's
// answer: dan's profiles, the standing profile's assumed role, the production profile refused,
// then working after the approval, then refused again. It wrote nothing in HOME's ~/.aws and
// left no temporary directory behind.
func TestAWSCLIWalkthroughScript(t *testing.T) {
	awscli.Need(t)
	e := newUIEnv(t)
	if e.sim == "" {
		t.Fatal("the demo printed no simulator address")
	}
	dir, home, tmp := t.TempDir(), t.TempDir(), t.TempDir()
	links := filepath.Join(dir, "links")
	browser := filepath.Join(dir, "browser")
	if err := os.WriteFile(browser, []byte("#!/bin/sh\nprintf '%s\\n' \"$1\" >>"+shellQuote(links)+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	began := time.Now()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join("..", "..", "examples", "aws-cli-walkthrough.sh"))
	cmd.Env = append(slices.Clone(e.cli), "HOME="+home, "TMPDIR="+tmp, "WARDEN="+wardenBin, "AWS="+awscli.Path, "BROWSER="+browser,
		"PATH=/usr/bin:/bin", "AWS_CA_BUNDLE=")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var link string
	testenv.Eventually(t, time.Minute, "the AWS CLI to open the browser", func() bool {
		b, _ := os.ReadFile(links)
		link = strings.TrimSpace(string(b))
		select {
		case err := <-done:
			t.Fatalf("the script ended (%v) before the sign-in:\n%s", err, out.String())
		default:
		}
		return link != ""
	})
	e.allowDevice(link, demoRequester)
	if err := <-done; err != nil {
		t.Fatalf("the walkthrough script: %v\n%s", err, out.String())
	}
	got := out.String()
	arn := func(account, ps string) string {
		return `arn:aws:sts::` + account + `:assumed-role/AWSReservedSSO_` + ps + `_[0-9a-f]{16}/` + regexp.QuoteMeta(demoRequester)
	}
	for _, want := range []string{
		`(?m)^` + demoStanding + `$`, // aws configure list-profiles
		`(?m)^` + demoTarget + `$`,
		`Successfully logged into Start URL: ` + regexp.QuoteMeta(e.sim) + `/start`,
		`(?m)^` + demoStanding + `: ` + arn(demoDevelopmentID, "PowerUserAccess") + `$`,
		`(?m)^` + demoTarget + `: refused \(ForbiddenException[^\n]*\n(.*\n)*` + demoTarget + `: ` + arn(demoProductionID, demoPermissionSet) +
			`\n(.*\n)*` + demoTarget + `: refused \(ForbiddenException`,
		`granted until `,
		`(?m)^== done$`,
	} {
		if !regexp.MustCompile(want).MatchString(got) {
			t.Fatalf("the walkthrough's output does not match %s:\n%s", want, got)
		}
	}
	if _, err := os.Stat(filepath.Join(home, ".aws")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the script touched HOME's ~/.aws: %v", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the script left %s in TMPDIR", left[0].Name())
	}
	if holdsOnProduction(t, e.sim) {
		t.Error("the walkthrough's access outlives it in the simulator")
	}
	t.Logf("the walkthrough script took %v:\n%s", time.Since(began).Round(time.Millisecond), got)
}
