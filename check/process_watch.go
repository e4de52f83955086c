package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Watch reports the exit of a matched process within milliseconds: it holds
// a pidfd for each process the latest run matched and polls them; when one
// becomes readable (the process ended) it runs the check and emits the
// result. Where pidfd_open is not allowed (kernel before 5.3, seccomp) it
// checks /proc every pollEvery instead.
func (c *processCheck) Watch(ctx context.Context, emit func(Result)) error {
	usePidfd := !c.noPidfd
	for ctx.Err() == nil {
		ids, changed := c.watching()
		if len(ids) == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-changed:
				continue
			}
		}
		var exited bool
		if usePidfd {
			var err error
			exited, err = c.waitPidfd(ctx, ids, changed)
			switch {
			case pidfdUnsupported(err):
				c.t.log.Info("pidfd unavailable, polling /proc for process exits", "check", c.Name(), "err", err)
				usePidfd = false
				continue
			case err != nil:
				// One odd PID (e.g. a thread ID in a pidfile): poll this round.
				c.t.log.Debug("pidfd watch failed, polling this round", "check", c.Name(), "err", err)
				exited = c.waitPoll(ctx, ids, changed)
			}
		} else {
			exited = c.waitPoll(ctx, ids, changed)
		}
		if !exited || ctx.Err() != nil {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, c.timeout)
		r := c.Run(rctx)
		cancel()
		emit(r)
		// The run normally changes the watched set. If it did not (a PID
		// that keeps failing verification), do not spin.
		select {
		case <-changed:
		default:
			select {
			case <-ctx.Done():
			case <-changed:
			case <-time.After(c.pollEvery):
			}
		}
	}
	return nil
}

// waitPidfd blocks until one of ids exits (true), or ctx ends or the
// watched set changes (false). It waits on Go's netpoller (epoll), not in
// a blocking poll(2): a blocked syscall holds an OS thread, and with one
// per process check munja serve ran 264 threads at 1,000 checks. Here a
// waiting check is a parked goroutine, whatever the number of checks.
func (c *processCheck) waitPidfd(ctx context.Context, ids []procID, changed <-chan struct{}) (exited bool, err error) {
	files := make([]*os.File, 0, len(ids))
	defer func() {
		// Close wakes the goroutines below and waits for them to leave
		// the poller before it closes the pidfd.
		for _, f := range files {
			f.Close()
		}
	}()
	buf := make([]byte, 1024)
	for _, id := range ids {
		fd, err := unix.PidfdOpen(id.pid, 0)
		if errors.Is(err, unix.ESRCH) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("pidfd_open %d: %w", id.pid, err)
		}
		// Non-blocking, os.NewFile registers it with the netpoller.
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			return false, fmt.Errorf("pidfd %d: %w", id.pid, err)
		}
		files = append(files, os.NewFile(uintptr(fd), "pidfd"))
		// The PID may have been reused between the scan and pidfd_open.
		if !c.alive(id, buf) {
			return true, nil
		}
	}
	done := make(chan error, len(files)) // nil: a process exited
	for _, f := range files {
		rc, err := f.SyscallConn()
		if err != nil {
			return false, fmt.Errorf("pidfd: %w", err)
		}
		go func() {
			done <- rc.Read(func(fd uintptr) bool {
				// Called at once and then each time epoll says readable:
				// a pidfd is readable when its process has exited.
				p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
				n, err := unix.Poll(p, 0)
				return err == nil && n > 0 && p[0].Revents != 0
			})
		}()
	}
	select {
	case err := <-done:
		if err != nil {
			return false, fmt.Errorf("pidfd poll: %w", err) // not pollable: poll /proc this round
		}
		return true, nil
	case <-ctx.Done():
	case <-changed:
	}
	return false, nil
}

// waitPoll is waitPidfd without pidfds: it looks at /proc every pollEvery.
func (c *processCheck) waitPoll(ctx context.Context, ids []procID, changed <-chan struct{}) bool {
	t := time.NewTicker(c.pollEvery)
	defer t.Stop()
	buf := make([]byte, 1024)
	for {
		for _, id := range ids {
			if !c.alive(id, buf) {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-changed:
			return false
		case <-t.C:
		}
	}
}
