package check

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
)

func newListenT(t testing.TB, port int, proto string) *listenCheck {
	t.Helper()
	c, err := NewListen(config.Check{Name: "port", Type: "listen", Port: port, Protocol: proto}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	lc := c.(*listenCheck)
	lc.share = 0 // tests open and close sockets between runs
	return lc
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
			if broken := r.Unknown && strings.Contains(r.Firing, "점검 불가: "); broken != tt.broken {
				t.Errorf("firing %q, broken want %v", r.Firing, tt.broken)
			}
		})
	}
}

// synthTable is a /proc/net/tcp with listeners listening sockets (port 80
// the last of them) followed by established ones.
func synthTable(listeners, established int) []byte {
	var b bytes.Buffer
	b.WriteString(tcpHeader)
	for i := range listeners {
		port := 10000 + i
		if i == listeners-1 {
			port = 80
		}
		fmt.Fprintf(&b, "%4d: 00000000:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000000000000 100 0 0 10 0\n", i, port, 5000+i)
	}
	for i := range established {
		fmt.Fprintf(&b, "%4d: 0A00000A:%04X 0A00000B:%04X 01 00000000:00000000 02:000A7B2C 00000000  1000        0 %d 2 0000000000000000 20 4 30 10 -1\n", listeners+i, 1024+i%60000, 443, 100000+i)
	}
	return b.Bytes()
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r *bytes.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestScanSocketsStopsAfterListeners(t *testing.T) {
	table := synthTable(300, 20000)
	found, err := hasPort(bytes.NewReader(table), 80, false)
	if err != nil || !found {
		t.Fatalf("port 80, the 300th listener: found %v, %v", found, err)
	}
	cr := &countingReader{r: bytes.NewReader(table)}
	found, err = hasPort(cr, 443, false)
	if err != nil || found {
		t.Fatalf("443 is only a remote port here: found %v, %v", found, err)
	}
	if cr.n > len(table)/10 {
		t.Errorf("read %d of %d bytes; the established part should not be read", cr.n, len(table))
	}
	// Before Linux 4.4 SYN_RECV requests follow their listener.
	old := tcpHeader +
		"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n" +
		"   1: 0100007F:0050 0100007F:D2F0 03 00000000:00000000 00:00000000 00000000     0        0 0 1 0 100 0 0 10 0\n" +
		"   2: 00000000:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n"
	if found, _ := hasPort(strings.NewReader(old), 443, false); !found {
		t.Error("listener after a SYN_RECV line not found")
	}
	// A UDP table has no order: read to the end.
	udp := tcpHeader +
		"   0: 0100007F:0035 0100007F:1234 01 00000000:00000000 00:00000000 00000000     0        0 1 2 0 0\n" +
		"   1: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2 2 0 0\n"
	if found, _ := hasPort(strings.NewReader(udp), 53, true); !found {
		t.Error("udp socket after a connected one not found")
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
	b.Run("synthetic-50-listeners-10k-established", func(b *testing.B) {
		table := synthTable(50, 10000)
		b.ReportAllocs()
		for b.Loop() {
			if found, _ := hasPort(bytes.NewReader(table), 80, false); !found {
				b.Fatal("not found")
			}
		}
	})
	b.Run("synthetic-2000-listeners", func(b *testing.B) {
		table := synthTable(2000, 0)
		b.SetBytes(int64(len(table)))
		b.ReportAllocs()
		for b.Loop() {
			if found, _ := hasPort(bytes.NewReader(table), 80, false); !found {
				b.Fatal("not found")
			}
		}
	})
}

// hasPort reports whether scanSockets finds a listener on port.
func hasPort(r io.Reader, port int, udp bool) (bool, error) {
	found := false
	err := scanSockets(r, udp, func(p int) { found = found || p == port })
	return found, err
}

func TestListenChecksShareOneRead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	c, d := newListenT(t, port, ""), newListenT(t, port, "")
	d.share = time.Hour
	c.cache = &socketCache{entries: map[string]socketEntry{}}
	d.cache = c.cache
	if !c.Run(context.Background()).OK { // fresh read, shared from now on
		t.Fatal("listening port not found")
	}
	ln.Close()
	if !d.Run(context.Background()).OK {
		t.Fatal("a second check did not reuse the first one's read")
	}
	c.share = shareFor
	time.Sleep(2 * shareFor)
	if c.Run(context.Background()).OK {
		t.Fatal("a closed port is still reported listening after the sharing window")
	}
}
