package aligo

import (
	"strconv"
	"strings"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
)

// Operator messages for the failures Aligo documents or is known to return.
const (
	koIP  = "이 서버의 IP가 Aligo 콘솔에 등록되어 있지 않습니다 (발송 IP 등록 필요)"
	enIP  = "this server's IP address is not registered in the Aligo console (register it under 발송 IP)"
	koKey = "Aligo 인증 오류: user_id 또는 API key가 올바르지 않습니다"
	enKey = "Aligo authentication failed: wrong user_id or API key"
	koAPI = "이 Aligo 계정은 SMS API 사용이 허용되어 있지 않습니다 (Aligo 콘솔에서 API 신청 필요)"
	enAPI = "the SMS API is not enabled for this Aligo account (apply for API access in the Aligo console)"
	koSnd = "발신번호가 Aligo에 등록되어 있지 않습니다 (발신번호 사전등록 필요)"
	enSnd = "the sender number is not registered in the Aligo console (발신번호 사전등록)"
	koBal = "Aligo 잔액(포인트)이 부족합니다 (충전 필요)"
	enBal = "insufficient Aligo balance (top up the account)"
	koAll = "Aligo가 모든 수신번호를 거부했습니다"
	enAll = "gateway rejected every receiver"
)

// gatewayError classifies a non-success result_code. Every documented
// application error is permanent: the same request fails the same way until
// an operator fixes the account, so only transport failures are retried.
func (c *Client) gatewayError(code int64, msg string) *provider.Error {
	msg = c.redact(msg)
	e := &provider.Error{Provider: c.name, Code: strconv.FormatInt(code, 10), Message: msg, Permanent: true}
	// Account marks what refuses every request of the account (the
	// gateway-down alert pages it); an unregistered sender is the
	// message's own (another sender may be registered).
	switch {
	case code == -101 && strings.Contains(msg, "-IP"):
		e.Korean, e.English, e.Account = koIP, enIP, "발송 IP 미등록"
	case strings.Contains(msg, "발신번호"):
		// Checked before the plain -101 case: the code Aligo uses for an
		// unregistered sender is not documented, only the wording.
		e.Korean, e.English = koSnd, enSnd
	case code == -101:
		e.Korean, e.English, e.Account = koKey, enKey, "인증 실패"
	case code == -102:
		e.Korean, e.English, e.Account = koAPI, enAPI, "API 사용 미신청"
	case code == -201 || strings.Contains(msg, "잔액") || strings.Contains(msg, "포인트"):
		// UNCERTAIN: -201 as "insufficient balance" comes from one
		// third-party client, not from Aligo; the wording is the safer signal.
		e.Korean, e.English, e.Account = koBal, enBal, "잔액 부족"
	default:
		e.Korean = "Aligo 오류: " + msg
		e.English = "Aligo rejected the request: " + msg
	}
	return e
}

// words are Aligo's for the failures every gateway shares.
var words = gateway.Wording("Aligo")

// gw is the client as the shared gateway helpers take it.
func (c *Client) gw() gateway.Client {
	return gateway.Client{Provider: c.name, Texts: words, Redact: c.redact, Log: c.log, HTTP: c.hc, Timeout: c.timeout, MaxBody: maxBody}
}

// decodeError is an answer that is not the JSON Aligo promises, e.g. a
// maintenance page. Retryable.
func (c *Client) decodeError(body []byte, err error) *provider.Error {
	return c.gw().DecodeError(body, err, false)
}

// redact removes the API key from text that came back from the network, in
// case a proxy or error page echoes the request.
func (c *Client) redact(s string) string { return gateway.Redact(s, c.key.Reveal()) }
