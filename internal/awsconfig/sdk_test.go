package awsconfig

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	sdkconfig "github.com/aws/aws-sdk-go-v2/config"
)

// TestSDKReadsIt: aws-sdk-go-v2 reads a generated profile as meant: its sso-session, account and
// role, and the services section's endpoint for each client the SSO credential provider uses
// (looked up by the SDK's service id, as the SDK does).
func TestSDKReadsIt(t *testing.T) {
	o := opts
	o.Services, o.Endpoints = "warden-sim", DemoEndpoints("http://127.0.0.1:8421")
	out, _, err := Merge([]byte(userConfig), o, held)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := sdkconfig.LoadSharedConfigProfile(ctx, "ReadOnlyAccess-on-staging", func(lo *sdkconfig.LoadSharedConfigOptions) {
		lo.ConfigFiles, lo.CredentialsFiles = []string{path}, []string{}
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.SSOSession == nil || c.SSOSession.Name != "warden" || c.SSOSession.SSORegion != "us-east-1" || c.SSOSession.SSOStartURL != opts.StartURL ||
		c.SSOAccountID != "058264527036" || c.SSORoleName != "ReadOnlyAccess" || c.Region != "us-east-1" {
		t.Fatalf("the SDK read %+v (session %+v)", c, c.SSOSession)
	}
	for _, id := range []string{"SSO OIDC", "SSO", "STS"} {
		if u, ok, err := c.GetServiceBaseEndpoint(ctx, id); err != nil || !ok || u != "http://127.0.0.1:8421" {
			t.Errorf("the SDK's endpoint for %s: %q %v %v", id, u, ok, err)
		}
	}
}
