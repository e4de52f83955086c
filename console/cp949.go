package console

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"unicode/utf8"

	"github.com/munja-sms/munja/sms"
)

// The byte counter in the browser asks /static/cp949.bin which characters
// CP949 can carry: a bitmap of the Basic Multilingual Plane (bit r set when
// rune r counts, 8 KiB), built with sms.CountBytes so the browser counts
// exactly as the server does. Outside the BMP nothing is in CP949.
var (
	cp949Once sync.Once
	cp949Bits []byte
	cp949Sum  string
)

func buildCP949() {
	bits := make([]byte, 0x10000/8)
	var buf [4]byte
	for r := rune(0); r < 0x10000; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		if _, err := sms.CountBytes(string(buf[:n])); err == nil {
			bits[r>>3] |= 1 << (r & 7)
		}
	}
	cp949Bits = bits
	h := sha256.Sum256(bits)
	cp949Sum = hex.EncodeToString(h[:6])
}

func cp949Bitmap() []byte {
	cp949Once.Do(buildCP949)
	return cp949Bits
}

func cp949Version() string {
	cp949Once.Do(buildCP949)
	return cp949Sum
}
