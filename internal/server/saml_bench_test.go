package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/samlidp"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// BenchmarkSAMLSSO: GET /saml/sso (HTTP-Redirect) for a signed-in person with a second factor,
// over real HTTP on SQLite: the AuthnRequest read and checked, the session read, the Response
// made, signed twice and audited, the page rendered. Reports the p50 and p99 latency.
func BenchmarkSAMLSSO(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "w.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	srv := server.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs := httptest.NewServer(srv)
	defer hs.Close()
	box, _ := secret.LoadOrCreateBox(filepath.Join(dir, "auth.key"))
	idp := samlidp.New(st, box, samlidp.Config{BaseURL: hs.URL})
	if _, err := idp.Keys().Ensure(ctx); err != nil {
		b.Fatal(err)
	}
	srv.SetSAML(idp, true)
	u := resource.New(resource.KindUser, "alice")
	u.Spec = &resource.UserSpec{Email: "alice@example.com"}
	sp := resource.New(resource.KindSAMLServiceProvider, samlidp.AppName)
	sp.Spec = &resource.SAMLServiceProviderSpec{EntityID: idcEntity, ACS: []resource.SAMLEndpoint{{URL: idcACS, Binding: resource.SAMLBindingPOST, IsDefault: true}}}
	for _, o := range []*resource.Object{u, sp} {
		if err := st.Create(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	now := time.Now()
	if _, err := srv.Sessions().Issue(ctx, rec, httptest.NewRequest("POST", "/login", nil), "alice",
		auth.MethodUse{Method: auth.MethodPassword, At: now}, auth.MethodUse{Method: auth.MethodTOTP, At: now}); err != nil {
		b.Fatal(err)
	}
	cookies := rec.Result().Cookies()
	path := samlRedirect("_bench", idcACS)
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest("GET", hs.URL+path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if resp.StatusCode != 200 {
			b.Fatalf("GET /saml/sso: %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
