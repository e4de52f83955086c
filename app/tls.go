package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/munja-sms/munja/config"
)

// CertReloader serves a certificate pair from files and re-reads it when a
// file's size or modification time changes (checked at most every
// CheckEvery, during handshakes) or when Reload is called. A pair that does
// not load (say, the certificate is renewed but the key not yet) keeps the
// previous certificate in service and is tried again at the next check.
type CertReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	// CheckEvery is how often handshakes look at the files (default 2s).
	CheckEvery time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // size and mtime of both files when cert was loaded
	checked time.Time
}

// NewCertReloader loads certFile and keyFile (errors name the config keys).
// log may be nil.
func NewCertReloader(certFile, keyFile string, log *slog.Logger) (*CertReloader, error) {
	switch {
	case certFile == "":
		return nil, errors.New("server.tls_cert: required when tls_key is set")
	case keyFile == "":
		return nil, errors.New("server.tls_key: required when tls_cert is set")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &CertReloader{certFile: certFile, keyFile: keyFile, log: log, CheckEvery: 2 * time.Second}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Config is a server tls.Config that takes its certificate from r.
func (r *CertReloader) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{ // TLS 1.2; TLS 1.3 suites are not configurable and all modern
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: r.GetCertificate,
	}
}

// Reload reads the files now. On error the previous certificate stays.
func (r *CertReloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.load(r.fileStamp())
}

// load reads the pair; r.mu must be held.
func (r *CertReloader) load(stamp string) error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("server.tls_cert/tls_key: %w", err)
	}
	r.cert, r.stamp = &cert, stamp
	return nil
}

func (r *CertReloader) fileStamp() string {
	var b strings.Builder
	for _, f := range []string{r.certFile, r.keyFile} {
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%d/%d;", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.String()
}

// GetCertificate implements tls.Config.GetCertificate.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= r.CheckEvery {
		r.checked = now
		if stamp := r.fileStamp(); stamp != r.stamp {
			if err := r.load(stamp); err != nil {
				r.log.Warn("TLS certificate changed but does not load; still serving the previous one", "err", err)
			} else {
				r.log.Info("TLS certificate reloaded", "file", r.certFile)
			}
		}
	}
	return r.cert, nil
}

// ReloadOnSIGHUP reloads the certificate on every SIGHUP until ctx ends.
func (r *CertReloader) ReloadOnSIGHUP(ctx context.Context) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	defer signal.Stop(ch)
	r.reloadOn(ctx, ch)
}

// reloadOn reloads the certificate on every signal from ch until ctx ends.
func (r *CertReloader) reloadOn(ctx context.Context, ch <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			if err := r.Reload(); err != nil {
				r.log.Warn("SIGHUP: TLS certificate not reloaded", "err", err)
			} else {
				r.log.Info("SIGHUP: TLS certificate reloaded")
			}
		}
	}
}

// handleSIGHUP answers SIGHUP (`systemctl reload munja`) until ctx ends:
// certs, when munja serves TLS, re-reads its files; without certificates
// the signal is only logged (left alone, it would end munja). ch is
// registered by the caller before munja says it serves, so no early
// reload can end it.
func handleSIGHUP(ctx context.Context, ch <-chan os.Signal, certs *CertReloader, log *slog.Logger) {
	if certs != nil {
		certs.reloadOn(ctx, ch)
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			log.Info("SIGHUP: nothing to reload (no TLS certificate configured; other settings need a restart)")
		}
	}
}

// RedirectHandler answers plain HTTP with a permanent redirect (308, which
// keeps the method and body) to the same path on HTTPS, as the original
// .htaccess did. The Location's host never comes from the request unless
// it is vouched for, so a forged Host header cannot send clients (or a
// cache) elsewhere:
//   - publicHost "name" or "name:port" (see RedirectHost): always that host;
//   - publicHost "" or ":port": the request's host name, on that port (443
//     when ""), only when certified(name) says the HTTPS certificate is
//     valid for it; any other name, or a nil certified, gets 400 and no
//     redirect. A name the certificate covers is one munja serves: an
//     attacker's host is not in it.
func RedirectHandler(publicHost string, certified func(name string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := publicHost
		if host == "" || strings.HasPrefix(host, ":") {
			name := r.Host
			if h, _, err := net.SplitHostPort(r.Host); err == nil {
				name = h
			}
			if !validHostName(name) || certified == nil || !certified(name) {
				http.Error(w, "missing, invalid or unknown Host header; use https:// with this server's name", http.StatusBadRequest)
				return
			}
			if strings.Contains(name, ":") {
				name = "[" + name + "]"
			}
			host = strings.TrimSuffix(name+host, ":443")
		}
		target := (&url.URL{Scheme: "https", Host: host}).String() + r.URL.RequestURI()
		w.Header().Set("Location", target)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusPermanentRedirect)
		if r.Method != http.MethodHead {
			fmt.Fprintf(w, "<a href=\"%s\">%s</a>\n", html.EscapeString(target), html.EscapeString(target))
		}
	})
}

// Certifies reports whether the certificate in service is valid for name
// (a DNS name, matching wildcards, or an IP literal).
func (r *CertReloader) Certifies(name string) bool {
	r.mu.Lock()
	cert := r.cert
	r.mu.Unlock()
	if cert == nil || cert.Leaf == nil {
		return false
	}
	return cert.Leaf.VerifyHostname(name) == nil
}

// validHostName accepts DNS names and IP literals (without brackets).
func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == ':', c == '_':
		default:
			return false
		}
	}
	return true
}

// RedirectHost is the publicHost for RedirectHandler, from the config
// only: the host of server.public_url (with its port when it is https, else
// with server.listen's port); else server.listen's host when it is a name
// (not an IP address, not localhost); else ":port" of server.listen ("" for
// 443), which leaves the name to the request, checked against the
// certificate.
func RedirectHost(cfg *config.Config) string {
	listenHost, port, err := net.SplitHostPort(cfg.Server.Listen)
	if err != nil || port == "443" {
		port = ""
	}
	withPort := func(name string) string {
		if strings.Contains(name, ":") {
			name = "[" + name + "]"
		}
		if port == "" {
			return name
		}
		return name + ":" + port
	}
	if u, err := url.Parse(cfg.Server.PublicURL); err == nil && u.Hostname() != "" && validHostName(u.Hostname()) {
		if u.Scheme == "https" {
			return strings.TrimSuffix(u.Host, ":443")
		}
		return withPort(u.Hostname())
	}
	if validHostName(listenHost) && net.ParseIP(listenHost) == nil && !strings.EqualFold(listenHost, "localhost") {
		return withPort(listenHost)
	}
	if port == "" {
		return ""
	}
	return ":" + port
}

// RedirectServer is the plain-HTTP server for server.redirect_http, or nil
// when it is not set. Its Addr is the address to listen on. certs (the
// HTTPS certificate; nil for none) decides which request host names may be
// used when the config names no host (RedirectHandler).
func RedirectServer(cfg *config.Config, certs *CertReloader, log *slog.Logger) *http.Server {
	if cfg.Server.RedirectHTTP == "" {
		return nil
	}
	var certified func(string) bool
	if certs != nil {
		certified = certs.Certifies
	}
	return &http.Server{
		Addr: cfg.Server.RedirectHTTP, Handler: RedirectHandler(RedirectHost(cfg), certified),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
