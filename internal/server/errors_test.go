package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// backendDetail is what a failing database might say: nothing a caller should read.
const backendDetail = `dial tcp 10.20.30.40:5432: password authentication failed for user "warden_svc"`

// failingStore is a real store whose Ping, Get and List fail on demand.
type failingStore struct {
	store.Store
	ping, get, list atomic.Bool
}

func (f *failingStore) Ping(ctx context.Context) error {
	if f.ping.Load() {
		return errors.New(backendDetail)
	}
	return f.Store.Ping(ctx)
}

func (f *failingStore) Get(ctx context.Context, k resource.Kind, name string) (*resource.Object, error) {
	if f.get.Load() {
		return nil, errors.New(backendDetail)
	}
	return f.Store.Get(ctx, k, name)
}

func (f *failingStore) List(ctx context.Context, k resource.Kind, opts store.ListOptions) ([]*resource.Object, error) {
	if f.list.Load() {
		return nil, errors.New(backendDetail)
	}
	return f.Store.List(ctx, k, opts)
}

// syncBuffer is a log destination the server's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var errorIDRE = regexp.MustCompile(`\(id ([0-9a-f]{16})\)`)

// /readyz and 500 answers, which callers who may know nothing of warden's insides can get, say that
// something failed and give an id; the log line with the error carries the same id. An
// administrator's 500 also says what failed.
func TestInternalErrorsShowAnIDNotTheirText(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fs := &failingStore{Store: st}
	var logs syncBuffer
	srv := server.New(fs, slog.New(slog.NewTextHandler(&logs, nil)))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	tokenFile := filepath.Join(t.TempDir(), "admin.token")
	if _, err := srv.Tokens().EnsureAdminToken(ctx, tokenFile); err != nil {
		t.Fatal(err)
	}
	adminToken, err := readToken(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx, &resource.Object{Kind: resource.KindUser, Version: resource.Version, Metadata: resource.Metadata{Name: "bob"},
		Spec: &resource.UserSpec{}}); err != nil {
		t.Fatal(err)
	}
	bobToken, _, err := srv.Tokens().Create(ctx, "bob", false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	get := func(path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", hs.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// loggedUnder checks that the answer names an id and that the log line with that id holds the error.
	loggedUnder := func(what, body string) string {
		t.Helper()
		m := errorIDRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s: the answer names no error id: %s", what, body)
		}
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "error_id="+m[1]) {
				if !strings.Contains(line, "password authentication failed") {
					t.Errorf("%s: the log line of error %s lacks the error: %s", what, m[1], line)
				}
				return m[1]
			}
		}
		t.Fatalf("%s: no log line carries error id %s:\n%s", what, m[1], logs.String())
		return ""
	}

	fs.ping.Store(true)
	code, body := get("/readyz", "")
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "store unreachable (id ") || strings.Contains(body, "10.20.30.40") {
		t.Errorf("/readyz with the store down: %d %q; want 503, store unreachable and an id, without the error", code, body)
	}
	loggedUnder("/readyz", body)
	fs.ping.Store(false)

	// A token that cannot be checked: the caller is nobody yet.
	fs.get.Store(true)
	code, body = get("/v1/whoami", bobToken)
	if code != http.StatusInternalServerError || strings.Contains(body, "10.20.30.40") || strings.Contains(body, "password") {
		t.Errorf("a token check failing: %d %s; want 500 without the error", code, body)
	}
	loggedUnder("token check", body)
	fs.get.Store(false)

	fs.list.Store(true)
	code, body = get("/v1/user", bobToken)
	if code != http.StatusInternalServerError || strings.Contains(body, "10.20.30.40") || strings.Contains(body, "password") {
		t.Errorf("a user's list failing: %d %s; want 500 without the error", code, body)
	}
	bobID := loggedUnder("a user's list", body)

	code, body = get("/v1/user", adminToken)
	if code != http.StatusInternalServerError || !strings.Contains(body, "internal error (id ") || !strings.Contains(body, backendDetail[:20]) {
		t.Errorf("an administrator's list failing: %d %s; want 500 with the id and the error", code, body)
	}
	if adminID := loggedUnder("an administrator's list", body); adminID == bobID {
		t.Errorf("two errors share the id %s", adminID)
	}
}
