// Package postgres is the store for several warden replicas sharing one PostgreSQL database. Writes
// notify the other replicas (LISTEN/NOTIFY) so that their watches wake at once; a watch also polls, so
// a lost notification only delays it.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/wardenhq/warden/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

const channel = "warden_changes"

// Store is the PostgreSQL store.
type Store struct {
	*sqlstore.Store
	cfg    *pgx.ConnConfig
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Open connects to the database named by dsn (postgres://... or key=value form), applies pending
// migrations and starts listening for other replicas' writes.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parsing the connection string: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connecting to %s: %w", redact(cfg), err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	inner := sqlstore.New(db, db, sqlstore.Dialect{
		Name:          "postgres",
		Placeholder:   func(n int) string { return "$" + strconv.Itoa(n) },
		Migrations:    sub,
		MigrationLock: `SELECT pg_advisory_xact_lock(7406329582)`,
		LockRevision:  `SELECT value FROM meta WHERE key = 'revision' FOR UPDATE`,
		AfterWrite: func(ctx context.Context, tx *sql.Tx, rev int64) error {
			_, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, strconv.FormatInt(rev, 10))
			return err
		},
		FenceQuery:   `SELECT epoch FROM leadership WHERE name = ? FOR SHARE`,
		MaxParams:    30000,
		PollInterval: 2 * time.Second,
	})
	if err := inner.Migrate(ctx); err != nil {
		inner.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	lctx, cancel := context.WithCancel(context.Background())
	s := &Store{Store: inner, cfg: cfg, cancel: cancel}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.listen(lctx, cfg)
	}()
	return s, nil
}

func redact(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// listen holds one connection on LISTEN and wakes local watches on every notification, reconnecting
// with backoff when the connection drops.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := func() error {
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
				return err
			}
			backoff = 100 * time.Millisecond
			s.Notify() // catch up on anything written while we were not listening
			for {
				if _, err := conn.WaitForNotification(ctx); err != nil {
					return err
				}
				s.Notify()
			}
		}()
		if ctx.Err() != nil {
			return
		}
		slog.Warn("postgres: change notifications interrupted; watches poll until they resume", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// Close stops listening and closes the pool.
func (s *Store) Close() error {
	s.cancel()
	s.wg.Wait()
	return s.Store.Close()
}
