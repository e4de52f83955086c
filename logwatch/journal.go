package logwatch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNoJournal is wrapped by FollowJournal's error when journalctl is
// missing or finds no journal.
var ErrNoJournal = errors.New("journal not available on this host")

// JournalOption configures FollowJournal.
type JournalOption func(*journalConfig)

type journalConfig struct {
	command string
	started func()
}

// WithJournalctl runs the given program instead of journalctl from PATH.
func WithJournalctl(path string) JournalOption {
	return func(c *journalConfig) { c.command = path }
}

// WithStarted calls fn once journalctl found the journal and follows it.
func WithStarted(fn func()) JournalOption {
	return func(c *journalConfig) { c.started = fn }
}

// maxEntry bounds one JSON entry of journalctl's output; larger entries
// are skipped.
const maxEntry = 8 << 20

// FollowJournal calls fn with every new journal message (of unit, when not
// empty) until ctx ends, then returns nil. It runs `journalctl -f -o json
// -n 0 --all [-u unit]` (no shell). A message of several lines is passed
// line by line, as `journalctl | grep` would see it; at is the entry's
// __REALTIME_TIMESTAMP. The error wraps ErrNoJournal when journalctl is
// missing or there is no journal to read; it is also returned, with
// journalctl's message, when journalctl exits by itself.
func FollowJournal(ctx context.Context, unit string, fn func(line []byte, at time.Time), opts ...JournalOption) error {
	cfg := journalConfig{command: "journalctl"}
	for _, o := range opts {
		o(&cfg)
	}
	bin, err := exec.LookPath(cfg.command)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoJournal, err)
	}
	if err := probeJournal(ctx, bin); err != nil {
		return err
	}

	args := []string{"-f", "-o", "json", "-n", "0", "--all"}
	if unit != "" {
		args = append(args, "-u", unit)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 2 * time.Second
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("journalctl: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: start journalctl: %w", ErrNoJournal, err)
	}
	if cfg.started != nil {
		cfg.started()
	}
	readErr := readJournal(out, fn)
	if readErr != nil {
		_ = cmd.Process.Kill() // stop it so that Wait returns
	}
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		return nil
	}
	if readErr != nil {
		return fmt.Errorf("journalctl output: %w", readErr)
	}
	msg := strings.TrimSpace(stderr.String())
	if waitErr == nil {
		return fmt.Errorf("journalctl exited: %s", orUnknown(msg))
	}
	return fmt.Errorf("journalctl exited: %w: %s", waitErr, orUnknown(msg))
}

// ProbeJournal reports whether the journal can be read here, now, as
// FollowJournal would find it: nil, or an error wrapping ErrNoJournal
// (journalctl missing, failing, or finding no journal). It runs
// `journalctl -n 1` once. Of opts, WithJournalctl applies.
func ProbeJournal(ctx context.Context, opts ...JournalOption) error {
	cfg := journalConfig{command: "journalctl"}
	for _, o := range opts {
		o(&cfg)
	}
	bin, err := exec.LookPath(cfg.command)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoJournal, err)
	}
	return probeJournal(ctx, bin)
}

// probeJournal asks for the newest entry: on a host without a journal
// (no systemd-journald, or a user who may not read it) journalctl -f would
// just wait silently.
func probeJournal(ctx context.Context, bin string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-n", "1", "-o", "json", "--all")
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	msg := strings.TrimSpace(stderr.String())
	switch {
	case err != nil:
		return fmt.Errorf("%w: journalctl -n 1: %w: %s", ErrNoJournal, err, orUnknown(msg))
	case len(bytes.TrimSpace(out)) == 0:
		if msg == "" {
			msg = "no entries (is systemd-journald running, and may this user read the journal: root, or group systemd-journal or adm?)"
		}
		return fmt.Errorf("%w: journalctl: %s", ErrNoJournal, msg)
	}
	return nil
}

// journalEntry holds the fields used from journalctl -o json.
type journalEntry struct {
	Message  json.RawMessage `json:"MESSAGE"`
	Realtime string          `json:"__REALTIME_TIMESTAMP"`
}

func readJournal(r io.Reader, fn func([]byte, time.Time)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte // an entry longer than br's buffer, so far
	drop := false   // the current entry exceeds maxEntry
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !drop {
				long = append(long, chunk...)
				if len(long) > maxEntry {
					long, drop = nil, true
				}
			}
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		entry := chunk
		if long != nil {
			entry, long = append(long, chunk...), nil
		}
		if drop {
			drop = false
			continue
		}
		deliverEntry(entry, fn)
	}
}

// deliverEntry passes the lines of one entry's MESSAGE to fn; entries
// that do not parse or carry no message are skipped.
func deliverEntry(b []byte, fn func([]byte, time.Time)) {
	var e journalEntry
	if json.Unmarshal(b, &e) != nil {
		return
	}
	msg, ok := messageBytes(e.Message)
	if !ok {
		return
	}
	at := time.Now()
	if us, err := strconv.ParseInt(e.Realtime, 10, 64); err == nil {
		at = time.UnixMicro(us)
	}
	for {
		i := bytes.IndexByte(msg, '\n')
		if i < 0 {
			fn(msg, at)
			return
		}
		fn(msg[:i], at)
		msg = msg[i+1:]
	}
}

// messageBytes decodes MESSAGE: a JSON string, or an array of byte values
// when the message is not valid UTF-8; null (too large without --all) and
// absent give false.
func messageBytes(raw json.RawMessage) ([]byte, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return []byte(s), true
	case '[':
		var vals []int
		if json.Unmarshal(raw, &vals) != nil {
			return nil, false
		}
		b := make([]byte, len(vals))
		for i, v := range vals {
			if v < 0 || v > 255 {
				return nil, false
			}
			b[i] = byte(v)
		}
		return b, true
	}
	return nil, false
}

func orUnknown(s string) string {
	if s == "" {
		return "(no message)"
	}
	return s
}

// limitedBuffer keeps the first 4 KiB written to it; safe for the
// concurrent writes of exec's copying goroutine and reads after Wait.
type limitedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := 4096 - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
