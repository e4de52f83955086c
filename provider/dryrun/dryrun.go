// Package dryrun is the provider used when no gateway is configured: every
// batch is accepted and logged at debug level, nothing leaves the process.
// Messages still go through the whole pipeline and into history.
package dryrun

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
)

// MaxBatch matches Aligo so that dry runs batch like real sends.
const MaxBatch = 1000

// Provider accepts everything.
type Provider struct {
	name string
	log  *slog.Logger
	seq  atomic.Int64
}

// New builds a dry-run provider; it has the provider.Factory signature.
func New(cfg config.Provider, _ *http.Client, log *slog.Logger) (provider.Provider, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	name := cfg.Name
	if name == "" {
		name = "dryrun"
	}
	return &Provider{name: name, log: log}, nil
}

// Validate refuses every key beyond the common ones (a real gateway's
// keys on a dryrun entry are a mistake) and base_url; path is e.g.
// "sms.providers[0]".
func Validate(cfg config.Provider, path string) []error {
	errs := provider.DecodeConfig(cfg, path, &struct{}{})
	if cfg.BaseURL != "" {
		errs = append(errs, config.FieldError{Path: path + ".base_url", Msg: "not used by type dryrun"})
	}
	return errs
}

// Name is the configured name (default "dryrun").
func (p *Provider) Name() string { return p.name }

// MaxBatch is 1000.
func (p *Provider) MaxBatch() int { return MaxBatch }

// Send accepts b with a MessageID "dryrun-N" without sending anything.
func (p *Provider) Send(ctx context.Context, b provider.Batch) (provider.Result, error) {
	if err := ctx.Err(); err != nil {
		return provider.Result{}, &provider.Error{Provider: p.name, Code: "canceled", English: "send cancelled", Korean: "발송이 취소되었습니다", Err: err}
	}
	if n := len(b.Receivers); n == 0 || n > MaxBatch {
		return provider.Result{}, &provider.Error{
			Provider: p.name, Code: "bad batch", Permanent: true,
			English: fmt.Sprintf("batch has %d receivers (1–%d allowed)", n, MaxBatch),
			Korean:  fmt.Sprintf("수신번호 수가 잘못되었습니다 (%d명, 1–%d명 가능)", n, MaxBatch),
		}
	}
	id := "dryrun-" + strconv.FormatInt(p.seq.Add(1), 10)
	p.log.Debug("dry run: not sent", "msg_id", id, "receivers", len(b.Receivers), "kind", b.Kind, "bytes", len(b.Text), "test", b.Test)
	return provider.Result{MessageID: id, Kind: b.Kind, Accepted: len(b.Receivers)}, nil
}
