package sms

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Phone is a Korean phone number normalized to digits in national form,
// e.g. "01012345678", "0212345678", "15881234". Build one with ParsePhone.
type Phone string

// maxPhoneInput bounds the raw text ParsePhone looks at; no written form of
// a Korean number comes close.
const maxPhoneInput = 64

// PhoneError says why a phone number was refused.
type PhoneError struct {
	Input    string // the text as given
	Reason   string // what is wrong, e.g. "contains letters"
	ReasonKo string // Reason in Korean, for the console
}

func (e *PhoneError) Error() string {
	in := e.Input
	if len(in) > maxPhoneInput {
		in = truncate(in, maxPhoneInput) + "…"
	}
	return fmt.Sprintf("invalid phone number %q: %s", in, e.Reason)
}

// numberClass is one row of aligo-api.md §8.1.
type numberClass struct {
	name     string // "mobile", "Seoul", …; used in error reasons
	nameKo   string // name in Korean
	min, max int    // total national digits
	mobile   bool
	head     int // digits shown before the first hyphen by Display
}

var (
	classMobile   = numberClass{name: "mobile", nameKo: "휴대전화", min: 11, max: 11, mobile: true, head: 3}
	classLegacy   = numberClass{name: "mobile", nameKo: "휴대전화", min: 10, max: 11, mobile: true, head: 3}
	classSeoul    = numberClass{name: "Seoul", nameKo: "서울", min: 9, max: 10, head: 2}
	classLandline = numberClass{name: "landline", nameKo: "지역", min: 10, max: 11, head: 3}
	classInternet = numberClass{name: "internet phone", nameKo: "인터넷전화", min: 11, max: 11, head: 3}
	classPersonal = numberClass{name: "personal", nameKo: "개인", min: 11, max: 12, head: 4}
	classTollFree = numberClass{name: "toll-free", nameKo: "수신자 부담", min: 10, max: 10, head: 3}
	classPremium  = numberClass{name: "premium-rate", nameKo: "정보이용료", min: 10, max: 10, head: 3}
	classRep      = numberClass{name: "representative", nameKo: "대표", min: 8, max: 8, head: 4}
)

// prefixes maps the three leading national digits to their class ("02" is
// handled separately).
var prefixes = map[string]*numberClass{
	"010": &classMobile,
	"011": &classLegacy, "016": &classLegacy, "017": &classLegacy, "018": &classLegacy, "019": &classLegacy,
	"031": &classLandline, "032": &classLandline, "033": &classLandline,
	"041": &classLandline, "042": &classLandline, "043": &classLandline, "044": &classLandline,
	"051": &classLandline, "052": &classLandline, "053": &classLandline, "054": &classLandline, "055": &classLandline,
	"061": &classLandline, "062": &classLandline, "063": &classLandline, "064": &classLandline,
	"070": &classInternet,
	"050": &classPersonal,
	"080": &classTollFree,
	"060": &classPremium,
}

// reason is why a number was refused, in English and Korean.
type reason struct{ en, ko string }

var tooShort = reason{"too short", "너무 짧습니다"}

// classify checks national digits d against the known number classes. It
// returns the class, or nil and the reason d is not a valid number.
func classify(d string) (*numberClass, reason) {
	var c *numberClass
	var prefix string
	switch {
	case len(d) < 2:
		return nil, tooShort
	case d[0] == '1':
		if d[1] != '5' && d[1] != '6' && d[1] != '8' {
			return nil, unknownPrefix(d, d[:2])
		}
		c, prefix = &classRep, d[:min(4, len(d))]
	case d[0] != '0':
		return nil, unknownPrefix(d, d[:2])
	case d[1] == '2':
		c, prefix = &classSeoul, "02"
	case len(d) < 3:
		return nil, tooShort
	default:
		prefix = d[:3]
		if c = prefixes[prefix]; c == nil {
			return nil, unknownPrefix(d, prefix)
		}
	}
	if len(d) >= c.min && len(d) <= c.max {
		return c, reason{}
	}
	what, whatKo := "too short", "너무 짧습니다"
	if len(d) > c.max {
		what, whatKo = "too long", "너무 깁니다"
	}
	want, wantKo := expectation(c, prefix)
	return nil, reason{fmt.Sprintf("%s for %s %s number (expected %s)", what, article(c.name), c.name, want),
		fmt.Sprintf("%s 번호로는 %s (%s)", c.nameKo, whatKo, wantKo)}
}

