package sms

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
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

// DecideKind checks and counts text and title and chooses the message
// type. want is "", "auto", "sms" or "lms" (any case): auto picks SMS when
// the text fits MaxSMSBytes and there is no title (a blank title counts as
// none), else LMS. Problems are reported as a *FieldError (fields "text",
// "title", "type"; a control or invisible character, see Invisible) or a
// *CharError (a character CP949 lacks).
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
	n, err := CheckText("text", text)
	if err != nil {
		return "", err
	}
	tn, err := CheckText("title", title)
	if err != nil {
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

// Invisible reports whether r is a control or invisible formatting
// character, which munja refuses in a message's text and title and
// Sanitize replaces: the C0 controls but tab, newline and carriage return
// (NUL, BEL, ESC …), DEL, the C1 controls U+0080–U+009F (Unicode's
// category Cc), and the format characters of category Cf (soft hyphen
// U+00AD, zero-width space and joiners U+200B–U+200D, the direction marks,
// embeddings, overrides and isolates U+200E/U+200F, U+202A–U+202E and
// U+2066–U+2069, word joiner U+2060, byte order mark U+FEFF, tag
// characters …). A handset beeps, moves the cursor or shows nothing for
// them, a right-to-left override reorders what the reader sees, and a
// terminal acts on them (munja history). Tab and newline are text; so is
// a carriage return, which NormalizeNewlines makes a newline. Most of
// these are not in CP949 either, but the ASCII controls and the soft
// hyphen are, so CP949 alone lets them through.
func Invisible(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return false
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// CheckText is the character rule for a message's text or title, which
// DecideKind applies: it refuses the first character of s that cannot be
// sent, naming field and its 1-based character position, a control or
// invisible character (see Invisible) as a *FieldError whose message gives
// only the code point (the character itself would ring, move the cursor or
// vanish where the error is shown), one CP949 lacks as a *CharError. Else
// it returns the CP949 byte count of s, as CountBytes does.
func CheckText(field, s string) (int, error) {
	n, err := CountBytes(s)
	limit := -1 // no position limit
	var ce *CharError
	if errors.As(err, &ce) {
		ce.Field = field
		limit = ce.Pos
	}
	pos := 0
	for _, r := range s {
		pos++
		if pos == limit {
			break // the CP949 refusal comes first, unless r itself is Invisible
		}
		if Invisible(r) {
			return 0, invisibleError(field, r, pos)
		}
	}
	if ce != nil && Invisible(ce.Char) {
		return 0, invisibleError(field, ce.Char, ce.Pos)
	}
	return n, err
}

func invisibleError(field string, r rune, pos int) error {
	what := "control character"
	if !unicode.IsControl(r) {
		what = "invisible formatting character"
	}
	return &FieldError{Field: field, Msg: fmt.Sprintf("%s %U at position %d cannot be sent by SMS", what, r, pos)}
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
// and every Invisible one (ESC of a colored log line, NUL …) with '?', for
// text munja relays but did not write and cannot send back (an
// Alertmanager annotation with an emoji, a log line with a control byte
// must still page). DecideKind refuses no character of what it returns.
func Sanitize(s string) string {
	if _, err := CheckText("text", s); err == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !Encodable(r) || Invisible(r) {
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
