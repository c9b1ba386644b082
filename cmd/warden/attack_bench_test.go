package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/resource"
)

// BenchmarkServeAttackMemory measures a real `warden serve` process while 8 callers at once post
// each body of the memory attacks of the security review (1 MiB of nested lists in status, 17 KB of
// YAML aliases, 1 MiB of one flat list, YAML as dense as is read) to POST /v1/user: resident
// memory idle, and at its peak while a user posts them (refused before the body is read) and while
// an administrator does (decoded within the decoder's limits).
//
//	go test -run '^$' -bench ServeAttackMemory -benchtime 1x ./cmd/warden
func BenchmarkServeAttackMemory(b *testing.B) {
	const mb = 1 << 20
	head := `{"kind":"user","metadata":{"name":"mallory"},"status":`
	var bomb strings.Builder
	bomb.WriteString("- &r\n  kind: user\n  metadata: {name: mallory}\n  spec:\n    traits:\n      t0: &l [v" + strings.Repeat(", v", 998) + "]\n")
	for i := 1; i < 999; i++ {
		fmt.Fprintf(&bomb, "      t%d: *l\n", i)
	}
	bomb.WriteString(strings.Repeat("- *r\n", 7))
	n := (mb - len(head) - 1) / 2
	bodies := []string{
		head + strings.Repeat("[", n) + strings.Repeat("]", n) + "}",
		bomb.String(),
		head + "[" + strings.Repeat("1,", (mb-len(head))/2-2) + "1]}",
		"kind: user\nmetadata: {name: mallory}\nstatus: {" + strings.Repeat("a,", 19900) + "a}\n",
	}
	for i := 0; i < b.N; i++ {
		dataDir := b.TempDir()
		srv := startServe(b, cleanEnv(b, "WARDEN_DATA_DIR="+dataDir), "--listen", "127.0.0.1:0")
		pid := srv.cmd.Process.Pid
		token, _ := os.ReadFile(filepath.Join(dataDir, "admin.token"))
		admin := strings.TrimSpace(string(token))
		c := client.New(srv.addr, admin)
		if _, err := c.Create(context.Background(), resource.New(resource.KindUser, "mallory")); err != nil {
			b.Fatal(err)
		}
		tok, err := c.CreateToken(context.Background(), "mallory", "1h")
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		idle := procKB(pid, "VmRSS")
		attack := func(token string, want int) float64 {
			// Reset the process's peak resident size (VmHWM) to what it is now.
			os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
			for _, body := range bodies {
				var wg sync.WaitGroup
				for j := 0; j < 8; j++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						req, _ := http.NewRequest("POST", srv.addr+"/v1/user", strings.NewReader(body))
						req.Header.Set("Authorization", "Bearer "+token)
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != want {
							b.Errorf("POST /v1/user: %d, want %d", resp.StatusCode, want)
						}
					}()
				}
				wg.Wait()
			}
			return procKB(pid, "VmHWM")
		}
		userPeak := attack(tok.Token, http.StatusForbidden)
		adminPeak := attack(admin, http.StatusBadRequest)
		b.ReportMetric(idle/1024, "idle-MB")
		b.ReportMetric((userPeak-idle)/1024, "user-attack-above-idle-MB")
		b.ReportMetric((adminPeak-idle)/1024, "admin-attack-above-idle-MB")
		srv.stop(b)
	}
}
