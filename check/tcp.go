package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/munja-sms/munja/config"
)

// tcpFields are the template fields of type tcp: {{.Address}} (host:port)
// and {{.Latency}} (time to connect, a time.Duration).
var tcpFields = map[string]any{"Address": "", "Latency": time.Duration(0)}

type tcpCheck struct {
	t       *Texts
	address string
	timeout time.Duration
	dialer  net.Dialer
}

// ValidateTCP checks the keys of a type tcp check at path.
func ValidateTCP(cfg config.Check, path string) []error {
	var errs []error
	if cfg.Address == "" {
		errs = append(errs, fmt.Errorf("%s.address: required for type tcp (host:port)", path))
	} else if err := validateHostPort(cfg.Address); err != nil {
		errs = append(errs, fmt.Errorf("%s.address: %w", path, err))
	}
	return append(errs, ValidateTemplates(cfg, path, tcpFields)...)
}

func validateHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if host == "" {
		return fmt.Errorf("%q has no host", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port must be 1-65535", addr)
	}
	return nil
}

// NewTCP builds a type tcp check: it passes when a TCP connection to
// address (host:port) is established within the timeout; the connection
// is closed at once.
func NewTCP(cfg config.Check, d Deps) (Checker, error) {
	if errs := ValidateTCP(cfg, "check "+cfg.Name); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	t, err := NewTexts(cfg, d)
	if err != nil {
		return nil, err
	}
	c := &tcpCheck{t: t, address: cfg.Address, timeout: cfg.Timeout.D()}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	return c, nil
}

func (c *tcpCheck) Name() string { return c.t.Name() }

func (c *tcpCheck) Run(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	conn, err := c.dialer.DialContext(ctx, "tcp", c.address)
	latency := time.Since(start)
	o := Outcome{
		OK:       err == nil,
		Fields:   map[string]any{"Address": c.address, "Latency": latency},
		Firing:   fmt.Sprintf("[경고] %s 연결에 실패했습니다.", c.address),
		Resolved: fmt.Sprintf("[복구] %s 연결이 복구되었습니다.", c.address),
	}
	if err != nil {
		o.Detail = fmt.Sprintf("connect %s: %v", c.address, err)
		o.DetailKo = fmt.Sprintf("%s 연결 실패: %s", c.address, dialFailureKo(err))
	} else {
		conn.Close()
		o.Detail = fmt.Sprintf("connected to %s in %s", c.address, latency.Round(time.Microsecond))
		o.DetailKo = fmt.Sprintf("%s 연결 성공, %s", c.address, latencyKo(latency))
	}
	return c.t.Result(start, o)
}

// dialFailureKo says in Korean why a connection failed, with the error.
func dialFailureKo(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	why := "연결 오류"
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		why = "연결 거부됨"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		why = "시간 초과"
	case errors.As(err, &dnsErr):
		why = "이름을 찾을 수 없음"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		why = "호스트에 닿을 수 없음"
	}
	return fmt.Sprintf("%s (%v)", why, err)
}
