package postgres_test

import (
	"context"
	"testing"

	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/store/storetest"
)

func factory(t testing.TB) storetest.Opener {
	dsn := pgtest.DSN(t)
	return func() store.Store {
		s, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestConformance(t *testing.T) { storetest.Run(t, factory) }

func BenchmarkStore(b *testing.B) { storetest.Bench(b, factory) }

// Replicas starting together on an empty database migrate it once, without failing.
func TestConcurrentStartsMigrateOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	const replicas = 4
	errs := make(chan error, replicas)
	stores := make(chan *postgres.Store, replicas)
	for i := 0; i < replicas; i++ {
		go func() {
			s, err := postgres.Open(context.Background(), dsn)
			errs <- err
			stores <- s
		}()
	}
	for i := 0; i < replicas; i++ {
		if err := <-errs; err != nil {
			t.Errorf("replica start: %v", err)
		}
		if s := <-stores; s != nil {
			defer s.Close()
		}
	}
}
