package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/sms"
)

// Unmarshal is json.Unmarshal of body after the white space and the byte
// order mark a gateway's page may put around its JSON.
func Unmarshal(body []byte, out any) error {
	return json.Unmarshal(bytes.TrimPrefix(bytes.TrimSpace(body), []byte("\ufeff")), out)
}

// FlexString decodes a JSON string (trimmed), number or boolean as its
// text; null gives "". Gateways write ids and codes either way, even
// within one answer.
type FlexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(strings.TrimSpace(s))
	case string(b) == "true" || string(b) == "false":
		*f = FlexString(b)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("%s is neither a string nor a number", Snippet(string(b)))
		}
		*f = FlexString(n.String())
	}
	return nil
}

// FlexInt decodes an integer written as a JSON number (-101, and 1.0:
// whole floats only), a numeric string ("-101", " 7 ") or empty: "" and
// null give 0.
type FlexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexInt) UnmarshalJSON(b []byte) error {
	var s FlexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		fl, ferr := strconv.ParseFloat(string(s), 64)
		if ferr != nil || fl != float64(int64(fl)) {
			return fmt.Errorf("%q is not an integer", Snippet(string(s)))
		}
		n = int64(fl)
	}
	*f = FlexInt(n)
	return nil
}

// KST is Korea Standard Time. Korea has had no daylight saving time since
// 1988, so a fixed zone is exact and needs no tzdata.
var KST = time.FixedZone("KST", 9*60*60)

// ParseKST reads s (trimmed) in KST by the first of layouts that fits;
// "" or garbage gives the zero time.
func ParseKST(s string, layouts ...string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range layouts {
		if t, err := time.ParseInLocation(layout, s, KST); err == nil {
			return t
		}
	}
	return time.Time{}
}

// NormText is a text as a look-up compares it with what a gateway stored:
// CRLF line endings as LF, white space at its edges dropped.
func NormText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

// NormPhone is a receiver as a look-up compares it: in national digits
// when it parses, else as written (trimmed).
func NormPhone(s string) sms.Phone {
	if p, err := sms.ParsePhone(s); err == nil {
		return p
	}
	return sms.Phone(strings.TrimSpace(s))
}

// NormPhoneDigits is NormPhone keeping only the digits of a number that
// does not parse.
func NormPhoneDigits(s string) sms.Phone {
	if p, err := sms.ParsePhone(s); err == nil {
		return p
	}
	return sms.Phone(Digits(s))
}

// PhoneSet is the set of receivers as norm (NormPhone, NormPhoneDigits)
// writes them: the receivers a look-up wants.
func PhoneSet(receivers []sms.Phone, norm func(string) sms.Phone) map[sms.Phone]bool {
	set := make(map[sms.Phone]bool, len(receivers))
	for _, p := range receivers {
		set[norm(string(p))] = true
	}
	return set
}

// Digits keeps the digits of s.
func Digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// ContainsAny reports whether s contains any of words: a gateway's free
// text state (발송완료, 전송실패 …) read by the words it is known to use.
func ContainsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
