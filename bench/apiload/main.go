// Command apiload is a load generator for munja's HTTP API: N concurrent
// keep-alive clients send the same request (with an optional per-request
// sequence number in the body or URL) for a duration, then it prints
// requests per second and latency percentiles. Standard library only.
//
//	munja token create bench --scope send | tail -1 > /tmp/token
//	go run ./bench/apiload -url http://127.0.0.1:8080/api/v1/messages -token "$(cat /tmp/token)" \
//	    -c 32 -d 20s -body '{"to":["010-5555-{{seq}}"],"text":"부하 시험 {{seq}}"}'
//	go run ./bench/apiload -url 'http://127.0.0.1:8080/api/v1/messages?limit=50' -token … -c 8 -d 20s
//
// {{seq}} is replaced by a four-digit number that changes with every
// request. A run fails (exit 1) if any answer had an unexpected status.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.URL, "url", "", "request URL (required); may contain {{seq}}")
	flag.StringVar(&o.Method, "method", "", "HTTP method (default POST with -body, else GET)")
	flag.StringVar(&o.Body, "body", "", "request body (JSON); may contain {{seq}}")
	flag.StringVar(&o.Token, "token", os.Getenv("MUNJA_TOKEN"), "bearer token (default $MUNJA_TOKEN)")
	flag.IntVar(&o.Concurrency, "c", 16, "concurrent clients")
	flag.DurationVar(&o.Duration, "d", 10*time.Second, "measured duration")
	flag.DurationVar(&o.Warmup, "warmup", time.Second, "unmeasured warm-up before the run")
	flag.IntVar(&o.Expect, "expect", 0, "expected status (default: any 2xx)")
	flag.Parse()
	if o.URL == "" {
		fmt.Fprintln(os.Stderr, "apiload: -url is required")
		os.Exit(2)
	}
	res, err := run(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apiload:", err)
		os.Exit(1)
	}
	fmt.Print(res.String())
	if res.Unexpected > 0 {
		os.Exit(1)
	}
}

type options struct {
	URL, Method, Body, Token string
	Concurrency              int
	Duration, Warmup         time.Duration
	Expect                   int
}

// result is a finished run.
type result struct {
	Clients    int
	Requests   int
	Elapsed    time.Duration
	Statuses   map[int]int
	Errors     int // transport errors
	Unexpected int // answers with an unexpected status, and transport errors
	FirstBad   string
	Latencies  []time.Duration // sorted
}

func (r *result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "requests   %d in %s (%d clients)\n", r.Requests, r.Elapsed.Round(time.Millisecond), r.Clients)
	fmt.Fprintf(&b, "throughput %.0f requests/s\n", float64(r.Requests)/r.Elapsed.Seconds())
	fmt.Fprintf(&b, "latency    p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		fmtDur(percentile(r.Latencies, 50)), fmtDur(percentile(r.Latencies, 90)), fmtDur(percentile(r.Latencies, 99)),
		fmtDur(percentile(r.Latencies, 99.9)), fmtDur(percentile(r.Latencies, 100)))
	var codes []string
	for _, c := range slices.Sorted(maps.Keys(r.Statuses)) {
		codes = append(codes, fmt.Sprintf("%d×%d", c, r.Statuses[c]))
	}
	fmt.Fprintf(&b, "statuses   %s", strings.Join(codes, " "))
	if r.Errors > 0 {
		fmt.Fprintf(&b, " transport-errors×%d", r.Errors)
	}
	b.WriteString("\n")
	if r.FirstBad != "" {
		fmt.Fprintf(&b, "first unexpected answer: %s\n", r.FirstBad)
	}
	return b.String()
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
}

// percentile of sorted latencies by the nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// worker is one keep-alive client's tally.
type worker struct {
	lat        []time.Duration
	statuses   map[int]int
	errors     int
	unexpected int
	firstBad   string
}

func run(ctx context.Context, o options) (*result, error) {
	if o.Method == "" {
		o.Method = http.MethodGet
		if o.Body != "" {
			o.Method = http.MethodPost
		}
	}
	o.Concurrency = max(o.Concurrency, 1)
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: o.Concurrency, MaxIdleConnsPerHost: o.Concurrency, MaxConnsPerHost: o.Concurrency,
			IdleConnTimeout: time.Minute, DisableCompression: true,
		},
	}
	defer client.CloseIdleConnections()
	var seq atomic.Int64
	do := func(w *worker, measure bool) {
		n := seq.Add(1)
		s := fmt.Sprintf("%04d", n%10000)
		url := strings.ReplaceAll(o.URL, "{{seq}}", s)
		var body io.Reader
		if o.Body != "" {
			body = strings.NewReader(strings.ReplaceAll(o.Body, "{{seq}}", s))
		}
		req, err := http.NewRequestWithContext(ctx, o.Method, url, body)
		if err != nil {
			w.errors++
			return
		}
		if o.Body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if o.Token != "" {
			req.Header.Set("Authorization", "Bearer "+o.Token)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			if measure && ctx.Err() == nil {
				w.errors++
				w.unexpected++
				if w.firstBad == "" {
					w.firstBad = err.Error()
				}
			}
			return
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20)) // read it all: keep-alive reuses the connection
		resp.Body.Close()
		took := time.Since(start)
		if !measure {
			return
		}
		w.lat = append(w.lat, took)
		w.statuses[resp.StatusCode]++
		if ok := o.Expect == resp.StatusCode || o.Expect == 0 && resp.StatusCode/100 == 2; !ok {
			w.unexpected++
			if w.firstBad == "" {
				w.firstBad = fmt.Sprintf("%d %.300s", resp.StatusCode, msg)
			}
		}
	}

	// phase runs every client for d; the warm-up (measure false) opens the
	// connections and fills caches.
	phase := func(d time.Duration, measure bool) ([]*worker, time.Duration) {
		ws := make([]*worker, o.Concurrency)
		var wg sync.WaitGroup
		start := time.Now()
		deadline := start.Add(d)
		for i := range ws {
			ws[i] = &worker{statuses: map[int]int{}}
			wg.Go(func() {
				for time.Now().Before(deadline) && ctx.Err() == nil {
					do(ws[i], measure)
				}
			})
		}
		wg.Wait()
		return ws, time.Since(start)
	}
	if o.Warmup > 0 {
		phase(o.Warmup, false)
	}
	ws, elapsed := phase(o.Duration, true)
	res := &result{Clients: o.Concurrency, Elapsed: elapsed, Statuses: map[int]int{}}
	for _, w := range ws {
		res.Latencies = append(res.Latencies, w.lat...)
		for c, n := range w.statuses {
			res.Statuses[c] += n
		}
		res.Errors += w.errors
		res.Unexpected += w.unexpected
		if res.FirstBad == "" {
			res.FirstBad = w.firstBad
		}
	}
	slices.Sort(res.Latencies)
	res.Requests = len(res.Latencies)
	if res.Requests == 0 {
		return res, errors.New("no request completed")
	}
	return res, nil
}
