package check

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// diagOrSkip dumps through sock_diag, skipping where the sandbox forbids it.
func diagOrSkip(t *testing.T, udp bool) map[int]struct{} {
	t.Helper()
	ports, err := diagListeners(udp)
	if errors.Is(err, errDiagUnsupported) {
		t.Skipf("sock_diag not available here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ports
}

func TestDiagListenersRealSockets(t *testing.T) {
	tests := []struct {
		name, network, addr string
	}{
		{"tcp4", "tcp", "127.0.0.1:0"},
		{"tcp6", "tcp", "[::1]:0"},
		{"udp4", "udp", "127.0.0.1:0"},
		{"udp6", "udp", "[::1]:0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			udp := tt.network == "udp"
			var port int
			var closeFn func() error
			if udp {
				pc, err := net.ListenPacket(tt.network, tt.addr)
				if err != nil {
					t.Skipf("cannot bind %s: %v", tt.addr, err)
				}
				port, closeFn = pc.LocalAddr().(*net.UDPAddr).Port, pc.Close
			} else {
				ln, err := net.Listen(tt.network, tt.addr)
				if err != nil {
					t.Skipf("cannot listen on %s: %v", tt.addr, err)
				}
				port, closeFn = ln.Addr().(*net.TCPAddr).Port, ln.Close
			}
			if _, ok := diagOrSkip(t, udp)[port]; !ok {
				t.Fatalf("port %d not in the sock_diag dump", port)
			}
			closeFn()
			if _, ok := diagOrSkip(t, udp)[port]; ok {
				t.Fatalf("closed port %d still in the sock_diag dump", port)
			}
		})
	}
}

func TestDiagSkipsConnectedSockets(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client := conn.LocalAddr().(*net.TCPAddr).Port
	if _, ok := diagOrSkip(t, false)[client]; ok {
		t.Fatalf("the client side of an established connection (port %d) is listed as listening", client)
	}
	// A connected UDP socket is not "unconnected" (ss -lu does not list it).
	uc, err := net.Dial("udp", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	if p := uc.LocalAddr().(*net.UDPAddr).Port; func() bool { _, ok := diagOrSkip(t, true)[p]; return ok }() {
		t.Fatalf("connected udp socket on %d listed", p)
	}
}

// TestListenUsesDiag: with a working dump the check answers from it, not
// from /proc/net.
func TestListenUsesDiag(t *testing.T) {
	calls := 0
	c := newListenT(t, 4242, "")
	c.cache = &socketCache{entries: map[string]socketEntry{}, dump: func(udp bool) (map[int]struct{}, error) {
		calls++
		return map[int]struct{}{4242: {}}, nil
	}}
	for range 3 {
		if r := c.Run(context.Background()); !r.OK {
			t.Fatalf("port from the dump not found: %s", r.Detail)
		}
	}
	if calls != 3 { // share is 0 in tests: one dump per run
		t.Errorf("dump called %d times, want 3", calls)
	}
}

func TestListenDiagFallback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name      string
		err       error
		wantCalls int // dump calls over three runs
	}{
		{"EPERM turns it off for good", diagErr("netlink socket", unix.EPERM), 1},
		{"EPROTONOSUPPORT turns it off for good", diagErr("netlink socket", unix.EPROTONOSUPPORT), 1},
		{"ENOENT (no diag module) turns it off", diagErr("sock_diag dump", unix.ENOENT), 1},
		{"a passing failure is retried", diagErr("sock_diag dump", unix.ENOBUFS), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			c := newListenT(t, port, "")
			c.cache = &socketCache{entries: map[string]socketEntry{}, dump: func(bool) (map[int]struct{}, error) {
				calls++
				return nil, tt.err
			}}
			for range 3 {
				if r := c.Run(context.Background()); !r.OK {
					t.Fatalf("listener not found through /proc/net: %s", r.Detail)
				}
			}
			if calls != tt.wantCalls {
				t.Errorf("dump called %d times, want %d", calls, tt.wantCalls)
			}
		})
	}
}

// nlmsg builds one netlink message of type typ with payload.
func nlmsg(typ uint16, seq uint32, payload []byte) []byte {
	l := nlmsgHdrLen + len(payload)
	b := make([]byte, (l+3)&^3)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(l))
	ne.PutUint16(b[4:], typ)
	ne.PutUint32(b[8:], seq)
	copy(b[nlmsgHdrLen:], payload)
	return b
}

func diagMsg(port uint16) []byte {
	p := make([]byte, 72) // sizeof(struct inet_diag_msg)
	p[0], p[1] = unix.AF_INET, tcpListen
	binary.BigEndian.PutUint16(p[4:], port)
	return p
}

func errMsg(errno unix.Errno) []byte {
	p := make([]byte, 4+nlmsgHdrLen)
	binary.NativeEndian.PutUint32(p, uint32(-int32(errno)))
	return p
}

func TestParseDump(t *testing.T) {
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	tests := []struct {
		name    string
		in      []byte
		ports   []int
		done    bool
		wantErr error
	}{
		{"two sockets then done", cat(nlmsg(unix.SOCK_DIAG_BY_FAMILY, 1, diagMsg(80)), nlmsg(unix.SOCK_DIAG_BY_FAMILY, 1, diagMsg(0x1F90)), nlmsg(unix.NLMSG_DONE, 1, make([]byte, 4))), []int{80, 8080}, true, nil},
		{"more to come", nlmsg(unix.SOCK_DIAG_BY_FAMILY, 1, diagMsg(443)), []int{443}, false, nil},
		{"other sequence skipped", cat(nlmsg(unix.SOCK_DIAG_BY_FAMILY, 7, diagMsg(22)), nlmsg(unix.NLMSG_DONE, 1, nil)), nil, true, nil},
		{"kernel error", nlmsg(unix.NLMSG_ERROR, 1, errMsg(unix.ENOENT)), nil, false, unix.ENOENT},
		{"ack is not an error", cat(nlmsg(unix.NLMSG_ERROR, 1, errMsg(0)), nlmsg(unix.NLMSG_DONE, 1, nil)), nil, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			done, err := parseDump(tt.in, 1, func(p int) { got = append(got, p) })
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if done != tt.done || fmt.Sprint(got) != fmt.Sprint(tt.ports) {
				t.Errorf("got %v done %v, want %v done %v", got, done, tt.ports, tt.done)
			}
		})
	}
	tooLong := nlmsg(unix.NLMSG_DONE, 1, make([]byte, 4))
	binary.NativeEndian.PutUint32(tooLong, 64)
	for _, bad := range [][]byte{
		nlmsg(unix.SOCK_DIAG_BY_FAMILY, 1, []byte{2, 10}), // short inet_diag_msg
		nlmsg(unix.NLMSG_ERROR, 1, []byte{1}),             // short error
		tooLong,                                           // length beyond the buffer
	} {
		if _, err := parseDump(bad, 1, func(int) {}); err == nil {
			t.Errorf("parseDump(%x) = nil error", bad)
		}
	}
}

func BenchmarkDiagListeners(b *testing.B) {
	if _, err := diagListeners(false); err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := diagListeners(false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListenProcFallback is a listen check reading /proc/net (no
// sock_diag), for comparison with BenchmarkDiagListeners.
func BenchmarkListenProcFallback(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	c := newListenT(b, ln.Addr().(*net.TCPAddr).Port, "")
	c.cache = &socketCache{entries: map[string]socketEntry{}}
	b.ReportAllocs()
	for b.Loop() {
		if !c.Run(context.Background()).OK {
			b.Fatal("not found")
		}
	}
}
