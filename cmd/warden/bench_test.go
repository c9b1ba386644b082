package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/resource"
)

// procKB reads a "VmRSS"-style field (in kB) of a process from /proc.
func procKB(pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return n
		}
	}
	return -1
}

// BenchmarkServeMemory measures a real `warden serve` process: resident memory idle, then while and
// after 100,000 users are created in one batch and listed back through the API.
//
//	go test -run '^$' -bench ServeMemory -benchtime 1x ./cmd/warden
func BenchmarkServeMemory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		dataDir := b.TempDir()
		env := cleanEnv(b, "WARDEN_DATA_DIR="+dataDir)
		srv := startServe(b, env, "--listen", "127.0.0.1:0")
		pid := srv.cmd.Process.Pid
		time.Sleep(500 * time.Millisecond)
		idle := procKB(pid, "VmRSS")

		token, _ := os.ReadFile(filepath.Join(dataDir, "admin.token"))
		c := client.New(srv.addr, strings.TrimSpace(string(token)))
		users := make([]*resource.Object, 100_000)
		for j := range users {
			u := resource.New(resource.KindUser, fmt.Sprintf("user%06d@example.com", j))
			u.Spec = &resource.UserSpec{DisplayName: fmt.Sprintf("User %d", j), GivenName: "User",
				FamilyName: strconv.Itoa(j), Email: fmt.Sprintf("user%06d@example.com", j)}
			users[j] = u
		}
		start := time.Now()
		if _, err := c.Batch(context.Background(), "create", users); err != nil {
			b.Fatal(err)
		}
		load := time.Since(start)
		afterLoad := procKB(pid, "VmRSS")
		start = time.Now()
		all, err := c.List(context.Background(), resource.KindUser, nil)
		if err != nil || len(all) != 100_000 {
			b.Fatalf("listed %d users: %v", len(all), err)
		}
		list := time.Since(start)
		b.ReportMetric(idle/1024, "idle-MB")
		b.ReportMetric(procKB(pid, "VmHWM")/1024, "peak-MB")
		b.ReportMetric(afterLoad/1024, "after-load-MB")
		b.ReportMetric(procKB(pid, "VmRSS")/1024, "after-list-MB")
		b.ReportMetric(load.Seconds(), "load-s")
		b.ReportMetric(list.Seconds(), "list-s")
		srv.stop(b)
	}
}
