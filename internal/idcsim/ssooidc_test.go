package idcsim_test

// SSO OIDC, the device verification page, the portal API and STS, through aws-sdk-go-v2's ssooidc,
// sso and sts clients, with a browser (an HTTP client holding a portal session after SAML sign-in)
// approving on the portal's pages.

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/wardenhq/warden/internal/idcsim"
)

// awsEnv is a portal environment (a simulator trusting a test IdP) with SDK clients for sso-oidc,
// the portal API and STS.
type awsEnv struct {
	*portalEnv
	oidc *ssooidc.Client
	sso  *sso.Client
	cfg  aws.Config
}

func newAWSEnv(t testing.TB, opts ...func(*idcsim.Options)) *awsEnv {
	t.Helper()
	c := &clock{t: time.Now()}
	e := newPortalEnvClock(t, c, c.Now, opts...)
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL), HTTPClient: e.srv.Client(), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "SECRETEXAMPLE", "")}
	return &awsEnv{portalEnv: e, oidc: ssooidc.NewFromConfig(cfg), sso: sso.NewFromConfig(cfg), cfg: cfg}
}

// stsWith is an STS client signing with creds.
func (e *awsEnv) stsWith(creds aws.CredentialsProvider) *sts.Client {
	cfg := e.cfg.Copy()
	cfg.Credentials = creds
	return sts.NewFromConfig(cfg)
}

func roleCreds(c *ssotypes.RoleCredentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// formPost posts a form with the browser, returning the answer and its body.
func (e *portalEnv) formPost(c *http.Client, u string, v url.Values) (*http.Response, string) {
	e.t.Helper()
	res, err := c.PostForm(u, v)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// approveDevice completes the device verification as the browser's user: the page of
// verificationUriComplete (code prefilled), "Confirm and continue", then Allow (or Deny). It
// returns the consent page's heading.
func (e *portalEnv) approveDevice(c *http.Client, complete string, allow bool) string {
	e.t.Helper()
	res, body := e.get(c, complete)
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("device page: %d %s", res.StatusCode, body)
	}
	m := csrfRe.FindStringSubmatch(body)
	u, _ := url.Parse(complete)
	code := u.Query().Get("user_code")
	if m == nil || !strings.Contains(body, `value="`+code+`"`) {
		e.t.Fatalf("device page without a CSRF token or the code %s prefilled: %s", code, body)
	}
	res, body = e.formPost(c, e.srv.URL+"/start/device", url.Values{"csrf_token": {m[1]}, "user_code": {code}})
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("code entry: %d %s", res.StatusCode, body)
	}
	heading := regexp.MustCompile(`<h1 id="consent">([^<]*)</h1>`).FindStringSubmatch(body)
	if heading == nil {
		e.t.Fatalf("no consent page: %s", body)
	}
	decision := "deny"
	if allow {
		decision = "allow"
	}
	res, body = e.formPost(c, e.srv.URL+"/start/device/decide", url.Values{"csrf_token": {m[1]}, "user_code": {code}, "decision": {decision}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, map[bool]string{true: "Request approved", false: "Request denied"}[allow]) {
		e.t.Fatalf("decision: %d %s", res.StatusCode, body)
	}
	return heading[1]
}

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want an API error", err)
	}
	return ae.ErrorCode()
}

// deviceLogin registers a client (with scopes, as an sso-session does), starts a device
// authorization, has user approve it and returns the token answer.
func (e *awsEnv) deviceLogin(t testing.TB, ctx context.Context, user string) (*ssooidc.RegisterClientOutput, *ssooidc.CreateTokenOutput) {
	t.Helper()
	reg, err := e.oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-test"), ClientType: aws.String("public"),
		Scopes: []string{"sso:account:access"}})
	if err != nil {
		t.Fatal(err)
	}
	start, err := e.oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		StartUrl: aws.String(e.ep.StartURL)})
	if err != nil {
		t.Fatal(err)
	}
	tokenIn := &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"), DeviceCode: start.DeviceCode}
	_, err = e.oidc.CreateToken(ctx, tokenIn)
	requireErrorAs[*oidctypes.AuthorizationPendingException](t, err)
	if h := e.approveDevice(e.signIn(user), aws.ToString(start.VerificationUriComplete), true); h != "Allow botocore-client-test to access your data?" {
		t.Fatalf("consent page: %q", h)
	}
	e.clock.Advance(time.Duration(start.Interval) * time.Second)
	tok, err := e.oidc.CreateToken(ctx, tokenIn)
	if err != nil {
		t.Fatal(err)
	}
	return reg, tok
}

