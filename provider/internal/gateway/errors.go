package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/munja-sms/munja/provider"
)

// Text is an operator message in Korean and in English.
type Text struct{ Ko, En string }

// Texts are a gateway's words for the failures every gateway shares.
// Wording gives the usual ones for a gateway's name; a gateway that words
// one otherwise sets that field.
type Texts struct {
	// Name is the gateway as both languages name it ("Aligo", "NHN
	// Cloud"), in the refusals of a batch (batch.go).
	Name string

	// A call without a usable answer (TransportError).
	Late        Text // no answer in time, the request written: the gateway may have it
	Timeout     Text // no answer in time
	Canceled    Text // the caller's context ended
	Cut         Text // the connection broke after the request was written
	Unreachable Text // no connection

	// Undecodable is an answer munja cannot read (DecodeError).
	// UndecodableSent, when a gateway sets it, is said of one that
	// answered a send instead, and makes it Uncertain: the gateway had
	// the request (Solapi). Left empty, an unreadable answer is one of
	// the infrastructure's (a maintenance page): not taken, retried.
	Undecodable, UndecodableSent Text

	// The two kinds of StatusError, formats of the HTTP status (%d).
	Server   Text // 5xx, 408, 429: retried
	Answered Text // any other: base_url to check
}

// Wording returns the usual Texts of a gateway called name in both
// languages, one munja asks whether it took a send whose answer never
// came (provider.Looker) before sending it again.
func Wording(name string) Texts {
	return Texts{
		Name: name,
		Late: Text{name + "가 요청을 받은 뒤 제때 응답하지 않았습니다 (접수 여부를 확인한 뒤 다시 보냅니다)",
			name + " got the request but did not answer in time (munja asks whether it was accepted before sending again)"},
		Timeout:  Text{name + " 응답 시간 초과 (다시 시도합니다)", name + " did not answer in time (will retry)"},
		Canceled: Text{name + " 호출이 취소되었습니다", "the " + name + " call was cancelled"},
		Cut: Text{"요청을 보낸 뒤 " + name + "와의 연결이 끊겼습니다 (접수 여부를 확인한 뒤 다시 보냅니다)",
			"the connection to " + name + " broke after the request was sent (munja asks whether it was accepted before sending again)"},
		Unreachable: Text{name + "에 연결할 수 없습니다 (다시 시도합니다)", "cannot reach " + name + " (will retry)"},
		Undecodable: Text{name + " 응답을 해석할 수 없습니다 (다시 시도합니다)", "cannot decode the " + name + " response (will retry)"},
		Server:      Text{name + " 서버 오류 (HTTP %d, 다시 시도합니다)", name + " server error (HTTP %d, will retry)"},
		Answered:    Text{name + "가 HTTP %d로 응답했습니다 (base_url 확인)", name + " answered HTTP %d (check base_url)"},
	}
}

// TransportError classifies a call that failed before a usable answer
// came: a timeout (ctx's deadline, ctx being the call's own context, or a
// net.Error saying so), the caller's cancellation, or the network. All
// are retryable: the gateway may well take the same request later.
// written says the request went out, so the gateway may have taken it:
// the error is Uncertain.
func (c Client) TransportError(ctx context.Context, err error, written bool) *provider.Error {
	e := &provider.Error{Provider: c.Provider, Err: err, Uncertain: written}
	var ne net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
	var t Text
	switch {
	case timeout && written:
		e.Code, t = "timeout", c.Texts.Late
	case timeout:
		e.Code, t = "timeout", c.Texts.Timeout
	case errors.Is(err, context.Canceled):
		e.Code, t = "canceled", c.Texts.Canceled
	case written:
		e.Code, t = "network", c.Texts.Cut
	default:
		e.Code, t = "network", c.Texts.Unreachable
	}
	e.Korean, e.English = t.Ko, t.En
	return e
}

// DecodeError is an answer that is not what the gateway promises (a
// maintenance page, truncated JSON): retryable, with the start of body
// (redacted) as its message. sent says it answered a send: see
// Texts.UndecodableSent.
func (c Client) DecodeError(body []byte, err error, sent bool) *provider.Error {
	e := &provider.Error{
		Provider: c.Provider,
		Code:     "bad response",
		Message:  c.Snippet(body),
		Korean:   c.Texts.Undecodable.Ko,
		English:  c.Texts.Undecodable.En,
		Err:      err,
	}
	if sent && c.Texts.UndecodableSent != (Text{}) {
		e.Uncertain = true
		e.Korean, e.English = c.Texts.UndecodableSent.Ko, c.Texts.UndecodableSent.En
	}
	return e
}

// Retryable reports whether an HTTP status is one a later call may not
// meet: a server error (5xx), a timeout (408) or a rate limit (429).
func Retryable(status int) bool {
	return status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
}

// StatusError classifies an HTTP status that did not come with the
// gateway's own answer, so from the infrastructure in front of it:
// Retryable ones are retried (Texts.Server; a 504 is Uncertain when send:
// a proxy gave up waiting for a gateway that may have taken the request);
// any other means a wrong base_url or a blocked client, which no retry
// heals and which refuses every call (Permanent, Account; Texts.Answered).
func (c Client) StatusError(status int, body []byte, send bool) *provider.Error {
	e := &provider.Error{Provider: c.Provider, Code: fmt.Sprintf("HTTP %d", status), Message: c.Snippet(body)}
	if Retryable(status) {
		e.Uncertain = send && status == http.StatusGatewayTimeout
		e.Korean, e.English = fmt.Sprintf(c.Texts.Server.Ko, status), fmt.Sprintf(c.Texts.Server.En, status)
		return e
	}
	e.Permanent = true
	e.Account = fmt.Sprintf("HTTP %d 응답 (base_url 확인)", status)
	e.Korean, e.English = fmt.Sprintf(c.Texts.Answered.Ko, status), fmt.Sprintf(c.Texts.Answered.En, status)
	return e
}

// RequestError is a batch the client refuses before calling the gateway:
// permanent, the same batch is refused again.
func (c Client) RequestError(code, ko, en string) *provider.Error {
	return &provider.Error{Provider: c.Provider, Code: code, Korean: ko, English: en, Permanent: true}
}

// Snippet is the start of body, redacted, for an error message.
func (c Client) Snippet(body []byte) string {
	s := string(body)
	if c.Redact != nil {
		s = c.Redact(s)
	}
	return Snippet(s)
}

// Redact replaces every secret (those not empty) in s with "<secret>",
// for text that came back from the network: a proxy or an error page may
// echo the request.
func Redact(s string, secrets ...string) string {
	for _, k := range secrets {
		if k != "" {
			s = strings.ReplaceAll(s, k, "<secret>")
		}
	}
	return s
}

// Snippet is the start of s for an error message, on one line: 200 bytes
// at most, cut on a character. Redact before cutting, so that a secret
// that straddles the cut cannot leak in part.
func Snippet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
