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
//
// It waits on the calling goroutine alone: on the pidfd of a single
// process, or on an epoll descriptor holding the pidfds of several (an
// epoll descriptor is readable when one of its descriptors is). The end of
// ctx and a change of the watched set wake it through a read deadline. A
// goroutine per watched process, as before, was 250 more goroutines
// (about 0.9 MiB of stacks) at 1,000 checks in munja serve.
func (c *processCheck) waitPidfd(ctx context.Context, ids []procID, changed <-chan struct{}) (exited bool, err error) {
	files := make([]*os.File, 0, len(ids))
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	fds := make([]int, 0, len(ids))
	buf := make([]byte, 1024)
	for _, id := range ids {
		fd, err := unix.PidfdOpen(id.pid, 0)
		if errors.Is(err, unix.ESRCH) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("pidfd_open %d: %w", id.pid, err)
		}
		f, err := pollable(fd, "pidfd")
		if err != nil {
			return false, fmt.Errorf("pidfd %d: %w", id.pid, err)
		}
		files = append(files, f)
		fds = append(fds, fd)
		// The PID may have been reused between the scan and pidfd_open.
		if !c.alive(id, buf) {
			return true, nil
		}
	}
	if len(files) == 0 {
		return false, nil
	}
	w := files[0]
	if len(fds) > 1 {
		ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return false, fmt.Errorf("epoll: %w", err)
		}
		for _, fd := range fds {
			if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
				unix.Close(ep)
				return false, fmt.Errorf("epoll: %w", err)
			}
		}
		if w, err = pollable(ep, "epoll"); err != nil {
			return false, fmt.Errorf("epoll: %w", err)
		}
		files = append(files, w)
	}
	rc, err := w.SyscallConn()
	if err != nil {
		return false, fmt.Errorf("pidfd: %w", err)
	}
	wake := func() { _ = w.SetReadDeadline(time.Unix(1, 0)) }
	stop := context.AfterFunc(ctx, wake)
	defer stop()
	if !c.wakeOnChange(changed, wake) {
		return false, nil
	}
	defer c.wakeOnChange(nil, nil)
	err = rc.Read(func(fd uintptr) bool {
		// Called at once and then each time epoll says readable: a pidfd
		// is readable when its process has exited, an epoll descriptor
		// when one of its pidfds is.
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(p, 0)
		return err == nil && n > 0 && p[0].Revents != 0
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrDeadlineExceeded): // ctx ended or the set changed
		return false, nil
	default:
		return false, fmt.Errorf("pidfd poll: %w", err) // not pollable: poll /proc this round
	}
}

// pollable makes fd non-blocking and hands it to an *os.File, which
// registers it with the netpoller.
func pollable(fd int, name string) (*os.File, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// wakeOnChange has setWatched call wake when the watched set that changed
// belongs to changes (nil wake: no longer); false when it already has.
func (c *processCheck) wakeOnChange(changed <-chan struct{}, wake func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wake = wake
	if changed == nil {
		return true
	}
	select {
	case <-changed:
		c.wake = nil
		return false
	default:
		return true
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
