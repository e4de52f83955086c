package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/munja-sms/munja/internal/wakeup"
)

// Watch reports the exit of a matched process within milliseconds: it holds
// a pidfd for each process the latest run matched; when one becomes
// readable (the process ended) it runs the check and emits the result.
// Where pidfd_open is not allowed (kernel before 5.3, seccomp) it checks
// /proc every pollEvery instead.
func (c *processCheck) Watch(ctx context.Context, emit func(Result)) error {
	errc := make(chan error, 1)
	c.StartWatch(ctx, emit, func(err error) { errc <- err })
	return <-errc
}

// StartWatch is Watch without waiting (AsyncWatcher): it returns at once
// and calls done when ctx has ended. The pidfds of every process check go
// into one epoll descriptor, waited on by one goroutine (pidHub); an exit,
// a change of the watched processes or the end of ctx starts a goroutine
// that does what is due and ends. A goroutine waiting per process check,
// as before, held 4 KiB of stack each: 1 MB of munja serve's memory at
// 1,000 checks, 250 of them process checks (docs/BENCHMARKS.md section 9).
func (c *processCheck) StartWatch(ctx context.Context, emit func(Result), done func(error)) {
	w := &procWatch{c: c, ctx: ctx, emit: emit, done: done, usePidfd: !c.noPidfd}
	// The looker holds the first look until set-up is done: a wake-up
	// before (a run changing the processes, the end of ctx) only asks for
	// another.
	w.looker = wakeup.New(w.look1, nil)
	w.stopCtx = context.AfterFunc(ctx, w.kick)
	c.mu.Lock()
	c.wake = w.kick
	c.mu.Unlock()
	w.looker.Start() // the first look
}

// procWatch is one StartWatch of a process check.
type procWatch struct {
	c       *processCheck
	ctx     context.Context
	emit    func(Result)
	done    func(error)
	stopCtx func() bool

	looker *wakeup.Looker

	mu     sync.Mutex
	gen    uint64 // counts arms and pauses: wake-ups of older ones are stale
	fired  bool   // a pidfd of the armed processes became readable
	ticked bool   // the timer of this arm or pause fired

	// The rest belongs to the goroutine that looks.
	phase    watchPhase
	on       <-chan struct{} // closed when the processes armed on (or paused after) change
	fds      []pidReg        // the armed pidfds
	timer    *time.Timer     // polling /proc, or the pause
	polling  bool            // armed by polling /proc, not by pidfds
	usePidfd bool            // false once pidfds proved unavailable here
	buf      []byte          // for alive
	ids      []procID        // the armed processes
}

type watchPhase uint8

const (
	phaseArm    watchPhase = iota // arm on the watched processes at the next look
	phaseArmed                    // waiting for an exit or a change
	phasePaused                   // after a run that left the processes as they were
)

type pidReg struct {
	fd  int
	key uint64
}

// kick has a goroutine look: a new one, or the one looking once more.
func (w *procWatch) kick() { w.looker.Wake() }

// event records a wake-up of arm or pause gen (fired: a pidfd, else the
// timer) and kicks.
func (w *procWatch) event(gen uint64, fired bool) {
	w.mu.Lock()
	if gen != w.gen {
		w.mu.Unlock()
		return
	}
	if fired {
		w.fired = true
	} else {
		w.ticked = true
	}
	w.mu.Unlock()
	w.kick()
}

// look1 is one look (wakeup.Looker runs it one at a time, once more for a
// wake-up that came meanwhile); true once watching has ended.
func (w *procWatch) look1() (finished bool) {
	if w.ctx.Err() != nil {
		w.finish(nil)
		return true
	}
	if err := w.safeLook(); err != nil {
		w.finish(err)
		return true
	}
	return false
}

func (w *procWatch) finish(err error) {
	w.disarm()
	w.c.mu.Lock()
	w.c.wake = nil
	w.c.mu.Unlock()
	w.stopCtx()
	w.done(err)
}

