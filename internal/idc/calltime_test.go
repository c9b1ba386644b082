package idc_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
)

const (
	testInstance = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
	testStore    = "d-0123456789"
)

// clientAt builds a client for an endpoint, naming the instance so that nothing is called yet.
func clientAt(t *testing.T, url string, cfg idc.Config) *idc.Client {
	t.Helper()
	cfg.Region = "us-east-1"
	if cfg.InstanceARN == "" {
		cfg.InstanceARN, cfg.IdentityStoreID = testInstance, testStore
	}
	c, err := idc.NewFromConfig(context.Background(), aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("A", "B", "")}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// within runs f and fails the test if it has not returned after limit (a hang, not slowness: limit
// is far above what f needs).
func within(t *testing.T, limit time.Duration, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Fatalf("%s has not returned after %s", what, limit)
		return nil
	}
}

// An endpoint that takes requests and never answers does not hold a call forever: after
// call_timeout it fails, saying so (issue 11, item 4: every AWS call's retries bounded in time).
func TestCallTimeoutEndsAHungCall(t *testing.T) {
	release := make(chan struct{})
	var seen atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hs.Close()
	defer close(release)
	c := clientAt(t, hs.URL, idc.Config{CallTimeout: 300 * time.Millisecond, RetryMaxBackoff: 10 * time.Millisecond})
	err := within(t, 30*time.Second, "a call to an endpoint that never answers", func() error {
		_, err := c.Users(context.Background())
		return err
	})
	var te *idc.TimeoutError
	if !errors.As(err, &te) || te.Timeout != 300*time.Millisecond || !strings.Contains(err.Error(), "gave up after 300ms") {
		t.Fatalf("err = %v, want a TimeoutError after 300ms", err)
	}
	if seen.Load() == 0 {
		t.Fatal("no request reached the endpoint")
	}
}

// A call that keeps being throttled fails once call_timeout is spent, with the throttle as its
// error (so callers still see ThrottlingException), not after ten backoffs of up to
// retry_max_backoff each.
func TestCallTimeoutEndsPersistentThrottling(t *testing.T) {
	var attempts atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Errortype", "ThrottlingException")
		w.WriteHeader(400)
		w.Write([]byte(`{"__type": "ThrottlingException", "message": "Rate exceeded"}`))
	}))
	defer hs.Close()
	c := clientAt(t, hs.URL, idc.Config{CallTimeout: 500 * time.Millisecond, RetryMaxBackoff: time.Hour})
	err := within(t, 30*time.Second, "a persistently throttled call", func() error {
		_, err := c.DeleteAssignment(context.Background(), idc.Assignment{PrincipalType: "USER", PrincipalID: "u", AccountID: "111111111111",
			PermissionSetARN: "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef"})
		return err
	})
	var te *idc.TimeoutError
	if !errors.As(err, &te) || idc.ErrorCode(err) != "ThrottlingException" {
		t.Fatalf("err = %v (code %q), want a TimeoutError wrapping ThrottlingException", err, idc.ErrorCode(err))
	}
	if n := attempts.Load(); n < 3 {
		t.Fatalf("%d attempts: the throttle was not retried quickly first", n)
	}
}

// A revocation's DeleteAccountAssignment that Identity Center throttles a few times still goes
// through: throttles are retried, quickly, within the call's time.
func TestThrottledDeletionIsRetried(t *testing.T) {
	sim := idcsim.New(idcsim.Options{Seed: 1})
	if err := sim.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	var throttled atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DeleteAccountAssignment") && throttled.Add(1) <= 3 {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(400)
			w.Write([]byte(`{"__type": "ThrottlingException", "message": "Rate exceeded"}`))
			return
		}
		sim.ServeHTTP(w, r)
	}))
	defer hs.Close()
	c := clientAt(t, hs.URL, idc.Config{InstanceARN: sim.InstanceARN(), IdentityStoreID: sim.IdentityStoreID(), RetryMaxBackoff: time.Second})
	ctx := context.Background()
	gid, err := c.GroupID(ctx, "DevOps")
	if err != nil {
		t.Fatal(err)
	}
	as, err := c.AssignmentsForPrincipal(ctx, "GROUP", gid)
	if err != nil || len(as) == 0 {
		t.Fatalf("DevOps assignments: %v %v", as, err)
	}
	op, err := c.DeleteAssignment(ctx, as[0])
	if err != nil || op.RequestID == "" {
		t.Fatalf("a deletion throttled 3 times: %+v %v", op, err)
	}
	if n := throttled.Load(); n != 4 {
		t.Fatalf("%d DeleteAccountAssignment attempts, want 4 (3 throttled)", n)
	}
}

// Started against an endpoint where nothing listens, the client fails within start_timeout, naming
// the endpoint, the region and the error, whether or not the instance is named in the config
// (issue 11, item 4: it used to retry for almost two minutes, or not call at all).
func TestNewFailsFastOnADeadEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	t.Setenv("AWS_ENDPOINT_URL", dead)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	for _, cfg := range []idc.Config{
		{Region: "eu-west-1", StartTimeout: time.Second},
		{Region: "eu-west-1", StartTimeout: time.Second, InstanceARN: testInstance, IdentityStoreID: testStore},
	} {
		err := within(t, 30*time.Second, "idc.New on a dead endpoint", func() error {
			_, err := idc.New(context.Background(), cfg)
			return err
		})
		if err == nil {
			t.Fatalf("%+v: no error", cfg)
		}
		for _, want := range []string{dead, "region eu-west-1", "ListInstances", "connection refused"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("instance %q: %v\n  lacks %q", cfg.InstanceARN, err, want)
			}
		}
	}
}

// With the instance named, the start check finds an instance Identity Center does not have.
func TestNewChecksTheNamedInstance(t *testing.T) {
	_, sim := newClient(t, idcsim.Options{Seed: 1}, idc.Config{})
	if _, err := idc.New(context.Background(), idc.Config{Region: "us-east-1", InstanceARN: testInstance, IdentityStoreID: testStore}); err == nil ||
		!strings.HasPrefix(err.Error(), "identity_center.instance_arn: "+testInstance+" is not among") {
		t.Fatalf("an instance the endpoint lacks: %v", err)
	}
	if _, err := idc.New(context.Background(), idc.Config{Region: "us-east-1", InstanceARN: sim.InstanceARN(), IdentityStoreID: testStore}); err == nil ||
		!strings.HasPrefix(err.Error(), "identity_center.identity_store_id: ") {
		t.Fatalf("the wrong identity store: %v", err)
	}
	if _, err := idc.New(context.Background(), idc.Config{Region: "us-east-1", InstanceARN: sim.InstanceARN(), IdentityStoreID: sim.IdentityStoreID()}); err != nil {
		t.Fatal(err)
	}
}
