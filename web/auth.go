package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/store"
)

// Caller is who made an API request.
type Caller struct {
	Name  string // token:NAME or net:ADDR
	Scope string
}

func (s *Server) authenticate(r *http.Request, need string) (Caller, error) {
	h := r.Header.Get("Authorization")
	if h != "" {
		plain, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(plain) == "" {
			return Caller{}, errUnauthorized("Authorization header must be \"Bearer TOKEN\"")
		}
		return s.tokenCaller(r.Context(), plain, need)
	}
	if ip, ok := ClientIP(r); ok && auth.Allows(auth.ScopeSend, need) && contains(s.opt.TrustedNetworks, ip) {
		// A browser on a trusted host must not be usable by other sites: no
		// cross-site requests (forms or fetch from a web page), and no Host
		// names but this server's own (DNS rebinding).
		if err := crossOrigin.Check(r); err != nil {
			return Caller{}, &apiError{status: http.StatusForbidden, msg: "cross-site request refused; use Authorization: Bearer TOKEN"}
		}
		if !s.ownHost(r.Host) {
			return Caller{}, &apiError{status: http.StatusForbidden, msg: "unexpected Host " + strconv.Quote(r.Host) + " for a request without a token; use Authorization: Bearer TOKEN or set server.public_url"}
		}
		return Caller{Name: "net:" + ip.String(), Scope: auth.ScopeSend}, nil
	}
	return Caller{}, errUnauthorized("authentication required: send Authorization: Bearer TOKEN (munja token create)")
}

// tokenCaller checks a plain token (from the Authorization header, or the
// ?token= of a calendar feed) against the token store.
func (s *Server) tokenCaller(ctx context.Context, plain, need string) (Caller, error) {
	hash := auth.HashToken(strings.TrimSpace(plain))
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	tok, err := s.opt.Store.TokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !auth.Equal(tok.Hash, hash)) {
		return Caller{}, errUnauthorized("invalid or revoked token")
	}
	if err != nil {
		return Caller{}, err
	}
	if !auth.Allows(tok.Scope, need) {
		return Caller{}, &apiError{status: http.StatusForbidden, msg: "token scope " + tok.Scope + " does not allow this (needs " + need + ")"}
	}
	s.touch(ctx, tok.ID)
	return Caller{Name: "token:" + tok.Name, Scope: tok.Scope}, nil
}

var crossOrigin = http.NewCrossOriginProtection()

// ownHost reports whether host (a Host header) names this server: an IP
// address, localhost, or the host of server.public_url.
func (s *Server) ownHost(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	if _, err := netip.ParseAddr(h); err == nil || strings.EqualFold(h, "localhost") || h == "" {
		return true
	}
	return s.opt.PublicHost != "" && strings.EqualFold(h, s.opt.PublicHost)
}

func errUnauthorized(msg string) error {
	return &apiError{status: http.StatusUnauthorized, msg: msg}
}

// touchEvery is how often a token's last-used time is written: a write per
// request would put every API call behind the store's single writer.
const touchEvery = time.Minute

// touch records that token id was used, at most once per touchEvery.
func (s *Server) touch(ctx context.Context, id int64) {
	now := s.opt.Now()
	s.touchMu.Lock()
	last, seen := s.touched[id]
	due := !seen || now.Sub(last) >= touchEvery || now.Before(last)
	if due {
		s.touched[id] = now
	}
	s.touchMu.Unlock()
	if !due {
		return
	}
	if err := s.opt.Store.TouchToken(ctx, id, now); err != nil {
		s.opt.Log.Warn("token last-used update failed", "err", err)
	}
}
