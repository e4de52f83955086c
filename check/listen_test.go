package check

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munja-sms/munja/config"
)

func newListenT(t testing.TB, port int, proto string) *listenCheck {
	t.Helper()
	c, err := NewListen(config.Check{Name: "port", Type: "listen", Port: port, Protocol: proto}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return c.(*listenCheck)
}

func TestListenRealSockets(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Skipf("cannot listen on %s: %v", addr, err)
			}
			port := ln.Addr().(*net.TCPAddr).Port
			c := newListenT(t, port, "")
			r := c.Run(context.Background())
			if !r.OK {
				t.Fatalf("listening port not found: %s", r.Detail)
			}
			if want := fmt.Sprintf("[복구] %d 포트가 다시 열렸습니다.", port); r.Resolved != want {
				t.Errorf("resolved = %q, want %q", r.Resolved, want)
			}
			// An established connection to the port is not a listener once
			// the listener is gone.
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
			ln.Close()
			r = c.Run(context.Background())
			if r.OK {
				t.Fatalf("closed port still listening: %s", r.Detail)
			}
			if want := fmt.Sprintf("[경고] %d 포트가 열려있지 않습니다.", port); r.Firing != want {
				t.Errorf("firing = %q, want %q", r.Firing, want)
			}
		})
	}
}

func TestListenUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	c := newListenT(t, port, "udp")
	if r := c.Run(context.Background()); !r.OK {
		t.Fatalf("udp socket not found: %s", r.Detail)
	}
	if r := newListenT(t, port, "tcp").Run(context.Background()); r.OK {
		t.Fatalf("udp socket counted as tcp listener: %s", r.Detail)
	}
	pc.Close()
	r := c.Run(context.Background())
	if r.OK {
		t.Fatalf("closed udp socket still found: %s", r.Detail)
	}
	if want := fmt.Sprintf("[경고] %d/udp 포트가 열려있지 않습니다.", port); r.Firing != want {
		t.Errorf("firing = %q, want %q", r.Firing, want)
	}
}

const tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

func TestListenFixtures(t *testing.T) {
	tests := []struct {
		name       string
		tcp, tcp6  string // "" = file missing
		port       int
		ok, broken bool
	}{
		{"v4 listener on 80", tcpHeader +
			"   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n" +
			"   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n",
			tcpHeader, 80, true, false},
		{"established on 80 is not listening", tcpHeader +
			"   0: 0100007F:0050 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1\n",
			tcpHeader, 80, false, false},
		{"v6 only, no tcp file", "", tcpHeader +
			"   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1 0 100 0 0 10 0\n",
			8080, true, false},
		{"port 8 does not match 80", tcpHeader +
			"   0: 00000000:0008 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n",
			"", 80, false, false},
		{"no files at all", "", "", 80, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "net"), 0o755)
			for name, content := range map[string]string{"tcp": tt.tcp, "tcp6": tt.tcp6} {
				if content != "" {
					os.WriteFile(filepath.Join(dir, "net", name), []byte(content), 0o644)
				}
			}
			c := newListenT(t, tt.port, "")
			c.proc = dir
			r := c.Run(context.Background())
			if r.OK != tt.ok {
				t.Fatalf("OK = %v, want %v: %s", r.OK, tt.ok, r.Detail)
			}
			if broken := strings.Contains(r.Firing, "점검을 수행할 수 없습니다"); broken != tt.broken {
				t.Errorf("firing %q, broken want %v", r.Firing, tt.broken)
			}
		})
	}
}

// synthTable is a /proc/net/tcp with n established sockets and, last, one
// listener on port 80.
func synthTable(n int) []byte {
	var b bytes.Buffer
	b.WriteString(tcpHeader)
	for i := range n {
		fmt.Fprintf(&b, "%4d: 0A00000A:%04X 0A00000B:%04X 01 00000000:00000000 02:000A7B2C 00000000  1000        0 %d 2 0000000000000000 20 4 30 10 -1\n", i, 1024+i%60000, 443, 100000+i)
	}
	fmt.Fprintf(&b, "%4d: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0\n", n)
	return b.Bytes()
}

func TestScanSocketsLargeTable(t *testing.T) {
	table := synthTable(20000)
	found, err := scanSockets(bytes.NewReader(table), 80, false)
	if err != nil || !found {
		t.Fatalf("listener after 20000 sockets: found %v, %v", found, err)
	}
	found, err = scanSockets(bytes.NewReader(table), 443, false)
	if err != nil || found {
		t.Fatalf("443 is only a remote port here: found %v, %v", found, err)
	}
}

func BenchmarkListenScan(b *testing.B) {
	b.Run("proc", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		c := newListenT(b, ln.Addr().(*net.TCPAddr).Port, "")
		b.ReportAllocs()
		for b.Loop() {
			if !c.Run(context.Background()).OK {
				b.Fatal("not found")
			}
		}
	})
	b.Run("proc-not-listening", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		c := newListenT(b, port, "")
		b.ReportAllocs()
		for b.Loop() {
			if c.Run(context.Background()).OK {
				b.Fatal("closed port found")
			}
		}
	})
	b.Run("synthetic-10k-sockets", func(b *testing.B) {
		table := synthTable(10000)
		b.SetBytes(int64(len(table)))
		b.ReportAllocs()
		for b.Loop() {
			if found, _ := scanSockets(bytes.NewReader(table), 80, false); !found {
				b.Fatal("not found")
			}
		}
	})
}
