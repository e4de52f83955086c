package logwatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/munja-sms/munja/internal/tick"
	"github.com/munja-sms/munja/internal/wakeup"
)

// FollowOptions tune Follow. Zero values take the defaults.
type FollowOptions struct {
	// Poll is how often the file is checked even without an inotify event
	// (default: 2s as a safety net while inotify works, else 250ms, the
	// only wake-up then).
	Poll time.Duration
	// MaxLine is the longest line delivered (default 1 MiB); a longer line
	// is cut there and the rest of it is skipped.
	MaxLine int
	// RotateGrace is how long a file renamed or deleted away is still read
	// after its last write (default 5s), for writers that keep writing to
	// the old file until they reopen the log.
	RotateGrace time.Duration
	// FromStart reads the file's existing content too.
	FromStart bool
	// Problem, when set, is called when the file cannot be followed
	// (missing, unreadable) and with nil once it is followed again, once
	// per change; never at the same time as fn.
	Problem func(err error)
	// Now stamps delivered lines (default time.Now).
	Now func() time.Time
	// Resume is where an earlier Follow of path stopped: the Position
	// FollowAt passed with the last line it delivered (nil: none). The
	// first open then reads what was written meanwhile instead of starting
	// at the end: from Resume's offset when path is still that file (same
	// device and inode) and at least that long; from its start when path
	// is another file (rotated meanwhile) or shorter (truncated). When more
	// than MaxBacklog bytes would be read that way, following starts at
	// the end after all, as without Resume.
	Resume *Position
	// MaxBacklog bounds what Resume reads (default 64 MiB).
	MaxBacklog int64
	// Opened, when set, is called when a file at path is opened, with the
	// Position reading starts from; until the next call, lines of other
	// Positions come from a file rotated away. It is never called at the
	// same time as fn.
	Opened func(pos Position)

	pollOnly bool // tests: do without inotify
}

// Follow calls fn with every line appended to the file at path, like
// `tail -F -n 0`, until ctx ends; it then returns nil. Only complete lines
// are delivered (a line still lacking its '\n' waits), without the '\n';
// the slice is only valid during the call.
//
// Following starts at the end of the file: lines already complete are not
// delivered (unless opts.Resume says where an earlier Follow stopped). A
// file that appears later (missing at the start, or created after a
// rename) is read from its start. Rotation is survived without losing or
// repeating lines: when path is renamed away and a new file created, the
// old file is read to its end (and for RotateGrace after its last write),
// then the new file from its start; when the file shrinks below the read
// offset (copytruncate), it is read again from its start. A partial last
// line left in a file that is rotated away or truncated is delivered as it
// is. inotify delivers appends within milliseconds; the
// file is also checked every Poll.
func Follow(ctx context.Context, path string, opts FollowOptions, fn func(line []byte, at time.Time)) error {
	return FollowAt(ctx, path, opts, func(line []byte, at time.Time, _ Position) { fn(line, at) })
}

// Position is how far a followed file has been read: the file (device
// and inode) and the offset just after a delivered line. Saved, it lets a
// later Follow resume there (FollowOptions.Resume).
type Position struct {
	Dev, Ino uint64
	Offset   int64
}

// FollowAt is Follow, passing with each line the Position just after it.
// A panic in fn (or in opts' callbacks) is raised again by FollowAt.
func FollowAt(ctx context.Context, path string, opts FollowOptions, fn func(line []byte, at time.Time, pos Position)) error {
	c := make(chan error, 1)
	StartFollow(ctx, path, opts, fn, func(err error) { c <- err })
	err := <-c
	if p, ok := err.(*panicError); ok {
		panic(p.value)
	}
	return err
}

