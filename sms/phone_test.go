package sms

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParsePhoneAccepted(t *testing.T) {
	tests := []struct {
		in      string
		want    Phone
		display string
		mobile  bool
	}{
		// 010 in every common written form
		{"010-1234-5678", "01012345678", "010-1234-5678", true},
		{"010 1234 5678", "01012345678", "010-1234-5678", true},
		{"010.1234.5678", "01012345678", "010-1234-5678", true},
		{"01012345678", "01012345678", "010-1234-5678", true},
		{"  010-1234-5678\t", "01012345678", "010-1234-5678", true},
		{"(010) 1234-5678", "01012345678", "010-1234-5678", true},
		{"+82 10-1234-5678", "01012345678", "010-1234-5678", true},
		{"+82 010-1234-5678", "01012345678", "010-1234-5678", true},
		{"+821012345678", "01012345678", "010-1234-5678", true},
		{"821012345678", "01012345678", "010-1234-5678", true},
		{"82-10-1234-5678", "01012345678", "010-1234-5678", true},
		{"0082 10 1234 5678", "01012345678", "010-1234-5678", true},
		{"00821012345678", "01012345678", "010-1234-5678", true},
		{"008201012345678", "01012345678", "010-1234-5678", true},
		// legacy mobile, 7 or 8 digits after the prefix
		{"011-123-4567", "0111234567", "011-123-4567", true},
		{"011-1234-5678", "01112345678", "011-1234-5678", true},
		{"016-123-4567", "0161234567", "016-123-4567", true},
		{"017 1234 5678", "01712345678", "017-1234-5678", true},
		{"018.123.4567", "0181234567", "018-123-4567", true},
		{"019-9876-5432", "01998765432", "019-9876-5432", true},
		// Seoul
		{"02-123-4567", "021234567", "02-123-4567", false},
		{"02-1234-5678", "0212345678", "02-1234-5678", false},
		{"(02) 123-4567", "021234567", "02-123-4567", false},
		{"(02)1234-5678", "0212345678", "02-1234-5678", false},
		{"+82 2 1234 5678", "0212345678", "02-1234-5678", false},
		{"+82 (0)2-123-4567", "021234567", "02-123-4567", false},
		// other area codes, one of each
		{"031-123-4567", "0311234567", "031-123-4567", false},
		{"032-1234-5678", "03212345678", "032-1234-5678", false},
		{"033-123-4567", "0331234567", "033-123-4567", false},
		{"041-123-4567", "0411234567", "041-123-4567", false},
		{"042-123-4567", "0421234567", "042-123-4567", false},
		{"043-123-4567", "0431234567", "043-123-4567", false},
		{"044-123-4567", "0441234567", "044-123-4567", false},
		{"051-123-4567", "0511234567", "051-123-4567", false},
		{"052-123-4567", "0521234567", "052-123-4567", false},
		{"053-123-4567", "0531234567", "053-123-4567", false},
		{"054-123-4567", "0541234567", "054-123-4567", false},
		{"055-123-4567", "0551234567", "055-123-4567", false},
		{"061-123-4567", "0611234567", "061-123-4567", false},
		{"062-123-4567", "0621234567", "062-123-4567", false},
		{"063-123-4567", "0631234567", "063-123-4567", false},
		{"064-1234-5678", "06412345678", "064-1234-5678", false},
		{"+82 31 123 4567", "0311234567", "031-123-4567", false},
		// special classes
		{"070-1234-5678", "07012345678", "070-1234-5678", false},
		{"0505-123-4567", "05051234567", "0505-123-4567", false},
		{"0504-1234-5678", "050412345678", "0504-1234-5678", false},
		{"080-123-4567", "0801234567", "080-123-4567", false},
		{"060-123-4567", "0601234567", "060-123-4567", false},
		// representative numbers
		{"1588-1234", "15881234", "1588-1234", false},
		{"1544 0000", "15440000", "1544-0000", false},
		{"1600-1234", "16001234", "1600-1234", false},
		{"16441234", "16441234", "1644-1234", false},
		{"1800-1234", "18001234", "1800-1234", false},
		{"1899.9999", "18999999", "1899-9999", false},
		{"+82 1588-1234", "15881234", "1588-1234", false},
		{"8215881234", "15881234", "1588-1234", false},
	}
	for _, tt := range tests {
		p, err := ParsePhone(tt.in)
		if err != nil {
			t.Errorf("ParsePhone(%q): %v", tt.in, err)
			continue
		}
		if p != tt.want {
			t.Errorf("ParsePhone(%q) = %q, want %q", tt.in, p, tt.want)
		}
		if got := p.Display(); got != tt.display {
			t.Errorf("%q.Display() = %q, want %q", p, got, tt.display)
		}
		if got := p.IsMobile(); got != tt.mobile {
			t.Errorf("%q.IsMobile() = %v, want %v", p, got, tt.mobile)
		}
		if again, err := ParsePhone(p.Display()); err != nil || again != p {
			t.Errorf("ParsePhone(%q) = %q, %v; want %q", p.Display(), again, err, p)
		}
	}
}

