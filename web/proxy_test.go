package web

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestProxyHeaders(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	cases := []struct {
		name, peer string
		xff        []string
		proto      string
		tls        bool
		wantIP     string // "" = unknown
		wantHTTPS  bool
		kept       bool // X-Forwarded-* still visible to handlers
	}{
		{name: "direct", peer: "203.0.113.5:1234", wantIP: "203.0.113.5"},
		{name: "direct TLS", peer: "203.0.113.5:1234", tls: true, wantIP: "203.0.113.5", wantHTTPS: true},
		{name: "untrusted peer spoofs", peer: "203.0.113.5:1234", xff: []string{"127.0.0.1"}, proto: "https", wantIP: "203.0.113.5"},
		{name: "trusted proxy", peer: "10.1.2.3:5555", xff: []string{"198.51.100.7"}, proto: "https", wantIP: "198.51.100.7", wantHTTPS: true, kept: true},
		{name: "trusted proxy http", peer: "10.1.2.3:5555", xff: []string{"198.51.100.7"}, proto: "http", wantIP: "198.51.100.7", kept: true},
		{name: "client-supplied hop is skipped", peer: "10.1.2.3:5555", xff: []string{"127.0.0.1, 198.51.100.7"}, wantIP: "198.51.100.7", kept: true},
		{name: "chain of proxies", peer: "10.1.2.3:5555", xff: []string{"198.51.100.7, 10.4.4.4", "10.5.5.5"}, wantIP: "198.51.100.7", kept: true},
		{name: "all hops trusted", peer: "10.1.2.3:5555", xff: []string{"10.7.7.7, 10.4.4.4"}, wantIP: "10.7.7.7", kept: true},
		{name: "hop with port", peer: "10.1.2.3:5555", xff: []string{"198.51.100.7:4711"}, wantIP: "198.51.100.7", kept: true},
		{name: "IPv6 hop", peer: "[fd00::1]:443", xff: []string{"[2001:db8::5]:80"}, wantIP: "2001:db8::5", kept: true},
		{name: "malformed", peer: "10.1.2.3:5555", xff: []string{"198.51.100.7, garbage"}, wantIP: "", kept: true},
		{name: "no XFF", peer: "10.1.2.3:5555", proto: "https", wantIP: "10.1.2.3", wantHTTPS: true, kept: true},
		{name: "proto list", peer: "10.1.2.3:5555", proto: "HTTPS, http", wantIP: "10.1.2.3", wantHTTPS: true, kept: true},
		{name: "proxy says http over TLS", peer: "10.1.2.3:5555", proto: "http", tls: true, wantIP: "10.1.2.3", kept: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var gotIP string
			var gotHTTPS, kept bool
			h := ProxyHeaders(proxies)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if ip, ok := ClientIP(r); ok {
					gotIP = ip.String()
				}
				gotHTTPS = IsHTTPS(r)
				kept = r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("X-Forwarded-Proto") != ""
			}))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if gotIP != tc.wantIP || gotHTTPS != tc.wantHTTPS {
				t.Errorf("client %q https %v, want %q %v", gotIP, gotHTTPS, tc.wantIP, tc.wantHTTPS)
			}
			if hasHeaders := len(tc.xff) > 0 || tc.proto != ""; hasHeaders && kept != tc.kept {
				t.Errorf("forwarded headers kept = %v, want %v", kept, tc.kept)
			}
		})
	}
}

// TestProxyAndTrustedNetworks: behind a trusted proxy, trusted_networks
// applies to the forwarded client, never to the proxy itself.
func TestProxyAndTrustedNetworks(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.9.9.9/32"), netip.MustParsePrefix("127.0.0.2/32")}
	})
	send := `{"to":["01012345678"],"text":"x"}`
	cases := []struct {
		name, from string
		xff        string
		want       int
	}{
		{"forwarded internet client", proxyAddr, "203.0.113.5", 401},
		{"forwarded trusted client", proxyAddr, "127.0.0.1", 202},
		{"client spoofs the leftmost hop", proxyAddr, "127.0.0.1, 203.0.113.5", 401},
		{"proxy without XFF is the client", proxyAddr, "", 401},
		{"proxy inside trusted_networks forwards internet client", "127.0.0.2:80", "203.0.113.5", 401},
		{"proxy inside trusted_networks with malformed XFF", "127.0.0.2:80", "not-an-ip", 401},
		{"untrusted peer spoofs", untrusted, "127.0.0.1", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.xff != "" {
				h.Set("X-Forwarded-For", tc.xff)
			}
			w := f.do(req{method: "POST", path: "/api/v1/messages", body: send, from: tc.from, header: h})
			if w.Code != tc.want {
				t.Errorf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
		})
	}
}

