package twilio

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGSMAlphabet(t *testing.T) {
	if n := utf8.RuneCountInString(gsmBasic); n != 127 {
		t.Errorf("basic alphabet has %d characters, want 128 less ESC", n)
	}
	if n := utf8.RuneCountInString(gsmExtension); n != 10 {
		t.Errorf("extension table has %d characters, want 10", n)
	}
}

func TestSegments(t *testing.T) {
	tests := []struct {
		name, text string
		n          int
		enc        string
	}{
		{"empty", "", 0, GSM7},
		{"ascii", "hello", 1, GSM7},
		{"160 GSM", strings.Repeat("a", 160), 1, GSM7},
		{"161 GSM", strings.Repeat("a", 161), 2, GSM7},
		{"306 GSM", strings.Repeat("a", 306), 2, GSM7},
		{"307 GSM", strings.Repeat("a", 307), 3, GSM7},
		{"80 euro signs fill 160", strings.Repeat("€", 80), 1, GSM7},
		{"81 euro signs", strings.Repeat("€", 81), 2, GSM7},
		// 152 septets then an escape pair: the pair moves to segment 2.
		{"escape pair not split", strings.Repeat("a", 152) + "{" + strings.Repeat("a", 10), 2, GSM7},
		{"escape pair at a boundary", strings.Repeat("a", 152) + "{" + strings.Repeat("a", 152), 3, GSM7},
		{"accented GSM", "àéèùìòÇÅÄÖÑÜß", 1, GSM7},
		{"not GSM: á", "á", 1, UCS2},
		{"Hangul", "[경고] httpd 프로세스가 동작하지 않습니다.", 1, UCS2},
		{"70 Hangul", strings.Repeat("가", 70), 1, UCS2},
		{"71 Hangul", strings.Repeat("가", 71), 2, UCS2},
		{"134 Hangul", strings.Repeat("가", 134), 2, UCS2},
		{"135 Hangul", strings.Repeat("가", 135), 3, UCS2},
		{"one Hangul makes all UCS-2", strings.Repeat("a", 100) + "가", 2, UCS2},
		{"emoji is a surrogate pair", strings.Repeat("a", 69) + "😀", 2, UCS2},
		{"68 units", strings.Repeat("a", 66) + "😀", 1, UCS2},
		{"35 emoji fill 70", strings.Repeat("😀", 35), 1, UCS2},
		{"surrogate pair not split", strings.Repeat("a", 66) + "😀" + strings.Repeat("a", 10), 2, UCS2},
		{"1600 Hangul", strings.Repeat("가", 1600), 24, UCS2},
	}
	for _, tt := range tests {
		n, enc := Segments(tt.text)
		if n != tt.n || enc != tt.enc {
			t.Errorf("%s: %d %s, want %d %s", tt.name, n, enc, tt.n, tt.enc)
		}
	}
}
