package importer_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/importer"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// generated is the organisation of issue 5's measurement: 2,000 users, 300 groups of 20, 150
// accounts, 40 permission sets, 3,000 group and 200 user assignments.
var generated = idcsim.Scale{Seed: 5, Users: 2000, Groups: 300, MembersPerGroup: 20, Accounts: 150,
	PermissionSets: 40, GroupAssignments: 3000, UserAssignments: 200}

func pages(n, size int) int { return max(1, (n+size-1)/size) }

// minimumReads is the fewest calls that read src through the public APIs: one ListInstances, the
// account, permission set, user and group listings at their largest page sizes, a
// DescribePermissionSet per set (the listing gives ARNs only), every group's memberships, and the
// assignments of every provisioned (account, permission set) pair, found through each account.
func minimumReads(src *importer.Source) int {
	n := 1 + pages(len(src.Accounts), 20) + pages(len(src.PermissionSets), 100) + len(src.PermissionSets) +
		pages(len(src.Users), 100) + pages(len(src.Groups), 100)
	for _, g := range src.Groups {
		n += pages(len(src.Members[g.ID]), 100)
	}
	type pair struct{ account, ps string }
	perPair := map[pair]int{}
	for _, as := range src.Assignments {
		for _, a := range as {
			perPair[pair{a.AccountID, a.PermissionSetARN}]++
		}
	}
	perAccount := map[string]int{}
	for p, count := range perPair {
		perAccount[p.account]++
		n += pages(count, 100)
	}
	for _, a := range src.Accounts {
		n += pages(perAccount[a.ID], 100)
	}
	return n
}

// BenchmarkImportGenerated imports the generated organisation into an empty SQLite store and
// reports the AWS calls made against the minimum, and the time those calls take at AWS's 20 calls
// per second. The plan right after must be empty.
func BenchmarkImportGenerated(b *testing.B) {
	ctx := context.Background()
	sim := idcsim.New(idcsim.Options{Seed: 5})
	if err := sim.Update(func(d *idcsim.Directory) error { return idcsim.Generate(d, generated) }); err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(sim)
	defer hs.Close()
	cfg := idc.Config{Region: "us-east-1", RateLimit: 100000, RetryMaxBackoff: 5 * time.Millisecond}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "w.db"))
		if err != nil {
			b.Fatal(err)
		}
		sim.ResetStats()
		b.StartTimer()
		c, err := idc.NewFromConfig(ctx, aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("A", "B", ""), BaseEndpoint: aws.String(hs.URL)}, cfg)
		if err != nil {
			b.Fatal(err)
		}
		stats, err := importer.Import(ctx, st, c, importer.Scope{}, []string{"user000000@example.com"})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		calls := sim.Stats().TotalCalls()
		src, err := importer.Read(ctx, c, importer.Scope{})
		if err != nil {
			b.Fatal(err)
		}
		min := minimumReads(src)
		b.ReportMetric(float64(calls), "calls/op")
		b.ReportMetric(float64(min), "min-calls")
		b.ReportMetric(float64(calls)/20, "s-at-20/s")
		b.ReportMetric(float64(stats.Created), "objects")
		if calls > min*11/10 {
			b.Errorf("import made %d calls; the minimum is %d", calls, min)
		}
		engine := reconcile.New(st, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		p, _, _, err := engine.Plan(ctx, reconcile.PlanOptions{Full: true})
		if err != nil {
			b.Fatal(err)
		}
		if p.Changes() != 0 {
			b.Fatalf("the plan after importing the generated organisation has %d changes", p.Changes())
		}
		st.Close()
		b.StartTimer()
	}
}
