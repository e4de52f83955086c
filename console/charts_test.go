package console

import (
	"testing"
	"time"

	"github.com/munja-sms/munja/checkhist"
	"github.com/munja-sms/munja/store"
)

func TestFmtUptime(t *testing.T) {
	for _, tc := range []struct {
		ok, total int
		want      string
	}{
		{10, 10, "100%"}, {99999, 100000, "99.99%"}, {1376, 1380, "99.71%"}, {0, 60, "0.00%"}, {1, 3, "33.33%"}, {2, 3, "66.66%"},
	} {
		if got := fmtUptime(tc.ok, tc.total); got != tc.want {
			t.Errorf("fmtUptime(%d, %d) = %q, want %q", tc.ok, tc.total, got, tc.want)
		}
	}
}

func TestFmtDurAndLatency(t *testing.T) {
	c := newHarness(t, harnessOpts{}).con
	for d, want := range map[time.Duration]string{
		0: "0초", 400 * time.Millisecond: "0초", 45 * time.Second: "45초", 3 * time.Minute: "3분", 99 * time.Minute: "1시간 39분",
		26*time.Hour + 5*time.Minute: "1일 2시간", 48 * time.Hour: "2일", time.Hour + 30*time.Second: "1시간",
	} {
		if got := c.fmtDur(langKO, d); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", d, got, want)
		}
	}
	if got := c.fmtDur(langEN, 99*time.Minute); got != "1h 39m" {
		t.Errorf("English: %q", got)
	}
	for d, want := range map[time.Duration]string{
		400 * time.Microsecond: "0.4 ms", 4200 * time.Microsecond: "4.2 ms", 41 * time.Millisecond: "41 ms",
		9999 * time.Millisecond: "9999 ms", 12 * time.Second: "12.0 s",
	} {
		if got := fmtLatency(d); got != want {
			t.Errorf("fmtLatency(%v) = %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]time.Duration{
		0: time.Millisecond, 41 * time.Millisecond: 50 * time.Millisecond, 120 * time.Millisecond: 200 * time.Millisecond,
		200 * time.Millisecond: 200 * time.Millisecond, 900 * time.Millisecond: time.Second, 3 * time.Second: 5 * time.Second,
	} {
		if got := niceCeil(d); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", d, got, want)
		}
	}
}

// TestTimelineSegments: stretches without results become "no data" over
// whatever status they fall in, and a timeline of more periods than can
// be drawn is drawn in buckets of their worst status.
func TestTimelineSegments(t *testing.T) {
	from := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	at := func(m int) time.Time { return from.Add(time.Duration(m) * time.Minute) }
	var points []checkhist.Point
	for m := range 60 {
		if m < 10 || m >= 30 && m < 50 { // none in 10–30 and from 50
			points = append(points, checkhist.Point{At: at(m), OK: 1})
		}
	}
	holes := gaps(points, from, to, time.Minute, 5*time.Minute)
	if len(holes) != 2 || !holes[0].From.Equal(at(10)) || !holes[0].To.Equal(at(30)) || !holes[1].From.Equal(at(50)) || !holes[1].To.Equal(to) {
		t.Fatalf("gaps %+v", holes)
	}
	spans := []checkhist.Span{
		{Status: "", From: from, To: at(5)},
		{Status: store.CheckOK, From: at(5), To: at(20)},
		{Status: store.CheckFailing, From: at(20), To: at(40), Detail: "down"},
		{Status: store.CheckOK, From: at(40), To: to},
	}
	var got []string
	for _, s := range segments(spans, holes) {
		got = append(got, s.Status+" "+s.From.Format("04")+"-"+s.To.Format("04"))
	}
	want := []string{"nodata 00-05", "ok 05-10", "nodata 10-30", "failing 30-40", "ok 40-50", "nodata 50-00"}
	if len(got) != len(want) {
		t.Fatalf("segments %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("segments %q, want %q", got, want)
		}
	}

	// 3,000 periods of a minute, one in ten failing, one cannot check.
	var many []segment
	for m := range 3000 {
		st := store.CheckOK
		switch {
		case m == 1234:
			st = store.CheckCannotCheck
		case m%10 == 0:
			st = store.CheckFailing
		}
		many = append(many, segment{Status: st, From: at(m), To: at(m + 1)})
	}
	drawn := bucketed(many, at(0), at(3000), maxSegments)
	if len(drawn) > maxSegments || len(drawn) == 0 || !drawn[0].From.Equal(at(0)) || !drawn[len(drawn)-1].To.Equal(at(3000)) {
		t.Fatalf("%d buckets from %v to %v", len(drawn), drawn[0].From, drawn[len(drawn)-1].To)
	}
	n := map[string]int{}
	for i, s := range drawn {
		n[s.Status]++
		if i > 0 && !s.From.Equal(drawn[i-1].To) {
			t.Fatalf("bucket %d starts at %v after one ending %v", i, s.From, drawn[i-1].To)
		}
	}
	if n[store.CheckFailing] != 300 || n[store.CheckCannotCheck] != 1 || n[store.CheckOK] == 0 {
		t.Errorf("buckets by status %v: every failure should stay visible", n)
	}
	c := newHarness(t, harnessOpts{}).con
	if v := c.timeline(langKO, many, at(0), at(3000)); len(v.Rects) > maxSegments+1 || len(v.Spans) != maxSpanRows || v.More != 3000-maxSpanRows {
		t.Errorf("timeline of 3,000 periods: %d rectangles, %d listed, %d more", len(v.Rects), len(v.Spans), v.More)
	}
}