// StartFollow is FollowAt without waiting: it starts following path and
// returns at once, and calls done once following has ended: with nil when
// ctx ended, else with the error FollowAt would return (or a panic of fn,
// as an error). No goroutine waits for the file meanwhile: a wake-up (an
// inotify event, the poll, the end of ctx) starts a goroutine that reads
// what is new, calls fn, and ends. fn, opts.Problem and opts.Opened are
// called one at a time, never after done.
//
// A goroutine per follower, waiting, held an 8 KiB stack for as long as it
// followed: 1.6 MB of munja serve's memory with 200 log checks
// (docs/BENCHMARKS.md section 9).
func StartFollow(ctx context.Context, path string, opts FollowOptions, fn func(line []byte, at time.Time, pos Position), done func(error)) {
	pollSet := opts.Poll > 0
	if !pollSet {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = 1 << 20
	}
	if opts.RotateGrace <= 0 {
		opts.RotateGrace = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBacklog <= 0 {
		opts.MaxBacklog = 64 << 20
	}
	fl := &follower{path: path, opts: opts, fn: fn, ctx: ctx, done: done, first: true}
	// The looker holds the first look until set-up is done: a wake-up
	// before (the inotify reader, the end of ctx) only asks for another.
	fl.looker = wakeup.New(fl.look, fl.armPoll)
	fl.poll = time.AfterFunc(time.Hour, fl.looker.Wake)
	fl.poll.Stop()
	if !opts.pollOnly {
		fl.notify, _ = newNotifier(filepath.Dir(path), filepath.Base(path), fl.looker.Wake) // nil: poll only
	}
	if fl.notify != nil && !pollSet {
		// inotify wakes us for appends, truncation and rotation; the poll
		// is only a safety net then, and a slow one costs fewer wake-ups.
		fl.opts.Poll = 2 * time.Second
	}
	fl.stopCtx = context.AfterFunc(ctx, fl.looker.Wake)
	fl.looker.Start() // the first look
}

// look looks at the file once (wakeup.Looker runs it one at a time, once
// more for a wake-up that came meanwhile); true once following has ended.
func (fl *follower) look() (finished bool) {
	if fl.ctx.Err() != nil {
		fl.finish(nil)
		return true
	}
	if err := fl.safeStep(); err != nil {
		fl.finish(err)
		return true
	}
	return false
}

// armPoll arms the poll after a look. Polls fall on whole multiples of
// Poll, together with the other periodic work of the process (one wake-up
// instead of several).
func (fl *follower) armPoll() { fl.poll.Reset(tick.Until(time.Now(), fl.opts.Poll)) }

// finish ends following; later wake-ups do nothing.
func (fl *follower) finish(err error) {
	fl.poll.Stop()
	fl.stopCtx()
	fl.close()
	fl.done(err)
}

// panicError is a panic while following, ending it.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string {
	return fmt.Sprintf("panic while following: %v\n%s", p.value, p.stack)
}

func (fl *follower) safeStep() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{value: p, stack: debug.Stack()}
		}
	}()
	return fl.step()
}

// tailFile is one open file being read.
type tailFile struct {
	f        *os.File
	dev, ino uint64
	off      int64  // bytes consumed
	pending  []byte // a line still lacking its '\n'
	fp       []byte // the last bytes read (up to fpLen), see unchanged
	skip     bool   // discarding the rest of an over-long line
	lastData time.Time
	wd       int // inotify watch, or -1
}

type follower struct {
	path    string
	opts    FollowOptions
	fn      func([]byte, time.Time, Position)
	notify  *notifier
	ctx     context.Context
	done    func(error)
	poll    *time.Timer
	stopCtx func() bool

	looker *wakeup.Looker

	// The rest belongs to the goroutine looking at the file.

	first   bool        // the first open starts at the end (unless FromStart)
	cur     *tailFile   // the file now at path; nil while missing
	old     []*tailFile // rotated away, read until idle for RotateGrace
	problem string      // last problem reported
}

