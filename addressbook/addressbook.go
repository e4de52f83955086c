// Package addressbook reads and writes address book files: the original PHP
// setup's address_book.json in every shape a PHP json_encode of a contact
// list produces, CSV and JSON exports of munja's own, and CSV files saved by
// Excel (UTF-8 with or without BOM, UTF-16, or CP949). It is pure: no I/O
// beyond the bytes it is given, no store.
//
// Parsing never stops at a bad row: rows it cannot read are reported with
// their row number and a reason, and every other row is returned.
package addressbook

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/munja-sms/munja/sms"
)

// Limits on what one file may hold.
const (
	MaxRows      = 20000 // rows read from one file; the rest is refused
	MaxNameRunes = 100
	MaxMemoRunes = 1000
	MaxGroups    = 20 // groups per contact
	MaxGroupName = 50 // runes
)

// Entry is one contact read from (or written to) a file.
type Entry struct {
	Name   string
	Phone  sms.Phone
	Memo   string
	Groups []string
}

// Reason codes of a RowError, for translation by the caller.
const (
	CodeNoPhone   = "no_phone"  // the row has no phone number
	CodeBadPhone  = "bad_phone" // the phone number cannot be read (Detail says why)
	CodeNotMobile = "not_mobile"
	CodeDuplicate = "duplicate" // same number as an earlier row (Detail names it)
	CodeTooLong   = "too_long"  // a field is longer than allowed
	CodeBadRow    = "bad_row"   // the row is not a contact (wrong type, unreadable)
	CodeTooMany   = "too_many"  // beyond MaxRows
)

// RowError is a row that could not be read.
type RowError struct {
	Row    int    // 1-based: CSV line number, or position in the JSON list/map
	Key    string // JSON map key of the row, when the file is a map
	Code   string // one of the Code constants
	Detail string // English detail, e.g. the phone parser's reason
	// DetailKo is Detail in Korean; "" where only the code's own label is
	// worth showing (a JSON value that is no contact).
	DetailKo string
}

func (e RowError) Error() string {
	where := "row " + strconv.Itoa(e.Row)
	if e.Key != "" {
		where += fmt.Sprintf(" (%q)", e.Key)
	}
	msg := map[string]string{
		CodeNoPhone: "no phone number", CodeBadPhone: "invalid phone number",
		CodeNotMobile: "not a mobile number", CodeDuplicate: "duplicate phone number",
		CodeTooLong: "field too long", CodeBadRow: "not a contact", CodeTooMany: "too many rows",
	}[e.Code]
	if msg == "" {
		msg = e.Code
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return where + ": " + msg
}

// Result is what a file held.
type Result struct {
	Entries []Entry
	Errors  []RowError
}

// raw is one row before validation.
type raw struct {
	row            int
	key            string
	name, memo     string
	phone          string
	phoneIsNumber  bool // a JSON number or an all-digit CSV cell: a lost leading 0 is restored
	groups         []string
	missingPhone   bool
	notContactWhat string // set when the row is not a contact at all
}

// collector validates rows and keeps the first entry per phone.
type collector struct {
	res  Result
	seen map[sms.Phone]int // phone → row
	rows int
}

func newCollector() *collector { return &collector{seen: map[sms.Phone]int{}} }

func (c *collector) fail(r raw, code, detail, detailKo string) {
	c.res.Errors = append(c.res.Errors, RowError{Row: r.row, Key: r.key, Code: code, Detail: detail, DetailKo: detailKo})
}

// add validates r; it returns false once MaxRows is exceeded.
func (c *collector) add(r raw) bool {
	c.rows++
	if c.rows > MaxRows {
		c.fail(r, CodeTooMany, fmt.Sprintf("at most %d rows are read from one file", MaxRows), fmt.Sprintf("한 파일에서 %d행까지만 읽습니다", MaxRows))
		return false
	}
	if r.notContactWhat != "" {
		c.fail(r, CodeBadRow, r.notContactWhat, "")
		return true
	}
	name := cleanText(r.name)
	memo := cleanText(r.memo)
	phoneText := strings.TrimSpace(r.phone)
	if phoneText == "" || r.missingPhone {
		c.fail(r, CodeNoPhone, "", "")
		return true
	}
	p, err := parsePhone(phoneText, r.phoneIsNumber)
	if err != nil {
		en, ko := phoneReason(err)
		c.fail(r, CodeBadPhone, en, ko)
		return true
	}
	if !p.IsMobile() {
		c.fail(r, CodeNotMobile, p.Display(), p.Display())
		return true
	}
	if utf8.RuneCountInString(name) > MaxNameRunes {
		c.fail(r, CodeTooLong, fmt.Sprintf("name is longer than %d characters", MaxNameRunes), fmt.Sprintf("이름이 %d자를 넘습니다", MaxNameRunes))
		return true
	}
	if utf8.RuneCountInString(memo) > MaxMemoRunes {
		c.fail(r, CodeTooLong, fmt.Sprintf("memo is longer than %d characters", MaxMemoRunes), fmt.Sprintf("메모가 %d자를 넘습니다", MaxMemoRunes))
		return true
	}
	groups, ge := cleanGroups(r.groups)
	if ge != nil {
		c.fail(r, CodeTooLong, ge.en, ge.ko)
		return true
	}
	if prev, dup := c.seen[p]; dup {
		c.fail(r, CodeDuplicate, fmt.Sprintf("%s is already on row %d", p.Display(), prev), fmt.Sprintf("%s은(는) 이미 %d행에 있습니다", p.Display(), prev))
		return true
	}
	c.seen[p] = r.row
	if name == "" {
		name = p.Display()
	}
	c.res.Entries = append(c.res.Entries, Entry{Name: name, Phone: p, Memo: memo, Groups: groups})
	return true
}

// parsePhone reads a phone; for values stored as numbers (PHP ints, Excel
// cells) a leading 0 the number type dropped is put back.
func parsePhone(s string, number bool) (sms.Phone, error) {
	p, err := sms.ParsePhone(s)
	if err == nil || !number {
		return p, err
	}
	if isDigits(s) && s[0] != '0' {
		if q, err2 := sms.ParsePhone("0" + s); err2 == nil {
			return q, nil
		}
	}
	return p, err
}

// phoneReason says why a phone could not be read, in English and Korean.
func phoneReason(err error) (string, string) {
	if pe, ok := err.(*sms.PhoneError); ok {
		in := pe.Input
		if utf8.RuneCountInString(in) > 30 {
			in = string([]rune(in)[:30]) + "…"
		}
		return fmt.Sprintf("%q: %s", in, pe.Reason), fmt.Sprintf("%q: %s", in, pe.ReasonKo)
	}
	return err.Error(), ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cleanText trims s, turns control characters (newlines, tabs) into spaces
// and invalid UTF-8 into U+FFFD, and undoes the formula guard WriteCSV adds.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '\'' && strings.ContainsRune(formulaStart, rune(s[1])) {
		s = s[1:]
	}
	return strings.TrimSpace(s)
}

