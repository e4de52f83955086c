package sms

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
)

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{
		"010-1234-5678", "+82 10-1234-5678", "+82 010-1234-5678", "0082 10 1234 5678",
		"821012345678", "(02) 123-4567", "031.123.4567", "1588-1234", "0505-1234-5678",
		"0101234", "abc", "+1 555", "", "010 1234 5678, 02 123 4567",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePhone(s)
		if err != nil {
			var pe *PhoneError
			if !errors.As(err, &pe) || pe.Input != s || pe.Reason == "" || p != "" {
				t.Fatalf("ParsePhone(%q) = %q, %#v", s, p, err)
			}
		} else {
			if strings.Trim(string(p), "0123456789") != "" || len(p) < 8 || len(p) > 12 {
				t.Fatalf("ParsePhone(%q) = %q: not national digits", s, p)
			}
			if again, err := ParsePhone(string(p)); err != nil || again != p {
				t.Fatalf("ParsePhone(%q) = %q, %v; want %q", p, again, err, p)
			}
			d := p.Display()
			if again, err := ParsePhone(d); err != nil || again != p {
				t.Fatalf("ParsePhone(Display %q) = %q, %v; want %q", d, again, err, p)
			}
			if strings.ReplaceAll(d, "-", "") != string(p) {
				t.Fatalf("Display(%q) = %q changes the digits", p, d)
			}
		}
		phones, errs := ParsePhones([]string{s})
		for _, p := range phones {
			if again, err := ParsePhone(string(p)); err != nil || again != p {
				t.Fatalf("ParsePhones(%q) gave %q which does not re-parse: %v", s, p, err)
			}
		}
		if len(DedupPhones(phones)) != len(phones) {
			t.Fatalf("ParsePhones(%q) returned duplicates: %q", s, phones)
		}
		for _, err := range errs {
			var pe *PhoneError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePhones(%q) error %T", s, err)
			}
		}
	})
}

// FuzzParsePhones checks that no piece of a recipient list is dropped:
// every piece ends in a number or in an error naming it, so a caller that
// refuses any error sends to all of a list or to none of it (issue 11).
func FuzzParsePhones(f *testing.F) {
	for _, l := range [][2]string{
		{"010-1234-5678, 02 123 4567", "+82 10 2222 3333"},
		{"010 1234 5678 02 123 4567 1588 1234", ""},
		{"call 010 1234 5678 now", " ; , "},
		{"010 9 8 7 6 5 4 3 2", "010-1111-2222"},
		{"1588-1234 010 9 8 7 6 5 4 3 2 1", "abc"},
	} {
		f.Add(l[0], l[1])
	}
	isSep := func(r rune) bool { return r == ',' || r == ';' }
	f.Fuzz(func(t *testing.T, a, b string) {
		phones, errs := ParsePhones([]string{a, b})
		var want []Phone
		nerr := 0
		for _, entry := range []string{a, b} {
			var pieces, covered []string
			for _, chunk := range strings.FieldsFunc(entry, isSep) {
				pieces = append(pieces, strings.Fields(chunk)...)
			}
			for _, r := range phoneRuns(entry) {
				covered = append(covered, r.pieces...)
				in := strings.Join(r.pieces, " ")
				p, err := ParsePhone(in)
				switch {
				case len(r.pieces) == 0:
					t.Fatalf("entry %q: empty run %+v", entry, r)
				case (r.err == nil) == (r.phone == ""):
					t.Fatalf("entry %q: run %q is neither a number nor an error: %q, %v", entry, in, r.phone, r.err)
				case r.err != nil:
					var pe *PhoneError
					if !errors.As(r.err, &pe) || pe.Input != in || err == nil {
						t.Fatalf("entry %q: run %q refused with %#v; ParsePhone says %v", entry, in, r.err, err)
					}
					nerr++
				case p != r.phone:
					t.Fatalf("entry %q: run %q read as %q; ParsePhone says %q, %v", entry, in, r.phone, p, err)
				default:
					want = append(want, r.phone)
				}
			}
			if !slices.Equal(covered, pieces) {
				t.Fatalf("entry %q: runs cover pieces %q, want %q", entry, covered, pieces)
			}
		}
		if len(errs) != nerr || !slices.Equal(phones, DedupPhones(want)) {
			t.Fatalf("ParsePhones(%q, %q) = %q, %v; runs give %q and %d errors", a, b, phones, errs, want, nerr)
		}
		for _, err := range errs {
			var pe *PhoneError
			if !errors.As(err, &pe) || pe.Input == "" {
				t.Fatalf("ParsePhones(%q, %q): error %#v", a, b, err)
			}
		}
	})
}

