package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// dataFiles are the files warden keeps in its data directory: all but the lock file hold secrets
// (the database, the admin token, the audit key, the simulator's state with its SCIM token).
var dataFiles = []string{"warden.db", "warden.db-wal", "warden.db-shm", "admin.token", "audit.key", "idcsim.json", "warden.lock"}

// secureDataDir makes the data directory, mode 0700, if it is missing. Of an existing one, and of
// the files warden keeps there, whatever the group or others may do is taken away when this user
// owns it, and warned about (path and mode) when another user does.
func secureDataDir(dir string, log *slog.Logger) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("data_dir: %w", err)
		}
		if err := os.Chmod(dir, 0o700); err != nil { // whatever the umask
			return fmt.Errorf("data_dir: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("data_dir: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("data_dir: %s is not a directory", dir)
	}
	if !unixModes {
		return nil
	}
	makePrivate(dir, fi, 0o700, ownedByUs(fi), log)
	for _, name := range dataFiles {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			makePrivate(p, fi, 0o600, ownedByUs(fi), log)
		}
	}
	return nil
}

// makePrivate takes from path the permissions beyond want when this user owns it, and says so;
// otherwise it warns that the path is open to others.
func makePrivate(path string, fi os.FileInfo, want os.FileMode, owned bool, log *slog.Logger) {
	mode := fi.Mode().Perm()
	if mode&^want == 0 {
		return
	}
	if owned {
		err := os.Chmod(path, mode&want)
		if err == nil {
			log.Warn("others had access to warden's data: made it private", "path", path, "mode", octal(mode), "now", octal(mode&want))
			return
		}
		log.Warn("others have access to warden's data and it cannot be made private", "path", path, "mode", octal(mode), "err", err)
		return
	}
	log.Warn("others have access to warden's data, which another user owns: make it private", "path", path, "mode", octal(mode), "want", octal(want))
}

func octal(m os.FileMode) string { return fmt.Sprintf("%04o", uint32(m)) }

// writePrivate writes b to path, mode 0600 whatever the umask, through a temporary file renamed
// over it (so an existing file's looser mode is not kept).
func writePrivate(path string, b []byte) error {
	tmp := path + ".tmp"
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
