//go:build unix

package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// underUmask022 runs the test (and the warden processes it starts, which inherit it) under umask
// 022, the common default that lets new files be read by everyone.
func underUmask022(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %04o, want %04o", path, got, want)
	}
}

// A fresh data directory and everything warden keeps in it (the database with its -wal and -shm,
// the admin token, the simulator's state) are its user's only.
func TestFreshDataDirIsPrivate(t *testing.T) {
	underUmask022(t)
	dataDir := filepath.Join(t.TempDir(), "state", "warden")
	d := startCmd(t, cleanEnv(t), "demo", "--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0", "--data-dir", dataDir)
	waitFor(t, func() bool { return demoSimRE.MatchString(d.stdout.String()) }, "the demo's instructions")
	wantMode(t, dataDir, 0o700)
	for _, name := range []string{"warden.db", "warden.db-wal", "warden.db-shm", "admin.token", "audit.key", "auth.key"} {
		wantMode(t, filepath.Join(dataDir, name), 0o600)
	}
	d.stop(t)
	wantMode(t, filepath.Join(dataDir, "idcsim.json"), 0o600)
}

// A data directory and files that others may read, left by an older warden or made by hand, are
// made private at start, and the log says which and what they were.
func TestLooseDataDirIsMadePrivate(t *testing.T) {
	underUmask022(t)
	dataDir := t.TempDir()
	env := cleanEnv(t, "WARDEN_DATA_DIR="+dataDir)
	startServe(t, env, "--listen", "127.0.0.1:0").stop(t)
	loose := map[string]os.FileMode{dataDir: 0o755, filepath.Join(dataDir, "warden.db"): 0o644, filepath.Join(dataDir, "admin.token"): 0o644,
		filepath.Join(dataDir, "idcsim.json"): 0o666}
	if err := os.WriteFile(filepath.Join(dataDir, "idcsim.json"), []byte("{}"), 0o666); err != nil {
		t.Fatal(err)
	}
	for p, m := range loose {
		if err := os.Chmod(p, m); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServe(t, env, "--listen", "127.0.0.1:0")
	wantMode(t, dataDir, 0o700)
	for _, name := range []string{"warden.db", "warden.db-wal", "warden.db-shm", "admin.token", "idcsim.json"} {
		wantMode(t, filepath.Join(dataDir, name), 0o600)
	}
	log := srv.log()
	srv.stop(t)
	for p, m := range loose {
		found := false
		for _, line := range strings.Split(log, "\n") {
			found = found || (strings.Contains(line, "made it private") && strings.Contains(line, "path="+p+" ") && strings.Contains(line, "mode="+octal(m)))
		}
		if !found {
			t.Errorf("the log does not say %s was %s and made private:\n%s", p, octal(m), log)
		}
	}
}

// A loose data directory that another user owns is not changed, but warned about, naming it and
// its mode.
func TestLooseDataDirOfAnotherUserIsWarnedAbout(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	makePrivate(dir, fi, 0o700, false, slog.New(slog.NewTextHandler(&out, nil)))
	wantMode(t, dir, 0o755)
	if s := out.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "path="+dir+" ") || !strings.Contains(s, "mode=0755") {
		t.Errorf("no warning naming %s and its mode 0755: %s", dir, s)
	}
}
