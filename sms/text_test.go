package sms

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/encoding/korean"
)

func TestCountBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"hello", 5},
		{strings.Repeat("a", 90), 90},
		// [ 경고 ] sp httpd sp 프로세스가 sp 동작하지 sp 않습니다 .
		// 1+4+1 +1 +5 +1 +10 +1 +8 +1 +8 +1 = 42
		{"[경고] httpd 프로세스가 동작하지 않습니다.", 42},
		// [ 경고 ] sp 80 sp 포트가 sp 열려있지 sp 않습니다 . = 1+4+1+1+2+1+6+1+8+1+8+1
		{"[경고] 80 포트가 열려있지 않습니다.", 35},
		{strings.Repeat("가", 45), 90},
		{benchMixed, 2000},
		{strings.Repeat("가", 46), 92},
		{"똠", 2}, {"햏", 2}, {"똠햏", 4}, // CP949 extension, not in strict EUC-KR
		{"ㄱ", 2}, {"ㅏ", 2}, // jamo
		{"①", 2}, {"♥", 2}, {"※", 2}, {"…", 2}, {"“", 2}, {"”", 2}, {"‘", 2}, {"’", 2},
		{"★", 2}, {"☎", 2}, {"→", 2}, {"·", 2}, {"～", 2}, {"￦", 2}, {"漢字", 4},
		{"a\nb", 3},
		{"a\r\nb", 4}, // the gateway counts CR and LF
		{"a\rb", 3},
		{"가\r\n나", 6},
		{"\t", 1},
	}
	for _, tt := range tests {
		got, err := CountBytes(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CountBytes(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestCountBytesAllHangulSyllables(t *testing.T) {
	enc := korean.EUCKR.NewEncoder()
	for r := rune(0xAC00); r <= 0xD7A3; r++ {
		s := string(r)
		n, err := CountBytes(s)
		if err != nil || n != 2 {
			t.Fatalf("CountBytes(%q) = %d, %v; want 2", s, n, err)
		}
		b, err := enc.String(s)
		if err != nil || len(b) != 2 {
			t.Fatalf("CP949 encoder gives %d bytes, %v for %q", len(b), err, s)
		}
	}
}

// The lookup table must agree with the encoder on every rune.
func TestCountBytesMatchesEncoder(t *testing.T) {
	enc := korean.EUCKR.NewEncoder()
	for r := rune(0); r <= 0x1FFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		s := string(r)
		b, encErr := enc.String(s)
		n, err := CountBytes(s)
		if (err == nil) != (encErr == nil) || (err == nil && n != len(b)) {
			t.Fatalf("%U: CountBytes = %d, %v; encoder = %d bytes, %v", r, n, err, len(b), encErr)
		}
	}
}

func TestCountBytesRefused(t *testing.T) {
	tests := []struct {
		in   string
		char rune
		pos  int
	}{
		{"안녕 😀", '😀', 4},
		{"test😀", '😀', 5},
		{"😀", '😀', 1},
		{"작업 완료 ✔", '✔', 7},
		{"✓", '✓', 1},
		{"❤", '❤', 1},
		{"요금 ₩1,000", '₩', 4},
		{"가나다\u00e9x", 'é', 4}, // Latin-1 letters are not in KS X 1001
		{"\U0001F1F0\U0001F1F7", '\U0001F1F0', 1},
		{"ab\xffcd", '\uFFFD', 3},
		{"ab\uFFFDcd", '\uFFFD', 3},
		{"가\r\n😀", '😀', 4},
	}
	for _, tt := range tests {
		n, err := CountBytes(tt.in)
		var ce *CharError
		if !errors.As(err, &ce) {
			t.Errorf("CountBytes(%q) = %d, %v; want *CharError", tt.in, n, err)
			continue
		}
		if ce.Char != tt.char || ce.Pos != tt.pos || ce.Field != "text" {
			t.Errorf("CountBytes(%q): %+v, want char %q at %d in text", tt.in, *ce, tt.char, tt.pos)
		}
	}
}

func TestCharErrorMessage(t *testing.T) {
	_, err := CountBytes("test😀")
	want := "text: character '😀' (U+1F600) at position 5 cannot be sent by SMS (not in CP949)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	err = &CharError{Char: '\uFFFD', Pos: 2, Field: "title"}
	if !strings.HasPrefix(err.Error(), "title: invalid UTF-8") {
		t.Errorf("got %v", err)
	}
}

func TestCountBytesDoesNotAllocate(t *testing.T) {
	loadCP949()
	for _, s := range []string{benchASCII, benchHangul, benchMixed} {
		if a := testing.AllocsPerRun(100, func() { _, _ = CountBytes(s) }); a != 0 {
			t.Errorf("CountBytes(%.20q…) allocates %v times", s, a)
		}
	}
}

func TestNormalizeNewlines(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"a\nb", "a\nb"},
		{"a\r\nb\r\n", "a\nb\n"},
		{"a\rb", "a\nb"},
		{"a\r\r\nb", "a\n\nb"},
		{"\r\n\r\n", "\n\n"},
		{"\n\r", "\n\n"},
		{"가\r\n나", "가\n나"},
	}
	for _, tt := range tests {
		if got := NormalizeNewlines(tt.in); got != tt.want {
			t.Errorf("NormalizeNewlines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// A Windows text of 45 lines of one Hangul fits SMS only once normalized.
	win := strings.Repeat("가\r\n", 30)
	if k, _ := DecideKind(win, "", ""); k != KindLMS {
		t.Errorf("raw CRLF text: kind %s, want LMS", k)
	}
	if k, _ := DecideKind(NormalizeNewlines(win), "", ""); k != KindSMS {
		t.Errorf("normalized text: kind %s, want SMS", k)
	}
}

func TestDecideKind(t *testing.T) {
	h45, h46 := strings.Repeat("가", 45), strings.Repeat("가", 46)
	tests := []struct {
		name, text, title, want string
		kind                    Kind
		field                   string // error field; "" = no error
		msg                     string // substring of the error text
	}{
		{"auto short", "hello", "", "", KindSMS, "", ""},
		{"auto word", "hello", "", "auto", KindSMS, "", ""},
		{"auto caps", "hello", "", " AUTO ", KindSMS, "", ""},
		{"45 hangul is SMS", h45, "", "", KindSMS, "", ""},
		{"46 hangul is LMS", h46, "", "", KindLMS, "", ""},
		{"90 ascii is SMS", strings.Repeat("x", 90), "", "", KindSMS, "", ""},
		{"91 ascii is LMS", strings.Repeat("x", 91), "", "", KindLMS, "", ""},
		{"title makes LMS", "hello", "제목", "", KindLMS, "", ""},
		{"blank title ignored", "hello", "  ", "", KindSMS, "", ""},
		{"forced lms", "hello", "", "lms", KindLMS, "", ""},
		{"forced LMS caps", "hello", "", "LMS", KindLMS, "", ""},
		{"forced sms fits", h45, "", "sms", KindSMS, "", ""},
		{"forced sms", "hello", "", "SMS", KindSMS, "", ""},
		{"2000 bytes LMS", strings.Repeat("가", 1000), "", "", KindLMS, "", ""},
		{"44-byte title", "hello", strings.Repeat("가", 22), "", KindLMS, "", ""},
		{"forced sms too long", h46, "", "sms", "", "text", "message is 92 bytes; SMS allows at most 90"},
		{"forced sms with title", "hello", "제목", "sms", "", "title", "SMS has no title"},
		{"too long", strings.Repeat("가", 1000) + "a", "", "", "", "text", "message is 2001 bytes; at most 2000 allowed"},
		{"too long forced lms", strings.Repeat("x", 2001), "", "lms", "", "text", "2001 bytes"},
		{"title too long", "hello", strings.Repeat("가", 22) + "a", "", "", "title", "title is 45 bytes; at most 44 allowed"},
		{"empty", "", "", "", "", "text", "empty"},
		{"blank", " \n\t", "", "", "", "text", "empty"},
		{"unknown type", "hello", "", "mms", "", "type", `unknown message type "mms"`},
		{"bad type", "hello", "", "kakao", "", "type", "use auto, sms or lms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := DecideKind(tt.text, tt.title, tt.want)
			if tt.field == "" {
				if err != nil || k != tt.kind {
					t.Fatalf("DecideKind = %q, %v; want %q", k, err, tt.kind)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(fe.Error(), tt.msg) {
				t.Fatalf("DecideKind = %q, %v; want %s error containing %q", k, err, tt.field, tt.msg)
			}
			if k != "" {
				t.Errorf("kind %q returned with an error", k)
			}
		})
	}
}

func TestDecideKindCharErrors(t *testing.T) {
	tests := []struct {
		text, title, field string
		pos                int
	}{
		{"서버 다운 😀", "", "text", 7},
		{"hello", "알림 ✔", "title", 4},
		{"bad 😀 text", "bad ✔ title", "text", 5}, // text is checked first
	}
	for _, tt := range tests {
		_, err := DecideKind(tt.text, tt.title, "")
		var ce *CharError
		if !errors.As(err, &ce) || ce.Field != tt.field || ce.Pos != tt.pos {
			t.Errorf("DecideKind(%q, %q): %v; want CharError in %s at %d", tt.text, tt.title, err, tt.field, tt.pos)
		}
	}
	_, err := DecideKind("x", "✔", "")
	if want := "title: character '✔' (U+2714) at position 1 cannot be sent by SMS (not in CP949)"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestDecideKindControlChars: control and invisible formatting characters
// are refused naming the field and the position, and the error never
// carries the character itself (issue 11).
func TestDecideKindControlChars(t *testing.T) {
	tests := []struct {
		name, text, title, field, msg string
	}{
		{"escape", "경고\x1b[31m 빨강", "", "text", "text: control character U+001B at position 3 cannot be sent by SMS"},
		{"bell", "\a디스크", "", "text", "control character U+0007 at position 1"},
		{"nul", "ab\x00", "", "text", "control character U+0000 at position 3"},
		{"vertical tab", "a\vb", "", "text", "control character U+000B at position 2"},
		{"delete", "abc\x7f", "", "text", "control character U+007F at position 4"},
		{"C1 CSI", "가\u009b31m", "", "text", "control character U+009B at position 2"},
		{"C1 NEL", "a\u0085b", "", "text", "control character U+0085 at position 2"},
		{"zero width space", "서버\u200b다운", "", "text", "text: invisible formatting character U+200B at position 3 cannot be sent by SMS"},
		{"right-to-left override", "ok \u202etxt.exe", "", "text", "invisible formatting character U+202E at position 4"},
		{"byte order mark", "\ufeff안녕", "", "text", "invisible formatting character U+FEFF at position 1"},
		{"soft hyphen (in CP949)", "서\u00ad버", "", "text", "invisible formatting character U+00AD at position 2"},
		{"title", "본문", "제목\x1b", "title", "title: control character U+001B at position 3 cannot be sent by SMS"},
		{"text before title", "a\x07", "b\x1b", "text", "U+0007 at position 2"},
		{"control before emoji", "a\x1b😀", "", "text", "control character U+001B at position 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := DecideKind(tt.text, tt.title, "")
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("DecideKind(%q, %q) = %q, %v; want %s error containing %q", tt.text, tt.title, k, err, tt.field, tt.msg)
			}
			if i := strings.IndexFunc(err.Error(), func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }); i >= 0 {
				t.Fatalf("error %q prints the character raw", err)
			}
		})
	}
	// Newline and tab stay; CR too (NormalizeNewlines turns it into \n).
	for _, text := range []string{"줄1\n줄2", "a\tb", "a\r\nb"} {
		if _, err := DecideKind(text, "\t제목", ""); err != nil {
			t.Errorf("DecideKind(%q): %v", text, err)
		}
	}
	if n, err := CheckText("title", "제목\t"); n != 5 || err != nil {
		t.Errorf("CheckText(title with a tab) = %d, %v; want 5 bytes", n, err)
	}
	// A character CP949 lacks before a control character is named first.
	_, err := DecideKind("a😀\x1b", "", "")
	var ce *CharError
	if !errors.As(err, &ce) || ce.Pos != 2 {
		t.Errorf("DecideKind: %v; want the emoji at position 2", err)
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		n    int
		k    Kind
		want string
	}{
		{42, KindSMS, "42 / 90 byte"},
		{0, "", "0 / 90 byte"},
		{120, KindLMS, "120 / 2000 byte (LMS)"},
		{300, KindMMS, "300 / 2000 byte (MMS)"},
	}
	for _, tt := range tests {
		if got := Describe(tt.n, tt.k); got != tt.want {
			t.Errorf("Describe(%d, %q) = %q, want %q", tt.n, tt.k, got, tt.want)
		}
	}
}

var (
	benchASCII  = "[ALERT] web-01 httpd down since 14:03, load 3.2, check the logs please ok"
	benchHangul = strings.Repeat("가", 45)                                    // 90 bytes
	benchMixed  = strings.Repeat("[경고] web-01 디스크 사용량 91% ※ 확인 바랍니다.\n", 40) // 40 × 50 = 2000 bytes
)

func BenchmarkCountBytes(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"ascii", benchASCII}, {"hangul90", benchHangul}, {"mixed2000", benchMixed},
	} {
		n, err := CountBytes(bc.s)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.s)))
			for b.Loop() {
				if got, _ := CountBytes(bc.s); got != n {
					b.Fatal(got)
				}
			}
		})
	}
}

