package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"github.com/wardenhq/warden/internal/testenv"
)

// BenchmarkAuthenticateSession is what authenticating an API call by its session cookie costs:
// the session from the cache (Run feeding it), the user's admin flag read afresh from the store.
// BenchmarkAuthenticateToken is the same for a bearer token (two store reads), for comparison.
func BenchmarkAuthenticateSession(b *testing.B) {
	srv, cookie, _ := benchServer(b)
	h := srv.authed(func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {})
	r := httptest.NewRequest("GET", "/v1/x", nil)
	r.AddCookie(cookie)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

func BenchmarkAuthenticateToken(b *testing.B) {
	srv, _, token := benchServer(b)
	h := srv.authed(func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {})
	r := httptest.NewRequest("GET", "/v1/x", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

func benchServer(b *testing.B) (*Server, *http.Cookie, string) {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "w.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Create(ctx, resource.New(resource.KindUser, "erin")); err != nil {
		b.Fatal(err)
	}
	srv := New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ss := auth.NewSessions(st, auth.SessionConfig{Idle: time.Hour, Absolute: 12 * time.Hour})
	go ss.Run(ctx)
	testenv.Eventually(b, 10*time.Second, "the sessions' feed to start", ss.Feeding)
	srv.SetSessions(ss)
	w := httptest.NewRecorder()
	if _, err := ss.Issue(ctx, w, httptest.NewRequest("POST", "/login", nil), "erin", auth.MethodUse{Method: auth.MethodPassword}); err != nil {
		b.Fatal(err)
	}
	token, _, err := srv.Tokens().Create(ctx, "erin", false, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return srv, w.Result().Cookies()[0], token
}
