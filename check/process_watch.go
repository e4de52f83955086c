package check

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
// watched set changes (false).
func (c *processCheck) waitPidfd(ctx context.Context, ids []procID, changed <-chan struct{}) (exited bool, err error) {
	fds := make([]unix.PollFd, 0, len(ids)+1)
	defer func() {
		for _, p := range fds {
			unix.Close(int(p.Fd))
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
		fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		// The PID may have been reused between the scan and pidfd_open.
		if !c.alive(id, buf) {
			return true, nil
		}
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return false, fmt.Errorf("eventfd: %w", err)
	}
	fds = append(fds, unix.PollFd{Fd: int32(wake), Events: unix.POLLIN})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
		case <-changed:
		case <-stop:
			return
		}
		one := [8]byte{1}
		unix.Write(wake, one[:])
	}()
	// Runs before the fds are closed (defers run last-in first-out).
	defer func() {
		close(stop)
		wg.Wait()
	}()

	for {
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("poll: %w", err)
		}
		for _, p := range fds[:len(fds)-1] {
			if p.Revents != 0 {
				return true, nil
			}
		}
		return false, nil
	}
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