func TestHSTS(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.9.9.9/32")} })
	cases := []struct {
		name, from, proto string
		tls               bool
		want              bool
	}{
		{"plain HTTP", untrusted, "", false, false},
		{"TLS", untrusted, "", true, true},
		{"trusted proxy says https", proxyAddr, "https", false, true},
		{"untrusted peer says https", untrusted, "https", false, false},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/healthz", nil)
		r.RemoteAddr = tc.from
		if tc.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, r)
		if got := w.Header().Get("Strict-Transport-Security") != ""; got != tc.want {
			t.Errorf("%s: HSTS %v, want %v", tc.name, got, tc.want)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: security headers missing: %v", tc.name, w.Header())
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes("server.trusted_proxies", []string{"10.0.0.0/8", " 192.168.1.7 ", "::1", "10.1.2.3/8"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[10.0.0.0/8 192.168.1.7/32 ::1/128 10.0.0.0/8]" {
		t.Errorf("got %v", got)
	}
	if _, err := ParsePrefixes("server.trusted_proxies", []string{"10.0.0.0/8", "nope"}); err == nil || !strings.Contains(err.Error(), "server.trusted_proxies[1]") {
		t.Errorf("error %v does not name the key", err)
	}
}

// TestBodyLimits: every way of sending a body larger than MaxBody gets 413
// and stores nothing.
func TestBodyLimits(t *testing.T) {
	f := newFixture(t)
	big := strings.Repeat("가", MaxBody/3+10) // > 1 MiB in UTF-8
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("receiver", "01012345678")
	_ = mw.WriteField("msg", big)
	_ = mw.Close()
	f.must(req{path: "/api/v1/groups", token: "admin"}, 200) // the token's first use is recorded
	cases := []struct {
		name, method, path, body, ctype string
	}{
		{"message JSON", "POST", "/api/v1/messages", `{"to":["01012345678"],"text":"` + big + `"}`, ""},
		{"message JSON whitespace", "POST", "/api/v1/messages", `{"to":["01012345678"],"text":"x"` + strings.Repeat(" ", MaxBody) + `}`, ""},
		{"compat urlencoded", "POST", "/api/v1/send", url.Values{"receiver": {"01012345678"}, "msg": {big}}.Encode(), "application/x-www-form-urlencoded"},
		{"compat php path", "POST", "/sms/aligo_send.php", url.Values{"receiver": {"01012345678"}, "msg": {big}}.Encode(), "application/x-www-form-urlencoded"},
		{"compat multipart", "POST", "/api/v1/send", mp.String(), mw.FormDataContentType()},
		{"contact", "POST", "/api/v1/contacts", `{"name":"a","phone":"01012345678","memo":"` + big + `"}`, ""},
		{"template", "PUT", "/api/v1/templates/1", `{"name":"a","text":"` + big + `"}`, ""},
		{"silence", "POST", "/api/v1/silences", `{"until":"2099-01-01T00:00:00Z","comment":"` + big + `"}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.snapshot()
			w := f.do(req{method: tc.method, path: tc.path, body: tc.body, ctype: tc.ctype, token: "admin"})
			if w.Code != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413: %.200s", w.Code, w.Body)
			}
			if after := f.snapshot(); after != before {
				t.Error("oversized request changed state")
			}
		})
	}
	// Just under the limit is fine.
	ok := `{"to":["01012345678"],"text":"x"` + strings.Repeat(" ", MaxBody-100) + `}`
	f.must(req{method: "POST", path: "/api/v1/messages", body: ok, token: "send"}, 202)
}