// step reads what is new and follows path to a new file when it changed.
func (fl *follower) step() error {
	now := time.Now()
	kept := fl.old[:0]
	for _, t := range fl.old {
		if err := fl.readAll(t); err != nil || now.Sub(t.lastData) > fl.opts.RotateGrace {
			fl.retire(t)
			continue
		}
		kept = append(kept, t)
	}
	fl.old = kept

	if fl.cur != nil {
		if err := fl.readAll(fl.cur); err != nil {
			return fmt.Errorf("read %s: %w", fl.path, err)
		}
	}
	if fl.notify != nil {
		fl.notify.watchDir() // no-op once watching; retried while the directory is missing
	}
	fi, err := os.Stat(fl.path)
	if err != nil {
		if fl.cur != nil { // renamed or deleted away: drain it for a while
			fl.cur.lastData = now
			fl.old = append(fl.old, fl.cur)
			fl.cur = nil
		}
		fl.first = false
		fl.report(fmt.Errorf("log file %s: %w", fl.path, err))
		return nil
	}
	if fl.cur != nil {
		dev, ino := fileID(fi)
		switch {
		case dev != fl.cur.dev || ino != fl.cur.ino: // rotated: a new file at path
			if err := fl.readAll(fl.cur); err != nil {
				return fmt.Errorf("read %s: %w", fl.path, err)
			}
			fl.cur.lastData = now
			fl.old = append(fl.old, fl.cur)
			fl.cur = nil
		case fi.Size() < fl.cur.off: // truncated in place (copytruncate)
			fl.flushPending(fl.cur)
			if _, err := fl.cur.f.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("seek %s: %w", fl.path, err)
			}
			fl.cur.off, fl.cur.fp = 0, fl.cur.fp[:0]
			return fl.readAll(fl.cur)
		default:
			return nil
		}
	}
	t, err := fl.open(fl.first)
	if err != nil { // e.g. not readable yet: retried on the next wake-up
		fl.report(fmt.Errorf("log file %s: %w", fl.path, err))
		return nil
	}
	fl.first = false
	fl.cur = t
	fl.report(nil)
	if fl.opts.Opened != nil {
		fl.opts.Opened(Position{Dev: t.dev, Ino: t.ino, Offset: t.off})
	}
	if err := fl.readAll(t); err != nil {
		return fmt.Errorf("read %s: %w", fl.path, err)
	}
	return nil
}

