package twiliotest

import "strings"

// gsm7 is the GSM 03.38 default alphabet; gsm7Ext the characters that take
// an escape septet too.
const (
	gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "\f^{}\\[~]|€"
)

// segments is the fake's num_segments: 160/153 GSM-7 septets or 70/67
// UCS-2 code units per segment, never splitting an escape or surrogate
// pair (written apart from the client's count on purpose).
func segments(body string) int {
	var units []int
	for _, r := range body {
		switch {
		case strings.ContainsRune(gsm7, r):
			units = append(units, 1)
		case strings.ContainsRune(gsm7Ext, r):
			units = append(units, 2)
		default:
			return split(utf16Units(body), 70, 67)
		}
	}
	return split(units, 160, 153)
}

func utf16Units(s string) []int {
	var units []int
	for _, r := range s {
		if r >= 0x10000 {
			units = append(units, 2)
		} else {
			units = append(units, 1)
		}
	}
	return units
}

func split(units []int, single, part int) int {
	sum := 0
	for _, u := range units {
		sum += u
	}
	if sum <= single {
		return 1
	}
	n, room := 1, part
	for _, u := range units {
		if u > room {
			n++
			room = part
		}
		room -= u
	}
	return n
}
