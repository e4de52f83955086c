package selfwatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// HeartbeatOptions configure a Heartbeat.
type HeartbeatOptions struct {
	// URL (server.heartbeat_url) is called with GET. Userinfo is not sent
	// in the URL: "token:SECRET@" becomes "Authorization: Bearer SECRET"
	// (a munja API token, for another munja's /api/v1/heartbeat/NAME), any
	// other "user:password@" HTTP basic auth.
	URL      string
	Interval time.Duration // server.heartbeat_interval (default 1m)
	Timeout  time.Duration // per call (default 10s, at most Interval)
	// Healthy says whether munja is healthy enough to say so (nil error):
	// no call is made while it is not.
	Healthy func(ctx context.Context) error
	Client  *http.Client // default a client of its own
	Log     *slog.Logger
}

// HeartbeatStats are a Heartbeat's counts, for the metrics.
type HeartbeatStats struct {
	LastSuccess time.Time // zero before the first call that worked
	Failures    int64     // calls that failed (no answer, or not 2xx)
	Skipped     int64     // calls not made because munja was unhealthy
}

// Heartbeat calls a URL every Interval while munja is healthy, so that a
// monitor outside (Healthchecks.io, an Uptime Kuma push monitor, another
// munja's heartbeat check) pages when the calls stop: munja dead, hung,
// unable to write its store, or its host gone. A failed call is logged
// (the first, then at most every failLogEvery) and never stops munja.
// The URL is a secret (push URLs carry their token): logs show Shown.
type Heartbeat struct {
	opt    HeartbeatOptions
	target *url.URL // URL without userinfo
	auth   string   // Authorization header, if any
	shown  string   // the URL for logs

	mu        sync.Mutex
	stats     HeartbeatStats
	failing   bool      // the last call failed
	failedLog time.Time // when a failure was last logged
	unhealthy bool      // the last round was skipped
}

// failLogEvery is how often a heartbeat that keeps failing is logged again.
const failLogEvery = 10 * time.Minute

// NewHeartbeat checks the URL (http or https, with a host) and builds the
// heartbeat; it calls nothing until Run or Once.
func NewHeartbeat(opt HeartbeatOptions) (*Heartbeat, error) {
	u, err := url.Parse(strings.TrimSpace(opt.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("server.heartbeat_url: must be an http:// or https:// URL with a host")
	}
	if opt.Interval <= 0 {
		opt.Interval = time.Minute
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	opt.Timeout = min(opt.Timeout, opt.Interval)
	if opt.Client == nil {
		opt.Client = &http.Client{}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	h := &Heartbeat{opt: opt, shown: RedactURL(opt.URL)}
	if u.User != nil {
		name := u.User.Username()
		pass, _ := u.User.Password()
		if name == "token" && pass != "" {
			h.auth = "Bearer " + pass
		} else {
			r := &http.Request{Header: http.Header{}}
			r.SetBasicAuth(name, pass)
			h.auth = r.Header.Get("Authorization")
		}
		u.User = nil
	}
	h.target = u
	return h, nil
}

// Shown is the URL as logs show it (RedactURL).
func (h *Heartbeat) Shown() string { return h.shown }

// Stats returns the counts so far.
func (h *Heartbeat) Stats() HeartbeatStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats
}

// Run calls every Interval until ctx ends, the first time one Interval
// after it starts (when what Healthy looks at has started too).
func (h *Heartbeat) Run(ctx context.Context) {
	h.opt.Log.Info("heartbeat: calling while healthy", "url", h.shown, "interval", h.opt.Interval)
	t := time.NewTicker(h.opt.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.Once(ctx)
	}
}

// Once calls the URL if munja is healthy, and records how it went.
func (h *Heartbeat) Once(ctx context.Context) {
	if h.opt.Healthy != nil {
		if err := h.opt.Healthy(ctx); err != nil {
			if ctx.Err() == nil {
				h.skipped(err)
			}
			return
		}
	}
	h.healthy()
	err := h.call(ctx)
	if ctx.Err() != nil {
		return // shutting down: no verdict
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if err == nil {
		h.stats.LastSuccess = now
		if h.failing {
			h.opt.Log.Info("heartbeat works again", "url", h.shown)
		}
		h.failing = false
		return
	}
	h.stats.Failures++
	if !h.failing || now.Sub(h.failedLog) >= failLogEvery {
		h.opt.Log.Warn("heartbeat call failed; munja keeps running (logged again every 10m while it fails)",
			"url", h.shown, "err", err, "failures", h.stats.Failures)
		h.failedLog = now
	}
	h.failing = true
}

// skipped records a round without a call (munja unhealthy), logged when
// it starts.
func (h *Heartbeat) skipped(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.Skipped++
	if !h.unhealthy {
		h.opt.Log.Warn("munja unhealthy: heartbeat not sent until it is healthy again (the monitor outside will notice)", "url", h.shown, "err", err)
	}
	h.unhealthy = true
}

func (h *Heartbeat) healthy() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.unhealthy {
		h.opt.Log.Info("munja healthy again: heartbeat resumes", "url", h.shown)
	}
	h.unhealthy = false
}

// call makes one GET; an error never carries the URL in full.
func (h *Heartbeat) call(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, h.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, h.target.String(), nil)
	if err != nil {
		return errors.New("cannot build the request")
	}
	req.Header.Set("User-Agent", "munja-heartbeat")
	if h.auth != "" {
		req.Header.Set("Authorization", h.auth)
	}
	resp, err := h.opt.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, token and all
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no answer within %s", h.opt.Timeout)
		}
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// RedactURL is a heartbeat URL for logs: without userinfo, query values
// masked, and the last path segment (where push URLs keep their token:
// hc-ping.com/UUID, /api/push/TOKEN) cut to its first 4 characters.
func RedactURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "<invalid URL>"
	}
	out := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	if i := strings.LastIndex(path, "/"); i >= 0 {
		last := path[i+1:]
		if len(last) > 4 {
			last = last[:4] + "…"
		}
		path = path[:i+1] + last
	}
	out += path
	if q := u.Query(); len(q) > 0 {
		var keys []string
		for k := range q {
			keys = append(keys, url.QueryEscape(k)+"=xxxxx")
		}
		slices.Sort(keys)
		out += "?" + strings.Join(keys, "&")
	}
	return out
}