func TestSSODeviceFlowEndToEnd(t *testing.T) {
	e := newAWSEnv(t)
	ctx := testContext(t)
	t0 := e.clock.Now()
	reg, err := e.oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-test"), ClientType: aws.String("public"),
		Scopes: []string{"sso:account:access"}})
	if err != nil {
		t.Fatal(err)
	}
	if reg.ClientIdIssuedAt != t0.Unix() || reg.ClientSecretExpiresAt != t0.Add(90*24*time.Hour).Unix() || aws.ToString(reg.ClientSecret) == "" {
		t.Fatalf("registration: issued %d, expires %d", reg.ClientIdIssuedAt, reg.ClientSecretExpiresAt)
	}
	start, err := e.oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		StartUrl: aws.String(e.ep.StartURL)})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Z]{4}-[A-Z]{4}$`).MatchString(aws.ToString(start.UserCode)) || aws.ToString(start.VerificationUri) != e.srv.URL+"/start/device" ||
		aws.ToString(start.VerificationUriComplete) != e.srv.URL+"/start/device?user_code="+aws.ToString(start.UserCode) || start.ExpiresIn != 600 || start.Interval != 1 {
		t.Fatalf("device authorization: %+v", start)
	}
	tokenIn := &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"), DeviceCode: start.DeviceCode}
	// The first call, at once, is pending (the AWS CLI makes it before printing the code).
	_, err = e.oidc.CreateToken(ctx, tokenIn)
	requireErrorAs[*oidctypes.AuthorizationPendingException](t, err)
	e.clock.Advance(time.Second)
	_, err = e.oidc.CreateToken(ctx, tokenIn)
	requireErrorAs[*oidctypes.AuthorizationPendingException](t, err)

	browser := e.signIn("alice@example.com")
	if h := e.approveDevice(browser, aws.ToString(start.VerificationUriComplete), true); h != "Allow botocore-client-test to access your data?" {
		t.Fatalf("consent page: %q", h)
	}
	e.clock.Advance(time.Second)
	tok, err := e.oidc.CreateToken(ctx, tokenIn)
	if err != nil {
		t.Fatal(err)
	}
	tokAt := e.clock.Now()
	// 8 hours, ending with the portal session signed in a second before.
	if aws.ToString(tok.TokenType) != "Bearer" || tok.ExpiresIn != 8*3600-1 || aws.ToString(tok.RefreshToken) == "" || aws.ToString(tok.AccessToken) == "" {
		t.Fatalf("token: type %q expiresIn %d refresh %t", aws.ToString(tok.TokenType), tok.ExpiresIn, tok.RefreshToken != nil)
	}
	// The device code is spent.
	e.clock.Advance(time.Second)
	_, err = e.oidc.CreateToken(ctx, tokenIn)
	requireErrorAs[*oidctypes.InvalidGrantException](t, err)

	// The portal API, with the bearer token: alice's accounts (through DevOps and Everyone), in
	// pages of 2 through the SDK's paginator.
	var accounts []string
	p := sso.NewListAccountsPaginator(e.sso, &sso.ListAccountsInput{AccessToken: tok.AccessToken, MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range out.AccountList {
			accounts = append(accounts, aws.ToString(a.AccountName)+"="+aws.ToString(a.AccountId))
		}
	}
	if strings.Join(accounts, ",") != "Development=293847561029,Production=637423191929,Security=410928374651,Staging=058264527036" || pages != 2 {
		t.Fatalf("accounts in %d pages: %v", pages, accounts)
	}
	roles, err := e.sso.ListAccountRoles(ctx, &sso.ListAccountRolesInput{AccessToken: tok.AccessToken, AccountId: aws.String("058264527036")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles.RoleList {
		names = append(names, aws.ToString(r.RoleName))
	}
	if strings.Join(names, ",") != "AdministratorAccess,ReadOnlyAccess" {
		t.Fatalf("roles in Staging: %v", names)
	}
	rc, err := e.sso.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String("058264527036"), RoleName: aws.String("AdministratorAccess")})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if got, want := rc.RoleCredentials.Expiration, now.Add(time.Hour).Truncate(time.Second).UnixMilli(); got != want {
		t.Fatalf("expiration %d, want %d (PT1H)", got, want)
	}
	if !strings.HasPrefix(aws.ToString(rc.RoleCredentials.AccessKeyId), "ASIA") {
		t.Fatalf("access key %s", aws.ToString(rc.RoleCredentials.AccessKeyId))
	}
	// ReadOnlyAccess lasts its permission set's PT8H.
	ro, err := e.sso.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String("058264527036"), RoleName: aws.String("ReadOnlyAccess")})
	if err != nil || ro.RoleCredentials.Expiration != now.Add(8*time.Hour).Truncate(time.Second).UnixMilli() {
		t.Fatalf("ReadOnlyAccess: %v", err)
	}

	// STS with the role credentials, through the SDK (SigV4 with the issued secret and token).
	stsc := e.stsWith(roleCreds(rc.RoleCredentials))
	id, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	arnRe := regexp.MustCompile(`^arn:aws:sts::058264527036:assumed-role/AWSReservedSSO_AdministratorAccess_([0-9a-f]{16})/alice@example\.com$`)
	m := arnRe.FindStringSubmatch(aws.ToString(id.Arn))
	if m == nil || aws.ToString(id.Account) != "058264527036" || !regexp.MustCompile(`^AROA[A-Z2-7]{17}:alice@example\.com$`).MatchString(aws.ToString(id.UserId)) {
		t.Fatalf("caller identity: %s %s %s", aws.ToString(id.Arn), aws.ToString(id.UserId), aws.ToString(id.Account))
	}
	// The role's name and id are stable per account × permission set.
	rc2, err := e.sso.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String("058264527036"), RoleName: aws.String("AdministratorAccess")})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := e.stsWith(roleCreds(rc2.RoleCredentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id2.Arn) != aws.ToString(id.Arn) || aws.ToString(id2.UserId) != aws.ToString(id.UserId) {
		t.Fatalf("second credentials: %v %s", err, aws.ToString(id2.Arn))
	}
	if aws.ToString(rc2.RoleCredentials.AccessKeyId) == aws.ToString(rc.RoleCredentials.AccessKeyId) {
		t.Fatal("the same access key twice")
	}

	// Not assigned: ForbiddenException "No access", as AWS answers.
	_, err = e.sso.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String("637423191929"), RoleName: aws.String("AdministratorAccess")})
	if apiCode(t, err) != "ForbiddenException" {
		t.Fatalf("unassigned: %v", err)
	}
	// A deleted assignment refuses new credentials at once; credentials issued before stay valid.
	if err := e.sim.Update(func(d *idcsim.Directory) error {
		g, _ := d.GroupID("DevOps")
		ps, _ := d.PermissionSetARN("AdministratorAccess")
		d.Unassign(idcsim.Assignment{AccountID: "058264527036", PermissionSetARN: ps, PrincipalType: "GROUP", PrincipalID: g})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.sso.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String("058264527036"), RoleName: aws.String("AdministratorAccess")})
	if apiCode(t, err) != "ForbiddenException" {
		t.Fatalf("after the assignment's deletion: %v", err)
	}
	roles, err = e.sso.ListAccountRoles(ctx, &sso.ListAccountRolesInput{AccessToken: tok.AccessToken, AccountId: aws.String("058264527036")})
	if err != nil || len(roles.RoleList) != 1 || aws.ToString(roles.RoleList[0].RoleName) != "ReadOnlyAccess" {
		t.Fatalf("roles after the deletion: %v %v", roles, err)
	}
	if _, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("credentials issued before the deletion: %v", err)
	}
	// Role credentials expire by the simulator's clock.
	e.clock.Advance(time.Hour)
	_, err = stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if apiCode(t, err) != "ExpiredToken" {
		t.Fatalf("after an hour: %v", err)
	}
	if _, err := e.stsWith(roleCreds(ro.RoleCredentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("ReadOnlyAccess within its 8 hours: %v", err)
	}

	// The refresh grant rotates: a new access and refresh token; the old refresh token is spent.
	refreshIn := &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("refresh_token"), RefreshToken: tok.RefreshToken}
	tok2, err := e.oidc.CreateToken(ctx, refreshIn)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(tok2.RefreshToken) == aws.ToString(tok.RefreshToken) || aws.ToString(tok2.AccessToken) == aws.ToString(tok.AccessToken) {
		t.Fatal("the refresh grant did not rotate the tokens")
	}
	// The new token ends with the portal session too.
	if tok2.ExpiresIn != tok.ExpiresIn-int32(e.clock.Now().Sub(tokAt)/time.Second) {
		t.Fatalf("refreshed token lasts %d s, want the sign-in session's end", tok2.ExpiresIn)
	}
	_, err = e.oidc.CreateToken(ctx, refreshIn)
	requireErrorAs[*oidctypes.InvalidGrantException](t, err)

	// Logout revokes the access token (and its refresh chain).
	if _, err := e.sso.Logout(ctx, &sso.LogoutInput{AccessToken: tok2.AccessToken}); err != nil {
		t.Fatal(err)
	}
	_, err = e.sso.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok2.AccessToken})
	requireErrorAs[*ssotypes.UnauthorizedException](t, err)
	_, err = e.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("refresh_token"), RefreshToken: tok2.RefreshToken})
	requireErrorAs[*oidctypes.InvalidGrantException](t, err)
	// The first access token is of the same chain: revoked too.
	_, err = e.sso.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
	requireErrorAs[*ssotypes.UnauthorizedException](t, err)

	st := e.sim.Stats()
	for k, want := range map[string]int{"sso-oidc:RegisterClient": 1, "sso-oidc:StartDeviceAuthorization": 1, "sso-oidc:CreateToken": 7,
		"sso:ListAccounts": 4, "sso:ListAccountRoles": 2, "sso:GetRoleCredentials": 5, "sso:Logout": 1, "sts:GetCallerIdentity": 5} {
		if st.Calls[k] != want {
			t.Errorf("Stats.Calls[%s] = %d, want %d", k, st.Calls[k], want)
		}
	}
}

func TestSSOAccessTokenExpiry(t *testing.T) {
	e := newAWSEnv(t)
	ctx := testContext(t)
	_, tok := e.deviceLogin(t, ctx, "bob@example.com")
	if _, err := e.sso.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Duration(tok.ExpiresIn) * time.Second)
	_, err := e.sso.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
	requireErrorAs[*ssotypes.UnauthorizedException](t, err)

	// A user disabled since the sign-in: the token is refused at once.
	_, tok = e.deviceLogin(t, ctx, "carol@example.com")
	if err := e.sim.Update(func(d *idcsim.Directory) error {
		id, _ := d.UserID("carol@example.com")
		return d.DeleteUser(id)
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.sso.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
	requireErrorAs[*ssotypes.UnauthorizedException](t, err)
}

// rawOIDC posts a JSON body to an sso-oidc path.
func (e *awsEnv) rawOIDC(t *testing.T, path string, body any) (*http.Response, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	res, err := e.srv.Client().Post(e.srv.URL+path, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res, out
}

func TestSSOOIDCErrors(t *testing.T) {
	e := newAWSEnv(t)
	ctx := testContext(t)
	reg, err := e.oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("c"), ClientType: aws.String("public")})
	if err != nil {
		t.Fatal(err)
	}
	start := func() *ssooidc.StartDeviceAuthorizationOutput {
		out, err := e.oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, StartUrl: aws.String(e.ep.StartURL)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	token := func(d *ssooidc.StartDeviceAuthorizationOutput) error {
		_, err := e.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
			GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"), DeviceCode: d.DeviceCode})
		return err
	}
	// SlowDown: polled faster than the interval; each SlowDown adds 5 s.
	d := start()
	requireErrorAs[*oidctypes.AuthorizationPendingException](t, token(d))
	requireErrorAs[*oidctypes.SlowDownException](t, token(d))
	e.clock.Advance(5 * time.Second) // the interval is 6 s now
	requireErrorAs[*oidctypes.SlowDownException](t, token(d))
	e.clock.Advance(11 * time.Second)
	requireErrorAs[*oidctypes.AuthorizationPendingException](t, token(d))
	// Denied on the portal: AccessDenied.
	e.approveDevice(e.signIn("alice@example.com"), aws.ToString(d.VerificationUriComplete), false)
	e.clock.Advance(20 * time.Second)
	requireErrorAs[*oidctypes.AccessDeniedException](t, token(d))
	// Expired after 600 s.
	d = start()
	e.clock.Advance(600 * time.Second)
	requireErrorAs[*oidctypes.ExpiredTokenException](t, token(d))
	// A legacy registration (no scopes) gets no refresh token.
	d = start()
	e.approveDevice(e.signIn("alice@example.com"), aws.ToString(d.VerificationUriComplete), true)
	tok, err := e.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"), DeviceCode: d.DeviceCode})
	if err != nil || tok.RefreshToken != nil {
		t.Fatalf("legacy client's token: %v, refresh token %v", err, tok.RefreshToken)
	}

	// Every error carries x-amzn-ErrorType and {"error","error_description"}, with AWS's statuses.
	id, secret := aws.ToString(reg.ClientId), aws.ToString(reg.ClientSecret)
	for _, c := range []struct {
		path   string
		body   map[string]any
		status int
		name   string
		oauth  string
	}{
		{"/token", map[string]any{"clientId": id, "clientSecret": "wrong", "grantType": "refresh_token", "refreshToken": "x"}, 401, "InvalidClientException", "invalid_client"},
		{"/token", map[string]any{"clientId": id, "clientSecret": secret, "grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": "nope"}, 400, "InvalidGrantException", "invalid_grant"},
		{"/token", map[string]any{"clientId": id, "clientSecret": secret, "grantType": "password"}, 400, "UnsupportedGrantTypeException", "unsupported_grant_type"},
		{"/token", map[string]any{"clientId": id, "clientSecret": secret, "grantType": "authorization_code", "code": "x", "redirectUri": "http://127.0.0.1/cb", "codeVerifier": strings.Repeat("a", 43)}, 400, "UnauthorizedClientException", "unauthorized_client"},
		{"/token", map[string]any{"clientId": id}, 400, "InvalidRequestException", "invalid_request"},
		{"/device_authorization", map[string]any{"clientId": id, "clientSecret": secret, "startUrl": "https://example.com/other"}, 400, "InvalidRequestException", "invalid_request"},
		{"/client/register", map[string]any{"clientName": "x", "clientType": "confidential"}, 400, "InvalidClientMetadataException", "invalid_client_metadata"},
		{"/client/register", map[string]any{"clientName": "x", "clientType": "public", "grantTypes": []string{"authorization_code"}, "redirectUris": []string{"http://example.com/cb"}}, 400, "InvalidRedirectUriException", "invalid_redirect_uri"},
		{"/client/register", map[string]any{"clientName": "x", "clientType": "public", "scopes": []string{""}}, 400, "InvalidScopeException", "invalid_scope"},
	} {
		res, body := e.rawOIDC(t, c.path, c.body)
		if res.StatusCode != c.status || res.Header.Get("x-amzn-ErrorType") != c.name || body["error"] != c.oauth || body["error_description"] == "" {
			t.Errorf("%s %v: %d %q %v, want %d %s %s", c.path, c.body, res.StatusCode, res.Header.Get("x-amzn-ErrorType"), body, c.status, c.name, c.oauth)
		}
	}
	// The portal API's errors too.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/assignment/accounts", nil)
	req.Header.Set("x-amz-sso_bearer_token", "nope")
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || res.Header.Get("x-amzn-ErrorType") != "UnauthorizedException" {
		t.Errorf("portal API with a bad token: %d %q", res.StatusCode, res.Header.Get("x-amzn-ErrorType"))
	}
}

// TestSSODeviceSignInFirst: an anonymous visitor of the verification URI goes through SAML sign-in
// and comes back to the device page with the code.
func TestSSODeviceSignInFirst(t *testing.T) {
	e := newAWSEnv(t)
	c := e.client()
	res, _ := e.get(c, e.srv.URL+"/start/device?user_code=BCDF-GHJK")
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || loc.Host != "idp.example.test" || loc.Query().Get("RelayState") != "/start/device?user_code=BCDF-GHJK" {
		t.Fatalf("anonymous device page: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// The AuthnRequest's id, from the redirect.
	z, _ := base64.StdEncoding.DecodeString(loc.Query().Get("SAMLRequest"))
	raw := inflate(t, z)
	reqID := regexp.MustCompile(`ID="([^"]+)"`).FindStringSubmatch(raw)[1]
	r := e.good()
	r.inResponseTo = reqID
	res, body := e.post(c, encode(t, e.build(r)))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/start/device?user_code=BCDF-GHJK" {
		t.Fatalf("after sign-in: %d %s %s", res.StatusCode, res.Header.Get("Location"), body)
	}
	res, body = e.get(c, e.srv.URL+"/start/device?user_code=BCDF-GHJK")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `value="BCDF-GHJK"`) || !strings.Contains(body, "alice@example.com") {
		t.Fatalf("device page: %d %s", res.StatusCode, body)
	}
	// A wrong code is refused, a form without the CSRF token too; ten wrong codes lock the session.
	m := csrfRe.FindStringSubmatch(body)
	res, _ = e.formPost(c, e.srv.URL+"/start/device", url.Values{"user_code": {"BCDF-GHJK"}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("without CSRF token: %d", res.StatusCode)
	}
	for i := 0; i < 10; i++ {
		res, _ = e.formPost(c, e.srv.URL+"/start/device", url.Values{"csrf_token": {m[1]}, "user_code": {"BCDF-GHJK"}})
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong code %d: %d", i, res.StatusCode)
		}
	}
	res, _ = e.formPost(c, e.srv.URL+"/start/device", url.Values{"csrf_token": {m[1]}, "user_code": {"BCDF-GHJK"}})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("eleventh wrong code: %d", res.StatusCode)
	}
}

