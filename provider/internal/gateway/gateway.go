// Package gateway is what munja's gateway clients (provider/aligo,
// provider/nhn, provider/sens, …) have in common, with each gateway's own
// words and rules passed in:
//
//   - NewSetup: the defaults of New (name, base URL, deadline, HTTP
//     client, logger);
//   - Client.Do: one HTTP call under its own deadline that knows whether
//     its request was written, reading a size-limited answer (JSONRequest
//     builds a JSON one);
//   - the failures every gateway classifies the same way, as
//     *provider.Error (errors.go): no usable answer (TransportError), an
//     unreadable one (DecodeError), an HTTP status of the infrastructure
//     in front of the gateway (StatusError), a batch refused before any
//     call (RequestError and the checks of batch.go);
//   - tolerant JSON (FlexInt, FlexString, Unmarshal), Korean time and the
//     normalisation a look-up compares phones and texts by (wire.go).
//
// What one gateway alone does (its answer envelope, its error codes, its
// signature, its title rule) stays in its package.
package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/munja-sms/munja/config"
)

// DefaultTimeout is a call's deadline when the config sets no timeout.
const DefaultTimeout = 10 * time.Second

// Setup is what a gateway's New takes from config.Provider and its
// arguments, with the defaults filled in (NewSetup).
type Setup struct {
	Name    string        // the provider name: cfg.Name, else the gateway's type
	Base    string        // cfg.BaseURL without a trailing slash, else the gateway's
	Timeout time.Duration // cfg.Timeout, else DefaultTimeout
	HTTP    *http.Client  // hc, else a plain client (no timeout: each call has one)
	Log     *slog.Logger  // log, else one that discards
}

// NewSetup fills in the defaults every gateway client has: typ is the
// gateway's type (the name of a provider configured without one), base
// its production URL ("" for none).
func NewSetup(cfg config.Provider, hc *http.Client, log *slog.Logger, typ, base string) Setup {
	s := Setup{Name: cfg.Name, Base: strings.TrimRight(cfg.BaseURL, "/"), Timeout: cfg.Timeout.D(), HTTP: hc, Log: log}
	if s.Name == "" {
		s.Name = typ
	}
	if s.Base == "" {
		s.Base = base
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.HTTP == nil {
		s.HTTP = &http.Client{}
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Client is what the helpers need of one gateway client. A gateway makes
// it from its own fields when it needs it (a method gw), so that a client
// a test builds without New still names itself in its errors.
type Client struct {
	Provider string              // the configured provider name (provider.Error.Provider)
	Texts    Texts               // the gateway's words for the failures all share
	Redact   func(string) string // removes the gateway's secrets from text that came back; nil: none
	Log      *slog.Logger        // for the checks' warnings; nil: none

	// For Do:
	HTTP    *http.Client
	Timeout time.Duration // each call's own deadline
	MaxBody int           // the most bytes of an answer read
}

// Answer is a gateway's answer to one call, read whole.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	Took   time.Duration // from sending the request to the end of the answer
}

// Do sends req with c.HTTP, under a deadline of c.Timeout within req's
// context, and reads the answer. Whether the request was written decides
// what a failure means: before, the gateway cannot have it; after, it may
// have taken it. So a failure before a usable answer came is
// TransportError, Uncertain when send is set (the call may make the
// gateway send: a send, not a look-up) and the request went out; an answer
// longer than c.MaxBody is DecodeError (sent: send). Any status is an
// Answer: reading it is the gateway's.
func (c Client) Do(req *http.Request, send bool) (Answer, error) {
	ctx, cancel := context.WithTimeout(req.Context(), c.Timeout)
	defer cancel()
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
	}))
	start := time.Now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Answer{}, c.TransportError(ctx, err, send && wrote.Load())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(c.MaxBody)+1))
	if err != nil {
		// An answer had begun: the request was written.
		return Answer{}, c.TransportError(ctx, err, send)
	}
	if len(body) > c.MaxBody {
		return Answer{}, c.DecodeError(nil, fmt.Errorf("response larger than %d bytes", c.MaxBody), send)
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: body, Took: time.Since(start)}, nil
}

// JSONRequest is a request to u (with query, when not empty) carrying in,
// when not nil, as its JSON body; the gateway sets its headers. what
// names the gateway in its errors, which are munja's own bugs.
func JSONRequest(ctx context.Context, what, method, u string, query url.Values, in any) (*http.Request, error) {
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("%s: encoding request: %w", what, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s: building request: %w", what, err)
	}
	return req, nil
}
