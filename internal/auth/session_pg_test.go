package auth

import (
	"context"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
)

// TestSessionRevokedOnAnotherPostgresReplica: two replicas, each its own connection to one
// PostgreSQL database; a session replica a has cached is refused there once replica b revokes it,
// as soon as the change feed brings the revocation (NOTIFY).
func TestSessionRevokedOnAnotherPostgresReplica(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func() store.Store {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	stA, stB := open(), open()
	if err := stA.Create(ctx, resource.New(resource.KindUser, "erin")); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	a := NewSessions(stA, SessionConfig{}, WithSessionClock(clk))
	b := NewSessions(stB, SessionConfig{}, WithSessionClock(clk))
	applied := make(chan store.Event, 100)
	a.onApply = func(ev store.Event) { applied <- ev }
	go a.Run(ctx)
	waitCond(t, a.Feeding, "the feed to start")
	sess, c := signIn(t, b, "erin")
	// Once a's feed has seen the session made (a read overlapping a change the feed applies is not
	// cached, rightly), a check caches it.
	waitEvent(t, applied, func(ev store.Event) bool { return ev.Type == store.Put && ev.Object.Metadata.Name == sess.ID })
	if current(t, a, c) == nil || a.Cached() != 1 {
		t.Fatal("replica a does not know b's session")
	}
	start := time.Now()
	if _, err := b.Revoke(ctx, &Principal{User: "erin"}, sess.ID); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, applied, func(ev store.Event) bool { return ev.Type == store.Delete && ev.Object.Metadata.Name == sess.ID })
	if current(t, a, c) != nil {
		t.Fatal("revoked on b, still valid on a")
	}
	t.Logf("the revocation reached the other replica in %s", time.Since(start))
}
