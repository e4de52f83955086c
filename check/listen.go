package check

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/munja-sms/munja/config"
)

// listenFields are the template fields of type listen: {{.Port}} and
// {{.Protocol}} (tcp or udp).
var listenFields = map[string]any{"Port": 0, "Protocol": ""}

type listenCheck struct {
	t     *Texts
	port  int
	udp   bool
	proc  string
	share time.Duration // reuse another check's read of the table this fresh
	cache *socketCache
}

// ValidateListen checks the keys of a type listen check at path.
func ValidateListen(cfg config.Check, path string) []error {
	var errs []error
	switch {
	case cfg.Port == 0:
		errs = append(errs, fmt.Errorf("%s.port: required for type listen", path))
	case cfg.Port < 1 || cfg.Port > 65535:
		errs = append(errs, fmt.Errorf("%s.port: %d is not a port (1-65535)", path, cfg.Port))
	}
	if p := cfg.Protocol; p != "" && p != "tcp" && p != "udp" {
		errs = append(errs, fmt.Errorf("%s.protocol: %q is not tcp or udp", path, p))
	}
	return append(errs, ValidateTemplates(cfg, path, listenFields)...)
}

// NewListen builds a type listen check: it passes when a local socket is
// listening on port on any address, like `ss -ltn | grep ":PORT "`: TCP
// sockets in state LISTEN or, with protocol: udp, bound unconnected UDP
// sockets, IPv4 and IPv6. They are asked of the kernel through netlink
// sock_diag, as ss does, or where that is not allowed read from
// /proc/net/{tcp,udp}{,6}. Nothing is spawned and no connection is made.
func NewListen(cfg config.Check, d Deps) (Checker, error) {
	if errs := ValidateListen(cfg, "check "+cfg.Name); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	t, err := NewTexts(cfg, d)
	if err != nil {
		return nil, err
	}
	return &listenCheck{t: t, port: cfg.Port, udp: cfg.Protocol == "udp", proc: defaultProc, share: shareFor, cache: sockets}, nil
}

func (c *listenCheck) Name() string { return c.t.Name() }

func (c *listenCheck) Run(ctx context.Context) Result {
	start := time.Now()
	proto, label := "tcp", fmt.Sprint(c.port)
	if c.udp {
		proto, label = "udp", fmt.Sprintf("%d/udp", c.port)
	}
	fields := map[string]any{"Port": c.port, "Protocol": proto}
	found, err := c.listening(proto)
	if err != nil {
		return c.t.Result(start, c.t.CannotCheck(procReason(err), err, fields))
	}
	o := Outcome{
		OK:       found,
		Fields:   fields,
		Firing:   fmt.Sprintf("[경고] %s 포트가 열려있지 않습니다.", label),
		Resolved: fmt.Sprintf("[복구] %s 포트가 다시 열렸습니다.", label),
		Detail:   fmt.Sprintf("%s port %d is listening", proto, c.port),
		DetailKo: fmt.Sprintf("%s 포트 LISTEN 중", label),
	}
	if c.udp {
		o.DetailKo = fmt.Sprintf("%s 포트 수신 소켓 있음", label)
	}
	if !found {
		o.Detail = fmt.Sprintf("no %s socket listening on port %d", proto, c.port)
		o.DetailKo = fmt.Sprintf("%s 포트 LISTEN 없음", label)
		if c.udp {
			o.DetailKo = fmt.Sprintf("%s 포트 수신 소켓 없음", label)
		}
	}
	return c.t.Result(start, o)
}

// listening asks the kernel's sock_diag interface or, where that is not
// available (or c.proc is not the live /proc), looks through
// /proc/net/PROTO and PROTO6. A missing *6 file (IPv6 disabled) is not an
// error. Several listen checks on the same tick share one read (see
// sockets).
func (c *listenCheck) listening(proto string) (bool, error) {
	if c.proc == defaultProc {
		if ports, ok := c.cache.diag(c.udp, c.share); ok {
			_, found := ports[c.port]
			return found, nil
		}
	}
	var missing int
	for _, name := range []string{proto, proto + "6"} {
		ports, err := c.cache.listeners(c.proc+"/net/"+name, c.udp, c.share)
		if errors.Is(err, os.ErrNotExist) {
			missing++
			continue
		}
		if err != nil {
			return false, fmt.Errorf("listen: %w", err)
		}
		if _, ok := ports[c.port]; ok {
			return true, nil
		}
	}
	if missing == 2 {
		return false, fmt.Errorf("listen: neither %s/net/%s nor %s6 exists", c.proc, proto, proto)
	}
	return false, nil
}