func inflate(t *testing.T, z []byte) string {
	t.Helper()
	b, err := io.ReadAll(flate.NewReader(bytes.NewReader(z)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestSSOAuthorizationCodePKCE(t *testing.T) {
	e := newAWSEnv(t)
	ctx := testContext(t)
	reg, err := e.oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-pkce"), ClientType: aws.String("public"),
		Scopes: []string{"sso:account:access"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		RedirectUris: []string{"http://127.0.0.1/oauth/callback"}, IssuerUrl: aws.String(e.ep.StartURL)})
	if err != nil {
		t.Fatal(err)
	}
	browser := e.signIn("alice@example.com")
	redirect := "http://127.0.0.1:54321/oauth/callback" // another port than registered: loopback, RFC 8252
	authorize := func(verifier, state string) string {
		q := url.Values{"response_type": {"code"}, "client_id": {aws.ToString(reg.ClientId)}, "redirect_uri": {redirect}, "state": {state},
			"code_challenge": {pkce(verifier)}, "code_challenge_method": {"S256"}, "scopes": {"sso:account:access"}}
		res, body := e.get(browser, e.srv.URL+"/authorize?"+q.Encode())
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "Allow botocore-client-pkce to access your data?") {
			t.Fatalf("authorize: %d %s", res.StatusCode, body)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:54321") {
			t.Errorf("CSP %q does not let the form redirect to the client", csp)
		}
		reqID := regexp.MustCompile(`name="request" value="([^"]+)"`).FindStringSubmatch(body)[1]
		res, _ = e.formPost(browser, e.srv.URL+"/authorize", url.Values{"csrf_token": {csrfRe.FindStringSubmatch(body)[1]}, "request": {reqID}, "decision": {"allow"}})
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), redirect+"?") || loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
			t.Fatalf("allow: %d %s", res.StatusCode, loc)
		}
		return loc.Query().Get("code")
	}
	verifier := strings.Repeat("v", 20) + "-verifier-of-pkce-0123456789"
	tokenIn := func(code, v string) *ssooidc.CreateTokenInput {
		return &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("authorization_code"),
			Code: aws.String(code), RedirectUri: aws.String(redirect), CodeVerifier: aws.String(v)}
	}
	// A wrong verifier is refused, and spends the code.
	code := authorize(verifier, "s1")
	_, err = e.oidc.CreateToken(ctx, tokenIn(code, strings.Repeat("w", 48)))
	requireErrorAs[*oidctypes.InvalidGrantException](t, err)
	_, err = e.oidc.CreateToken(ctx, tokenIn(code, verifier))
	requireErrorAs[*oidctypes.InvalidGrantException](t, err)
	// The right one gets tokens that work on the portal API.
	code = authorize(verifier, "s2")
	tok, err := e.oidc.CreateToken(ctx, tokenIn(code, verifier))
	if err != nil || aws.ToString(tok.RefreshToken) == "" {
		t.Fatalf("token: %v", err)
	}
	if _, err := e.sso.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken}); err != nil {
		t.Fatal(err)
	}
	// A client that registered no such redirect URI is shown an error, not redirected.
	q := url.Values{"response_type": {"code"}, "client_id": {aws.ToString(reg.ClientId)}, "redirect_uri": {"http://evil.example/cb"},
		"code_challenge": {pkce(verifier)}, "code_challenge_method": {"S256"}}
	if res, _ := e.get(browser, e.srv.URL+"/authorize?"+q.Encode()); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("unregistered redirect URI: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// Without PKCE: an error sent to the client.
	q.Set("redirect_uri", redirect)
	q.Del("code_challenge")
	res, _ := e.get(browser, e.srv.URL+"/authorize?"+q.Encode())
	if loc, _ := url.Parse(res.Header.Get("Location")); res.StatusCode != http.StatusFound || loc.Query().Get("error") != "invalid_request" {
		t.Fatalf("without PKCE: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// Anonymous: sent to sign in, to come back to the same authorization request.
	q.Set("code_challenge", pkce(verifier))
	res, _ = e.get(e.client(), e.srv.URL+"/authorize?"+q.Encode())
	if loc, _ := url.Parse(res.Header.Get("Location")); res.StatusCode != http.StatusFound || loc.Query().Get("RelayState") != "/authorize?"+q.Encode() {
		t.Fatalf("anonymous authorize: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestSTSSignatureAndAssumeRole(t *testing.T) {
	e := newAWSEnv(t)
	ctx := testContext(t)
	_, tok := e.deviceLogin(t, ctx, "alice@example.com")
	rc, err := e.sso.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String("293847561029"), RoleName: aws.String("PowerUserAccess")})
	if err != nil {
		t.Fatal(err)
	}
	c := rc.RoleCredentials
	// A wrong secret: SignatureDoesNotMatch. A wrong session token, or a key never issued: InvalidClientTokenId.
	for _, bad := range []struct {
		creds aws.CredentialsProvider
		code  string
	}{
		{credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), "wrong"+aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)), "SignatureDoesNotMatch"},
		{credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "other"), "InvalidClientTokenId"},
		{credentials.NewStaticCredentialsProvider("ASIAAAAAAAAAAAAAAAAA", aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)), "InvalidClientTokenId"},
	} {
		_, err := e.stsWith(bad.creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if apiCode(t, err) != bad.code {
			t.Errorf("got %v, want %s", err, bad.code)
		}
	}
	// AssumeRole with the organisation's long-term credentials, for a role in one of its accounts.
	roleARN := "arn:aws:iam::637423191929:role/warden/WardenIdentityCenter"
	out, err := e.stsWith(e.cfg.Credentials).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("warden"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::637423191929:assumed-role/WardenIdentityCenter/warden" || !out.Credentials.Expiration.Equal(e.clock.Now().Add(15*time.Minute).Truncate(time.Second)) {
		t.Fatalf("AssumeRole: %s %v", aws.ToString(out.AssumedRoleUser.Arn), out.Credentials.Expiration)
	}
	assumed := credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	id, err := e.stsWith(assumed).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != aws.ToString(out.AssumedRoleUser.Arn) || aws.ToString(id.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) {
		t.Fatalf("caller identity of the assumed role: %v %v", id, err)
	}
	// sso-admin calls signed with them are checked and accepted; with a wrong secret refused.
	cfg := e.cfg.Copy()
	cfg.Credentials = assumed
	if _, err := ssoadmin.NewFromConfig(cfg).ListInstances(ctx, &ssoadmin.ListInstancesInput{}); err != nil {
		t.Fatalf("sso-admin with the assumed role: %v", err)
	}
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId), "wrong", aws.ToString(out.Credentials.SessionToken))
	_, err = ssoadmin.NewFromConfig(cfg).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if apiCode(t, err) != "InvalidSignatureException" {
		t.Fatalf("sso-admin with a wrong secret: %v", err)
	}
	e.clock.Advance(15 * time.Minute)
	cfg.Credentials = assumed
	_, err = ssoadmin.NewFromConfig(cfg).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if apiCode(t, err) != "ExpiredTokenException" {
		t.Fatalf("sso-admin with expired credentials: %v", err)
	}
	// Refusals: a role outside the organisation, a duration over the role's hour, a bad session name.
	for _, in := range []struct {
		in   *sts.AssumeRoleInput
		code string
	}{
		{&sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111122223333:role/X"), RoleSessionName: aws.String("warden")}, "AccessDenied"},
		{&sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("warden"), DurationSeconds: aws.Int32(7200)}, "ValidationError"},
		{&sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("a b")}, "ValidationError"},
	} {
		_, err := e.stsWith(e.cfg.Credentials).AssumeRole(ctx, in.in)
		if apiCode(t, err) != in.code {
			t.Errorf("AssumeRole %s: %v, want %s", aws.ToString(in.in.RoleArn), err, in.code)
		}
	}
	if st := e.sim.Stats(); st.Calls["sts:AssumeRole"] != 4 {
		t.Errorf("sts:AssumeRole counted %d", st.Calls["sts:AssumeRole"])
	}
}

