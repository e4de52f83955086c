package check

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/config"
)

// maxBody is how much of a response body is read and matched.
const maxBody = 1 << 20

// httpFields are the template fields of type http: {{.URL}}, {{.Status}}
// (HTTP status code, 0 without a response), {{.Latency}} (time.Duration,
// request until the body was read), {{.CertDays}} (whole days until the
// first certificate of the chain expires, -1 without TLS) and {{.Reason}}
// (the short Korean reason of the default text, e.g. "HTTP 503").
var httpFields = map[string]any{"URL": "", "Status": 0, "Latency": time.Duration(0), "CertDays": 0, "Reason": ""}

type httpCheck struct {
	t          *Texts
	url        string
	status     []int // nil: 200-399
	contains   string
	re         *regexp.Regexp
	maxLatency time.Duration
	certDays   int
	timeout    time.Duration
	client     *http.Client
}

// ValidateHTTP checks the keys of a type http check at path.
func ValidateHTTP(cfg config.Check, path string) []error {
	var errs []error
	https := false
	if cfg.URL == "" {
		errs = append(errs, fmt.Errorf("%s.url: required for type http", path))
	} else if u, err := url.Parse(cfg.URL); err != nil {
		errs = append(errs, fmt.Errorf("%s.url: %w", path, err))
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("%s.url: %q is not an http:// or https:// URL", path, cfg.URL))
	} else {
		https = u.Scheme == "https"
	}
	for i, s := range cfg.Status {
		if s < 100 || s > 599 {
			errs = append(errs, fmt.Errorf("%s.status[%d]: %d is not an HTTP status", path, i, s))
		}
	}
	if cfg.BodyRegex != "" {
		if _, err := regexp.Compile(cfg.BodyRegex); err != nil {
			errs = append(errs, fmt.Errorf("%s.body_regex: %w", path, err))
		}
	}
	if cfg.CertDays < 0 {
		errs = append(errs, fmt.Errorf("%s.cert_days: must not be negative", path))
	}
	if cfg.URL != "" && !https {
		if cfg.CertDays > 0 {
			errs = append(errs, fmt.Errorf("%s.cert_days: needs an https:// url", path))
		}
		if cfg.Insecure {
			errs = append(errs, fmt.Errorf("%s.insecure: needs an https:// url", path))
		}
	}
	return append(errs, ValidateTemplates(cfg, path, httpFields)...)
}

