package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/testenv"
)

// waitUntil polls cond until it holds; limit is far above what it needs (a hang, not slowness).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, what, cond)
}

type replica struct {
	st   *postgres.Store
	name string
}

func openReplicas(t *testing.T, dsn string, names ...string) []replica {
	var out []replica
	for _, n := range names {
		st, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		out = append(out, replica{st, n})
	}
	return out
}

type campaign struct {
	term store.Term
	err  error
}

func campaignAsync(ctx context.Context, r replica) chan campaign {
	ch := make(chan campaign, 1)
	go func() {
		term, err := r.st.Campaign(ctx, "sync", r.name)
		ch <- campaign{term, err}
	}()
	return ch
}

// admin runs a statement on a connection of its own (the test's hand on the server).
func admin(t *testing.T, dsn, sql string, args ...any) int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func user(name string) *resource.Object {
	return &resource.Object{Kind: resource.KindUser, Version: resource.Version, Metadata: resource.Metadata{Name: name}, Spec: &resource.UserSpec{}}
}

// One replica leads; when its session dies (its process killed, its network cut), a waiting
// replica leads at once, in a new term, and the old leader's writes are refused from then on, even
// those it makes before noticing it lost (a paused leader resuming).
func TestLeadershipFailsOverAndFences(t *testing.T) {
	dsn := pgtest.DSN(t)
	rs := openReplicas(t, dsn, "a", "b", "c")
	a, b, c := rs[0], rs[1], rs[2]
	ctx := context.Background()

	ta, err := a.st.Campaign(ctx, "sync", a.name)
	if err != nil {
		t.Fatal(err)
	}
	if ta.Epoch() != 1 {
		t.Fatalf("first term %d, want 1", ta.Epoch())
	}
	bc := campaignAsync(ctx, b)
	waitUntil(t, "b to wait for the lock", func() bool {
		return admin(t, dsn, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'warden leader b' AND wait_event_type = 'Lock'`) == 1
	})
	if err := a.st.Create(ta.Fence(ctx), user("a1")); err != nil {
		t.Fatalf("the leader's fenced write: %v", err)
	}

	// a's session dies; a itself goes on, unaware.
	if n := admin(t, dsn, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'warden leader a') k`); n != 1 {
		t.Fatalf("%d sessions of a's leadership", n)
	}
	var tb store.Term
	select {
	case r := <-bc:
		if r.err != nil {
			t.Fatal(r.err)
		}
		tb = r.term
	case <-time.After(30 * time.Second):
		t.Fatal("b did not lead after a's session died")
	}
	if tb.Epoch() != 2 {
		t.Fatalf("b's term %d, want 2", tb.Epoch())
	}
	err = a.st.Create(ta.Fence(ctx), user("a2"))
	if !errors.Is(err, store.ErrFenced) {
		t.Fatalf("the old leader's write after b leads: %v, want ErrFenced", err)
	}
	if _, err := a.st.Get(ctx, resource.KindUser, "a2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the fenced write landed: %v", err)
	}
	if err := a.st.Create(ctx, user("a3")); err != nil { // a's own unfenced writes (the API) go on
		t.Fatal(err)
	}
	waitUntil(t, "a to notice it lost", func() bool {
		select {
		case <-ta.Done():
			return ta.Err() != nil && !errors.Is(ta.Err(), store.ErrResigned)
		default:
			return false
		}
	})
	if err := b.st.Create(tb.Fence(ctx), user("b1")); err != nil {
		t.Fatalf("the new leader's fenced write: %v", err)
	}

	// b resigns: c, waiting, leads at once, and b's writes are fenced.
	cc := campaignAsync(ctx, c)
	waitUntil(t, "c to wait for the lock", func() bool {
		return admin(t, dsn, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'warden leader c' AND wait_event_type = 'Lock'`) == 1
	})
	if err := tb.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-cc
	if r.err != nil || r.term.Epoch() != 3 {
		t.Fatalf("c after b resigned: %v %v", r.term, r.err)
	}
	defer r.term.Resign(ctx)
	if err := b.st.Create(tb.Fence(ctx), user("b2")); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("a resigned leader's write: %v, want ErrFenced", err)
	}
}

// A write of the old term under way when its leader's session dies either lands before the new
// term begins or not at all: the new term waits for it.
func TestNewTermWaitsForTheOldTermsWrite(t *testing.T) {
	dsn := pgtest.DSN(t)
	rs := openReplicas(t, dsn, "a", "b")
	a, b := rs[0], rs[1]
	ctx := context.Background()
	ta, err := a.st.Campaign(ctx, "sync", a.name)
	if err != nil {
		t.Fatal(err)
	}
	inside, release := make(chan struct{}), make(chan struct{})
	written := make(chan error, 1)
	go func() {
		written <- a.st.Txn(ta.Fence(ctx), func(tx store.Tx) error {
			close(inside)
			<-release
			return tx.Create(ctx, user("slow"))
		})
	}()
	<-inside
	bc := campaignAsync(ctx, b)
	admin(t, dsn, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'warden leader a') k`)
	// b has the lock but its term cannot begin while a's write holds the epoch.
	waitUntil(t, "b to wait for a's write", func() bool {
		return admin(t, dsn, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'warden leader b' AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO leadership%'`) == 1
	})
	close(release)
	if err := <-written; err != nil {
		t.Fatalf("the old term's write, begun before the new term: %v", err)
	}
	r := <-bc
	if r.err != nil || r.term.Epoch() != 2 {
		t.Fatalf("b: %v %v", r.term, r.err)
	}
	defer r.term.Resign(ctx)
	if _, err := b.st.Get(ctx, resource.KindUser, "slow"); err != nil {
		t.Fatalf("the new leader does not see the old term's last write: %v", err)
	}
}
