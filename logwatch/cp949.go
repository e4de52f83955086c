package logwatch

import (
	"bytes"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
)

// CP949 (EUC-KR with the UHC extension) is a double-byte encoding whose
// trail bytes may be ASCII letters, so a raw byte hit can straddle two
// characters. These helpers decide, the way korean.EUCKR's decoder does,
// whether a byte offset is a character boundary.

var (
	cp949Once  sync.Once
	cp949Table [0xc7 - 0x81][52]bool // lead 0x81..0xc6 × ASCII-letter trail: decodes to a character
)

func cp949Init() {
	dec := korean.EUCKR.NewDecoder()
	var src [2]byte
	var dst [8]byte
	for c0 := 0x81; c0 < 0xc7; c0++ {
		for i := range 52 {
			c1 := 0x41 + i
			if i >= 26 {
				c1 = 0x61 + i - 26
			}
			src[0], src[1] = byte(c0), byte(c1)
			dec.Reset()
			n, _, err := dec.Transform(dst[:], src[:], true)
			r, size := utf8.DecodeRune(dst[:n])
			cp949Table[c0-0x81][i] = err == nil && size == n && r != utf8.RuneError
		}
	}
}

// cp949Size is the number of bytes the decoder consumes for the character
// starting at b[0].
func cp949Size(b []byte) int {
	c0 := b[0]
	if c0 < 0x81 || c0 == 0xff || len(b) < 2 {
		return 1
	}
	c1 := b[1]
	if c1 >= 0x80 {
		return 2 // a valid pair, or an invalid one the decoder skips whole
	}
	if c0 >= 0xc7 {
		return 1
	}
	var i int
	switch {
	case c1 >= 0x41 && c1 <= 0x5a:
		i = int(c1 - 0x41)
	case c1 >= 0x61 && c1 <= 0x7a:
		i = int(c1-0x61) + 26
	default:
		return 1
	}
	cp949Once.Do(cp949Init)
	if cp949Table[c0-0x81][i] {
		return 2
	}
	return 1
}

// cp949Index returns the first offset in line where needle starts on a
// character boundary, or -1.
func cp949Index(line, needle []byte) int {
	pos := 0 // a known boundary
	for from := 0; from <= len(line); {
		i := bytes.Index(line[from:], needle)
		if i < 0 {
			return -1
		}
		h := from + i
		for pos < h {
			pos += cp949Size(line[pos:])
		}
		if pos == h {
			return h
		}
		from = h + 1
	}
	return -1
}
