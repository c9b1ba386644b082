package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/awsconfig"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// BenchmarkAWSConfig: the server's side of warden aws config --requestable for a person who holds
// 2,000 account × permission set pairs (400 accounts × 5 permission sets, through a list) and may
// request 2,000 more (the other 5 on each account): what they hold, what they may request, each
// judged by the request rules, named and rendered. Reports p50 and p95 in ms (target: under 200 ms).
//
//	go test ./internal/server -run '^$' -bench AWSConfig -benchtime 20x
func BenchmarkAWSConfig(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "w.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var docs strings.Builder
	for a := 0; a < 400; a++ {
		fmt.Fprintf(&docs, "kind: account\nversion: v1\nmetadata: {name: \"%012d\"}\nspec: {name: Account %d}\n---\n", 100000000000+a, a)
	}
	for p := 0; p < 10; p++ {
		side := "Held"
		if p >= 5 {
			side = "Asked"
		}
		fmt.Fprintf(&docs, "kind: permission_set\nversion: v1\nmetadata: {name: %s%d}\nspec: {arn: \"arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-%016x\", session_duration: PT4H}\n---\n", side, p, p)
	}
	docs.WriteString(`kind: role
version: v1
metadata: {name: holds}
spec: {allow: {account_assignments: [{account: "*", permission_set: "Held*"}]}}
---
kind: role
version: v1
metadata: {name: asks}
spec: {allow: {request: {account_assignments: [{account: "*", permission_set: "Asked*"}], max_duration: 8h}}}
---
kind: access_list
version: v1
metadata: {name: team}
spec: {title: Team, owners: [owner], grants: {roles: [holds, asks]}}
---
kind: user
version: v1
metadata: {name: owner}
spec: {}
---
kind: user
version: v1
metadata: {name: dev}
spec: {}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: team, member: dev}
`)
	objs, err := resource.DecodeAll("bench.yaml", []byte(docs.String()))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := manage.New(st).Create(ctx, manage.Actor{User: "bench", Admin: true}, objs); err != nil {
		b.Fatal(err)
	}
	srv := server.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.SetAWSRegion("us-east-1")
	once := func() int {
		o := awsconfig.Options{StartURL: "https://d-1234567890.awsapps.com/start", SSORegion: "us-east-1"}
		entries, err := srv.AWSEntries(ctx, "dev", true)
		if err != nil {
			b.Fatal(err)
		}
		cfg, err := awsconfig.Build(o, entries, nil)
		if err != nil {
			b.Fatal(err)
		}
		cfg.INI()
		return len(cfg.Profiles)
	}
	if n := once(); n != 4000 {
		b.Fatalf("%d profiles, want 4,000", n)
	}
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		once()
		times = append(times, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(times)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(times[len(times)/2]), "p50-ms")
	b.ReportMetric(ms(times[(len(times)*95)/100]), "p95-ms")
}
