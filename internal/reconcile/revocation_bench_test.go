package reconcile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// deleteLog records when each principal's DeleteAccountAssignment reached the simulator, and when
// the full scan read group memberships (only a full observation reads every group's).
type deleteLog struct {
	next http.Handler
	mu   sync.Mutex
	sent map[string]time.Time
	scan []time.Time
}

func (l *deleteLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".ListGroupMemberships") {
		l.mu.Lock()
		l.scan = append(l.scan, time.Now())
		l.mu.Unlock()
	}
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DeleteAccountAssignment") {
		at := time.Now()
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		var in struct{ PrincipalId string }
		json.Unmarshal(b, &in)
		l.mu.Lock()
		if _, seen := l.sent[in.PrincipalId]; !seen {
			l.sent[in.PrincipalId] = at
		}
		l.mu.Unlock()
	}
	l.next.ServeHTTP(w, r)
}

// BenchmarkRevocationLateness: 1,000 request grants end within one minute while the loop, in steady
// state, runs full drift scans back to back (one every 20 s, each longer than that under this load), against an Identity Center with AWS's quotas (20 calls/s,
// 1 s provisioning). The organisation also has 300 access lists (groups of 5 with a grant each), so
// that a full scan reads 600+ pages and, with revocations taking most of the rate, spans the minute
// the grants end in (the benchmark reports how much of that minute the scan covered). Lateness is the
// time from a grant's end to its DeleteAccountAssignment reaching Identity Center (target: p99 under
// 2 s).
func BenchmarkRevocationLateness(b *testing.B) {
	const n = 1000
	for i := 0; i < b.N; i++ {
		ctx := context.Background()
		// Setup on a simulator without quotas: 1,000 users holding an approved request each.
		fast := idcsim.New(idcsim.Options{Seed: 31})
		fast.Update(func(d *idcsim.Directory) error {
			d.AddAccount("637423191929", "Production", "prod@example.com")
			_, err := d.CreatePermissionSet("AdministratorAccess", "", "PT1H")
			return err
		})
		hs := httptest.NewServer(fast)
		st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "w.db"))
		if err != nil {
			b.Fatal(err)
		}
		e := &env{t: &testing.T{}, ctx: ctx, sim: fast, store: st, writer: manage.New(st)}
		var docs strings.Builder
		docs.WriteString("kind: role\nversion: v1\nmetadata: {name: prod}\nspec: {allow: {account_assignments: [{account: Production, permission_set: AdministratorAccess}]}}\n")
		docs.WriteString("---\nkind: role\nversion: v1\nmetadata: {name: requester}\nspec: {allow: {request: {roles: [prod]}}}\n")
		start, far := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
		for j := 0; j < n; j++ {
			fmt.Fprintf(&docs, "---\nkind: user\nversion: v1\nmetadata: {name: u%04d@example.com}\nspec: {display_name: U %d, roles: [requester]}\n", j, j)
			fmt.Fprintf(&docs, "---\nkind: access_request\nversion: v1\nmetadata: {name: r%04d}\nspec: {user: u%04d@example.com, roles: [prod], state: APPROVED, start: %q, end: %q}\n",
				j, j, start.Format(time.RFC3339), far.Format(time.RFC3339))
		}
		for j := 0; j < 300; j++ {
			fmt.Fprintf(&docs, "---\nkind: access_list\nversion: v1\nmetadata: {name: team%03d}\nspec: {title: Team %03d, owners: [u0000@example.com], grants: {roles: [prod]}}\n", j, j)
			for k := 0; k < 5; k++ {
				fmt.Fprintf(&docs, "---\nkind: access_list_member\nversion: v1\nmetadata: {}\nspec: {list: team%03d, member: u%04d@example.com}\n", j, (j*5+k)%n)
			}
		}
		e.apply(docs.String())
		_, setup := e.newEngine(hs.URL, idc.Config{Region: "us-east-1", RateLimit: 100000, RetryMaxBackoff: 5 * time.Millisecond})
		if res, err := setup.Sync(ctx, reconcile.PlanOptions{Full: true}, false); err != nil || len(res.Errors) > 0 {
			b.Fatalf("setup sync: %v %v", err, res)
		}
		snap, err := fast.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		hs.Close()
		// The measure: the same state behind AWS's quotas; the grants end over the next minute,
		// starting 10 s in, while the loop's first pass (a full observation) runs.
		sim := idcsim.New(idcsim.AWSQuotas(idcsim.Options{Seed: 32}))
		if err := sim.Restore(snap); err != nil {
			b.Fatal(err)
		}
		log := &deleteLog{next: sim, sent: map[string]time.Time{}}
		hs = httptest.NewServer(log)
		_, engine := e.newEngine(hs.URL, idc.Config{Region: "us-east-1", RetryMaxBackoff: 2 * time.Second, SyncInterval: 20 * time.Second})
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { engine.Run(runCtx); close(done) }()
		// Steady state first: the loop's first full observation ends; drift scans then follow one
		// another through the minute in which the grants end.
		for engine.Status().LastFull.IsZero() {
			time.Sleep(100 * time.Millisecond)
		}
		t0 := time.Now().Add(5 * time.Second)
		ends := map[string]time.Time{} // user name -> end
		reqs, err := st.List(ctx, resource.KindAccessRequest, store.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for j, o := range reqs {
			end := t0.Add(time.Duration(j) * time.Minute / n)
			o.Spec.(*resource.AccessRequestSpec).End = &end
			ends[o.Spec.(*resource.AccessRequestSpec).User] = end
		}
		if err := st.Txn(ctx, func(tx store.Tx) error {
			for _, o := range reqs {
				if err := tx.Update(ctx, o); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		ids := map[string]string{} // principal id -> user name
		sim.Update(func(d *idcsim.Directory) error {
			for u := range ends {
				id, _ := d.UserID(u)
				ids[id] = u
			}
			return nil
		})
		deadline := t0.Add(time.Minute + 3*time.Minute)
		for {
			log.mu.Lock()
			got := len(log.sent)
			log.mu.Unlock()
			if got >= n || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
		<-done
		hs.Close()
		st.Close()
		var late []time.Duration
		log.mu.Lock()
		for id, at := range log.sent {
			if u, ok := ids[id]; ok {
				late = append(late, at.Sub(ends[u]))
			}
		}
		log.mu.Unlock()
		if len(late) == 0 {
			b.Fatal("no grant was revoked")
		}
		if len(late) < n {
			b.Errorf("only %d of %d grants were revoked within 4 minutes of the first end", len(late), n)
		}
		b.ReportMetric(float64(len(late)), "revoked")
		// How much of the minute in which the grants end had the full scan reading.
		covered := map[int]bool{}
		for _, at := range log.scan {
			if s := int(at.Sub(t0) / time.Second); s >= 0 && s < 60 {
				covered[s] = true
			}
		}
		b.ReportMetric(float64(len(covered))/60, "scan-overlap")
		slices.Sort(late)
		p := func(q float64) float64 { return late[int(q*float64(len(late)-1))].Seconds() }
		b.ReportMetric(p(0.5), "p50-s")
		b.ReportMetric(p(0.99), "p99-s")
		b.ReportMetric(late[len(late)-1].Seconds(), "max-s")
		b.ReportMetric(late[0].Seconds(), "min-s")
		stats := sim.Stats()
		b.ReportMetric(float64(stats.TotalCalls()), "calls")
		b.ReportMetric(float64(stats.Throttled), "throttled")
	}
}