// socketCache keeps the listening ports of each source (a sock_diag dump,
// a /proc/net table) for shareFor, so the listen checks that fire on the
// same tick (all of them, at a common interval) cost one read of each
// instead of one each. shareFor is far below any check interval, so a
// result is never stale by more than a few milliseconds.
type socketCache struct {
	mu      sync.Mutex
	entries map[string]socketEntry
	// dump lists listening ports through sock_diag (diagListeners; nil:
	// never). Once it fails as unsupported, noDump[udp] turns it off for
	// good.
	dump   func(udp bool) (map[int]struct{}, error)
	noDump [2]bool
}

type socketEntry struct {
	at    time.Time
	ports map[int]struct{}
}

const shareFor = 50 * time.Millisecond

var sockets = &socketCache{entries: map[string]socketEntry{}, dump: diagListeners}

// diag returns the ports from the sock_diag dump, or ok false when there
// is none: no dump function, sock_diag unsupported here, or this dump
// failed (the caller then reads /proc/net).
func (sc *socketCache) diag(udp bool, maxAge time.Duration) (ports map[int]struct{}, ok bool) {
	i, key := 0, "diag/tcp"
	if udp {
		i, key = 1, "diag/udp"
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.dump == nil || sc.noDump[i] {
		return nil, false
	}
	if e, ok := sc.entries[key]; ok && time.Since(e.at) < maxAge {
		return e.ports, true
	}
	ports, err := sc.dump(udp)
	if err != nil {
		sc.noDump[i] = errors.Is(err, errDiagUnsupported)
		return nil, false
	}
	sc.entries[key] = socketEntry{at: time.Now(), ports: ports}
	return ports, true
}

func (sc *socketCache) listeners(path string, udp bool, maxAge time.Duration) (map[int]struct{}, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if e, ok := sc.entries[path]; ok && time.Since(e.at) < maxAge {
		return e.ports, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ports := map[int]struct{}{}
	if err := scanSockets(f, udp, func(port int) { ports[port] = struct{}{} }); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sc.entries[path] = socketEntry{at: time.Now(), ports: ports}
	return ports, nil
}

// Socket states in /proc/net/{tcp,udp}: TCP_LISTEN; TCP_SYN_RECV, which
// kernels before 4.4 list right after their listener; and TCP_CLOSE, which
// an unconnected UDP socket shows (ss -lu lists it as UNCONN).
const (
	stateListen  = "0A"
	stateSynRecv = "03"
	stateClose   = "07"
)

// growingReader asks for little at first and doubles each read. The kernel
// fills a read of /proc/net/tcp only as far as asked, and lists listening
// sockets first, so a small first read finds a listener without walking
// the (possibly huge, possibly sparse) table of established connections.
type growingReader struct {
	r    io.Reader
	next int
}

func (g *growingReader) Read(p []byte) (int, error) {
	if len(p) > g.next {
		p = p[:g.next]
	}
	g.next = min(2*g.next, 64<<10)
	return g.r.Read(p)
}

// scanSockets calls fn with the port of every listening socket in r (a
// /proc/net/tcp-format table). Lines look like
//
//	sl  local_address rem_address   st tx_queue rx_queue …
//	0: 00000000:0050 00000000:0000 0A 00000000:00000000 …
//
// The kernel lists TCP listeners (and, before 4.4, their SYN_RECV
// requests) before every other socket, so a TCP scan stops at the first
// other line: the rest, established connections, never holds a listener.
// A UDP table has no such order and is read to its end.
func scanSockets(r io.Reader, udp bool, fn func(port int)) error {
	want := stateListen
	if udp {
		want = stateClose
	}
	sc := bufio.NewScanner(&growingReader{r: r, next: 4096})
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		_, rest := nextField(sc.Bytes()) // sl
		local, rest := nextField(rest)
		_, rest = nextField(rest) // rem_address
		st, _ := nextField(rest)
		if string(st) != want {
			if !udp && string(st) != stateSynRecv {
				return nil // past the listeners
			}
			continue
		}
		i := bytes.LastIndexByte(local, ':')
		if i < 0 {
			continue
		}
		if p, ok := parseHexPort(local[i+1:]); ok {
			fn(p)
		}
	}
	return sc.Err()
}

// nextField splits off the first space-separated field of b.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' {
		j++
	}
	return b[i:j], b[j:]
}

func parseHexPort(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 4 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int(c-'0')
		case c >= 'A' && c <= 'F':
			n = n<<4 | int(c-'A'+10)
		case c >= 'a' && c <= 'f':
			n = n<<4 | int(c-'a'+10)
		default:
			return 0, false
		}
	}
	return n, true
}
