//go:build unix

package main

import (
	"os"
	"syscall"
)

// unixModes: file modes mean what they say here.
const unixModes = true

// ownedByUs reports whether this process's user owns the file.
func ownedByUs(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}