// open opens path, positioned at its start; or, on the first open, at
// its end (after the last complete line, so that a line being written is
// delivered once complete) or where opts.Resume says.
func (fl *follower) open(first bool) (*tailFile, error) {
	f, err := os.Open(fl.path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	t := &tailFile{f: f, wd: -1, lastData: time.Now()}
	t.dev, t.ino = fileID(fi)
	from, atEnd := int64(0), first && !fl.opts.FromStart
	if r := fl.opts.Resume; first && r != nil {
		same := r.Dev == t.dev && r.Ino == t.ino && fi.Size() >= r.Offset
		if same {
			from = r.Offset
		}
		atEnd = fi.Size()-from > fl.opts.MaxBacklog
	}
	switch {
	case atEnd && fi.Size() > 0:
		t.off, t.skip, err = lineEnd(f, fi.Size(), fl.opts.MaxLine)
	case !atEnd:
		t.off = from
	}
	if err == nil && t.off > 0 {
		if _, err = f.Seek(t.off, io.SeekStart); err == nil {
			fp := make([]byte, min(t.off, fpLen))
			if _, err = f.ReadAt(fp, t.off-int64(len(fp))); err == nil {
				t.fp = fp
			}
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	if fl.notify != nil {
		t.wd = fl.notify.watchFile(f, fl.path)
	}
	return t, nil
}

// lineEnd finds the offset just after the last '\n' within the last max
// bytes of a file of the given size; skip is set when the last line is
// longer than that, so the start is the end and the rest of the line is
// skipped.
func lineEnd(f *os.File, size int64, maxLine int) (off int64, skip bool, err error) {
	start := size - int64(maxLine)
	if start < 0 {
		start = 0
	}
	tail := make([]byte, size-start)
	if _, err := f.ReadAt(tail, start); err != nil && !errors.Is(err, io.EOF) {
		return 0, false, err
	}
	if i := bytes.LastIndexByte(tail, '\n'); i >= 0 {
		return start + int64(i) + 1, false, nil
	}
	if start == 0 {
		return 0, false, nil
	}
	return size, true, nil
}

// readBufs lend the followers their read buffer only while they read: a
// follower spends nearly all its life waiting, and a 64 KiB buffer each
// was most of munja serve's heap with many log checks (16 of 25.6 MB at
// 1,000 checks).
var readBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// readAll reads t to its end, delivering complete lines.
func (fl *follower) readAll(t *tailFile) error {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf := *bp
	for {
		n, err := t.f.Read(buf)
		if n > 0 {
			if !fl.unchanged(t) {
				// Truncated and written past our offset again before we
				// looked: what we read belongs to the new content.
				fl.flushPending(t)
				if _, err := t.f.Seek(0, io.SeekStart); err != nil {
					return err
				}
				t.off, t.fp = 0, t.fp[:0]
				continue
			}
			t.off += int64(n)
			t.lastData = time.Now()
			t.remember(buf[:n])
			fl.consume(t, buf[:n])
		}
		if err == io.EOF || (err == nil && n == 0) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// fpLen is how many bytes before the read offset are compared to what was
// read there, to notice a copytruncate that the file size no longer shows.
const fpLen = 64

// remember keeps the last fpLen bytes read.
func (t *tailFile) remember(data []byte) {
	if len(data) >= fpLen {
		t.fp = append(t.fp[:0], data[len(data)-fpLen:]...)
		return
	}
	t.fp = append(t.fp, data...)
	if extra := len(t.fp) - fpLen; extra > 0 {
		t.fp = append(t.fp[:0], t.fp[extra:]...)
	}
}

// unchanged reports whether the bytes before t's offset are still those
// that were read there.
func (fl *follower) unchanged(t *tailFile) bool {
	if len(t.fp) == 0 {
		return true
	}
	var b [fpLen]byte
	n, err := t.f.ReadAt(b[:len(t.fp)], t.off-int64(len(t.fp)))
	return err == nil && n == len(t.fp) && bytes.Equal(b[:n], t.fp)
}

func (fl *follower) consume(t *tailFile, data []byte) {
	maxLine := fl.opts.MaxLine
	end := t.off - int64(len(data)) // the offset of data[0]
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if !t.skip {
				t.pending = append(t.pending, data...)
				if len(t.pending) >= maxLine {
					fl.deliver(t, t.pending[:maxLine], end+int64(len(data)))
					t.pending, t.skip = t.pending[:0], true
				}
			}
			return
		}
		line := data[:i]
		data = data[i+1:]
		end += int64(i) + 1
		if t.skip {
			t.skip = false
			continue
		}
		if len(t.pending) > 0 {
			t.pending = append(t.pending, line...)
			line = t.pending
		}
		if len(line) > maxLine {
			line = line[:maxLine]
		}
		fl.deliver(t, line, end)
		t.pending = t.pending[:0]
	}
}

// deliver passes a line of t that ends at offset end.
func (fl *follower) deliver(t *tailFile, line []byte, end int64) {
	fl.fn(line, fl.opts.Now(), Position{Dev: t.dev, Ino: t.ino, Offset: end})
}

// flushPending delivers a partial line that will never be completed.
func (fl *follower) flushPending(t *tailFile) {
	if len(t.pending) > 0 && !t.skip {
		fl.deliver(t, t.pending, t.off)
	}
	t.pending, t.skip = t.pending[:0], false
}

// retire stops reading a rotated-away file.
func (fl *follower) retire(t *tailFile) {
	fl.flushPending(t)
	fl.closeFile(t)
}

func (fl *follower) closeFile(t *tailFile) {
	if fl.notify != nil && t.wd >= 0 {
		fl.notify.unwatch(t.wd)
	}
	t.f.Close()
}

func (fl *follower) report(err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if msg == fl.problem {
		return
	}
	fl.problem = msg
	if fl.opts.Problem != nil {
		fl.opts.Problem(err)
	}
}

func (fl *follower) close() {
	for _, t := range fl.old {
		fl.closeFile(t)
	}
	if fl.cur != nil {
		fl.closeFile(fl.cur)
	}
	if fl.notify != nil {
		fl.notify.close()
	}
}

func fileID(fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), st.Ino
	}
	return 0, 0
}
