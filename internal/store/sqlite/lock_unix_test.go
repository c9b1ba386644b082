//go:build unix

package sqlite_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/store/sqlite"
)

// Only one process may hold a data directory: a second lock fails at once, naming the holder
// (pid, host, start); once released, the directory can be taken again. The lock file is private.
func TestDataDirLock(t *testing.T) {
	dir := t.TempDir()
	first, err := sqlite.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Locked() {
		t.Fatal("not locked on unix")
	}
	_, err = sqlite.LockDir(dir)
	host, _ := os.Hostname()
	if !errors.Is(err, sqlite.ErrDirInUse) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d on %s, started ", os.Getpid(), host)) ||
		!strings.Contains(err.Error(), dir) {
		t.Fatalf("a second lock: %v, want ErrDirInUse naming pid %d on %s and %s", err, os.Getpid(), host, dir)
	}
	if fi, err := os.Stat(dir + "/" + sqlite.LockFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v %v", fi, err)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := sqlite.LockDir(dir)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Release()
}