func TestSanitizeAndTruncate(t *testing.T) {
	for in, want := range map[string]string{
		"disk full":              "disk full",
		"디스크 부족 🔥":               "디스크 부족 ?",
		"✔ ok ₩100":              "? ok ?100",
		"bad \xff utf8":          "bad ? utf8",
		"한글과 漢字 and ASCII":       "한글과 漢字 and ASCII",
		"log \x1b[31mred\x1b[0m": "log ?[31mred?[0m",
		"bell\a nul\x00 del\x7f": "bell? nul? del?",
		"c1\u009b zwsp\u200b":    "c1? zwsp?",
		"tab\tnewline\n":         "tab\tnewline\n",
	} {
		got := Sanitize(in)
		if got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
		if _, err := DecideKind(got, "", "lms"); err != nil {
			t.Errorf("Sanitize(%q) still unsendable: %v", in, err)
		}
	}
	long := strings.Repeat("가", 50) // 100 bytes
	got := Truncate(long, 90)
	if n, err := CountBytes(got); err != nil || n > 90 || !strings.HasSuffix(got, "…") {
		t.Errorf("Truncate to 90: %q (%d bytes, %v)", got, n, err)
	}
	if got := Truncate("short", 90); got != "short" {
		t.Errorf("Truncate(short) = %q", got)
	}
	if got := Truncate(strings.Repeat("a", 91), 90); len(got) != 88+len("…") {
		t.Errorf("Truncate ASCII: %q", got)
	}
}

func TestLenAndTruncateBytes(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "가나": 4, "a\n가": 4, "😀": 2, "bad \xff": 6} {
		if got := Len(s); got != want {
			t.Errorf("Len(%q) = %d, want %d", s, got, want)
		}
	}
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"가나다", 5, "가나"}, {"가나다", 6, "가나다"}, {"ab", 44, "ab"}, {"a가", 2, "a"}, {"가", 0, ""},
	} {
		if got := TruncateBytes(tt.in, tt.max); got != tt.want {
			t.Errorf("TruncateBytes(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestFitKind(t *testing.T) {
	for _, tt := range []struct {
		k    Kind
		n    int
		want Kind
	}{
		{KindSMS, 90, KindSMS}, {KindSMS, 91, KindLMS}, {"", 0, KindSMS}, {"", 91, KindLMS},
		{KindLMS, 10, KindLMS}, {KindMMS, 10, KindMMS},
	} {
		if got := FitKind(tt.k, tt.n); got != tt.want {
			t.Errorf("FitKind(%q, %d) = %q, want %q", tt.k, tt.n, got, tt.want)
		}
	}
}