// NewHTTP builds a type http check: GET url must answer with a status in
// status (default 200-399; redirects are not followed), a body (its first
// 1 MB) containing body_contains and matching body_regex, within
// max_latency, and over TLS with a certificate chain valid for cert_days
// more days. insecure skips certificate verification (cert_days still
// applies).
func NewHTTP(cfg config.Check, d Deps) (Checker, error) {
	if errs := ValidateHTTP(cfg, "check "+cfg.Name); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	t, err := NewTexts(cfg, d)
	if err != nil {
		return nil, err
	}
	c := &httpCheck{
		t: t, url: cfg.URL, status: cfg.Status, contains: cfg.BodyContains,
		maxLatency: cfg.MaxLatency.D(), certDays: cfg.CertDays, timeout: cfg.Timeout.D(),
	}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	if cfg.BodyRegex != "" {
		c.re = regexp.MustCompile(cfg.BodyRegex)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true // every run opens a fresh connection, as a user would
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: cfg.Insecure}
	c.client = &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

func (c *httpCheck) Name() string { return c.t.Name() }

func (c *httpCheck) Run(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	fields := map[string]any{"URL": c.url, "Status": 0, "Latency": time.Duration(0), "CertDays": -1, "Reason": ""}
	// reasons are short, for the message; details say more, in English
	// and in Korean.
	var reasons, details, detailsKo []string
	fail := func(reason, detail, detailKo string) {
		reasons = append(reasons, reason)
		details = append(details, detail)
		detailsKo = append(detailsKo, detailKo)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return c.t.Result(start, c.t.CannotCheck("요청을 만들 수 없습니다", fmt.Errorf("http: %w", err), fields))
	}
	req.Header.Set("User-Agent", "munja-check")
	resp, err := c.client.Do(req)
	if err != nil {
		why := requestFailure(ctx, err)
		fail(why, err.Error(), fmt.Sprintf("%s (%v)", why, err))
		return c.t.Result(start, c.outcome(fields, reasons, details, detailsKo))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	latency := time.Since(start)
	fields["Status"], fields["Latency"] = resp.StatusCode, latency
	if err != nil {
		fail("응답 읽기 실패", fmt.Sprintf("reading body: %v", err), fmt.Sprintf("응답 읽기 실패 (%v)", err))
	}

	if !c.statusOK(resp.StatusCode) {
		fail(fmt.Sprintf("HTTP %d", resp.StatusCode), fmt.Sprintf("status %d not in %s", resp.StatusCode, c.statusText()),
			fmt.Sprintf("HTTP %d (기대 %s)", resp.StatusCode, c.statusTextKo()))
	}
	if c.contains != "" && !bytes.Contains(body, []byte(c.contains)) {
		fail(fmt.Sprintf("응답에 '%s' 없음", c.contains), fmt.Sprintf("body does not contain %q", c.contains),
			fmt.Sprintf("응답 본문에 '%s' 없음", c.contains))
	}
	if c.re != nil && !c.re.Match(body) {
		fail("응답 내용 불일치", fmt.Sprintf("body does not match /%s/", c.re), fmt.Sprintf("응답 본문이 /%s/와 맞지 않음", c.re))
	}
	if c.maxLatency > 0 && latency > c.maxLatency {
		reason := fmt.Sprintf("응답 지연 %s (기준 %s)", roundLatency(latency), formatDuration(c.maxLatency))
		fail(reason, fmt.Sprintf("latency %s > max %s", latency.Round(time.Millisecond), c.maxLatency), reason)
	}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		cert := earliestExpiry(resp.TLS.PeerCertificates)
		days := int(math.Floor(cert.NotAfter.Sub(c.t.Now()).Hours() / 24))
		fields["CertDays"] = days
		if c.certDays > 0 && days < c.certDays {
			reason := fmt.Sprintf("인증서 만료 %d일 전 (기준 %d일)", days, c.certDays)
			if days < 0 {
				reason = "인증서 만료됨"
			}
			fail(reason, fmt.Sprintf("certificate %q expires %s, in %d days (< %d)",
				cert.Subject.CommonName, cert.NotAfter.UTC().Format(time.RFC3339), days, c.certDays),
				fmt.Sprintf("인증서 '%s' %s 만료, %d일 남음 (기준 %d일)",
					cert.Subject.CommonName, cert.NotAfter.UTC().Format("2006-01-02"), days, c.certDays))
		}
	}
	if len(reasons) == 0 {
		details = append(details, fmt.Sprintf("HTTP %d in %s", resp.StatusCode, latency.Round(time.Millisecond)))
		detailsKo = append(detailsKo, fmt.Sprintf("HTTP %d 정상", resp.StatusCode))
	}
	// The latency closes the Korean detail: "HTTP 503 (기대 200), 120ms".
	detailsKo[len(detailsKo)-1] += ", " + latencyKo(latency)
	return c.t.Result(start, c.outcome(fields, reasons, details, detailsKo))
}

func (c *httpCheck) outcome(fields map[string]any, reasons, details, detailsKo []string) Outcome {
	o := Outcome{
		OK:       len(reasons) == 0,
		Detail:   strings.Join(details, "; "),
		DetailKo: strings.Join(detailsKo, "; "),
		Fields:   fields,
		Resolved: fmt.Sprintf("[복구] %s 웹 점검이 정상입니다.", c.t.Name()),
	}
	if !o.OK {
		fields["Reason"] = reasons[0]
		o.Firing = fmt.Sprintf("[경고] %s 웹 점검 실패: %s", c.t.Name(), reasons[0])
	}
	return o
}

// requestFailure names why no response came, in the words of the message.
func requestFailure(ctx context.Context, err error) string {
	var verr *tls.CertificateVerificationError
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var ierr x509.CertificateInvalidError
	switch {
	case errors.As(err, &verr), errors.As(err, &uerr), errors.As(err, &herr), errors.As(err, &ierr):
		return "인증서 검증 실패"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "응답 시간 초과"
	default:
		return "연결 실패"
	}
}

func (c *httpCheck) statusOK(code int) bool {
	if len(c.status) == 0 {
		return code >= 200 && code <= 399
	}
	return slices.Contains(c.status, code)
}

func (c *httpCheck) statusText() string {
	if len(c.status) == 0 {
		return "200-399"
	}
	return fmt.Sprint(c.status)
}

// statusTextKo is the statuses expected, as the Korean detail shows them:
// "200-399", "200", "200, 204".
func (c *httpCheck) statusTextKo() string {
	if len(c.status) == 0 {
		return "200-399"
	}
	s := make([]string, len(c.status))
	for i, code := range c.status {
		s[i] = strconv.Itoa(code)
	}
	return strings.Join(s, ", ")
}

func earliestExpiry(certs []*x509.Certificate) *x509.Certificate {
	first := certs[0]
	for _, c := range certs[1:] {
		if c.NotAfter.Before(first.NotAfter) {
			first = c
		}
	}
	return first
}

// roundLatency keeps a latency short enough for an SMS: 1.2s, 850ms.
func roundLatency(d time.Duration) string {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}
