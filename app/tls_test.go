package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/store/sqlite"
	"github.com/munja-sms/munja/web"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with the given
// serial number to dir/cert.pem and dir/key.pem.
func writeCert(t *testing.T, dir string, serial int64) (certFile, keyFile string, der []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	noErr(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "munja test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	noErr(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	noErr(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	noErr(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	noErr(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	mtime := time.Unix(1_700_000_000+serial, 0) // distinct even on coarse file systems
	noErr(t, os.Chtimes(certFile, mtime, mtime))
	noErr(t, os.Chtimes(keyFile, mtime, mtime))
	return certFile, keyFile, der
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// serveTLS serves h over TLS with cfg on 127.0.0.1 and returns the address.
func serveTLS(t *testing.T, cfg *tls.Config, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	noErr(t, err)
	srv := &http.Server{Handler: h, TLSConfig: cfg, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// serial dials addr and returns the serial number the server presented.
func serial(t *testing.T, addr string, cfg *tls.Config) int64 {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	noErr(t, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func TestCertReloaderErrorsNameTheKeys(t *testing.T) {
	if _, err := NewCertReloader("x.pem", "", nil); err == nil || !strings.Contains(err.Error(), "server.tls_key") {
		t.Errorf("cert without key: %v", err)
	}
	if _, err := NewCertReloader("x.pem", "/nonexistent/key.pem", nil); err == nil || !strings.Contains(err.Error(), "server.tls_cert/tls_key") {
		t.Errorf("missing files: %v", err)
	}
}

// TestHTTPSWithWebServer serves the real API over TLS from the config keys:
// TLS 1.2+ only, HSTS on every answer, and HTTP/2 offered.
func TestHTTPSWithWebServer(t *testing.T) {
	dir := t.TempDir()
	cert, key, der := writeCert(t, dir, 1)
	certs, err := NewCertReloader(cert, key, nil)
	noErr(t, err)
	tc := certs.Config()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "munja.db"), slog.New(slog.DiscardHandler))
	noErr(t, err)
	defer db.Close()
	addr := serveTLS(t, tc, web.New(web.Options{Store: db, Outbox: outbox.New(outbox.Options{Store: db})}))

	pool := x509.NewCertPool()
	c, _ := x509.ParseCertificate(der)
	pool.AddCert(c)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true,
	}}
	resp, err := client.Get("https://" + addr + "/healthz")
	noErr(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("status %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("protocol %s, want HTTP/2", resp.Proto)
	}
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		_, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MaxVersion: v})
		if err == nil {
			t.Errorf("TLS version %x accepted", v)
		}
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12})
	noErr(t, err)
	if st := conn.ConnectionState(); st.Version != tls.VersionTLS12 || !strings.Contains(tls.CipherSuiteName(st.CipherSuite), "GCM") && !strings.Contains(tls.CipherSuiteName(st.CipherSuite), "CHACHA20") {
		t.Errorf("TLS 1.2 negotiated %s", tls.CipherSuiteName(st.CipherSuite))
	}
	conn.Close()
}

// TestCertReload: a renewed certificate is served after the files change;
// a broken pair keeps the previous one; Reload works on demand.
func TestCertReload(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := writeCert(t, dir, 100)
	r, err := NewCertReloader(cert, key, nil)
	noErr(t, err)
	r.CheckEvery = 0
	addr := serveTLS(t, r.Config(), http.NotFoundHandler())
	client := &tls.Config{InsecureSkipVerify: true}
	if got := serial(t, addr, client); got != 100 {
		t.Fatalf("serial %d", got)
	}
	writeCert(t, dir, 200)
	if got := serial(t, addr, client); got != 200 {
		t.Errorf("after renewal: serial %d, want 200", got)
	}
	noErr(t, os.WriteFile(key, []byte("half-written"), 0o600))
	if got := serial(t, addr, client); got != 200 {
		t.Errorf("broken key: serial %d, want the previous 200", got)
	}
	if err := r.Reload(); err == nil {
		t.Error("Reload of a broken pair succeeded")
	}
	writeCert(t, dir, 300)
	r.CheckEvery = time.Hour // only Reload can pick it up now
	noErr(t, r.Reload())
	if got := serial(t, addr, client); got != 300 {
		t.Errorf("after Reload: serial %d, want 300", got)
	}
}

