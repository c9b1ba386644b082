package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// The lease fallback (where the data directory cannot be locked): one holder leads; another waits
// and leads once the first resigns, or once the lease a dead holder left has expired.
func TestLeaseElector(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	el := store.LeaseElector{Leaser: st, TTL: 300 * time.Millisecond}
	a, err := el.Campaign(ctx, "sync", "a")
	if err != nil {
		t.Fatal(err)
	}
	won := make(chan store.Term, 1)
	go func() {
		b, err := el.Campaign(ctx, "sync", "b")
		if err != nil {
			t.Error(err)
		}
		won <- b
	}()
	if err := a.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(a.Err(), store.ErrResigned) {
		t.Fatalf("a's term ended with %v", a.Err())
	}
	var b store.Term
	select {
	case b = <-won:
	case <-time.After(30 * time.Second):
		t.Fatal("b does not lead after a resigned")
	}
	defer b.Resign(ctx)
	// A holder died holding a lease (no resignation, no renewal): c leads once it expires.
	if ok, err := st.AcquireLease(ctx, "other", "dead", 200*time.Millisecond); !ok || err != nil {
		t.Fatal(ok, err)
	}
	c, err := el.Campaign(ctx, "other", "c")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Resign(ctx); err != nil {
		t.Fatal(err)
	}
}
