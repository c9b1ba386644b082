package idcsim_test

// Shared helpers for tests that talk to the simulator through the real AWS SDK for Go v2. Any
// service's tests can use them: newTestSim starts an httptest server around idcsim.New and returns
// clients for sso-admin, identitystore and organizations aimed at it.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/wardenhq/warden/internal/idcsim"
)

// testEnv is a running simulator and SDK clients aimed at it.
type testEnv struct {
	Sim    *idcsim.Sim
	Server *httptest.Server
	// URL is the endpoint (BaseEndpoint of every client).
	URL string
	// Config is the aws.Config the clients were built from; build more clients from it.
	Config aws.Config

	SSOAdmin      *ssoadmin.Client
	IdentityStore *identitystore.Client
	Organizations *organizations.Client

	// InstanceARN and IdentityStoreID are the simulated instance's, read when the env was made.
	InstanceARN     string
	IdentityStoreID string
}

// testConfigOption changes the aws.Config the clients are built from.
type testConfigOption func(*aws.Config)

// withRetryMaxAttempts sets the SDK's retry attempts (1: no retries, so throttles surface at once).
func withRetryMaxAttempts(n int) testConfigOption {
	return func(c *aws.Config) { c.RetryMaxAttempts = n }
}

// withRetryer replaces the SDK's retryer.
func withRetryer(fn func() aws.Retryer) testConfigOption {
	return func(c *aws.Config) { c.Retryer = fn }
}

// newTestSim starts a simulator made with opts behind an httptest server, closed when the test
// ends, and returns SDK clients for it.
func newTestSim(t testing.TB, opts idcsim.Options, cfgOpts ...testConfigOption) *testEnv {
	t.Helper()
	return newTestSimFrom(t, idcsim.New(opts), cfgOpts...)
}

// newTestSimFrom is newTestSim around an existing simulator (one restored from a snapshot, say).
func newTestSimFrom(t testing.TB, sim *idcsim.Sim, cfgOpts ...testConfigOption) *testEnv {
	t.Helper()
	hs := httptest.NewServer(sim)
	t.Cleanup(hs.Close)
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "SECRETEXAMPLE", ""),
		BaseEndpoint: aws.String(hs.URL),
		HTTPClient:   hs.Client(),
	}
	for _, o := range cfgOpts {
		o(&cfg)
	}
	return &testEnv{
		Sim: sim, Server: hs, URL: hs.URL, Config: cfg,
		SSOAdmin:        ssoadmin.NewFromConfig(cfg),
		IdentityStore:   identitystore.NewFromConfig(cfg),
		Organizations:   organizations.NewFromConfig(cfg),
		InstanceARN:     sim.InstanceARN(),
		IdentityStoreID: sim.IdentityStoreID(),
	}
}

// testContext is a context that ends with the test, or after a minute.
func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// requireErrorAs fails the test unless err is (or wraps) an E, such as *types.ConflictException,
// and returns it.
func requireErrorAs[E error](t testing.TB, err error) E {
	t.Helper()
	var target E
	if err == nil {
		t.Fatalf("got no error, want %T", target)
	}
	if !errors.As(err, &target) {
		t.Fatalf("got %T (%v), want %T", err, err, target)
	}
	return target
}

// rawAWSResponse is an answer to a hand-made awsJson1_1 request.
type rawAWSResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// rawAWSCall POSTs body to the simulator with X-Amz-Target target, and an Authorization header
// shaped like SigV4 when signed (the simulator does not check the signature, only its presence).
func (e *testEnv) rawAWSCall(t testing.TB, target, body string, signed bool) rawAWSResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(testContext(t), http.MethodPost, e.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if signed {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/identitystore/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000")
		req.Header.Set("X-Amz-Date", "20250101T000000Z")
	}
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := rawAWSResponse{Status: resp.StatusCode, Header: resp.Header, Raw: string(b)}
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := json.Unmarshal(b, &out.Body); err != nil {
			t.Fatalf("answer to %s is not a JSON object: %v: %q", target, err, b)
		}
	}
	return out
}
