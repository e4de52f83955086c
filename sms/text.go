package sms

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
)

// Byte limits, counted in CP949 (aligo-api.md §8.3).
const (
	MaxSMSBytes   = 90   // SMS body
	MaxLMSBytes   = 2000 // LMS/MMS body
	MaxTitleBytes = 44   // LMS/MMS title (Aligo's limit)
)

// CharError reports a character that CP949 cannot carry (emoji, ✔, ₩ U+20A9,
// invalid UTF-8 …). Gateways turn such characters into '?' or refuse the
// message, so munja refuses them before sending.
type CharError struct {
	Char  rune
	Pos   int    // 1-based character (not byte) position
	Field string // "text" or "title"
}

func (e *CharError) Error() string {
	if e.Char == utf8.RuneError {
		return fmt.Sprintf("%s: invalid UTF-8 or replacement character (U+FFFD) at position %d cannot be sent by SMS", e.Field, e.Pos)
	}
	return fmt.Sprintf("%s: character %q (%U) at position %d cannot be sent by SMS (not in CP949)", e.Field, e.Char, e.Char, e.Pos)
}

// FieldError says what is wrong with one field of a message. Field is a
// name such as "text", "title", "type", "sender", "at", "to" or "to[2]".
type FieldError struct {
	Field string
	Msg   string
	Err   error // underlying error, if any (e.g. a *PhoneError)
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap returns the underlying error, so errors.As finds a *PhoneError.
func (e *FieldError) Unwrap() error { return e.Err }

// cp949 is a bitmap of the BMP runes at or above 0x80 that the CP949 encoder
// maps (each to exactly two bytes); every encodable rune is in the BMP.
var (
	cp949Once  sync.Once
	cp949Table [0x10000 / 64]uint64
)

func loadCP949() *[0x10000 / 64]uint64 {
	cp949Once.Do(func() {
		enc := korean.EUCKR.NewEncoder()
		var src [4]byte
		var dst [8]byte
		for r := rune(0x80); r < 0x10000; r++ {
			if r >= 0xD800 && r <= 0xDFFF { // surrogates are not runes
				continue
			}
			n := utf8.EncodeRune(src[:], r)
			enc.Reset()
			nDst, _, err := enc.Transform(dst[:], src[:n], true)
			if err == nil && nDst == 2 {
				cp949Table[r>>6] |= 1 << (r & 63)
			}
		}
	})
	return &cp949Table
}

// CountBytes returns the length of s in CP949, the way Korean gateways and
// carriers count it: ASCII (including '\r' and '\n') 1 byte, every Hangul
// syllable and other CP949 character 2 bytes. A "\r\n" therefore costs 2
// bytes; apply NormalizeNewlines first. A character CP949 cannot carry is
// refused with a *CharError whose Field is "text".
func CountBytes(s string) (int, error) {
	// Fast path: skip ASCII eight bytes at a time.
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if (s[i]|s[i+1]|s[i+2]|s[i+3]|s[i+4]|s[i+5]|s[i+6]|s[i+7])&0x80 != 0 {
			break
		}
	}
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return len(s), nil
	}
	return countFrom(s, i)
}

// countFrom counts s whose first i bytes are ASCII.
func countFrom(s string, i int) (int, error) {
	table := loadCP949()
	n, pos := i, i
	for i < len(s) {
		pos++
		if c := s[i]; c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if (r >= 0xAC00 && r <= 0xD7A3) || (r < 0x10000 && table[r>>6]&(1<<(r&63)) != 0) {
			n += 2
			continue
		}
		return 0, &CharError{Char: r, Pos: pos, Field: "text"}
	}
	return n, nil
}

