package alert

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
)

func FuzzParseQuietHours(f *testing.F) {
	for _, s := range []string{"22:00-07:00", "12:00-13:30", "00:00-23:59", "7:5-8:00", "-", "22:00-", "99:99-00:00"} {
		f.Add(s)
	}
	seoul, _ := time.LoadLocation("Asia/Seoul")
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parseQuietHours(s)
		if err != nil {
			return
		}
		for h := range 48 {
			now := t0.Add(time.Duration(h) * 30 * time.Minute)
			end, in := q.until(now, seoul)
			if in && (!end.After(now) || end.Sub(now) > 24*time.Hour) {
				t.Fatalf("%q at %v: end %v", s, now, end)
			}
			if in {
				if _, still := q.until(end, seoul); still {
					t.Fatalf("%q: still quiet at its end %v", s, end)
				}
			}
		}
	})
}

// FuzzTemplate renders arbitrary alerting.templates.firing over arbitrary
// alert texts: it never panics and never exceeds an LMS.
func FuzzTemplate(f *testing.F) {
	f.Add(`{{.Host}} {{.Count}}건{{range .Alerts}}
{{.Check}}: {{.Text}}{{end}}`, txtHttpd, "db1")
	f.Add(`{{range .Alerts}}{{.Nope}}{{end}}`, txtPort, "")
	f.Add(`{{.Count}}`, "🔥 불", "web0")
	f.Add(`{{range .Alerts}}{{.Text}}{{.Text}}{{.Text}}{{.Text}}{{.Text}}{{end}}`, strings.Repeat("가", 300), "x")
	f.Fuzz(func(t *testing.T, tmpl, text, host string) {
		cfg := baseConfig()
		cfg.Alerting.Templates.Firing = tmpl
		cc, err := compile(cfg)
		if err != nil {
			return
		}
		e := &Engine{cc: cc, log: slog.New(slog.DiscardHandler), tokens: map[string]*ackToken{}, dirty: map[string]bool{},
			incidents: map[string]*incident{}, publicURL: publicBase}
		var incs []*incident
		for i := range 3 {
			inc := &incident{Incident: Incident{ID: string(rune('a' + i)), Check: "c", Host: host, Text: text, Started: t0}}
			e.incidents[inc.ID] = inc
			incs = append(incs, inc)
		}
		n := e.compose(ReasonFirst, incs, t0)
		if sms.Len(n.Text) > sms.MaxLMSBytes {
			t.Fatalf("%d bytes", sms.Len(n.Text))
		}
		if (sms.Len(n.Text) > sms.MaxSMSBytes) != (n.Title != "") {
			t.Fatalf("title %q for %d bytes", n.Title, sms.Len(n.Text))
		}
		if sms.Sanitize(n.Text) != n.Text {
			t.Fatalf("unencodable text %q", n.Text)
		}
	})
}
