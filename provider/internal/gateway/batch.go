package gateway

import (
	"fmt"

	"github.com/munja-sms/munja/sms"
)

// The checks of a batch a gateway makes before calling, each refusing
// with a RequestError (permanent) in the words of a Korean SMS gateway.
// Each gateway calls those it makes, in its own order; the title rule
// (trimmed or not, how many bytes, a fallback) is each gateway's.

// CheckReceivers refuses a batch of no receivers, or of more than max
// (per call).
func (c Client) CheckReceivers(n, max int) error {
	switch {
	case n == 0:
		return c.RequestError("no receivers", "수신번호가 없습니다", "batch has no receivers")
	case n > max:
		return c.RequestError("batch too large",
			fmt.Sprintf("한 번에 최대 %d명까지 보낼 수 있습니다 (요청: %d명)", max, n),
			fmt.Sprintf("batch has %d receivers, %s accepts at most %d per call", n, c.Texts.Name, max))
	}
	return nil
}

// EmptyText refuses a batch without text.
func (c Client) EmptyText() error {
	return c.RequestError("empty message", "메시지 내용이 없습니다", "batch has an empty text")
}

// NoSender refuses a batch without a sender when none is configured.
func (c Client) NoSender() error {
	return c.RequestError("no sender", "발신번호가 설정되어 있지 않습니다 (sms.sender)",
		"no sender number configured (sms.sender)")
}

// NoTestMode refuses a test batch on a gateway without a test mode: it
// would be delivered and charged.
func (c Client) NoTestMode() error {
	n := c.Texts.Name
	return c.RequestError("test mode not offered",
		n+"에는 테스트 발송이 없습니다 (보내면 실제로 전달되고 과금됩니다): 테스트 메시지는 이 게이트웨이로 보내지 않습니다",
		n+" has no test mode (a send is delivered and charged): a test message is not sent through it")
}

// Sender is the number a batch goes from: the batch's (sender), else the
// configured one, refused when there is none, and written by parse as
// the gateway takes it (nil: as it is), refused when parse fails.
func (c Client) Sender(sender, configured string, parse func(string) (string, error)) (string, error) {
	if sender == "" {
		sender = configured
	}
	if sender == "" {
		return "", c.NoSender()
	}
	if parse == nil {
		return sender, nil
	}
	s, err := parse(sender)
	if err != nil {
		return "", c.RequestError("bad sender", "발신번호 오류: "+err.Error(), "sender "+err.Error())
	}
	return s, nil
}

// Kind decides how text goes, always explicitly: as kind (SMS when
// unset; MMS as such when mms is set, else as LMS: munja attaches no
// image, and an MMS without one is an LMS), an SMS over 90 CP949 bytes
// as LMS rather than cut short on the handset. A text over
// sms.MaxLMSBytes, or an unknown kind, is refused.
func (c Client) Kind(kind sms.Kind, text string, mms bool) (sms.Kind, error) {
	n := sms.Len(text)
	if n > sms.MaxLMSBytes {
		return "", c.RequestError("message too long",
			fmt.Sprintf("메시지가 너무 깁니다 (%d바이트, 최대 %d)", n, sms.MaxLMSBytes),
			fmt.Sprintf("message is %d bytes, %s accepts at most %d", n, c.Texts.Name, sms.MaxLMSBytes))
	}
	switch kind {
	case sms.KindSMS, sms.KindLMS:
	case "":
		kind = sms.KindSMS
	case sms.KindMMS:
		if !mms {
			kind = sms.KindLMS
		}
	default:
		return "", c.RequestError("bad kind", "알 수 없는 메시지 종류: "+string(kind), "unknown message kind "+string(kind))
	}
	if fit := sms.FitKind(kind, n); fit != kind {
		if c.Log != nil {
			c.Log.Warn("text exceeds 90 bytes, sending as LMS", "bytes", n)
		}
		kind = fit
	}
	return kind, nil
}