// TestSTSConfiguredRoles: with Options.RoleARNs, only those roles may be assumed.
func TestSTSConfiguredRoles(t *testing.T) {
	sim := idcsim.New(idcsim.Options{Seed: 1, RoleARNs: []string{"arn:aws:iam::637423191929:role/Warden"}})
	if err := sim.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	env := newTestSimFrom(t, sim)
	ctx := testContext(t)
	c := sts.NewFromConfig(env.Config)
	if _, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::637423191929:role/Warden"), RoleSessionName: aws.String("w")}); err == nil || apiCode(t, err) != "ValidationError" {
		t.Fatalf("a one-character session name: %v", err)
	}
	if _, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::637423191929:role/Warden"), RoleSessionName: aws.String("warden")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::637423191929:role/Other"), RoleSessionName: aws.String("warden")})
	if apiCode(t, err) != "AccessDenied" {
		t.Fatalf("a role not configured: %v", err)
	}
}

// TestPortalAPIFollowsProvisioning: an assignment created through sso-admin gives credentials once
// its creation has SUCCEEDED (after the provisioning delay), not before.
func TestPortalAPIFollowsProvisioning(t *testing.T) {
	e := newAWSEnv(t, func(o *idcsim.Options) { o.ProvisioningDelay = time.Second })
	ctx := testContext(t)
	_, tok := e.deviceLogin(t, ctx, "alice@example.com")
	var userID, psARN string
	e.sim.Update(func(d *idcsim.Directory) error {
		userID, _ = d.UserID("alice@example.com")
		psARN, _ = d.PermissionSetARN("AdministratorAccess")
		return nil
	})
	admin := ssoadmin.NewFromConfig(e.cfg)
	if _, err := admin.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(e.sim.InstanceARN()),
		PermissionSetArn: aws.String(psARN), PrincipalId: aws.String(userID), PrincipalType: "USER", TargetId: aws.String("637423191929"), TargetType: "AWS_ACCOUNT"}); err != nil {
		t.Fatal(err)
	}
	in := &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String("637423191929"), RoleName: aws.String("AdministratorAccess")}
	_, err := e.sso.GetRoleCredentials(ctx, in)
	if apiCode(t, err) != "ForbiddenException" {
		t.Fatalf("while IN_PROGRESS: %v", err)
	}
	e.clock.Advance(time.Second)
	if _, err := e.sso.GetRoleCredentials(ctx, in); err != nil {
		t.Fatalf("once SUCCEEDED: %v", err)
	}
}