func TestParsePhoneRejected(t *testing.T) {
	tests := []struct{ in, reason string }{
		{"", "empty"},
		{"   ", "empty"},
		{"0101234", "too short for a mobile number (expected 010 + 8 digits)"},
		{"010-1234-567", "too short for a mobile number (expected 010 + 8 digits)"},
		{"010-1234-56789", "too long for a mobile number (expected 010 + 8 digits)"},
		{"011-12-3456", "too short for a mobile number (expected 011 + 7 or 8 digits)"},
		{"019-12345-67890", "too long for a mobile number (expected 019 + 7 or 8 digits)"},
		{"010-abcd-5678", "contains letters"},
		{"O10-1234-5678", "contains letters"},
		{"010-1234-5678 ext 3", "contains letters"},
		{"전화 010-1234-5678", "contains letters"},
		{"010#1234#5678", "contains invalid character '#'"},
		{"010/1234/5678", "contains invalid character '/'"},
		{"０１０-1234-5678", "contains invalid character '０'"},
		{"010-1234-5678\xff", "is not valid UTF-8 text"},
		{"---", "contains no digits"},
		{"()", "contains no digits"},
		{"010+1234", "'+' is only allowed before the country code"},
		{"++82 10 1234 5678", "'+' is only allowed before the country code"},
		{"+1 415 555 0100", "unsupported country code (only +82, Korea, is accepted)"},
		{"+8", "unsupported country code"},
		{"001-1-415-555-0100", "international numbers are not supported"},
		{"+82", "too short"},
		{"0", "too short"},
		{"01", "too short"},
		{"012-3456-7890", `unknown prefix "012"`},
		{"013-3456-7890", `unknown prefix "013"`},
		{"030-123-4567", `unknown prefix "030"`},
		{"034-123-4567", `unknown prefix "034"`},
		{"045-123-4567", `unknown prefix "045"`},
		{"056-123-4567", `unknown prefix "056"`},
		{"065-123-4567", `unknown prefix "065"`},
		{"090-123-4567", `unknown prefix "090"`},
		{"1012345678", `unknown prefix "10" (missing the leading 0?)`},
		{"2-123-4567", `unknown prefix "21" (missing the leading 0?)`},
		{"555-1234", `unknown prefix "55"`},
		{"1234-5678", `unknown prefix "12"`},
		{"02-12-345", "too short for a Seoul number (expected 02 + 7 or 8 digits)"},
		{"02-12345-67890", "too long for a Seoul number (expected 02 + 7 or 8 digits)"},
		{"031-12-3456", "too short for a landline number (expected 031 + 7 or 8 digits)"},
		{"064-12345-67890", "too long for a landline number (expected 064 + 7 or 8 digits)"},
		{"070-123-4567", "too short for an internet phone number (expected 070 + 8 digits)"},
		{"0505-12-3456", "too short for a personal number (expected 050 + 8 or 9 digits)"},
		{"0505-12345-67890", "too long for a personal number (expected 050 + 8 or 9 digits)"},
		{"080-1234-5678", "too long for a toll-free number (expected 080 + 7 digits)"},
		{"060-12-3456", "too short for a premium-rate number (expected 060 + 7 digits)"},
		{"1588-123", "too short for a representative number (expected 1588 + 4 digits)"},
		{"1588-12345", "too long for a representative number (expected 1588 + 4 digits)"},
		{"15", "too short for a representative number (expected 15xx + 4 digits)"},
		{strings.Repeat("0", 65), "too long (more than 64 characters)"},
	}
	for _, tt := range tests {
		p, err := ParsePhone(tt.in)
		if err == nil {
			t.Errorf("ParsePhone(%q) = %q, want error %q", tt.in, p, tt.reason)
			continue
		}
		var pe *PhoneError
		if !errors.As(err, &pe) {
			t.Errorf("ParsePhone(%q) error %T, want *PhoneError", tt.in, err)
			continue
		}
		if pe.Input != tt.in {
			t.Errorf("ParsePhone(%q): Input = %q", tt.in, pe.Input)
		}
		if !strings.HasPrefix(pe.Reason, tt.reason) {
			t.Errorf("ParsePhone(%q): reason %q, want prefix %q", tt.in, pe.Reason, tt.reason)
		}
		if p != "" {
			t.Errorf("ParsePhone(%q) returned %q with an error", tt.in, p)
		}
	}
}