func (w *procWatch) safeLook() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("watch panicked: %v\n%s", p, debug.Stack())
		}
	}()
	w.look()
	return nil
}

// look does what is due: the run after an exit, arming on the watched
// processes after a change.
func (w *procWatch) look() {
	for w.ctx.Err() == nil {
		w.mu.Lock()
		fired, ticked := w.fired, w.ticked
		w.fired, w.ticked = false, false
		w.mu.Unlock()
		changed := w.on != nil && isClosed(w.on)
		switch w.phase {
		case phaseArm:
			if w.arm() {
				w.exited()
			}
			continue
		case phasePaused:
			if !changed && !ticked {
				return
			}
			w.disarm()
			w.phase = phaseArm
			continue
		}
		// phaseArmed
		if ticked && w.polling && !fired {
			fired = !w.allAlive()
			if !fired {
				w.startTimer()
			}
		}
		switch {
		case fired:
			w.disarm()
			w.exited()
		case changed:
			w.disarm()
			w.phase = phaseArm
		default:
			return
		}
	}
}

// exited runs the check after an exit and emits its result; then arms
// again on the processes it found, or, when it left them as they were (a
// PID that keeps failing verification), pauses for pollEvery first so as
// not to spin.
func (w *procWatch) exited() {
	rctx, cancel := context.WithTimeout(w.ctx, w.c.timeout)
	r := w.c.Run(rctx)
	cancel()
	if w.ctx.Err() != nil {
		return
	}
	w.emit(r)
	if isClosed(w.on) {
		w.phase = phaseArm
		return
	}
	w.phase = phasePaused
	w.newGen()
	w.startTimer()
}

// arm waits for the exit of the watched processes: through their pidfds
// in the hub, else by polling /proc this round. It reports true when one
// has already exited.
func (w *procWatch) arm() (exited bool) {
	ids, changed := w.c.watching()
	w.phase, w.on, w.ids, w.polling = phaseArmed, changed, ids, false
	gen := w.newGen()
	if len(ids) == 0 {
		return false // until they change
	}
	if w.buf == nil {
		w.buf = make([]byte, 1024)
	}
	if w.usePidfd {
		err := w.armPidfds(ids, gen, &exited)
		switch {
		case err == nil:
			if exited {
				w.disarm()
			}
			return exited
		case pidfdUnsupported(err):
			w.c.t.log.Info("pidfd unavailable, polling /proc for process exits", "check", w.c.Name(), "err", err)
			w.usePidfd = false
		default:
			// One odd PID (e.g. a thread ID in a pidfile): poll this round.
			w.c.t.log.Debug("pidfd watch failed, polling this round", "check", w.c.Name(), "err", err)
		}
		w.disarm()
		w.newGen() // wake-ups of the pidfds just closed are stale
	}
	w.polling = true
	if !w.allAlive() {
		return true
	}
	w.startTimer()
	return false
}

func (w *procWatch) armPidfds(ids []procID, gen uint64, exited *bool) error {
	hub, err := thePidHub()
	if err != nil {
		return fmt.Errorf("pidfd hub: %w", err)
	}
	for _, id := range ids {
		fd, err := unix.PidfdOpen(id.pid, 0)
		if errors.Is(err, unix.ESRCH) {
			*exited = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("pidfd_open %d: %w", id.pid, err)
		}
		key, err := hub.add(fd, func() { w.event(gen, true) })
		if err != nil {
			unix.Close(fd)
			return fmt.Errorf("pidfd %d: %w", id.pid, err)
		}
		w.fds = append(w.fds, pidReg{fd: fd, key: key})
		// The PID may have been reused between the scan and pidfd_open.
		if !w.c.alive(id, w.buf) {
			*exited = true
			return nil
		}
	}
	return nil
}

// allAlive reports whether every armed process is still the same live
// process.
func (w *procWatch) allAlive() bool {
	for _, id := range w.ids {
		if !w.c.alive(id, w.buf) {
			return false
		}
	}
	return true
}

// newGen makes wake-ups of earlier arms and pauses stale.
func (w *procWatch) newGen() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gen++
	w.fired, w.ticked = false, false
	return w.gen
}