// formulaStart are the first characters that make a spreadsheet treat a
// cell as a formula (CSV injection).
const formulaStart = "=+-@"

// splitGroups splits a group cell ("ops, dev" or "ops;dev" or "ops|dev").
func splitGroups(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '|' })
}

// groupError is why a row's groups were refused, in English and Korean.
type groupError struct{ en, ko string }

func cleanGroups(in []string) ([]string, *groupError) {
	var out []string
	seen := map[string]bool{}
	var parts []string
	for _, g := range in {
		parts = append(parts, splitGroups(g)...)
	}
	for _, g := range parts {
		g = cleanText(g)
		if g == "" || seen[g] {
			continue
		}
		if utf8.RuneCountInString(g) > MaxGroupName {
			return nil, &groupError{fmt.Sprintf("group name is longer than %d characters", MaxGroupName), fmt.Sprintf("그룹 이름이 %d자를 넘습니다", MaxGroupName)}
		}
		seen[g] = true
		out = append(out, g)
	}
	if len(out) > MaxGroups {
		return nil, &groupError{fmt.Sprintf("more than %d groups", MaxGroups), fmt.Sprintf("그룹이 %d개를 넘습니다", MaxGroups)}
	}
	return out, nil
}

// fieldKind is what a column or JSON key holds.
type fieldKind int

const (
	fieldNone fieldKind = iota
	fieldName
	fieldPhone
	fieldMemo
	fieldGroups
)

// keyKinds maps normalized keys (lower case, no spaces, '_' or '-') to
// what they hold: the keys the original PHP page and common Korean
// spreadsheets use.
var keyKinds = map[string]fieldKind{
	"name": fieldName, "이름": fieldName, "성명": fieldName, "성함": fieldName, "fullname": fieldName,
	"username": fieldName, "contact": fieldName, "contactname": fieldName, "담당자": fieldName, "수신자": fieldName,

	"phone": fieldPhone, "tel": fieldPhone, "telephone": fieldPhone, "number": fieldPhone, "mobile": fieldPhone,
	"phonenumber": fieldPhone, "phoneno": fieldPhone, "mobilephone": fieldPhone, "cell": fieldPhone,
	"cellphone": fieldPhone, "hp": fieldPhone, "receiver": fieldPhone, "전화번호": fieldPhone, "전화": fieldPhone,
	"휴대폰": fieldPhone, "휴대폰번호": fieldPhone, "핸드폰": fieldPhone, "핸드폰번호": fieldPhone,
	"휴대전화": fieldPhone, "휴대전화번호": fieldPhone, "연락처": fieldPhone, "번호": fieldPhone, "수신번호": fieldPhone,

	"memo": fieldMemo, "note": fieldMemo, "notes": fieldMemo, "comment": fieldMemo, "description": fieldMemo,
	"메모": fieldMemo, "비고": fieldMemo,

	"group": fieldGroups, "groups": fieldGroups, "그룹": fieldGroups, "그룹명": fieldGroups,
}

func keyKind(k string) fieldKind {
	k = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(k, "\uFEFF")))
	k = strings.NewReplacer(" ", "", "_", "", "-", "", ".", "").Replace(k)
	return keyKinds[k]
}
