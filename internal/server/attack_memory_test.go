package server_test

import (
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
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/fuzzcheck"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// attackServer is the real handler over a real listener on a real SQLite store, with the token of
// an administrator and of an ordinary user.
func attackServer(t testing.TB) (url, admin, user string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := server.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	tokenFile := filepath.Join(t.TempDir(), "admin.token")
	if _, err := srv.Tokens().EnsureAdminToken(ctx, tokenFile); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	admin = strings.TrimSpace(string(b))
	c := client.New(hs.URL, admin)
	u := resource.New(resource.KindUser, "mallory")
	if _, err := c.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateToken(ctx, "mallory", "1h")
	if err != nil {
		t.Fatal(err)
	}
	return hs.URL, admin, tok.Token
}

// attackBodies are the bodies of the memory attacks on POST and PUT /v1/{kind}: a megabyte of nested
// lists in status (issue item 1), 17 KB of YAML aliases (item 15), a megabyte of one flat list, and
// YAML as dense as the decoder reads.
func attackBodies() map[string]string {
	const mb = 1 << 20
	head := `{"kind":"user","metadata":{"name":"mallory"},"status":`
	n := (mb - len(head) - 1) / 2
	var bomb strings.Builder
	bomb.WriteString("- &r\n  kind: user\n  metadata: {name: mallory}\n  spec:\n    traits:\n      t0: &l [v" + strings.Repeat(", v", 998) + "]\n")
	for i := 1; i < 999; i++ {
		fmt.Fprintf(&bomb, "      t%d: *l\n", i)
	}
	bomb.WriteString(strings.Repeat("- *r\n", 7))
	return map[string]string{
		"nested lists": head + strings.Repeat("[", n) + strings.Repeat("]", n) + "}",
		"alias bomb":   bomb.String(),
		"flat list":    head + "[" + strings.Repeat("1,", (mb-len(head))/2-2) + "1]}",
		"dense YAML":   "kind: user\nmetadata: {name: mallory}\nstatus: {" + strings.Repeat("a,", 19900) + "a}\n",
	}
}

// heapSampler records the largest heap (live objects and garbage not yet swept) seen while it runs.
type heapSampler struct {
	stop chan struct{}
	done chan uint64
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan uint64)}
	go func() {
		peak := heapBytes()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-h.stop:
				h.done <- max(peak, heapBytes())
				return
			case <-tick.C:
				peak = max(peak, heapBytes())
			}
		}
	}()
	return h
}

func (h *heapSampler) peak() uint64 {
	close(h.stop)
	return <-h.done
}

// Issue item 1: any token holder could post a megabyte of [[[[...]]]] to POST /v1/{kind}, which was
// decoded before authorization: ~900 MB per request; six at once took a server to 4.8 GB. Eight
// callers posting each attack body at once, to POST and PUT, keep the heap under 100 MB above idle,
// whether they may write users (an administrator: the decoder's limits) or not (refused before the
// body is read).
func TestAttackBodiesStayWithinMemory(t *testing.T) {
	url, admin, user := attackServer(t)
	bodies := attackBodies()
	for _, who := range []struct {
		name, token string
		want        int
	}{{"a user", user, http.StatusForbidden}, {"an administrator", admin, http.StatusBadRequest}} {
		t.Run(who.name, func(t *testing.T) {
			for name, body := range bodies {
				for _, route := range []string{"POST /v1/user", "PUT /v1/user/mallory"} {
					method, path, _ := strings.Cut(route, " ")
					runtime.GC()
					idle := heapBytes()
					h := sampleHeap()
					var mu sync.Mutex
					var wg sync.WaitGroup
					for i := 0; i < 8; i++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
							req.Header.Set("Authorization", "Bearer "+who.token)
							resp, err := http.DefaultClient.Do(req)
							mu.Lock()
							defer mu.Unlock()
							if err != nil {
								t.Errorf("%s (%s): %v", route, name, err)
								return
							}
							msg, _ := io.ReadAll(resp.Body)
							resp.Body.Close()
							if resp.StatusCode != who.want {
								t.Errorf("%s (%s): %d %s; want %d", route, name, resp.StatusCode, msg, who.want)
							}
						}()
					}
					wg.Wait()
					growth := int64(h.peak()) - int64(idle)
					t.Logf("8 x %s (%s): heap %.1f MB above idle", route, name, float64(growth)/(1<<20))
					if growth > 100<<20 {
						t.Errorf("8 x %s (%s) at once took the heap %d MB above idle; want under 100 MB", route, name, growth>>20)
					}
				}
			}
		})
	}
}