func FuzzCountBytes(f *testing.F) {
	for _, s := range []string{
		"", "hello", "[경고] httpd 프로세스가 동작하지 않습니다.", "똠햏", "①♥※…“”", "test😀",
		"₩1,000", "✔", "a\r\nb\rc\n", "ab\xffcd", "\xed\xa0\x80", "\xe0\x80\x80",
	} {
		f.Add(s)
	}
	enc := korean.EUCKR.NewEncoder()
	f.Fuzz(func(t *testing.T, s string) {
		n, err := CountBytes(s)
		b, encErr := enc.String(s)
		if err == nil {
			if encErr != nil || n != len(b) {
				t.Fatalf("CountBytes(%q) = %d; CP949 encoding is %d bytes, %v", s, n, len(b), encErr)
			}
		} else {
			var ce *CharError
			if !errors.As(err, &ce) || n != 0 || ce.Field != "text" {
				t.Fatalf("CountBytes(%q) = %d, %#v", s, n, err)
			}
			if encErr == nil {
				t.Fatalf("CountBytes(%q) refused %q but the encoder accepts the text", s, ce.Char)
			}
			if ce.Pos < 1 || ce.Pos > utf8.RuneCountInString(s) {
				t.Fatalf("CountBytes(%q): position %d out of range", s, ce.Pos)
			}
			if r := []rune(s)[ce.Pos-1]; r != ce.Char {
				t.Fatalf("CountBytes(%q): position %d holds %q, error names %q", s, ce.Pos, r, ce.Char)
			}
		}
		cn, cerr := CheckText("text", s)
		if (cerr == nil) != (err == nil && strings.IndexFunc(s, Invisible) < 0) || cn != n && cerr == nil {
			t.Fatalf("CheckText(%q) = %d, %v; CountBytes %d, %v", s, cn, cerr, n, err)
		}
		san := Sanitize(s)
		if _, err := CheckText("text", san); err != nil || utf8.RuneCountInString(san) != utf8.RuneCountInString(s) {
			t.Fatalf("Sanitize(%q) = %q: %v", s, san, err)
		}
		if err == nil && strings.IndexFunc(s, Invisible) < 0 && san != s {
			t.Fatalf("Sanitize(%q) = %q changed sendable text", s, san)
		}
		norm := NormalizeNewlines(s)
		if strings.ContainsRune(norm, '\r') {
			t.Fatalf("NormalizeNewlines(%q) = %q still has CR", s, norm)
		}
		if nn, nerr := CountBytes(norm); (nerr == nil) != (err == nil) || nn > n {
			t.Fatalf("normalized %q counts %d, %v; original %d, %v", norm, nn, nerr, n, err)
		}
	})
}

func FuzzDecideKind(f *testing.F) {
	f.Add("hello", "", "")
	f.Add(strings.Repeat("가", 46), "", "auto")
	f.Add(strings.Repeat("가", 46), "", "sms")
	f.Add("본문", "제목", "LMS")
	f.Add("test😀", "", "")
	f.Add("ok", "✔", "")
	f.Add("", "", "")
	f.Add("x", "", "mms")
	f.Add("디스크 \x1b[31m부족", "", "")
	f.Add("본문", "제목\x7f", "lms")
	f.Add("a\u200b😀", "", "")
	f.Fuzz(func(t *testing.T, text, title, want string) {
		k, err := DecideKind(text, title, want)
		if err != nil {
			var fe *FieldError
			var ce *CharError
			switch {
			case errors.As(err, &fe):
				if fe.Field != "text" && fe.Field != "title" && fe.Field != "type" {
					t.Fatalf("unexpected field %q: %v", fe.Field, err)
				}
			case errors.As(err, &ce):
				if ce.Field != "text" && ce.Field != "title" {
					t.Fatalf("unexpected field %q: %v", ce.Field, err)
				}
			default:
				t.Fatalf("error %T: %v", err, err)
			}
			if k != "" {
				t.Fatalf("kind %q with error %v", k, err)
			}
			if i := strings.IndexFunc(err.Error(), Invisible); i >= 0 {
				t.Fatalf("error %q prints a control character raw", err)
			}
			return
		}
		if i := strings.IndexFunc(text+title, Invisible); i >= 0 {
			t.Fatalf("DecideKind(%q, %q) accepted a control or invisible character", text, title)
		}
		n, err := CountBytes(text)
		if err != nil {
			t.Fatalf("DecideKind accepted text that CountBytes refuses: %v", err)
		}
		tn, err := CountBytes(title)
		if err != nil || tn > MaxTitleBytes || n > MaxLMSBytes || strings.TrimSpace(text) == "" {
			t.Fatalf("DecideKind accepted text %d bytes, title %d bytes, %v", n, tn, err)
		}
		switch k {
		case KindSMS:
			if n > MaxSMSBytes || strings.TrimSpace(title) != "" {
				t.Fatalf("SMS with %d bytes and title %q", n, title)
			}
		case KindLMS:
			if w := strings.ToLower(strings.TrimSpace(want)); w == "sms" {
				t.Fatalf("want sms gave LMS")
			}
		default:
			t.Fatalf("kind %q", k)
		}
	})
}
