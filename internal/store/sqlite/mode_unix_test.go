//go:build unix

package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// withUmask runs the test under umask 022, the common default that lets new files be world-readable.
func withUmask(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
}

func modeOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// The database holds every resource, the audit log and the token hashes: a new one, with its -wal
// and -shm, is readable by its owner only, whatever the umask.
func TestNewDatabaseIsPrivate(t *testing.T) {
	withUmask(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Create(ctx, &resource.Object{Kind: resource.KindUser, Version: resource.Version, Metadata: resource.Metadata{Name: "alice"},
		Spec: &resource.UserSpec{}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if m := modeOf(t, p); m != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), m)
		}
	}
}

// -wal and -shm files that exist when the store opens (a crash left them, or another process has
// them open) with looser modes than the database file are narrowed to its: SQLite reuses them as
// they are.
func TestExistingSidecarsAreNarrowed(t *testing.T) {
	withUmask(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	first, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := first.Create(ctx, &resource.Object{Kind: resource.KindUser, Version: resource.Version, Metadata: resource.Metadata{Name: "alice"},
		Spec: &resource.UserSpec{}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	second, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if m := modeOf(t, p); m != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), m)
		}
	}
}
