package twilio

import "sync"

// Encodings of an SMS as Twilio sends it.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// Segment sizes (aligo-api.md §9.4): a single SMS carries 160 GSM-7 or 70
// UCS-2 characters; each part of a longer one 153 or 67 (the rest of the
// 140 bytes holds the concatenation header).
const (
	gsmSingle, gsmPart   = 160, 153
	ucs2Single, ucs2Part = 70, 67
)

// gsmBasic is the GSM 03.38 default alphabet (one septet each; ESC left
// out), gsmExtension the characters sent as ESC + septet (two each).
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)

var gsmWidth = sync.OnceValue(func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
})

// Segments is how many SMS segments Twilio splits text into, and the
// encoding: GSM-7 when every character is in the GSM alphabet, else UCS-2
// (any Hangul). A character never straddles two segments: an ESC pair and
// a UTF-16 surrogate pair stay together, as handsets need. Twilio's own
// count (num_segments) wins when it gives one; this is for when it does not.
func Segments(text string) (n int, encoding string) {
	if text == "" {
		return 0, GSM7
	}
	widths := make([]int, 0, len(text))
	gsm := true
	for _, r := range text {
		w, ok := gsmWidth()[r]
		if !ok {
			gsm = false
			break
		}
		widths = append(widths, w)
	}
	single, part := gsmSingle, gsmPart
	encoding = GSM7
	if !gsm {
		single, part, encoding = ucs2Single, ucs2Part, UCS2
		widths = widths[:0]
		for _, r := range text {
			w := 1
			if r > 0xFFFF {
				w = 2 // a surrogate pair
			}
			widths = append(widths, w)
		}
	}
	total := 0
	for _, w := range widths {
		total += w
	}
	if total <= single {
		return 1, encoding
	}
	n, used := 1, 0
	for _, w := range widths {
		if used+w > part {
			n, used = n+1, 0
		}
		used += w
	}
	return n, encoding
}
