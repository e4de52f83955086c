package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/munja-sms/munja/agent"
	"github.com/munja-sms/munja/check"
)

// reportBuf is what decoding one agent report uses, kept for the next: at
// 10,000 agents (1,000 reports a second) a fresh json.Decoder grew its
// buffer to 8 KB for every 6 KB report (13 KB of garbage each), the
// results slice grew five times (9 KB), and the validated results were
// another 3 KB: 2.6 of the 9 GB that `munja serve` allocated in 3 minutes
// of bench/agentload (docs/BENCHMARKS.md section 10).
type reportBuf struct {
	body    bytes.Buffer
	src     bytes.Reader
	dec     *json.Decoder // reads src; nil after an error
	rep     agent.Report
	results []check.Result
}

var reportBufs = sync.Pool{New: func() any { return new(reportBuf) }}

// Bounds of what a reportBuf keeps for the next report (a report of 1,000
// results may come; its buffers are not kept).
const (
	keepBody    = 64 << 10
	keepResults = 256
)

// decodeReport reads r's body as an agent.Report, with decodeJSON's rules
// and errors (one JSON value, unknown fields refused). Release the
// reportBuf when done with the report and its validated results.
func decodeReport(r *http.Request) (*reportBuf, error) {
	rb := reportBufs.Get().(*reportBuf)
	rb.body.Reset()
	if _, err := rb.body.ReadFrom(r.Body); err != nil {
		rb.release()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, badRequest("", "invalid JSON: "+err.Error())
	}
	rb.src.Reset(rb.body.Bytes())
	if rb.dec == nil {
		rb.dec = json.NewDecoder(&rb.src)
		rb.dec.DisallowUnknownFields()
	}
	// Decoding into a kept element leaves the fields the JSON omits as
	// they were: every element the slice can hold is cleared first. The
	// depends_on map is the engine's to keep: never reused.
	res := rb.rep.Results[:cap(rb.rep.Results)]
	clear(res)
	rb.rep = agent.Report{Results: res[:0]}
	err := rb.dec.Decode(&rb.rep)
	if err != nil || !blank(rb.dec.Buffered()) {
		// The decoder is not used again: its state (an error, the
		// offsets its errors count from, what follows the value) is this
		// request's.
		rb.dec = nil
	}
	if err != nil {
		// decodeJSON words the error, from a fresh decoder's offsets.
		var rep agent.Report
		r2 := r.WithContext(r.Context())
		r2.Body = http.NoBody
		if len(rb.body.Bytes()) > 0 {
			r2.Body = readCloser{bytes.NewReader(rb.body.Bytes())}
		}
		err = decodeJSON(r2, &rep)
		if err == nil {
			rb.rep = rep // not expected: the first decoder failed alone
		}
	}
	if err != nil {
		rb.release()
		return nil, err
	}
	return rb, nil
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// blank reports whether what a decoder read past its value is only JSON
// whitespace (the next Decode skips it).
func blank(r io.Reader) bool {
	var b [64]byte
	for {
		n, err := r.Read(b[:])
		for _, c := range b[:n] {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
		}
		if err != nil || n == 0 {
			return true
		}
	}
}

// release returns rb for the next report, unless it grew past what is
// kept.
func (rb *reportBuf) release() {
	if rb.body.Cap() > keepBody || cap(rb.rep.Results) > keepResults || cap(rb.results) > keepResults {
		return
	}
	// What the report held is not kept alive by the pool.
	clear(rb.rep.Results[:cap(rb.rep.Results)])
	clear(rb.results[:cap(rb.results)])
	rb.rep = agent.Report{Results: rb.rep.Results[:0]}
	rb.results = rb.results[:0]
	rb.src.Reset(nil)
	reportBufs.Put(rb)
}
