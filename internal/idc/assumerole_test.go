package idc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
)

// TestRoleARNAssumedThroughSTS: with identity_center.role_arn, warden's client assumes the role
// through the simulator's STS (AssumeRole signed with the long-term credentials of the chain), and
// its Identity Center calls are then signed with the assumed role's temporary credentials, which
// the simulator checks (signature with the secret it issued, session token, expiry).
func TestRoleARNAssumedThroughSTS(t *testing.T) {
	const role = "arn:aws:iam::637423191929:role/WardenIdentityCenter"
	sim := idcsim.New(idcsim.Options{Seed: 1, RoleARNs: []string{role}})
	if err := sim.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	keys := map[string]int{} // the access keys Identity Center calls were signed with, by prefix
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "" {
			_, cred, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
			mu.Lock()
			keys[cred[:4]]++
			mu.Unlock()
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ENDPOINT_URL", hs.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	ctx := context.Background()
	c, err := idc.New(ctx, idc.Config{Region: "us-east-1", RoleARN: role})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Accounts(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Users(ctx); err != nil {
		t.Fatal(err)
	}
	st := sim.Stats()
	if st.Calls["sts:AssumeRole"] != 1 {
		t.Fatalf("sts:AssumeRole called %d times, want once (credentials cached)", st.Calls["sts:AssumeRole"])
	}
	if st.Calls["sso-admin:ListInstances"] != 1 || st.Calls["identitystore:ListUsers"] == 0 {
		t.Fatalf("calls: %v", st.Calls)
	}
	mu.Lock()
	defer mu.Unlock()
	if keys["ASIA"] < 3 || len(keys) != 1 {
		t.Fatalf("Identity Center calls signed with keys %v, want the assumed role's (ASIA…) only", keys)
	}

	// A role the simulator does not let be assumed: the client fails to start, naming AccessDenied.
	_, err = idc.New(ctx, idc.Config{Region: "us-east-1", RoleARN: "arn:aws:iam::637423191929:role/Other"})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("a role that may not be assumed: %v", err)
	}
}
