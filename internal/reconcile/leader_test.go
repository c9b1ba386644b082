package reconcile_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/jackc/pgx/v5"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
)

// fenceLog is a log buffer safe for the engine's goroutines.
type fenceLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *fenceLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *fenceLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// unaware wraps an elector so that its terms never say they ended: a leader paused (a stopped
// process, a frozen VM) that resumes and goes on before it notices its session is gone.
type unaware struct{ store.Elector }

type unawareTerm struct{ store.Term }

func (u unaware) Campaign(ctx context.Context, name, holder string) (store.Term, error) {
	t, err := u.Elector.Campaign(ctx, name, holder)
	if err != nil {
		return nil, err
	}
	return unawareTerm{t}, nil
}

func (unawareTerm) Done() <-chan struct{} { return nil }

func fenceWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two replicas' engines on one PostgreSQL database and one Identity Center. The leader's session
// dies while its process goes on unaware; the standby leads at once. From then on the old leader's
// writes are refused (fenced), so it journals, and so sends, no assignment operation: the new
// grant is created exactly once, by the new leader.
func TestEngineLeadershipIsFenced(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim := idcsim.New(idcsim.Options{Seed: 1})
	if err := sim.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sim)
	defer hs.Close()

	type replica struct {
		st     *postgres.Store
		engine *reconcile.Engine
		log    *fenceLog
		done   chan struct{}
	}
	start := func(name string, el func(*postgres.Store) store.Elector) *replica {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}
		c, err := idc.NewFromConfig(ctx, aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
			BaseEndpoint: aws.String(hs.URL)}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := &replica{st: st, log: &fenceLog{}, done: make(chan struct{})}
		r.engine = reconcile.New(st, c, cfg, slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug})))
		go func() { r.engine.RunLeader(ctx, el(st), name); close(r.done) }()
		t.Cleanup(func() { cancel(); <-r.done })
		return r
	}
	checker, err := idc.NewFromConfig(ctx, aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint: aws.String(hs.URL)}, idc.Config{Region: "us-east-1", RateLimit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	a := start("a", func(s *postgres.Store) store.Elector { return unaware{s} })
	fenceWait(t, "a to lead and finish its first sync", func() bool { return a.engine.Leading() && !a.engine.Status().LastRun.IsZero() })
	b := start("b", func(s *postgres.Store) store.Elector { return s })

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	fenceWait(t, "b to wait for the leadership", func() bool {
		var n int
		conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'warden leader b' AND wait_event_type = 'Lock'`).Scan(&n)
		return n == 1
	})
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'warden leader a'`); err != nil {
		t.Fatal(err)
	}
	fenceWait(t, "b to lead", func() bool { return b.engine.Leading() && strings.Contains(b.log.String(), "term=2") })
	if !a.engine.Leading() {
		t.Fatal("a stopped leading: the test means it to go on unaware")
	}

	// A grant both engines see. Only b may journal its creation.
	if _, err := manage.New(a.st).Apply(ctx, manage.Actor{User: "test", Admin: true}, mustDecode(t, `
kind: user
version: v1
metadata: {name: zoe@example.com}
spec: {given_name: Zoe, family_name: Park, email: zoe@example.com, roles: [staging-admin]}
---
kind: role
version: v1
metadata: {name: staging-admin}
spec: {allow: {account_assignments: [{account: Staging, permission_set: AdministratorAccess}]}}
`)); err != nil {
		t.Fatal(err)
	}
	fenceWait(t, "the assignment to exist in Identity Center", func() bool {
		return sim.Stats().Calls["sso-admin:CreateAccountAssignment"] >= 1 && fenceAssignments(t, checker, "058264527036") == 1
	})
	fenceWait(t, "a's sync to be refused", func() bool { return strings.Contains(a.log.String(), "fenced") })
	if n := sim.Stats().Calls["sso-admin:CreateAccountAssignment"]; n != 1 {
		t.Fatalf("CreateAccountAssignment sent %d times, want once (by the new leader)\na:\n%s", n, a.log.String())
	}
	if r := b.engine.Status(); r.LastError != "" || len(r.Failed) > 0 {
		t.Fatalf("the new leader's sync failed: %+v", r)
	}
}

func mustDecode(t *testing.T, docs string) []*resource.Object {
	t.Helper()
	objs, err := resource.DecodeAll("test.yaml", []byte(docs))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// fenceAssignments counts the user assignments of AdministratorAccess in an account.
func fenceAssignments(t *testing.T, c *idc.Client, account string) int {
	sets, err := c.PermissionSets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ps := range sets {
		if ps.Name != "AdministratorAccess" {
			continue
		}
		as, err := c.AccountAssignments(context.Background(), account, ps.ARN)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.PrincipalType == "USER" {
				n++
			}
		}
	}
	return n
}
