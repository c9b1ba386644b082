// Package sqlite is warden's default store: an embedded SQLite database (pure Go, no cgo) in WAL mode,
// one file under the data directory, nothing to set up.
//
// Writes go through a single connection (SQLite has one writer anyway), so they queue in Go instead of
// failing with SQLITE_BUSY; reads use a pool of read-only connections that WAL lets run alongside.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/store/sqlstore"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite store.
type Store struct {
	*sqlstore.Store
}

// Open opens (creating if needed) the database file at path and applies pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: database path %q must not contain '?' or '#'", path)
	}
	base := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
	write, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	sub, _ := fs.Sub(migrations, "migrations")
	s := sqlstore.New(write, read, sqlstore.Dialect{
		Name:         "sqlite",
		Placeholder:  func(int) string { return "?" },
		LockRevision: `SELECT value FROM meta WHERE key = 'revision'`,
		Migrations:   sub,
		MaxParams:    8000,
		PollInterval: time.Second,
	})
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return &Store{s}, nil
}