func article(name string) string {
	if strings.ContainsRune("aeiou", rune(name[0])) {
		return "an"
	}
	return "a"
}

// expectation is how many digits a number of class c starting with
// prefix has, in English and Korean.
func expectation(c *numberClass, prefix string) (string, string) {
	if c == &classRep {
		if len(prefix) < 4 {
			prefix = prefix[:2] + "xx"
		}
		return prefix + " + 4 digits", prefix + " + 4자리"
	}
	lo, hi := c.min-len(prefix), c.max-len(prefix)
	if lo == hi {
		return fmt.Sprintf("%s + %d digits", prefix, lo), fmt.Sprintf("%s + %d자리", prefix, lo)
	}
	return fmt.Sprintf("%s + %d or %d digits", prefix, lo, hi), fmt.Sprintf("%s + %d~%d자리", prefix, lo, hi)
}

func unknownPrefix(d, prefix string) reason {
	r := reason{fmt.Sprintf("unknown prefix %q", prefix), fmt.Sprintf("%q(으)로 시작하는 번호는 없습니다", prefix)}
	if d[0] != '0' {
		if c, _ := classify("0" + d); c != nil {
			r.en += " (missing the leading 0?)"
			r.ko += " (앞의 0이 빠졌나요?)"
		}
	}
	return r
}

// ParsePhone accepts a Korean phone number in any common written form
// ("010-1234-5678", "010 1234 5678", "010.1234.5678", "(02) 123-4567",
// "+82 10-1234-5678", "821012345678", "0082…") and returns it in national
// digits. Mobile (010, 011, 016–019), landline (02, 031–064), 070, 050x,
// 080, 060 and 8-digit representative numbers (15xx/16xx/18xx) are valid;
// anything else is refused with a *PhoneError.
func ParsePhone(s string) (Phone, error) {
	in := strings.TrimSpace(s)
	fail := func(r reason) (Phone, error) { return "", &PhoneError{Input: s, Reason: r.en, ReasonKo: r.ko} }
	if in == "" {
		return fail(reason{"empty", "비어 있습니다"})
	}
	if len(in) > maxPhoneInput {
		return fail(reason{fmt.Sprintf("too long (more than %d characters)", maxPhoneInput), fmt.Sprintf("너무 깁니다 (%d자 초과)", maxPhoneInput)})
	}
	var buf [maxPhoneInput]byte
	digits := buf[:0]
	plus := false
	for _, r := range in {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+':
			if plus || len(digits) > 0 {
				return fail(reason{"'+' is only allowed before the country code", "'+'는 국가번호 앞에만 쓸 수 있습니다"})
			}
			plus = true
		case r == '-' || r == '.' || r == '(' || r == ')' || unicode.IsSpace(r):
		case unicode.IsLetter(r):
			return fail(reason{"contains letters", "글자가 섞여 있습니다"})
		case r == utf8.RuneError:
			return fail(reason{"is not valid UTF-8 text", "올바른 UTF-8 글자가 아닙니다"})
		default:
			return fail(reason{fmt.Sprintf("contains invalid character %q", r), fmt.Sprintf("쓸 수 없는 문자 %q가 있습니다", r)})
		}
	}
	d := string(digits)
	if d == "" {
		return fail(reason{"contains no digits", "숫자가 없습니다"})
	}
	intl := false
	switch {
	case plus:
		if !strings.HasPrefix(d, "82") {
			return fail(reason{"unsupported country code (only +82, Korea, is accepted)", "지원하지 않는 국가번호입니다 (한국 +82만 가능)"})
		}
		d, intl = d[2:], true
	case strings.HasPrefix(d, "0082"):
		d, intl = d[4:], true
	case strings.HasPrefix(d, "00"):
		return fail(reason{"international numbers are not supported (only Korean numbers, +82)", "국제 번호는 보낼 수 없습니다 (한국 번호 +82만 가능)"})
	case strings.HasPrefix(d, "82"):
		// No national number starts with 8, so this is the country code.
		d, intl = d[2:], true
	}
	if intl {
		// "+82 10-…" drops the trunk 0, "+82 010-…" (a common mistake) keeps
		// it, and representative numbers never had one.
		isRep := len(d) == 8 && d[0] == '1' && (d[1] == '5' || d[1] == '6' || d[1] == '8')
		if d != "" && d[0] != '0' && !isRep {
			d = "0" + d
		}
	}
	if _, r := classify(d); r.en != "" {
		return fail(r)
	}
	return Phone(d), nil
}

