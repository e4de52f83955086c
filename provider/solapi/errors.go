package solapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
)

// Failures are classified once, here. Solapi answers a request it refuses
// with a 4xx status and {"errorCode","errorMessage"}; the documented
// authentication codes (403: InvalidAPIKey, SignatureDoesNotMatch,
// RequestTimeTooSkewed, DuplicatedSignature) and everything else 4xx are
// permanent — the same request fails the same way until an operator fixes
// the key, the secret, the clock or the account — except a repeated
// signature (a new salt fixes it), 408 and 429. 5xx, timeouts and network
// failures are retryable; a send whose request went out but whose answer
// never came (or came unreadable) is Uncertain, and munja asks Solapi
// (Lookup) before sending it again.

// statusError classifies a non-2xx answer. send marks the send call: a
// proxy's 504 then means Solapi may have the batch.
func (c *Client) statusError(status int, body []byte, send bool) *provider.Error {
	var eb errorBody
	_ = json.Unmarshal(body, &eb) // a proxy's HTML page has no envelope
	code, msg := string(eb.ErrorCode), c.redact(string(eb.ErrorMessage))
	if code == "" && msg == "" {
		msg = c.gw().Snippet(body)
	}
	e := &provider.Error{Provider: c.name, Code: code, Message: msg}
	if e.Code == "" {
		e.Code = fmt.Sprintf("HTTP %d", status)
	}
	b := c.brand.display
	// Account marks refusals of the account, not of this request: every
	// call fails until an operator fixes it (the dispatcher counts them
	// against the gateway's health and the gateway-down alert names them).
	perm := func(account, ko, en string) *provider.Error {
		e.Permanent, e.Account, e.Korean, e.English = true, account, ko, en
		return e
	}
	lower := strings.ToLower(code + " " + msg)
	switch {
	case code == "InvalidAPIKey":
		return perm("인증 실패", b+" API 키가 유효하지 않습니다 — api_key를 확인하세요",
			"API key not valid — check api_key")
	case code == "SignatureDoesNotMatch":
		return perm("인증 실패", b+" 서명이 일치하지 않습니다 — api_secret을 확인하세요",
			"signature does not match — check api_secret")
	case code == "RequestTimeTooSkewed":
		return perm("서버 시계 오차", "이 서버의 시계가 "+b+" 서버와 15분 넘게 차이 납니다 — 시간 동기화(NTP)를 확인하세요",
			"this server's clock is more than 15 minutes off "+b+"'s — fix the clock (NTP)")
	case code == "DuplicatedSignature":
		e.Korean = "같은 서명이 15분 안에 다시 쓰였습니다 (새 서명으로 다시 시도합니다)"
		e.English = "signature already used within 15 minutes (will retry with a new one)"
		return e
	case status == http.StatusUnauthorized || code == "Unauthorized":
		return perm("인증 실패", b+" 인증 실패 — api_key와 api_secret을 확인하세요",
			"authentication refused — check api_key and api_secret")
	case status == http.StatusBadRequest && strings.Contains(lower, "apikey"):
		return perm("인증 실패", b+" API 키 형식이 올바르지 않습니다 — api_key를 확인하세요",
			"API key is malformed — check api_key")
	case strings.Contains(lower, "balance") || strings.Contains(msg, "잔액"):
		return perm("잔액 부족", b+" 잔액이 부족합니다 (충전 필요)", "insufficient "+b+" balance (top up the account)")
	case gateway.Retryable(status):
		e.Uncertain = send && status == http.StatusGatewayTimeout
		e.Korean = fmt.Sprintf("%s 서버 오류 (HTTP %d, 다시 시도합니다)", b, status)
		e.English = fmt.Sprintf("%s server error (HTTP %d, will retry)", b, status)
		if status == http.StatusTooManyRequests {
			e.Korean = b + " 호출 한도 초과 (HTTP 429, 다시 시도합니다)"
			e.English = b + " rate limit (HTTP 429, will retry)"
		}
		return e
	case status == http.StatusForbidden:
		return perm("접근 거부 (API 키 권한·허용 IP)", fmt.Sprintf("%s가 요청을 거부했습니다 (HTTP 403%s) — API 키 권한과 허용 IP를 %s 콘솔에서 확인하세요", b, detail(msg), b),
			fmt.Sprintf("%s refused the request (HTTP 403%s) — check the API key's permissions and allowed IPs in the %s console", b, detail(msg), b))
	case status == http.StatusNotFound:
		return perm("HTTP 404 응답 (base_url 확인)", fmt.Sprintf("%s가 HTTP 404로 응답했습니다 (base_url 확인)", b),
			fmt.Sprintf("%s answered HTTP 404 (check base_url)", b))
	case status == http.StatusBadRequest || status == http.StatusConflict ||
		status == http.StatusRequestEntityTooLarge || status == http.StatusUnprocessableEntity:
		// This request's (a malformed body or number), not the account's.
		return perm("", fmt.Sprintf("%s가 요청을 거부했습니다 (HTTP %d%s)", b, status, detail(msg)),
			fmt.Sprintf("%s refused the request (HTTP %d%s)", b, status, detail(msg)))
	default:
		return perm(fmt.Sprintf("HTTP %d 응답 (base_url 확인)", status), fmt.Sprintf("%s가 요청을 거부했습니다 (HTTP %d%s)", b, status, detail(msg)),
			fmt.Sprintf("%s refused the request (HTTP %d%s)", b, status, detail(msg)))
	}
}