// TestSignInThrottling: the injected throttle rate reaches the portal API and STS (whose models
// have a throttling error), not SSO OIDC (whose model has none).
func TestSignInThrottling(t *testing.T) {
	e := newAWSEnv(t, func(o *idcsim.Options) { o.ThrottleRate = 1 })
	ctx := testContext(t)
	_, tok := e.deviceLogin(t, ctx, "alice@example.com")
	_, err := e.sso.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
	requireErrorAs[*ssotypes.TooManyRequestsException](t, err)
	_, err = e.stsWith(e.cfg.Credentials).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if apiCode(t, err) != "Throttling" {
		t.Fatalf("STS: %v", err)
	}
	if st := e.sim.Stats(); st.Throttled != 2 || st.Calls["sso:ListAccounts"] != 1 || st.Calls["sts:GetCallerIdentity"] != 1 {
		t.Fatalf("stats: throttled %d, calls %v", st.Throttled, st.Calls)
	}
}

// BenchmarkRoleCredentials: GetRoleCredentials, then GetCallerIdentity signed with what it gave
// (SigV4 checked), through the SDK over loopback HTTP.
func BenchmarkRoleCredentials(b *testing.B) {
	e := newAWSEnv(b)
	ctx := context.Background()
	_, tok := e.deviceLogin(b, ctx, "alice@example.com")
	in := &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String("058264527036"), RoleName: aws.String("AdministratorAccess")}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rc, err := e.sso.GetRoleCredentials(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.stsWith(roleCreds(rc.RoleCredentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSDKSSOCredentialProvider: aws-sdk-go-v2's own SSO credential chain (an sso-session profile,
// the token cache, AWS_ENDPOINT_URL_SSO / _SSO_OIDC / _STS) against the simulator. The cached token
// has expired (by the cache file's word), so the SDK's token provider refreshes it with CreateToken's refresh grant
// and writes the new one back; GetRoleCredentials and GetCallerIdentity follow.
func TestSDKSSOCredentialProvider(t *testing.T) {
	e := newAWSEnv(t)
	ctx := testContext(t)
	reg, tok := e.deviceLogin(t, ctx, "alice@example.com")
	home := t.TempDir()
	t.Setenv("HOME", home)
	config := fmt.Sprintf("[sso-session warden]\nsso_start_url = %s\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n\n"+
		"[profile ReadOnlyAccess-on-production]\nsso_session = warden\nsso_account_id = 637423191929\nsso_role_name = ReadOnlyAccess\nregion = us-east-1\n", e.ep.StartURL)
	if err := os.WriteFile(filepath.Join(home, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cachePath, err := ssocreds.StandardCachedTokenFilepath("warden")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(cachePath), 0o700)
	cached, _ := json.Marshal(map[string]string{"startUrl": e.ep.StartURL, "region": "us-east-1", "accessToken": aws.ToString(tok.AccessToken),
		"expiresAt": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "clientId": aws.ToString(reg.ClientId), "clientSecret": aws.ToString(reg.ClientSecret),
		"registrationExpiresAt": time.Unix(reg.ClientSecretExpiresAt, 0).UTC().Format(time.RFC3339), "refreshToken": aws.ToString(tok.RefreshToken)})
	if err := os.WriteFile(cachePath, cached, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	t.Setenv("AWS_ENDPOINT_URL_SSO", e.srv.URL)
	t.Setenv("AWS_ENDPOINT_URL_SSO_OIDC", e.srv.URL)
	t.Setenv("AWS_ENDPOINT_URL_STS", e.srv.URL)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithSharedConfigProfile("ReadOnlyAccess-on-production"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^arn:aws:sts::637423191929:assumed-role/AWSReservedSSO_ReadOnlyAccess_[0-9a-f]{16}/alice@example\.com$`).MatchString(aws.ToString(id.Arn)) {
		t.Fatalf("caller identity %s", aws.ToString(id.Arn))
	}
	// The SDK refreshed the token (rotating the refresh token) and wrote it back.
	b, _ := os.ReadFile(cachePath)
	var after map[string]string
	json.Unmarshal(b, &after)
	if after["accessToken"] == aws.ToString(tok.AccessToken) || after["refreshToken"] == aws.ToString(tok.RefreshToken) || after["refreshToken"] == "" {
		t.Fatalf("the cached token was not refreshed: %s", b)
	}
	if st := e.sim.Stats(); st.Calls["sso:GetRoleCredentials"] != 1 || st.Calls["sso-oidc:CreateToken"] != 3 {
		t.Fatalf("calls %v", st.Calls)
	}
}
