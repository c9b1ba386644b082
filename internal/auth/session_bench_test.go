package auth

import (
	"context"
	"crypto/sha256"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/resource"
)

// seedSessions stores n sessions of erin directly (no audit: the benchmarks measure checks) and
// returns their cookies.
func seedSessions(b *testing.B, s *Sessions, n int) []*http.Cookie {
	b.Helper()
	now := s.clk.Now().UTC()
	cookies := make([]*http.Cookie, 0, n)
	for len(cookies) < n {
		batch := min(500, n-len(cookies))
		var objs = make([]*cached, 0, batch)
		for i := 0; i < batch; i++ {
			id, secret, err := newSecret()
			if err != nil {
				b.Fatal(err)
			}
			objs = append(objs, &cached{hash: sha256.Sum256([]byte(secret)), sess: Session{ID: id, User: "erin", Created: now, LastSeen: now,
				Expires: now.Add(12 * time.Hour), SecondFactorAt: now, Address: "203.0.113.7",
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
				Methods:   []MethodUse{{Method: MethodPassword, At: now}, {Method: MethodTOTP, At: now}}}})
			cookies = append(cookies, &http.Cookie{Name: s.CookieName(), Value: id + "." + secret})
		}
		var os = make([]*resource.Object, 0, batch)
		for _, c := range objs {
			os = append(os, c.object())
		}
		if err := s.store.CreateMany(context.Background(), os); err != nil {
			b.Fatal(err)
		}
	}
	return cookies
}

func runFeed(b *testing.B, s *Sessions) {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	go s.Run(ctx)
	for !s.Feeding() {
		runtime.Gosched()
	}
}

// BenchmarkSessionCurrent is the cost of a session check on an API call, from the cache.
func BenchmarkSessionCurrent(b *testing.B) {
	s, _, _ := newSessionsT(b, SessionConfig{})
	runFeed(b, s)
	cookies := seedSessions(b, s, 1000)
	reqs := make([]*http.Request, len(cookies))
	for i, c := range cookies {
		reqs[i] = withCookie("GET", c)
		if sess, _ := s.Current(reqs[i]); sess == nil {
			b.Fatal("refused")
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if sess, err := s.Current(reqs[i%len(reqs)]); sess == nil || err != nil {
				b.Fatal("refused", err)
			}
			i++
		}
	})
}

// BenchmarkSessionCurrentStore is the same check reading the store (no feed running).
func BenchmarkSessionCurrentStore(b *testing.B) {
	s, _, _ := newSessionsT(b, SessionConfig{})
	cookies := seedSessions(b, s, 1000)
	reqs := make([]*http.Request, len(cookies))
	for i, c := range cookies {
		reqs[i] = withCookie("GET", c)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if sess, err := s.Current(reqs[i%len(reqs)]); sess == nil || err != nil {
			b.Fatal("refused", err)
		}
	}
}

// BenchmarkSessionMemory reports the heap the cache takes for 10,000 sessions (bytes/session);
// run it with -benchtime 1x (each iteration fills a cache of 10,000).
func BenchmarkSessionMemory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s, _, _ := newSessionsT(b, SessionConfig{})
		runFeed(b, s)
		cookies := seedSessions(b, s, 10_000)
		reqs := make([]*http.Request, len(cookies))
		for i, c := range cookies {
			reqs[i] = withCookie("GET", c)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, r := range reqs {
			if sess, _ := s.Current(r); sess == nil {
				b.Fatal("refused")
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if s.Cached() != 10_000 {
			b.Fatalf("cached %d", s.Cached())
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/10_000, "B/session")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB/10k")
		runtime.KeepAlive(reqs)
	}
}
