package twilio

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
)

// Twilio error codes munja acts on. 20003, 21211 and 21614 are the ones
// aligo-api.md §9.4 and the brief name; the others come from Twilio's
// public error catalogue (twilio.com/docs/errors), not from §9.4, and only
// choose the operator's hint — unknown codes are classified by HTTP status.
const (
	codeAuth         = 20003 // Authenticate
	codeNotFound     = 20404 // the resource (account, message) does not exist
	codeTooMany      = 20429 // too many requests
	codeInvalidTo    = 21211 // 'To' is not a valid phone number
	codeNotMobile    = 21614 // 'To' is not a mobile number
	codeUnsubscribed = 21610 // the receiver replied STOP to this sender
	codeRegion       = 21408 // sending to this country is not enabled
	codeBadFrom      = 21212 // 'From' is not a valid number
	codeFromNotSMS   = 21606 // 'From' cannot send SMS / is not this account's
	codeFromAccount1 = 21659 // 'From' does not belong to the account
	codeFromAccount2 = 21660
)

// statusError classifies a non-2xx answer. e is Twilio's envelope (zero
// when the body was not one: a proxy's page). recipient reports a refusal
// of the receiver alone (the others in a batch would be fine; munja sends
// one per call, so it is that delivery's final failure). Account marks
// what refuses every send of this configuration: the credentials, the
// account's geo permissions, the configured sender (every send uses it),
// an account or base_url Twilio does not know.
func (c *Client) statusError(status int, e apiError, body []byte, post bool) (pe *provider.Error, recipient bool) {
	code := int64(e.Code)
	pe = &provider.Error{Provider: c.name, Code: fmt.Sprintf("HTTP %d", status), Message: c.redact(e.Message)}
	if code != 0 {
		pe.Code = strconv.FormatInt(code, 10)
	}
	if pe.Message == "" {
		pe.Message = c.gw().Snippet(body)
	}
	set := func(permanent bool, ko, en string) { pe.Permanent, pe.Korean, pe.English = permanent, ko, en }
	switch {
	case status == http.StatusUnauthorized || code == codeAuth:
		set(true, "Twilio 인증 실패: auth_token(과 account_sid)을 확인하세요",
			"authentication failed: Twilio refused the credentials — check auth_token (and account_sid)")
		pe.Account = "인증 실패"
	case code == codeInvalidTo:
		set(true, "Twilio: 올바른 전화번호가 아닙니다", "Twilio: not a valid phone number")
		return pe, true
	case code == codeNotMobile:
		set(true, "Twilio: 휴대폰 번호가 아니어서 문자를 받을 수 없습니다", "Twilio: not a mobile number, it cannot receive SMS")
		return pe, true
	case code == codeUnsubscribed:
		set(true, "Twilio: 수신자가 이 발신번호의 문자 수신을 거부했습니다 (STOP)",
			"Twilio: the receiver unsubscribed (replied STOP) from this sender")
		return pe, true
	case status == http.StatusTooManyRequests || code == codeTooMany:
		set(false, "Twilio 요청 한도 초과 (HTTP 429, 다시 시도합니다)", "Twilio rate limit (HTTP 429, will retry)")
	case status >= 500 || status == http.StatusRequestTimeout:
		// A proxy's 504 means it gave up waiting for Twilio, which may
		// have created the Message.
		pe.Uncertain = post && status == http.StatusGatewayTimeout
		set(false, fmt.Sprintf("Twilio 서버 오류 (HTTP %d, 다시 시도합니다)", status),
			fmt.Sprintf("Twilio server error (HTTP %d, will retry)", status))
	case code == codeRegion:
		set(true, "Twilio 계정에서 이 국가로의 발송이 허용되어 있지 않습니다 (Twilio 콘솔의 Messaging Geo permissions에서 대한민국 허용)",
			"the Twilio account may not send SMS to this country: enable South Korea in the console's Messaging geo permissions")
		pe.Account = "국가 발송 미허용 (Geo permissions)"
	case code == codeBadFrom || code == codeFromNotSMS || code == codeFromAccount1 || code == codeFromAccount2:
		set(true, "Twilio가 발신번호를 거부했습니다: 이 계정의 문자 발송 가능한 Twilio 번호인지 sender를 확인하세요",
			"Twilio refused the sender number — check sender: it must be an SMS-capable Twilio number of this account")
		pe.Account = "발신번호 거부 (sender 확인)"
	case status == http.StatusNotFound || code == codeNotFound:
		if post {
			set(true, "Twilio가 이 계정을 찾지 못했습니다: account_sid와 base_url을 확인하세요",
				"Twilio does not know this account or path — check account_sid and base_url")
			pe.Account = "HTTP 404 응답 (account_sid, base_url 확인)"
		} else {
			set(true, "Twilio에 해당 메시지가 없습니다", "Twilio has no such message")
		}
	case status >= 400:
		set(true, "Twilio가 요청을 거부했습니다: "+pe.Message, "Twilio refused the request: "+pe.Message)
	default:
		set(true, fmt.Sprintf("Twilio가 HTTP %d로 응답했습니다 (base_url 확인)", status),
			fmt.Sprintf("Twilio answered HTTP %d (check base_url)", status))
		pe.Account = fmt.Sprintf("HTTP %d 응답 (base_url 확인)", status)
	}
	return pe, false
}

// words are Twilio's for the failures every gateway shares. Twilio cannot
// be asked whether it took a send whose answer never came (no
// provider.Looker): munja sends it again, and says so.
var words = func() gateway.Texts {
	t := gateway.Wording("Twilio")
	t.Late = gateway.Text{
		Ko: "Twilio가 요청을 받은 뒤 제때 응답하지 않았습니다 (Twilio에는 접수 여부를 물을 수 없어 다시 보냅니다)",
		En: "Twilio got the request but did not answer in time (Twilio cannot be asked whether it took it: munja sends again)",
	}
	t.Cut = gateway.Text{
		Ko: "요청을 보낸 뒤 Twilio와의 연결이 끊겼습니다 (다시 보냅니다)",
		En: "the connection to Twilio broke after the request was sent (munja sends again)",
	}
	return t
}()

// gw is the client as the shared gateway helpers take it.
func (c *Client) gw() gateway.Client {
	return gateway.Client{Provider: c.name, Texts: words, Redact: c.redact, Log: c.log, HTTP: c.hc, Timeout: c.timeout, MaxBody: maxAnswer}
}

// decodeError is a 2xx answer that is not the JSON Twilio promises.
// Retryable; Uncertain when Twilio said 201 Created.
func (c *Client) decodeError(body []byte, err error, uncertain bool) *provider.Error {
	e := c.gw().DecodeError(body, err, false)
	e.Uncertain = uncertain
	return e
}

// redact removes the auth token from text that came back from the
// network, in case a proxy or error page echoes the request.
func (c *Client) redact(s string) string { return gateway.Redact(s, c.token.Reveal()) }