// Display returns the number hyphenated the way Korean operators write it:
// 010-1234-5678, 02-123-4567, 02-1234-5678, 031-123-4567, 0505-123-4567,
// 1588-1234. A value that is not a valid Phone is returned unchanged.
func (p Phone) Display() string {
	d := string(p)
	c, _ := classify(d)
	if c == nil {
		return d
	}
	head, rest := d[:c.head], d[c.head:]
	if len(rest) <= 4 {
		return head + "-" + rest
	}
	return head + "-" + rest[:len(rest)-4] + "-" + rest[len(rest)-4:]
}

// IsMobile reports whether p is a valid mobile number (010, 011, 016–019),
// the only class that can receive SMS.
func (p Phone) IsMobile() bool {
	c, _ := classify(string(p))
	return c != nil && c.mobile
}

// maxJoin is how many whitespace-separated pieces ParsePhones tries to join
// into one number where a number may start ("+82 10 1234 5678" is four).
const maxJoin = 5

// ParsePhones parses a list of entries, each of which may hold several
// numbers separated by commas, semicolons or whitespace ("010 1234 5678"
// stays one number: adjacent pieces are joined when together they form a
// valid number). It returns the valid numbers deduplicated in first-seen
// order and one *PhoneError per run of pieces it could not read, naming
// the pieces as typed. Every piece ends in a number or in an error, so a
// caller that refuses any error never sends to part of a list.
func ParsePhones(list []string) ([]Phone, []error) {
	var phones []Phone
	var errs []error
	for _, entry := range list {
		for _, r := range phoneRuns(entry) {
			if r.err != nil {
				errs = append(errs, r.err)
			} else {
				phones = append(phones, r.phone)
			}
		}
	}
	return DedupPhones(phones), errs
}

// phoneRun is consecutive whitespace-separated pieces of a list entry that
// ParsePhones reads as one: a number, or else the error saying why not.
type phoneRun struct {
	pieces []string
	phone  Phone
	err    error
}

// phoneRuns cuts entry into runs; every piece of entry is in exactly one.
func phoneRuns(entry string) []phoneRun {
	var runs []phoneRun
	for _, chunk := range strings.FieldsFunc(entry, func(r rune) bool { return r == ',' || r == ';' }) {
		tokens := strings.Fields(chunk)
		for i := 0; i < len(tokens); {
			if p, n := longestPhone(tokens[i:]); n > 0 {
				runs = append(runs, phoneRun{pieces: tokens[i : i+n], phone: p})
				i += n
				continue
			}
			// No number starts at i: take the pieces up to the next one
			// where a number starts as one run. Read together they may
			// still be a number ("010 9 8 7 6 5 4 3 2" is more pieces than
			// longestPhone joins), else they are one bad entry.
			j := i + 1
			for j < len(tokens) {
				if _, n := longestPhone(tokens[j:]); n > 0 {
					break
				}
				j++
			}
			p, err := ParsePhone(strings.Join(tokens[i:j], " "))
			runs = append(runs, phoneRun{pieces: tokens[i:j], phone: p, err: err})
			i = j
		}
	}
	return runs
}

// longestPhone joins the most leading tokens (up to maxJoin) that form a
// valid phone, returning it and how many tokens it used (0 if none).
func longestPhone(tokens []string) (Phone, int) {
	for n := min(maxJoin, len(tokens)); n > 0; n-- {
		if p, err := ParsePhone(strings.Join(tokens[:n], " ")); err == nil {
			return p, n
		}
	}
	return "", 0
}

// DedupPhones returns the distinct numbers of list in first-seen order. The
// input is not modified.
func DedupPhones(list []Phone) []Phone {
	if len(list) == 0 {
		return list
	}
	seen := make(map[Phone]struct{}, len(list))
	out := make([]Phone, 0, len(list))
	for _, p := range list {
		if _, dup := seen[p]; !dup {
			seen[p] = struct{}{}
			out = append(out, p)
		}
	}
	return out
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
