package alimtalk

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
)

// Operator messages for the failures Aligo's Kakao API is known to return
// (aligo-api.md §7.7). Each names the key to check.
const (
	koKey  = "Aligo 카카오 API 인증 오류: user_id 또는 key가 올바르지 않습니다"
	enKey  = "Aligo Kakao API authentication failed — check user_id and key"
	koIP   = "이 서버의 IP가 Aligo 콘솔에 등록되어 있지 않습니다 (발송 IP 등록 필요)"
	enIP   = "this server's IP address is not registered in the Aligo console (register it under 발송 IP)"
	koProf = "카카오 발신프로필 키가 올바르지 않습니다 — sender_key를 확인하세요"
	enProf = "the Kakao sender profile key is not accepted — check sender_key"
	koBal  = "Aligo 잔액(포인트)이 부족합니다 (충전 필요)"
	enBal  = "insufficient Aligo balance (top up the account)"
	koSnd  = "대체 문자 발신번호가 Aligo에 등록되어 있지 않습니다 — sender를 확인하세요 (발신번호 사전등록)"
	enSnd  = "the failover sender number is not registered in the Aligo console — check sender (발신번호 사전등록)"
	koTpl  = "알림톡 템플릿이 승인되지 않았거나 내용이 다릅니다 — templates의 tpl_code와 content를 Aligo 콘솔과 맞추세요"
	enTpl  = "the Alimtalk template is not approved or its text differs — make tpl_code and content in templates match the Aligo console"
)

// gatewayError classifies an answer whose code is not success. Every
// application error is permanent: the same request fails the same way
// until an operator fixes the account, the channel or the template, so
// only transport failures are retried (and the message goes on to the
// next provider). Account marks what refuses every request of the account.
func (c *Client) gatewayError(code int64, msg flexText) *provider.Error {
	m := c.redact(string(msg))
	e := &provider.Error{Provider: c.name, Code: strconv.FormatInt(code, 10), Message: m, Permanent: true}
	switch {
	case strings.Contains(m, "-IP") || strings.Contains(m, "아이피") || strings.Contains(m, "등록되지 않은 IP"):
		e.Korean, e.English, e.Account = koIP, enIP, "발송 IP 미등록"
	case strings.Contains(m, "senderkey") || strings.Contains(m, "발신 프로파일") || strings.Contains(m, "발신프로필") || strings.Contains(m, "프로필"):
		e.Korean, e.English, e.Account = koProf, enProf, "발신프로필 키 오류"
	case strings.Contains(m, "발신번호"):
		e.Korean, e.English = koSnd, enSnd
	case strings.Contains(m, "포인트") || strings.Contains(m, "잔액"):
		e.Korean, e.English, e.Account = koBal, enBal, "잔액 부족"
	case code == -101, strings.Contains(m, "인증"), strings.Contains(m, "userid"), strings.Contains(m, "apikey"), strings.Contains(m, "토큰"):
		// 인증오류입니다 / 등록되지 않은 인증키 입니다 / 인증번호가 올바르지
		// 않습니다 (a token: call renews it once before this stands).
		e.Korean, e.English, e.Account = koKey, enKey, "인증 실패"
	case strings.Contains(m, "템플릿") || strings.Contains(m, "tpl_code"):
		e.Korean, e.English = koTpl, enTpl
	default:
		e.Korean = "Aligo 알림톡 오류: " + m
		e.English = "Aligo rejected the Alimtalk request" // Error() adds m
	}
	return e
}

// tokenRefused reports whether e refuses the token sent (an expired one):
// the only application error call answers by renewing the token and
// trying once more. Aligo documents no code for it; -99 with 토큰 or
// 인증번호 in the message is what clients see (UNCERTAIN).
func tokenRefused(e *provider.Error) bool {
	if e.Code != "-99" && e.Code != "-101" {
		return false
	}
	return strings.Contains(e.Message, "토큰") || strings.Contains(strings.ToLower(e.Message), "token") ||
		strings.Contains(e.Message, "인증번호")
}

// words are the Kakao API's for the failures every gateway shares.
var words = gateway.Texts{
	Name: "Aligo",
	Late: gateway.Text{Ko: "Aligo 알림톡 서버가 요청을 받은 뒤 제때 응답하지 않았습니다 (접수 여부를 확인한 뒤 다시 보냅니다)",
		En: "Aligo's Kakao API got the request but did not answer in time (munja asks whether it was accepted before sending again)"},
	Timeout:  gateway.Text{Ko: "Aligo 알림톡 응답 시간 초과 (다시 시도합니다)", En: "Aligo's Kakao API did not answer in time (will retry)"},
	Canceled: gateway.Text{Ko: "Aligo 알림톡 호출이 취소되었습니다", En: "the Aligo Kakao API call was cancelled"},
	Cut: gateway.Text{Ko: "요청을 보낸 뒤 Aligo 알림톡 서버와의 연결이 끊겼습니다 (접수 여부를 확인한 뒤 다시 보냅니다)",
		En: "the connection to Aligo's Kakao API broke after the request was sent (munja asks whether it was accepted before sending again)"},
	Unreachable: gateway.Text{Ko: "Aligo 알림톡 서버에 연결할 수 없습니다 (다시 시도합니다)", En: "cannot reach Aligo's Kakao API (will retry)"},
	Undecodable: gateway.Text{Ko: "Aligo 알림톡 응답을 해석할 수 없습니다 (다시 시도합니다)", En: "cannot decode the Aligo Kakao API response (will retry)"},
	Server:      gateway.Text{Ko: "Aligo 알림톡 서버 오류 (HTTP %d, 다시 시도합니다)", En: "Aligo Kakao API server error (HTTP %d, will retry)"},
	Answered:    gateway.Text{Ko: "Aligo 알림톡 서버가 HTTP %d로 응답했습니다 (base_url 확인)", En: "Aligo's Kakao API answered HTTP %d (check base_url)"},
}

// gw is the client as the shared gateway helpers take it.
func (c *Client) gw() gateway.Client {
	return gateway.Client{Provider: c.name, Texts: words, Redact: c.redact, Log: c.log, HTTP: c.hc, Timeout: c.timeout, MaxBody: maxBody}
}

// decodeError is an answer that is not the JSON Aligo promises (a
// maintenance page). Retryable.
func (c *Client) decodeError(body []byte, err error) *provider.Error {
	return c.gw().DecodeError(body, err, false)
}

// skip is the Skip error for a batch of kind (kindOf) no template is
// configured for.
func (c *Client) skip(kind string) *provider.Error {
	switch {
	case kind == "":
		return c.skipReason("승인된 알림톡 템플릿이 없는 메시지입니다", "no approved template for it")
	case strings.HasPrefix(kind, forTemplate):
		name := strings.TrimPrefix(kind, forTemplate)
		return c.skipReason(fmt.Sprintf("munja 템플릿 %q에 맞는 승인된 알림톡 템플릿이 없습니다", name),
			fmt.Sprintf("no approved template for it (munja template %q)", name))
	}
	return c.skipReason(fmt.Sprintf("%s 메시지에 맞는 승인된 알림톡 템플릿이 없습니다", kind),
		fmt.Sprintf("no approved template for it (%s messages)", kind))
}

func (c *Client) skipReason(ko, en string) *provider.Error {
	return &provider.Error{Provider: c.name, Korean: ko, English: en, Permanent: true, Skip: true}
}

// redact removes the API key and the sender key from text that came back
// from the network, in case an error page echoes the request.
func (c *Client) redact(s string) string {
	return gateway.Redact(s, c.key.Reveal(), c.senderKey.Reveal())
}
