//go:build !linux && !windows

package mmap

import "errors"

// lockInode cannot lock a file itself apart from lockFile's lock here: the
// OS has flock or process-wide fcntl locks, not locks of an open file on a
// byte range. The writer's lock is then its sidecar's alone (see
// Array.lockWriter).
func lockInode(uintptr) error { return errors.ErrUnsupported }

func unlockInode(uintptr) error { return nil }

// inodeLocked cannot ask: the writer's lock is its sidecar's.
func inodeLocked(uintptr) (bool, error) { return false, errors.ErrUnsupported }
