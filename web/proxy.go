package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// client is what ProxyHeaders learned about the request's origin.
type client struct {
	addr  netip.Addr
	ok    bool // addr is known (false: a trusted proxy sent a malformed X-Forwarded-For)
	https bool
}

type clientKey struct{}

// ProxyHeaders returns middleware that takes the client address from
// X-Forwarded-For and the scheme from X-Forwarded-Proto, but only when the
// connection's peer is in trusted (server.trusted_proxies). From any other
// peer those headers are removed, so no handler can be misled by them.
//
// The client is the rightmost X-Forwarded-For address that is not itself a
// trusted proxy. A trusted proxy that sends a malformed X-Forwarded-For
// leaves the client unknown: such a request is never counted as coming from
// server.trusted_networks. A trusted proxy that sends no X-Forwarded-For is
// taken as the client itself.
func ProxyHeaders(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := client{https: r.TLS != nil}
			c.addr, c.ok = peerIP(r.RemoteAddr)
			if c.ok && contains(trusted, c.addr) {
				if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
					c.addr, c.ok = forwardedClient(xff, trusted)
					r.RemoteAddr = "forwarded-invalid"
					if c.ok {
						r.RemoteAddr = net.JoinHostPort(c.addr.String(), "0")
					}
				}
				if proto := firstValue(r.Header.Get("X-Forwarded-Proto")); proto != "" {
					c.https = strings.EqualFold(proto, "https")
				}
			} else {
				r.Header.Del("X-Forwarded-For")
				r.Header.Del("X-Forwarded-Proto")
				r.Header.Del("X-Forwarded-Host")
				r.Header.Del("Forwarded")
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)))
		})
	}
}

// forwardedClient walks X-Forwarded-For from the right, skipping trusted
// proxies. All addresses trusted: the leftmost is the client.
func forwardedClient(values []string, trusted []netip.Prefix) (netip.Addr, bool) {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	var last netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(strings.TrimSpace(hops[i]))
		if !ok {
			return netip.Addr{}, false
		}
		last = a
		if !contains(trusted, a) {
			return a, true
		}
	}
	return last, last.IsValid()
}

// parseHop accepts "203.0.113.5", "203.0.113.5:1234", "2001:db8::1" and
// "[2001:db8::1]:1234".
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func firstValue(s string) string {
	first, _, _ := strings.Cut(s, ",")
	return strings.TrimSpace(first)
}

func contains(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerIP(remote string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// ClientIP is the request's client address: the connection's peer, or the
// address a trusted proxy forwarded (see ProxyHeaders). ok is false when it
// is not known.
func ClientIP(r *http.Request) (netip.Addr, bool) {
	if c, found := r.Context().Value(clientKey{}).(client); found {
		return c.addr, c.ok
	}
	return peerIP(r.RemoteAddr)
}

// IsHTTPS reports whether the client reached munja over HTTPS: directly over
// TLS, or through a trusted proxy that said X-Forwarded-Proto: https.
func IsHTTPS(r *http.Request) bool {
	if c, found := r.Context().Value(clientKey{}).(client); found {
		return c.https
	}
	return r.TLS != nil
}

// ParsePrefixes parses server.trusted_networks or server.trusted_proxies:
// CIDRs, or single addresses meaning just that host. key names the config
// key in errors.
func ParsePrefixes(key string, list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: invalid CIDR %q", key, i, s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
