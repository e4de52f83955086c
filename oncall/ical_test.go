package oncall

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// unfold undoes RFC 5545 line folding.
func unfold(b []byte) []string {
	return strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n ", ""), "\r\n"), "\r\n")
}

func TestICalendar(t *testing.T) {
	s := dayNight()
	s.Name = "ops; 서버, 네트워크 당직 일정 (본사 전산실 야간 및 휴일 포함)"
	s.Overrides = []Override{{ID: "7", Member: "홍길동", From: at("2026-12-09 12:00"), To: at("2026-12-10 12:00")}}
	from, to := at("2026-12-07 00:00"), at("2026-12-21 00:00")
	now := at("2026-12-07 13:00")
	out := s.ICalendar(from, to, now)

	for i, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\r\n")), []byte("\r\n")) {
		if len(line) > 75 {
			t.Errorf("line %d has %d octets: %q", i, len(line), line)
		}
		if !utf8.Valid(line) {
			t.Errorf("line %d splits a character: %q", i, line)
		}
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF", i)
		}
	}
	lines := unfold(out)
	if lines[0] != "BEGIN:VCALENDAR" || lines[len(lines)-1] != "END:VCALENDAR" {
		t.Fatalf("not a VCALENDAR:\n%s", out)
	}
	for _, want := range []string{"VERSION:2.0", "PRODID:-//munja//oncall//KO", "METHOD:PUBLISH", "X-WR-TIMEZONE:Asia/Seoul",
		`X-WR-CALNAME:당직 ops\; 서버\, 네트워크 당직 일정 (본사 전산실 야간 및 휴일 포함)`} {
		found := false
		for _, l := range lines {
			found = found || l == want
		}
		if !found {
			t.Errorf("missing line %q", want)
		}
	}
	shifts := s.Shifts(from, to)
	var events, uids []string
	var inEvent bool
	var props map[string]string
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		switch {
		case l == "BEGIN:VEVENT":
			if inEvent {
				t.Fatal("nested VEVENT")
			}
			inEvent, props = true, map[string]string{}
		case l == "END:VEVENT":
			inEvent = false
			for _, p := range []string{"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"} {
				if props[p] == "" {
					t.Errorf("event without %s: %v", p, props)
				}
			}
			events = append(events, props["SUMMARY"])
			uids = append(uids, props["UID"])
			sh := shifts[len(events)-1]
			if props["DTSTART"] != sh.Start.UTC().Format("20060102T150405Z") || props["DTEND"] != sh.End.UTC().Format("20060102T150405Z") {
				t.Errorf("event %d times %s-%s, shift %v-%v", len(events), props["DTSTART"], props["DTEND"], sh.Start, sh.End)
			}
			if props["DTSTAMP"] != "20261207T040000Z" {
				t.Errorf("DTSTAMP %s", props["DTSTAMP"])
			}
		case inEvent:
			props[name] = value
		}
	}
	if len(events) != len(shifts) || len(events) < 10 {
		t.Fatalf("%d events for %d shifts", len(events), len(shifts))
	}
	seen := map[string]bool{}
	for _, u := range uids {
		if seen[u] {
			t.Errorf("duplicate UID %s", u)
		}
		seen[u] = true
	}
	if !strings.Contains(string(out), "[당직·대체] 홍길동") || !strings.Contains(strings.Join(events, "\n"), `[당직] D1 (ops\; 서버\, 네트워크`) {
		t.Errorf("summaries:\n%s", strings.Join(events, "\n"))
	}
	// The same shift has the same UID in another window.
	later := unfold(s.ICalendar(at("2026-12-09 13:00"), at("2026-12-09 14:00"), now))
	var uid string
	for _, l := range later {
		if v, ok := strings.CutPrefix(l, "UID:"); ok {
			uid = v
		}
	}
	if uid == "" || !seen[uid] {
		t.Errorf("UID %q of the override is not stable", uid)
	}
}

func TestFoldAndEscape(t *testing.T) {
	var b strings.Builder
	writeFolded(&b, "DESCRIPTION:"+strings.Repeat("가", 40))
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n") {
		if len(l) > 75 || !utf8.ValidString(strings.TrimPrefix(l, " ")) {
			t.Errorf("bad fold %q", l)
		}
	}
	if got := unfold([]byte(b.String()))[0]; got != "DESCRIPTION:"+strings.Repeat("가", 40) {
		t.Errorf("unfold: %q", got)
	}
	if got := escapeText("a\\b;c,d\ne"); got != `a\\b\;c\,d\ne` {
		t.Errorf("escape: %q", got)
	}
}
