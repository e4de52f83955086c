package nhn

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
)

// gatewayError classifies an answer whose header says isSuccessful false
// (TOAST-DOCS/SMS ko/error-code.md). Authentication, account and request
// errors are permanent: the same request fails the same way until an
// operator fixes the config or the NHN console. Only NHN's own system
// errors are retried.
//
// UNCONFIRMED: which resultCode a wrong X-Secret-Key gets. The SMS table
// gives -1004 to "Not allow ip."; NHN's Email API (same header, same
// generation) documents -1004 "Invalid secretKey.". So the text decides
// first: a message naming the secret key is a secret key problem whatever
// the code, and an HTTP 401/403 without that word is an app key or secret
// key problem.
func (c *Client) gatewayError(status int, code int64, msg string) *provider.Error {
	msg = c.redact(msg)
	e := &provider.Error{Provider: c.name, Code: strconv.FormatInt(code, 10), Message: msg, Permanent: true}
	lower := strings.ToLower(msg)
	set := func(ko, en string) { e.Korean, e.English = ko, en }
	// Account marks what refuses every call of the service (the
	// gateway-down alert names it); a refused sender or recipient is the
	// request's own.
	switch {
	case strings.Contains(lower, "secret"):
		e.Account = "인증 실패"
		set("NHN Cloud 인증 실패: 시크릿 키가 맞지 않습니다 — secret_key를 확인하세요 (콘솔의 URL & Appkey)",
			"authentication failed: the secret key is not accepted — check secret_key (NHN Cloud console, URL & Appkey)")
	case code == -1000 || code == -1001 || code == -1002:
		e.Account = "인증 실패"
		set("NHN Cloud 인증 실패: 앱키가 없거나 사용 종료되었습니다 — app_key를 확인하세요",
			"authentication failed: the app key is invalid, unknown or disabled — check app_key")
	case code == -1004 || strings.Contains(lower, "allow ip"):
		e.Account = "발송 IP 미등록"
		set("이 서버의 IP가 NHN Cloud SMS에 허용되어 있지 않습니다 (콘솔에서 발송 IP 등록 필요)",
			"this server's IP address is not allowed by the NHN Cloud SMS service (add it in the console)")
	case code == -1003 || code == -1007 || code == -1008:
		e.Account = "프로젝트 오류"
		set("NHN Cloud 프로젝트 또는 계정 오류: "+msg+" — app_key와 프로젝트 상태를 확인하세요",
			"NHN Cloud refused the project or member — check app_key and the project's state")
	case code == -2312:
		set("발신번호가 NHN Cloud에 등록되어 있지 않습니다 (발신번호 사전등록 필요)",
			"the sender number is not registered in the NHN Cloud console (발신번호 사전등록)")
	case code == -2313:
		set("발신번호가 NHN Cloud에서 차단되었습니다", "the sender number is blocked by NHN Cloud")
	case code == -2016:
		set("NHN Cloud는 한 번에 1,000명까지 보낼 수 있습니다", "NHN Cloud accepts at most 1,000 recipients per request")
	case code == -2015:
		set("제목 또는 본문이 NHN Cloud의 최대 길이를 넘습니다", "the title or body exceeds NHN Cloud's maximum")
	case code == -2023:
		set("제목 또는 본문에 보낼 수 없는 문자(이모지 등)가 있습니다", "the title or body has a character NHN Cloud cannot send (emoji …)")
	case code == -2018 || code == -2019 || code == -2001:
		set("수신번호가 없거나 올바르지 않습니다", "a recipient number is missing or invalid")
	case code == -9995 || code == -9996 || code == -9997 || code == -9998:
		e.Account = "요청 형식 오류 (base_url 확인)"
		set("NHN Cloud가 요청 형식을 거부했습니다 (base_url 확인): "+msg,
			"NHN Cloud refused the request format (check base_url)")
	case code == -9999 || code == -2021:
		// NHN's own system errors ("System error", "Failed insert queue"):
		// the request was not taken, and a later one may be.
		e.Permanent = false
		set("NHN Cloud 시스템 오류 (다시 시도합니다): "+msg, "NHN Cloud system error (will retry)")
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Account = "인증 실패"
		set("NHN Cloud 인증 실패 — app_key와 secret_key를 확인하세요: "+msg,
			"authentication failed — check app_key and secret_key")
	case status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout:
		e.Permanent = false
		e.Uncertain = status == http.StatusGatewayTimeout
		set(fmt.Sprintf("NHN Cloud 서버 오류 (HTTP %d, 다시 시도합니다): %s", status, msg),
			fmt.Sprintf("NHN Cloud server error (HTTP %d, will retry)", status))
	default:
		set("NHN Cloud 오류: "+msg, "NHN Cloud rejected the request")
	}
	return e
}

// recipientReason explains a recipient's own non-zero resultCode.
func recipientReason(code int64, msg string) string {
	switch code {
	case -6001:
		return "수신 거부된 번호 (recipient opted out): " + msg
	case -2018, -2019:
		return "수신번호 오류 (invalid recipient number): " + msg
	}
	return msg
}

// words are NHN's for the failures every gateway shares.
var words = gateway.Wording("NHN Cloud")

// gw is the client as the shared gateway helpers take it.
func (c *Client) gw() gateway.Client {
	return gateway.Client{Provider: c.name, Texts: words, Redact: c.redact, Log: c.log, HTTP: c.hc, Timeout: c.timeout, MaxBody: maxBody}
}

// statusError classifies a non-200 answer without NHN's header: 5xx, 408
// and 429 are retryable (a proxy's 504 uncertain); 401 and 403 are
// authentication; other 4xx mean a wrong base_url.
func (c *Client) statusError(status int, body []byte) *provider.Error {
	e := c.gw().StatusError(status, body, true)
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		e.Account = "인증 실패"
		e.Korean = fmt.Sprintf("NHN Cloud 인증 실패 (HTTP %d) — app_key와 secret_key를 확인하세요", status)
		e.English = fmt.Sprintf("authentication failed (HTTP %d) — check app_key and secret_key", status)
	}
	return e
}

// decodeError is an answer that is not NHN's JSON, e.g. a maintenance
// page. Retryable.
func (c *Client) decodeError(body []byte, err error) *provider.Error {
	return c.gw().DecodeError(body, err, false)
}

// redact removes the secret key from text that came back from the network.
func (c *Client) redact(s string) string { return gateway.Redact(s, c.secret.Reveal()) }