func (w *procWatch) startTimer() {
	w.mu.Lock()
	gen := w.gen
	w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.timer = time.AfterFunc(w.c.pollEvery, func() { w.event(gen, false) })
}

// disarm closes the armed pidfds and stops the timer.
func (w *procWatch) disarm() {
	if len(w.fds) > 0 {
		hub, _ := thePidHub() // there, since fds were added to it
		for _, r := range w.fds {
			hub.remove(r.fd, r.key)
			unix.Close(r.fd)
		}
		w.fds = w.fds[:0]
	}
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// pidHub is one epoll descriptor holding the pidfds of every process
// check, waited on by one goroutine through Go's netpoller: a waiting
// check holds no goroutine and no OS thread (a blocking poll(2) per check
// held a thread each: 264 threads at 1,000 checks in munja serve). Each
// pidfd is added once-only (EPOLLONESHOT): its exit is reported once, to
// the function added with it.
type pidHub struct {
	ep   int
	file *os.File // ep in the netpoller

	mu   sync.Mutex
	next uint64
	subs map[uint64]func() // by key, the epoll data of the pidfd
}

var pidHubs struct {
	mu sync.Mutex
	h  *pidHub
}

// thePidHub returns the process's pidfd hub, started at the first call
// (and at the next one when starting it failed).
func thePidHub() (*pidHub, error) {
	pidHubs.mu.Lock()
	defer pidHubs.mu.Unlock()
	if pidHubs.h != nil {
		return pidHubs.h, nil
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	if err := unix.SetNonblock(ep, true); err != nil {
		unix.Close(ep)
		return nil, fmt.Errorf("epoll: %w", err)
	}
	f := os.NewFile(uintptr(ep), "pidfd-epoll")
	// Only a descriptor in the netpoller takes a deadline: one that is
	// not could not be waited on without a thread.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, fmt.Errorf("epoll not pollable: %w", err)
	}
	h := &pidHub{ep: ep, file: f, subs: map[uint64]func(){}}
	go h.run()
	pidHubs.h = h
	return h, nil
}

// add has fn called once when fd becomes readable; key names it for
// remove.
func (h *pidHub) add(fd int, fn func()) (key uint64, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	key = h.next
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT}
	setEpollKey(&ev, key)
	if err := unix.EpollCtl(h.ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return 0, err
	}
	h.subs[key] = fn
	return key, nil
}

// remove forgets fd (added as key); fd is the caller's to close.
func (h *pidHub) remove(fd int, key uint64) {
	h.mu.Lock()
	delete(h.subs, key)
	h.mu.Unlock()
	_ = unix.EpollCtl(h.ep, unix.EPOLL_CTL_DEL, fd, nil)
}

// run calls the functions of the pidfds that became readable, for as long
// as the process runs.
func (h *pidHub) run() {
	rc, err := h.file.SyscallConn()
	if err != nil {
		return
	}
	events := make([]unix.EpollEvent, 64)
	var due []func()
	_ = rc.Read(func(fd uintptr) bool {
		// Called at once and then each time the netpoller says the epoll
		// descriptor is readable (one of its pidfds is).
		for {
			n, err := unix.EpollWait(int(fd), events, 0)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if n <= 0 {
				return false // wait for the next
			}
			h.mu.Lock()
			for _, ev := range events[:n] {
				key := epollKey(&ev)
				if fn := h.subs[key]; fn != nil {
					delete(h.subs, key)
					due = append(due, fn)
				}
			}
			h.mu.Unlock()
			for i, fn := range due {
				fn()
				due[i] = nil
			}
			due = due[:0]
		}
	})
}

// The key of a pidfd is the 64 bits of its epoll data, which
// x/sys/unix's EpollEvent splits into Fd and Pad.
func setEpollKey(ev *unix.EpollEvent, key uint64) {
	ev.Fd, ev.Pad = int32(uint32(key)), int32(uint32(key>>32))
}

func epollKey(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}