func detail(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}

// registrationError is a send-many answer in which every message was
// refused for a reason of the request or the account (code): it fails the
// batch, so that it goes to the next provider.
func (c *Client) registrationError(code, msg string) *provider.Error {
	b := c.brand.display
	e := &provider.Error{Provider: c.name, Code: code, Message: c.redact(msg), Permanent: true}
	ci, known := statusCodes[code]
	if !known {
		ci = codeInfo{ko: msg, en: "message refused: " + msg}
	}
	e.Korean = b + " 접수 거부: " + describe(code, msg)
	e.English = ci.en
	// An unregistered sender is the message's own (another sender may be
	// registered), as for Aligo; balance and the account itself are the
	// account's.
	switch code {
	case "1062", "2062":
		e.Korean = "발신번호가 " + b + "에 등록되어 있지 않습니다 (발신번호 사전등록 필요)"
	case "1030", "2230":
		e.Korean, e.Account = b+" 잔액이 부족합니다 (충전 필요)", "잔액 부족"
	case "1020":
		e.Account = "인증 실패"
	case "2063":
		e.Account = "계정 차단"
	}
	if ci.scope == scopeRetry {
		e.Permanent = false
		e.English += " (will retry)"
	}
	return e
}

// words are the brand's for the failures every gateway shares. An
// unreadable answer to a send is Uncertain: Solapi answered, so it had the
// request, and may have accepted it.
func (b brand) words() gateway.Texts {
	t := gateway.Wording(b.display)
	t.UndecodableSent = gateway.Text{
		Ko: b.display + " 응답을 해석할 수 없습니다 (접수 여부를 확인한 뒤 다시 보냅니다)",
		En: "cannot decode the " + b.display + " response (munja asks whether it was accepted before sending again)",
	}
	return t
}

// gw is the client as the shared gateway helpers take it.
func (c *Client) gw() gateway.Client {
	return gateway.Client{Provider: c.name, Texts: c.brand.words(), Redact: c.redact, Log: c.log, HTTP: c.hc, Timeout: c.timeout, MaxBody: maxBody}
}

// decodeError is a 2xx answer munja cannot read (a maintenance page,
// truncated JSON). Retryable; for a send it is Uncertain (see words).
func (c *Client) decodeError(body []byte, err error, send bool) *provider.Error {
	return c.gw().DecodeError(body, err, send)
}

// redact removes the API secret (and key) from text that came back from
// the network, in case a proxy or error page echoes the request.
func (c *Client) redact(s string) string {
	for _, k := range []string{c.apiSecret.Reveal(), c.apiKey.Reveal()} {
		if len(k) >= 4 {
			s = strings.ReplaceAll(s, k, "<secret>")
		}
	}
	return s
}
