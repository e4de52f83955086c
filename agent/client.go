package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/internal/tick"
)

// ReportPath is where agents post reports on the server.
const ReportPath = "/api/v1/agents/report"

// Options configure an agent.
type Options struct {
	Server string // base URL of the munja server (agent.server)
	Token  string // API token with scope send (agent.token)
	Host   string // this host's name in messages
	Checks []check.Scheduled
	// DependsOn is each check's depends_on (DependsOf the config), sent
	// with every report so that the server holds a check's alerts while
	// one it depends on fails.
	DependsOn map[string][]string
	// Interval is how often to report when no check has a result to send
	// (a heartbeat; default: the shortest check interval, else 10 s).
	Interval time.Duration
	Client   *http.Client // default: 10 s timeout
	Log      *slog.Logger
}

// Run runs the checks and reports their results to the server every second
// while there are new ones, and at least every Interval, until ctx ends.
// While the server cannot be reached, only each check's latest result is
// kept and sent when it can (with backoff up to 30 s).
func Run(ctx context.Context, opt Options) error {
	if opt.Server == "" || opt.Token == "" || opt.Host == "" {
		return fmt.Errorf("agent: server, token and host are required")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Client == nil {
		opt.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opt.Interval <= 0 {
		opt.Interval = check.DefaultInterval
		for i, s := range opt.Checks {
			if iv := s.Interval; iv > 0 && (i == 0 || iv < opt.Interval) {
				opt.Interval = iv
			}
		}
	}
	c := &client{opt: opt, url: strings.TrimRight(opt.Server, "/") + ReportPath, pending: map[string]check.Result{}}
	var wg sync.WaitGroup
	if len(opt.Checks) > 0 {
		wg.Go(func() { check.NewRunner(opt.Checks, opt.Log).Run(ctx, c.add) })
	}
	c.loop(ctx)
	wg.Wait()
	// One last try for what the final runs found, briefly.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	if c.count() > 0 {
		_ = c.send(fctx)
	}
	return nil
}

type client struct {
	opt Options
	url string

	mu       sync.Mutex
	pending  map[string]check.Result // latest result per check, not yet sent
	lastSent time.Time
}

func (c *client) add(r check.Result) {
	c.mu.Lock()
	c.pending[r.Check] = r
	c.mu.Unlock()
}

func (c *client) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

func (c *client) loop(ctx context.Context) {
	tk := tick.NewTicker(time.Second)
	defer tk.Stop()
	var retryAt time.Time
	backoff := time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C():
		}
		now := time.Now()
		if now.Before(retryAt) || (c.count() == 0 && now.Sub(c.lastSent) < c.opt.Interval) {
			continue
		}
		if err := c.send(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.opt.Log.Warn("agent: report not delivered; keeping the latest results and retrying",
				"server", c.opt.Server, "err", err, "retry_in", backoff)
			retryAt = now.Add(backoff)
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		retryAt = time.Time{}
	}
}

// send posts the pending results; on success it forgets those that were
// not replaced by a newer result meanwhile.
func (c *client) send(ctx context.Context) error {
	c.mu.Lock()
	rep := Report{Host: c.opt.Host, IntervalSeconds: max(1, int(c.opt.Interval/time.Second)), DependsOn: c.opt.DependsOn}
	sent := make(map[string]time.Time, len(c.pending))
	for name, r := range c.pending {
		if len(rep.Results) == MaxResults {
			break
		}
		rep.Results = append(rep.Results, FromCheck(r))
		sent[name] = r.At
	}
	c.mu.Unlock()
	body, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.opt.Token)
	resp, err := c.opt.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch {
	case resp.StatusCode/100 == 2:
	case resp.StatusCode == http.StatusBadRequest:
		// The server refuses these results as they are; sending them again
		// would wedge the agent. Drop them, loudly.
		c.opt.Log.Error("agent: server refused the report; dropping it", "status", resp.StatusCode, "answer", strings.TrimSpace(string(msg)))
	default:
		return fmt.Errorf("server answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	c.mu.Lock()
	for name, at := range sent {
		if r, ok := c.pending[name]; ok && r.At.Equal(at) {
			delete(c.pending, name)
		}
	}
	c.lastSent = time.Now()
	c.mu.Unlock()
	return nil
}
