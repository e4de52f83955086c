package alert

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
)

const (
	smsMaxBytes = 90   // an SMS carries 90 CP949 bytes
	lmsMaxBytes = 2000 // an LMS carries 2,000
)

// cp949Len counts bytes as Korean gateways do: ASCII 1, everything else 2.
// Text passed through sanitize is always CP949-encodable.
func cp949Len(s string) int {
	n := 0
	for _, r := range s {
		if r < utf8.RuneSelf {
			n++
		} else {
			n += 2
		}
	}
	return n
}

// sanitize replaces characters CP949 cannot carry (emoji, most symbols) with
// '?', so an odd character in a log line never blocks an alert: the outbox
// refuses such text and the engine would retry it forever.
func sanitize(s string) string {
	enc := korean.EUCKR.NewEncoder()
	var b strings.Builder
	changed := false
	for _, r := range s {
		if r >= utf8.RuneSelf {
			if _, err := enc.String(string(r)); err != nil {
				b.WriteByte('?')
				changed = true
				continue
			}
		}
		b.WriteRune(r)
	}
	if !changed {
		return s
	}
	return b.String()
}

// flappingText is the one message sent when a check starts flapping.
func flappingText(check string) string {
	return fmt.Sprintf("[경고] %s 상태가 자주 바뀝니다 (플래핑)", check)
}

func firingText(inc *incident) string {
	if inc.Text != "" {
		return inc.Text
	}
	return fmt.Sprintf("[경고] %s 검사가 실패했습니다.", inc.Check)
}

func resolvedText(inc *incident) string {
	if inc.ResolvedText != "" {
		return inc.ResolvedText
	}
	return fmt.Sprintf("[복구] %s 검사가 정상으로 돌아왔습니다.", inc.Check)
}

func title(reason Reason, count int) string {
	word := "경고"
	if reason == ReasonResolved {
		word = "복구"
	}
	return fmt.Sprintf("[munja] %s %d건", word, count)
}
