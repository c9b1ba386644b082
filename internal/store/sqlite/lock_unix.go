//go:build unix

package sqlite

import (
	"errors"
	"os"
	"syscall"
)

// canLock: flock(2) locks here. The lock belongs to the open file description, so it holds for
// the process's life and is released by the kernel the moment the process ends, however it ends.
const canLock = true

// lockFile takes an exclusive flock on f without waiting; false when another holds it.
func lockFile(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
