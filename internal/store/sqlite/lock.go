package sqlite

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// LockFile is the name of the lock file in a data directory.
const LockFile = "warden.lock"

// ErrDirInUse: another process holds the data directory.
var ErrDirInUse = errors.New("the data directory is in use by another warden")

// DirLock is this process's hold on a data directory: only one process may use a SQLite data
// directory, so the one that holds it leads the sync and the notifications at once, never waiting
// out a lease its dead predecessor left.
type DirLock struct {
	f    *os.File
	path string
}

// Holder is what the lock file says of the process holding it.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

func (h Holder) String() string {
	return fmt.Sprintf("pid %d on %s, started %s", h.PID, h.Host, h.Started.Format(time.RFC3339))
}

// LockDir takes the exclusive lock on dir's lock file (created 0600), for as long as the process
// lives or until Release, and writes this process into it. When another process holds it, the
// error wraps ErrDirInUse and names that process. Where the platform cannot lock files (see
// canLock), the DirLock is returned without a lock: Locked says so.
func LockDir(dir string) (*DirLock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data_dir: opening the lock file: %w", err)
	}
	ok, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("data_dir: locking %s: %w", path, err)
	}
	if !ok {
		b, _ := os.ReadFile(path)
		f.Close()
		var h Holder
		who := "another process (it has not written its details yet)"
		if json.Unmarshal(b, &h) == nil && h.PID != 0 {
			who = h.String()
		}
		return nil, fmt.Errorf("data_dir %s: %w: %s holds %s; stop it, or give this server another data directory",
			dir, ErrDirInUse, who, path)
	}
	host, _ := os.Hostname()
	b, _ := json.Marshal(Holder{PID: os.Getpid(), Host: host, Started: time.Now().UTC().Truncate(time.Second)})
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(append(b, '\n'), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("data_dir: writing %s: %w", path, err)
	}
	f.Chmod(0o600)
	return &DirLock{f: f, path: path}, nil
}

// Locked reports whether the lock is really held (false where the platform cannot lock files).
func (l *DirLock) Locked() bool { return canLock }

// Release gives the directory up. The file stays (removing it would race with a process opening it).
func (l *DirLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the lock
	l.f = nil
	return err
}
