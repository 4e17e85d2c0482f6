//go:build linux

package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// vm is one boot of the test machine, run by .ci/vm-run.sh, which execs
// qemu: the process is qemu, and killing it cuts the power.
type vm struct {
	cmd     *exec.Cmd
	log     *os.File
	started time.Time
	// lines delivers the console's lines as they come, and is closed when
	// the console closes. A last line without its newline is dropped: the
	// cut came while it was printed, so the writer had not gone on yet.
	lines    chan string
	killOnce sync.Once
	killed   chan struct{} // closed by kill
	cut      func()        // cuts the disk's power too, if not nil
}

// startVM boots the machine with disk as /dev/vda and words added to the
// kernel command line. The console and qemu's own messages go to logPath.
// cut, if not nil, runs at the power cut, before qemu is killed: the disk's
// power goes too.
func startVM(root string, s *setup, disk, logPath string, cut func(), words ...string) (*vm, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{filepath.Join(root, ".ci/vm-run.sh"), s.kernel, s.initrd, disk}, words...)
	cmd := exec.Command("sh", args...)
	cmd.Stderr = log
	out, err := cmd.StdoutPipe()
	if err != nil {
		log.Close()
		return nil, err
	}
	v := &vm{cmd: cmd, log: log, started: time.Now(), lines: make(chan string, 64), killed: make(chan struct{}), cut: cut}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	go v.read(out)
	return v, nil
}

// read passes the console's lines to v.lines and copies everything to the
// log.
func (v *vm) read(out io.Reader) {
	defer close(v.lines)
	r := bufio.NewReader(io.TeeReader(out, v.log))
	for {
		s, err := r.ReadString('\n')
		if err != nil {
			return
		}
		v.lines <- strings.TrimRight(s, "\r\n")
	}
}

// kill cuts the power: SIGKILL to qemu. The guest loses its memory, page
// cache included; the disk image keeps every write qemu has made to it.
func (v *vm) kill() {
	v.killOnce.Do(func() {
		close(v.killed)
		if v.cut != nil {
			v.cut()
		}
		_ = v.cmd.Process.Kill()
	})
}

// wasKilled reports whether kill was called.
func (v *vm) wasKilled() bool {
	select {
	case <-v.killed:
		return true
	default:
		return false
	}
}

// wait waits until the machine is off, after v.lines has been drained, and
// closes the log.
func (v *vm) wait() error {
	err := v.cmd.Wait()
	if cerr := v.log.Close(); err == nil {
		err = cerr
	}
	return err
}
