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
	"errors"
	"fmt"
	"io/fs"
	"os"
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
//
// A new database file is created with mode 0600, whatever the umask: it holds every resource, the
// audit log and the API tokens' hashes. SQLite gives the -wal and -shm files it creates the
// database file's permissions; ones left from an earlier run that are looser than the database
// file are narrowed to it.
func Open(ctx context.Context, path string) (*Store, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: database path %q must not contain '?' or '#'", path)
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("sqlite: creating %s: %w", path, err)
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
	narrowSidecars(path)
	return &Store{s}, nil
}

// createPrivate creates path, empty and mode 0600, unless it exists (an empty file is an empty
// SQLite database).
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil { // the umask may have taken bits away, never mind
		f.Close()
		return err
	}
	return f.Close()
}

// narrowSidecars takes from the -wal and -shm files the permissions the database file lacks. SQLite
// creates them with the database file's, but reuses existing ones as they are. A file this process
// may not change is left (the server's data directory check reports it).
func narrowSidecars(path string) {
	db, err := os.Stat(path)
	if err != nil {
		return
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		fi, err := os.Stat(path + suffix)
		if err != nil {
			continue
		}
		if extra := fi.Mode().Perm() &^ db.Mode().Perm(); extra != 0 {
			os.Chmod(path+suffix, fi.Mode().Perm()&db.Mode().Perm())
		}
	}
}
