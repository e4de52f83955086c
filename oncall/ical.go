package oncall

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// ICalendar renders the shifts of s overlapping [from, to) as an RFC 5545
// calendar (METHOD:PUBLISH), one VEVENT per shift, for a calendar app to
// subscribe to. Times are UTC; X-WR-TIMEZONE names the schedule's zone for
// display. A shift's UID depends only on the schedule, the member, the
// layer or override and its start and end, so it is the same in every feed
// that contains it. now is the DTSTAMP. Lines end in CRLF and are folded
// at 75 octets without splitting a UTF-8 character.
func (s *Schedule) ICalendar(from, to, now time.Time) []byte {
	var b strings.Builder
	w := func(name, value string) { writeFolded(&b, name+":"+value) }
	w("BEGIN", "VCALENDAR")
	w("VERSION", "2.0")
	w("PRODID", "-//munja//oncall//KO")
	w("CALSCALE", "GREGORIAN")
	w("METHOD", "PUBLISH")
	w("X-WR-CALNAME", escapeText("당직 "+s.Name))
	w("X-WR-TIMEZONE", s.loc().String())
	stamp := icalTime(now)
	for _, sh := range s.Shifts(from, to) {
		w("BEGIN", "VEVENT")
		w("UID", sh.UID(s.Name))
		w("DTSTAMP", stamp)
		w("DTSTART", icalTime(sh.Start))
		w("DTEND", icalTime(sh.End))
		summary := "[당직] " + sh.Member + " (" + s.Name + ")"
		desc := "일정 " + s.Name + ", "
		if sh.Override {
			summary = "[당직·대체] " + sh.Member + " (" + s.Name + ")"
			desc += "대체 근무 (override)"
		} else {
			desc += "순번 " + sh.Layer
		}
		w("SUMMARY", escapeText(summary))
		w("DESCRIPTION", escapeText(desc))
		w("TRANSP", "TRANSPARENT")
		w("END", "VEVENT")
	}
	w("END", "VCALENDAR")
	return []byte(b.String())
}

// UID is the shift's stable iCalendar UID within schedule.
func (sh Shift) UID(schedule string) string {
	src := strings.Join([]string{schedule, sh.Member, sh.Layer, sh.OverrideID,
		sh.Start.UTC().Format(time.RFC3339), sh.End.UTC().Format(time.RFC3339)}, "\x00")
	if sh.Override {
		src += "\x00override"
	}
	sum := sha256.Sum256([]byte(src))
	return hex.EncodeToString(sum[:12]) + "@oncall.munja"
}

func icalTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// escapeText escapes a TEXT value (RFC 5545 §3.3.11).
func escapeText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// writeFolded writes one content line, folded so that no line is longer
// than 75 octets (RFC 5545 §3.1): a continuation starts with one space.
func writeFolded(b *strings.Builder, line string) {
	limit := 75
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(line)
	b.WriteString("\r\n")
}
