package sens

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
)

// statusError classifies a non-2xx answer (api-call-lgc-errorhandling:
// the API gateway answers {"error":{"errorCode","message","details"}} —
// 401/200 Authentication Failed, 401/210 Permission Denied, 404/300, 429
// /400–420, 413/430, 503/500 Endpoint Error, 504/510 Endpoint Timeout,
// 500/900; SENS itself answers {"status","errorMessage","errors"}).
// Authentication and request errors are permanent; 5xx, 408 and 429 are
// retried, a 504 (the gateway gave up waiting for SENS) being uncertain.
//
// UNCONFIRMED: the gateway's details for a timestamp out of range versus a
// wrong signature. The answer's Date header tells them apart: a refusal
// while munja's clock is more than 5 minutes from the gateway's is the
// clock's fault, not the keys'.
func (c *Client) statusError(status int, date string, raw []byte) *provider.Error {
	var eb errorBody
	_ = json.Unmarshal(raw, &eb)
	text := c.redact(eb.text())
	gwCode := ""
	if eb.Error != nil {
		gwCode = string(eb.Error.ErrorCode)
	}
	e := &provider.Error{Provider: c.name, Code: fmt.Sprintf("HTTP %d", status), Message: text, Permanent: true}
	if gwCode != "" {
		e.Code += "/" + gwCode
	}
	if e.Message == "" {
		e.Message = c.gw().Snippet(raw)
	}
	lower := strings.ToLower(text)
	set := func(ko, en string) { e.Korean, e.English = ko, en }
	switch {
	case gateway.Retryable(status):
		e.Permanent = false
		e.Uncertain = status == http.StatusGatewayTimeout
		set(fmt.Sprintf("SENS 서버 오류 또는 호출 제한 (HTTP %d, 다시 시도합니다)", status),
			fmt.Sprintf("SENS server error or rate limit (HTTP %d, will retry)", status))
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// Each of these refuses every call until fixed (Account: the
		// gateway-down alert names it).
		e.Account = "인증 실패"
		if off, ok := c.clockOff(date); ok || strings.Contains(lower, "timestamp") {
			e.Account = "시계 오차 5분 초과"
			set(fmt.Sprintf("SENS 인증 실패: 이 서버의 시계가 게이트웨이와 %s 차이 납니다 (5분 넘게 차이 나면 거부됩니다) — 시계(NTP)를 맞추세요", off),
				fmt.Sprintf("authentication failed: this host's clock is %s off the gateway's (SENS refuses more than 5 minutes) — fix the clock (NTP)", off))
			break
		}
		if gwCode == "210" || strings.Contains(lower, "permission") {
			e.Account = "권한 없음"
			set("SENS 권한 없음: access_key의 계정(서브 계정)에 SENS 사용 권한이 없습니다 — access_key의 권한을 확인하세요",
				"permission denied: the account of access_key (a sub account?) may not use SENS — check access_key's permissions")
			break
		}
		set("SENS 인증 실패: 서명이 맞지 않습니다 — secret_key와 access_key를 확인하세요",
			"authentication failed: the signature does not match — check secret_key and access_key")
	case status == http.StatusNotFound:
		e.Account = "service_id 또는 base_url 오류"
		set("SENS가 404로 응답했습니다 — service_id(와 base_url)를 확인하세요",
			"SENS answered 404 — check service_id (and base_url)")
	case strings.Contains(lower, "(from)") || strings.Contains(lower, "sender") || strings.Contains(lower, "calling number") || strings.Contains(text, "발신"):
		set("발신번호가 SENS에 등록되어 있지 않거나 올바르지 않습니다 (발신번호 사전등록 필요): "+text,
			"the sender number is not registered in the SENS console or not valid (발신번호 사전등록)")
	default:
		set(fmt.Sprintf("SENS가 요청을 거부했습니다 (HTTP %d): %s", status, text),
			fmt.Sprintf("SENS refused the request (HTTP %d)", status))
	}
	return e
}

// clockOff reports how far munja's clock is from the answer's Date, when
// that is more than MaxSkew.
func (c *Client) clockOff(date string) (time.Duration, bool) {
	t, err := http.ParseTime(date)
	if err != nil {
		return 0, false
	}
	off := c.now().Sub(t)
	if off < 0 {
		off = -off
	}
	return off.Round(time.Second), off > MaxSkew
}

// words are SENS's for the failures every gateway shares.
var words = gateway.Wording("SENS")

// gw is the client as the shared gateway helpers take it.
func (c *Client) gw() gateway.Client {
	return gateway.Client{Provider: c.name, Texts: words, Redact: c.redact, Log: c.log, HTTP: c.hc, Timeout: c.timeout, MaxBody: maxBody}
}

// decodeError is a 2xx answer that is not SENS's JSON. Retryable.
func (c *Client) decodeError(body []byte, err error) *provider.Error {
	return c.gw().DecodeError(body, err, false)
}

// redact removes the secret key from text that came back from the network.
func (c *Client) redact(s string) string { return gateway.Redact(s, c.secret.Reveal()) }