// TestRedirectListener runs the redirect on a real plain-HTTP listener and
// follows it to a real HTTPS server.
func TestRedirectListener(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := writeCert(t, dir, 7)
	r, err := NewCertReloader(cert, key, nil)
	noErr(t, err)
	httpsAddr := serveTLS(t, r.Config(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" "+string(body))
	}))
	_, httpsPort, _ := net.SplitHostPort(httpsAddr)

	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:" + httpsPort
	cfg.Server.RedirectHTTP = "127.0.0.1:0"
	rs := RedirectServer(cfg, r, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", rs.Addr)
	noErr(t, err)
	go func() { _ = rs.Serve(ln) }()
	defer rs.Close()

	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://" + ln.Addr().String() + "/sms/send_form.php?x=1&y=%ED%95%9C")
	noErr(t, err)
	resp.Body.Close()
	want := "https://127.0.0.1:" + httpsPort + "/sms/send_form.php?x=1&y=%ED%95%9C"
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Fatalf("%d Location %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	follow := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err = follow.Post("http://"+ln.Addr().String()+"/api/v1/send", "application/x-www-form-urlencoded", strings.NewReader("msg=x"))
	noErr(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "POST /api/v1/send msg=x" || resp.TLS == nil {
		t.Errorf("followed POST: %q (TLS %v)", body, resp.TLS != nil)
	}
}

func TestRedirectHandler(t *testing.T) {
	certified := func(name string) bool { return name == "example.com" || name == "2001:db8::1" }
	cases := []struct {
		publicHost, host, target, want string
		status                         int
	}{
		{"", "example.com", "/a?b=1", "https://example.com/a?b=1", 308},
		{"", "example.com:80", "/", "https://example.com/", 308},
		{":8443", "example.com:8080", "/x", "https://example.com:8443/x", 308},
		{":443", "example.com:80", "/x", "https://example.com/x", 308},
		{"munja.example.kr", "10.0.0.1", "/x", "https://munja.example.kr/x", 308},
		{"", "[2001:db8::1]:80", "/x", "https://[2001:db8::1]/x", 308},
		{"", "evil.com/<script>", "/", "", 400},
		{"", "", "/", "", 400},
		// A name the certificate does not cover is never reflected.
		{"", "evil.example", "/", "", 400},
		{":8443", "evil.example:8080", "/x", "", 400},
		{"", "10.0.0.1", "/", "", 400},
	}
	for _, tc := range cases {
		r, _ := http.NewRequest("GET", "http://placeholder"+tc.target, nil)
		r.Host = tc.host
		w := &recorder{header: http.Header{}}
		RedirectHandler(tc.publicHost, certified).ServeHTTP(w, r)
		if w.status != tc.status || w.header.Get("Location") != tc.want {
			t.Errorf("%q %q: %d %q, want %d %q", tc.publicHost, tc.host, w.status, w.header.Get("Location"), tc.status, tc.want)
		}
	}
	// Without a certificate to vouch for it, no request host is used.
	r, _ := http.NewRequest("GET", "http://example.com/", nil)
	w := &recorder{header: http.Header{}}
	RedirectHandler("", nil).ServeHTTP(w, r)
	if w.status != 400 || w.header.Get("Location") != "" {
		t.Errorf("no certificate: %d %q, want 400 without Location", w.status, w.header.Get("Location"))
	}
}

// TestRedirectIgnoresHostHeader: the redirect server built from the config
// sends every client to server.public_url's host (or server.listen's name),
// whatever Host the request claims (issue 11: open redirect, cache
// poisoning); with neither, only names in the TLS certificate are used.
func TestRedirectIgnoresHostHeader(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := writeCert(t, dir, 9) // for 127.0.0.1 and localhost
	certs, err := NewCertReloader(cert, key, nil)
	noErr(t, err)
	for _, tc := range []struct{ public, listen, host, want string }{
		{"https://munja.example.kr", ":443", "evil.example", "https://munja.example.kr/x?y=1"},
		{"https://munja.example.kr:8443/", ":8443", "evil.example:80", "https://munja.example.kr:8443/x?y=1"},
		{"http://munja.example.kr:8080", "0.0.0.0:8443", "evil.example", "https://munja.example.kr:8443/x?y=1"},
		{"", "munja.internal:8443", "evil.example", "https://munja.internal:8443/x?y=1"},
		{"", ":8443", "evil.example", ""},
		{"", "0.0.0.0:443", "evil.example", ""},
		{"", ":8443", "127.0.0.1:80", "https://127.0.0.1:8443/x?y=1"},
		{"", ":443", "localhost", "https://localhost/x?y=1"},
	} {
		cfg := config.Default()
		cfg.Server.PublicURL, cfg.Server.Listen, cfg.Server.RedirectHTTP = tc.public, tc.listen, ":0"
		rs := RedirectServer(cfg, certs, slog.New(slog.DiscardHandler))
		r, _ := http.NewRequest("GET", "http://placeholder/x?y=1", nil)
		r.Host = tc.host
		w := &recorder{header: http.Header{}}
		rs.Handler.ServeHTTP(w, r)
		status := 308
		if tc.want == "" {
			status = 400
		}
		if loc := w.header.Get("Location"); loc != tc.want || w.status != status || strings.Contains(loc, "evil") {
			t.Errorf("public_url %q listen %q Host %q: %d %q, want %d %q", tc.public, tc.listen, tc.host, w.status, loc, status, tc.want)
		}
	}
}

type recorder struct {
	header http.Header
	status int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(s int)           { r.status = s }

func TestRedirectHost(t *testing.T) {
	for _, tc := range []struct{ public, listen, want string }{
		{"https://munja.example.kr", ":443", "munja.example.kr"},
		{"https://munja.example.kr:8443/", ":8443", "munja.example.kr:8443"},
		{"http://munja.example.kr", "0.0.0.0:8443", "munja.example.kr:8443"},
		{"http://munja.example.kr:8080", ":443", "munja.example.kr"},
		{"", "munja.example.kr:443", "munja.example.kr"},
		{"", "munja.example.kr:8443", "munja.example.kr:8443"},
		{"", "localhost:8443", ":8443"},
		{"", "10.0.0.5:8443", ":8443"},
		{"", ":443", ""},
	} {
		cfg := config.Default()
		cfg.Server.PublicURL, cfg.Server.Listen = tc.public, tc.listen
		if got := RedirectHost(cfg); got != tc.want {
			t.Errorf("%q %q: %q, want %q", tc.public, tc.listen, got, tc.want)
		}
	}
	if RedirectServer(config.Default(), nil, slog.New(slog.DiscardHandler)) != nil {
		t.Error("redirect server without redirect_http")
	}
}
