package aligo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/munja-sms/munja/provider"
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

// transportError classifies a failure before a usable answer arrived. All
// of them are retryable: the gateway may well accept the same request later.
func (c *Client) transportError(ctx context.Context, err error, wrote bool) *provider.Error {
	e := &provider.Error{Provider: c.name, Err: err, Uncertain: wrote}
	var ne net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
	switch {
	case timeout && wrote:
		e.Code = "timeout"
		e.Korean = "Aligo가 요청을 받은 뒤 제때 응답하지 않았습니다 (접수 여부를 확인한 뒤 다시 보냅니다)"
		e.English = "Aligo got the request but did not answer in time (munja asks whether it was accepted before sending again)"
	case timeout:
		e.Code = "timeout"
		e.Korean = "Aligo 응답 시간 초과 (다시 시도합니다)"
		e.English = "Aligo did not answer in time (will retry)"
	case errors.Is(err, context.Canceled):
		e.Code = "canceled"
		e.Korean = "Aligo 호출이 취소되었습니다"
		e.English = "the Aligo call was cancelled"
	case wrote:
		e.Code = "network"
		e.Korean = "요청을 보낸 뒤 Aligo와의 연결이 끊겼습니다 (접수 여부를 확인한 뒤 다시 보냅니다)"
		e.English = "the connection to Aligo broke after the request was sent (munja asks whether it was accepted before sending again)"
	default:
		e.Code = "network"
		e.Korean = "Aligo에 연결할 수 없습니다 (다시 시도합니다)"
		e.English = "cannot reach Aligo (will retry)"
	}
	return e
}

// statusError classifies a non-200 HTTP answer. Aligo answers application
// errors with 200, so anything else came from the infrastructure in front of
// it: 5xx, 408 and 429 are retryable; other 4xx mean a wrong base_url or a
// blocked client and will not heal by retrying.
func (c *Client) statusError(status int, body []byte) *provider.Error {
	e := &provider.Error{
		Provider: c.name,
		Code:     fmt.Sprintf("HTTP %d", status),
		Message:  snippet(c.redact(string(body))),
	}
	if status >= 500 || status == 408 || status == 429 {
		// A proxy's 504 means it gave up waiting for Aligo, which may
		// have accepted the request.
		e.Uncertain = status == http.StatusGatewayTimeout
		e.Korean = fmt.Sprintf("Aligo 서버 오류 (HTTP %d, 다시 시도합니다)", status)
		e.English = fmt.Sprintf("Aligo server error (HTTP %d, will retry)", status)
		return e
	}
	e.Permanent = true
	e.Account = fmt.Sprintf("HTTP %d 응답 (base_url 확인)", status)
	e.Korean = fmt.Sprintf("Aligo가 HTTP %d로 응답했습니다 (base_url 확인)", status)
	e.English = fmt.Sprintf("Aligo answered HTTP %d (check base_url)", status)
	return e
}

// decodeError is an answer that is not the JSON Aligo promises, e.g. a
// maintenance page. Retryable.
func (c *Client) decodeError(body []byte, err error) *provider.Error {
	return &provider.Error{
		Provider: c.name,
		Code:     "bad response",
		Message:  snippet(c.redact(string(body))),
		Korean:   "Aligo 응답을 해석할 수 없습니다 (다시 시도합니다)",
		English:  "cannot decode the Aligo response (will retry)",
		Err:      err,
	}
}

// requestError is a batch this client refuses before calling the gateway.
func (c *Client) requestError(code, ko, en string) *provider.Error {
	return &provider.Error{Provider: c.name, Code: code, Korean: ko, English: en, Permanent: true}
}

// redact removes the API key from text that came back from the network, in
// case a proxy or error page echoes the request.
func (c *Client) redact(s string) string {
	if k := c.key.Reveal(); k != "" {
		s = strings.ReplaceAll(s, k, "<secret>")
	}
	return s
}

// snippet is the start of a body for an error message, on one line.
// Redact before cutting, so a key that straddles the cut cannot leak in part.
func snippet(b string) string {
	s := strings.Join(strings.Fields(b), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