// NormalizeNewlines turns "\r\n" and lone "\r" into "\n", so a text pasted
// from Windows is not counted 1 byte longer per line (and pushed into LMS).
func NormalizeNewlines(s string) string {
	i := strings.IndexByte(s, '\r')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c == '\r' {
			c = '\n'
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// DecideKind counts text and title and chooses the message type. want is
// "", "auto", "sms" or "lms" (any case): auto picks SMS when the text fits
// MaxSMSBytes and there is no title (a blank title counts as none),
// else LMS. Problems are reported as a
// *FieldError (fields "text", "title", "type") or a *CharError.
func DecideKind(text, title string, want string) (Kind, error) {
	var forced Kind
	switch strings.ToLower(strings.TrimSpace(want)) {
	case "", "auto":
	case "sms":
		forced = KindSMS
	case "lms":
		forced = KindLMS
	default:
		return "", &FieldError{Field: "type", Msg: fmt.Sprintf("unknown message type %q (use auto, sms or lms)", want)}
	}
	if strings.TrimSpace(text) == "" {
		return "", &FieldError{Field: "text", Msg: "message is empty"}
	}
	n, err := CountBytes(text)
	if err != nil {
		return "", err
	}
	tn, err := CountBytes(title)
	if err != nil {
		err.(*CharError).Field = "title"
		return "", err
	}
	if tn > MaxTitleBytes {
		return "", &FieldError{Field: "title", Msg: fmt.Sprintf("title is %d bytes; at most %d allowed", tn, MaxTitleBytes)}
	}
	if n > MaxLMSBytes {
		return "", &FieldError{Field: "text", Msg: fmt.Sprintf("message is %d bytes; at most %d allowed", n, MaxLMSBytes)}
	}
	hasTitle := strings.TrimSpace(title) != ""
	switch forced {
	case KindSMS:
		if FitKind(KindSMS, n) != KindSMS {
			return "", &FieldError{Field: "text", Msg: fmt.Sprintf("message is %d bytes; SMS allows at most %d (send it as LMS or shorten it)", n, MaxSMSBytes)}
		}
		if hasTitle {
			return "", &FieldError{Field: "title", Msg: "SMS has no title (send it as LMS or remove the title)"}
		}
		return KindSMS, nil
	case KindLMS:
		return KindLMS, nil
	}
	if hasTitle {
		return KindLMS, nil
	}
	return FitKind(KindSMS, n), nil
}

// FitKind is the type a text of n CP949 bytes goes as when k was asked for:
// an SMS ("" means SMS) longer than MaxSMSBytes goes as LMS, since a gateway
// would cut it short; LMS and MMS stay. This is the one SMS/LMS rule:
// DecideKind applies it to "auto" (and refuses a forced SMS it does not
// keep), a provider to a batch it must not cut.
func FitKind(k Kind, n int) Kind {
	switch k {
	case KindSMS, "":
		if n > MaxSMSBytes {
			return KindLMS
		}
		return KindSMS
	}
	return k
}

// Describe renders a byte count for the console's live counter:
// "42 / 90 byte" for SMS, "120 / 2000 byte (LMS)" for LMS and MMS.
func Describe(n int, k Kind) string {
	switch k {
	case KindLMS, KindMMS:
		return strconv.Itoa(n) + " / " + strconv.Itoa(MaxLMSBytes) + " byte (" + string(k) + ")"
	}
	return strconv.Itoa(n) + " / " + strconv.Itoa(MaxSMSBytes) + " byte"
}

// Encodable reports whether CP949 can carry r (so an SMS can).
func Encodable(r rune) bool {
	if r < utf8.RuneSelf {
		return true
	}
	if r == utf8.RuneError || r >= 0x10000 {
		return false
	}
	return (r >= 0xAC00 && r <= 0xD7A3) || loadCP949()[r>>6]&(1<<(r&63)) != 0
}

// Sanitize replaces every character CP949 cannot carry (and invalid UTF-8)
// with '?', for text munja relays but did not write and cannot send back
// (an Alertmanager annotation with an emoji must still page).
func Sanitize(s string) string {
	if _, err := CountBytes(s); err == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !Encodable(r) {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Len counts s the way CountBytes does, without refusing anything: ASCII 1
// byte, every other character 2. It is CountBytes for text already checked
// or passed through Sanitize; a character CP949 lacks counts 2, which errs
// long (a gateway sends it as a 1-byte '?').
func Len(s string) int {
	n := 0
	for _, r := range s {
		n += width(r)
	}
	return n
}

// width is the CP949 size of r as Len counts it.
func width(r rune) int {
	if r < utf8.RuneSelf {
		return 1
	}
	return 2
}

// TruncateBytes cuts s to at most max bytes as Len counts them, on a
// character boundary and without marking the cut (an LMS title that would
// otherwise be refused or cut by the gateway).
func TruncateBytes(s string, max int) string {
	n := 0
	for i, r := range s {
		if n += width(r); n > max {
			return s[:i]
		}
	}
	return s
}

// Truncate cuts s (CP949-encodable) to at most max CP949 bytes, ending
// with "…" when it cut.
func Truncate(s string, max int) string {
	if Len(s) <= max {
		return s
	}
	return TruncateBytes(s, max-2) + "…" // "…" is 2 bytes in CP949
}