func TestPhoneErrorMessage(t *testing.T) {
	_, err := ParsePhone("0101234")
	want := `invalid phone number "0101234": too short for a mobile number (expected 010 + 8 digits)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	long := strings.Repeat("가", 100)
	_, err = ParsePhone(long)
	if err == nil || len(err.Error()) > 150 || !strings.Contains(err.Error(), "…") {
		t.Fatalf("long input should be shown truncated, got %v", err)
	}
}

func TestDisplayInvalidUnchanged(t *testing.T) {
	for _, p := range []Phone{"", "abc", "0101234", "010-1234-5678", "12345678"} {
		if got := p.Display(); got != string(p) {
			t.Errorf("Phone(%q).Display() = %q, want it unchanged", p, got)
		}
		if p.IsMobile() {
			t.Errorf("Phone(%q).IsMobile() = true", p)
		}
	}
}

func TestParsePhones(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []Phone
		errs []string // Input of each *PhoneError, in order
	}{
		{"empty", nil, nil, nil},
		{"blank entries", []string{"", " , ;", "\n"}, nil, nil},
		{"one per entry", []string{"010-1234-5678", "02-123-4567"}, []Phone{"01012345678", "021234567"}, nil},
		{"comma", []string{"010-1234-5678,010-2222-3333"}, []Phone{"01012345678", "01022223333"}, nil},
		{"semicolon and spaces", []string{"010-1234-5678 ; 010-2222-3333;"}, []Phone{"01012345678", "01022223333"}, nil},
		{"whitespace separated", []string{"01012345678 01022223333\n0212345678"}, []Phone{"01012345678", "01022223333", "0212345678"}, nil},
		{"spaced numbers stay whole", []string{"010 1234 5678, +82 10 2222 3333"}, []Phone{"01012345678", "01022223333"}, nil},
		{"spaced numbers space separated", []string{"010 1234 5678 02 123 4567 1588 1234"}, []Phone{"01012345678", "021234567", "15881234"}, nil},
		{"dedup across forms", []string{"010-1234-5678", "+82 10 1234 5678, 01012345678", "010.1234.5678"}, []Phone{"01012345678"}, nil},
		{"dedup keeps first order", []string{"02-123-4567, 010-1234-5678, 02 123 4567"}, []Phone{"021234567", "01012345678"}, nil},
		{"errors reported by entry", []string{"010-1234-567, 010-2222-3333, abc"}, []Phone{"01022223333"}, []string{"010-1234-567", "abc"}},
		{"bad run between good ones", []string{"010-1111-2222 010 1234 567 010-3333-4444"}, []Phone{"01011112222", "01033334444"}, []string{"010 1234 567"}},
		{"words around a number", []string{"call 010 1234 5678 now"}, []Phone{"01012345678"}, []string{"call", "now"}},
		// More pieces than longestPhone joins (issue 11): read together,
		// as ParsePhone reads them, never dropped.
		{"six or more pieces", []string{"010 9 8 7 6 5 4 3 2"}, []Phone{"01098765432"}, nil},
		{"six or more pieces after a number", []string{"010-1111-2222, 1588-1234 010 9 8 7 6 5 4 3 2"},
			[]Phone{"01011112222", "15881234", "01098765432"}, nil},
		{"six or more pieces that are no number", []string{"010-1111-2222 010 9 8 7 6 5 4 3 2 1"},
			[]Phone{"01011112222"}, []string{"010 9 8 7 6 5 4 3 2 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ParsePhones(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("phones = %q, want %q", got, tt.want)
			}
			if len(errs) != len(tt.errs) {
				t.Fatalf("errors = %v, want inputs %q", errs, tt.errs)
			}
			for i, err := range errs {
				var pe *PhoneError
				if !errors.As(err, &pe) || pe.Input != tt.errs[i] {
					t.Errorf("error %d = %v, want *PhoneError for %q", i, err, tt.errs[i])
				}
			}
		})
	}
}

func TestDedupPhones(t *testing.T) {
	in := []Phone{"01012345678", "021234567", "01012345678", "15881234", "021234567"}
	orig := append([]Phone(nil), in...)
	got := DedupPhones(in)
	want := []Phone{"01012345678", "021234567", "15881234"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DedupPhones = %q, want %q", got, want)
	}
	if !reflect.DeepEqual(in, orig) {
		t.Errorf("DedupPhones modified its input: %q", in)
	}
	if got := DedupPhones(nil); len(got) != 0 {
		t.Errorf("DedupPhones(nil) = %q", got)
	}
}

// TestPhoneErrorsInKorean: every refusal says why in Korean too (the
// console shows ReasonKo), with the same facts as the English reason.
func TestPhoneErrorsInKorean(t *testing.T) {
	for _, tc := range []struct{ in, ko string }{
		{"", "비어 있습니다"},
		{"010-1234-567a", "글자가 섞여 있습니다"},
		{"010+1234", "'+'는 국가번호 앞에만"},
		{"010#1234", "쓸 수 없는 문자 '#'"},
		{"---", "숫자가 없습니다"},
		{"+1 212 555 0100", "한국 +82만"},
		{"001 212 555 0100", "국제 번호는"},
		{"02-12", "서울 번호로는 너무 짧습니다 (02 + 7~8자리)"},
		{"010-1234-56789", "휴대전화 번호로는 너무 깁니다 (010 + 8자리)"},
		{"1588-123", "대표 번호로는 너무 짧습니다 (1588 + 4자리)"},
		{"12-345-6789", `"12"(으)로 시작하는 번호는 없습니다`},
		{"10-1234-5678", "(앞의 0이 빠졌나요?)"},
		{strings.Repeat("1", 70), "너무 깁니다 (64자 초과)"},
	} {
		_, err := ParsePhone(tc.in)
		var pe *PhoneError
		if !errors.As(err, &pe) {
			t.Errorf("%q: %v, want a *PhoneError", tc.in, err)
			continue
		}
		if !strings.Contains(pe.ReasonKo, tc.ko) || pe.Reason == "" {
			t.Errorf("%q: Korean reason %q (English %q), want it to contain %q", tc.in, pe.ReasonKo, pe.Reason, tc.ko)
		}
	}
}