// Writing a kind is authorized on the kind alone before the body is read: a caller who may not
// write it is refused with 403 whatever the body, never told what is wrong with it.
func TestWriteAuthorizedBeforeBody(t *testing.T) {
	url, admin, user := attackServer(t)
	bad := `{"kind": "role", "metadata": {"name": "r"}, "spec": {"allow": 1}, "oops": [[[`
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/role", bad},
		{"PUT", "/v1/role/r", bad},
		{"POST", "/v1/batch", `{"mode": "create", "items": [{"kind": "role", "metadata": {"name": "r"}, "spec": {"allow": 1}}]}`},
		{"POST", "/v1/batch", `{"mode": "apply", "items": [{"kind": "user", "spec": [[[[[[]]]]]]}]}`},
	} {
		for _, who := range []struct {
			token string
			want  int
		}{{user, http.StatusForbidden}, {admin, http.StatusBadRequest}} {
			req, _ := http.NewRequest(c.method, url+c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+who.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != who.want {
				t.Errorf("%s %s %s: %d %s; want %d", c.method, c.path, c.body, resp.StatusCode, msg, who.want)
			}
		}
	}
}

// Bodies decoded into Go types (requests, reviews, members, tokens, a user's batch) are bounded as
// resources are: a megabyte of 300,000 empty resources in an access request had cost 160 MB; it is a
// 400 naming the field where the limit was reached, within a few megabytes.
func TestTypedBodiesAreBounded(t *testing.T) {
	url, admin, user := attackServer(t)
	list := resource.New(resource.KindAccessList, "team")
	list.Spec = &resource.AccessListSpec{Title: "Team", Owners: []string{"mallory"}}
	if _, err := client.New(url, admin).Create(context.Background(), list); err != nil {
		t.Fatal(err)
	}
	empties := "[" + strings.Repeat("{},", 300000) + "{}]"
	names := `["` + strings.Repeat(`mallory","`, 100000) + `x"]`
	nested := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	for _, c := range []struct{ path, token, body, field string }{
		{"/v1/access/requests", user, `{"resources":` + empties + `,"reason":"x"}`, "resources["},
		{"/v1/access/requests", user, `{"roles":` + names + `}`, "roles["},
		{"/v1/access/requests", user, `{"roles":` + nested + `}`, "roles[0][0]"},
		{"/v1/access/lists/team/review", user, `{"notes":"x","remove":` + names + `}`, "remove["},
		{"/v1/batch", user, `{"mode":"create","items":` + empties + `}`, "items["},
		{"/v1/tokens", admin, `{"user":"mallory","ttl":` + nested + `}`, "ttl[0]"},
	} {
		var code int
		var body map[string]any
		n := fuzzcheck.Allocated(func() {
			req, _ := http.NewRequest("POST", url+c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+c.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			code = resp.StatusCode
			json.NewDecoder(resp.Body).Decode(&body)
		})
		field, _ := body["field"].(string)
		if code != http.StatusBadRequest || !strings.HasPrefix(field, c.field) {
			t.Errorf("POST %s (%d bytes): %d %v; want 400 naming %s...", c.path, len(c.body), code, body, c.field)
		}
		if n > 24<<20 {
			t.Errorf("POST %s (%d bytes) allocated %d MB (client and server); want at most 24 MB", c.path, len(c.body), n>>20)
		}
	}
}
