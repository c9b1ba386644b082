package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/scim"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// BenchmarkSCIMInboundLoad: a company's identity provider's first push into warden, as Entra ID
// makes it: 50,000 users created one POST each, then 5,000 groups created empty and filled with
// PATCH add of 20 members each (100,000 memberships), 8 requests at a time (Entra ID and Okta
// provision with a few parallel requests), over HTTP against SQLite. Reported: wall seconds,
// requests per second, and the heap in use at the end.
func BenchmarkSCIMInboundLoad(b *testing.B) {
	users, groups, members := 50000, 5000, 20
	if f := os.Getenv("WARDEN_BENCH_SCALE"); f != "" {
		var s float64
		fmt.Sscan(f, &s)
		if s > 0 {
			users, groups = max(members, int(float64(users)*s)), max(1, int(float64(groups)*s))
		}
	}
	for range b.N {
		ctx := context.Background()
		st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "w.db"))
		if err != nil {
			b.Fatal(err)
		}
		srv := server.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
		srv.SetStepUp(0, true)
		hs := httptest.NewServer(srv)
		tokenFile := filepath.Join(b.TempDir(), "admin.token")
		if _, err := srv.Tokens().EnsureAdminToken(ctx, tokenFile); err != nil {
			b.Fatal(err)
		}
		adminToken, _ := readToken(tokenFile)
		admin := client.New(hs.URL, adminToken)
		owner := resource.New(resource.KindUser, "alice")
		owner.Spec = &resource.UserSpec{Email: "alice@example.com", Admin: true}
		if _, err := admin.Create(ctx, owner); err != nil {
			b.Fatal(err)
		}
		srv.SetSCIMConnectors([]scim.Config{{Name: "entra", DefaultOwners: []string{"alice"}}})
		var tok server.SCIMTokenResponse
		if err := admin.Do(ctx, "POST", "/v1/scim/tokens", server.SCIMTokenRequest{Connector: "entra"}, &tok); err != nil {
			b.Fatal(err)
		}
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
		var requests atomic.Int64
		send := func(method, path string, body []byte, want int) (string, error) {
			req, _ := http.NewRequestWithContext(ctx, method, hs.URL+"/scim/v2"+path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok.Token)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := hc.Do(req)
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			requests.Add(1)
			if resp.StatusCode != want && (want != 0 || resp.StatusCode/100 != 2) {
				return "", fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, out)
			}
			var v struct {
				ID string `json:"id"`
			}
			json.Unmarshal(out, &v)
			return v.ID, nil
		}
		parallel := func(n int, f func(i int) error) {
			var wg sync.WaitGroup
			var once sync.Once
			var first error
			next := atomic.Int64{}
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1)) - 1
						if i >= n {
							return
						}
						if err := f(i); err != nil {
							once.Do(func() { first = err })
							return
						}
					}
				}()
			}
			wg.Wait()
			if first != nil {
				b.Fatal(first)
			}
		}
		ids := make([]string, users)
		b.ResetTimer()
		start := time.Now()
		parallel(users, func(i int) error {
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
"externalId":"ext-%d","userName":"user%05d@example.com","active":true,"displayName":"User %d",
"emails":[{"primary":true,"type":"work","value":"user%05d@example.com"}],"name":{"formatted":"User %d","familyName":"%d","givenName":"User"},"roles":[]}`, i, i, i, i, i, i)
			id, err := send("POST", "/Users", []byte(body), http.StatusCreated)
			ids[i] = id
			return err
		})
		usersDone := time.Since(start)
		parallel(groups, func(i int) error {
			id, err := send("POST", "/Groups", []byte(fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"externalId":"g-%d","displayName":"Group %04d","members":[]}`, i, i)), http.StatusCreated)
			if err != nil {
				return err
			}
			var vals bytes.Buffer
			for j := range members {
				if j > 0 {
					vals.WriteByte(',')
				}
				fmt.Fprintf(&vals, `{"value":%q}`, ids[(i*37+j*101)%users])
			}
			_, err = send("PATCH", "/Groups/"+id, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[`+vals.String()+`]}]}`), 0) // 200 with the group, or 204
			return err
		})
		wall := time.Since(start)
		b.StopTimer()
		lists, err := st.List(ctx, resource.KindAccessList, store.ListOptions{})
		if err != nil || len(lists) != groups {
			b.Fatalf("%d access lists, want %d (%v)", len(lists), groups, err)
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(usersDone.Seconds(), "users-s")
		b.ReportMetric(float64(requests.Load())/wall.Seconds(), "requests/s")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		hs.Close()
		st.Close()
	}
}
