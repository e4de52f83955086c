package alert

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
)

// storedForms are check state records as 208e800 (before the compact
// check state) wrote them for the results of TestStoredFormUnchanged: the
// stored form is unchanged, so earlier versions read what this one writes.
var storedForms = map[string]string{
	"alert/check/httpd/":        `{"check":"httpd","configured":true,"config_hash":"3432a99b093b7aa3","status":"firing","since":"2026-11-25T14:02:20+09:00","fails":1,"incident":"ID","flips":["2026-11-25T14:00:00+09:00","2026-11-25T14:01:10+09:00","2026-11-25T14:02:20+09:00"],"last":{"Check":"httpd","Host":"","OK":false,"Unknown":false,"At":"2026-11-25T14:02:19.997530866+09:00","Firing":"[경고] httpd 프로세스가 동작하지 않습니다.","Resolved":"","Detail":"","detail_ko":"프로세스 없음","Severity":"","Duration":0},"hist":{"at":"gIDp7OHCmOsxgPCZxYkEgNWrwokE","ok":2}}`,
	"alert/check/oom/":          `{"check":"oom","configured":true,"config_hash":"2d2913a277b58469","status":"ok","since":"2026-11-25T14:05:50+09:00","last":{"Check":"oom","Host":"","OK":true,"Unknown":false,"At":"0001-01-01T00:00:00Z","Firing":"","Resolved":"","Detail":"","Severity":"","Duration":0},"hist":{"at":"gLDqxpHXmOsx","ok":1}}`,
	"alert/check/web-port/db-1": `{"check":"web-port","host":"db-1","configured":true,"config_hash":"9ef0451d4683212f","status":"ok","since":"2026-11-25T14:03:30+09:00","last":{"Check":"web-port","Host":"db-1","OK":true,"Unknown":false,"At":"2026-11-25T05:00:00.123456789Z","Firing":"","Resolved":"","Detail":"listening","detail_ko":"대기 중","Severity":"","Duration":1000000},"hist":{"at":"gNOP4uLCmOsx","ok":1}}`,
	"alert/check/web-port/db-2": `{"check":"web-port","host":"db-2","configured":true,"config_hash":"9ef0451d4683212f","status":"unknown","since":"2026-11-25T14:04:40+09:00","blind_since":"2026-11-25T14:04:40+09:00","unknowns":1,"blind":"ID","last":{"Check":"web-port","Host":"db-2","OK":false,"Unknown":true,"At":"2026-11-25T05:00:00.123456789Z","Firing":"[경고] 점검 불가","Resolved":"","Detail":"cannot","Severity":"warning","Duration":0},"hist":{"at":"gNOP4uLCmOsx","unknown":1}}`,
	"alert/check/web-port/db-3": `{"check":"web-port","host":"db-3","configured":true,"config_hash":"9ef0451d4683212f","status":"ok","since":"2026-11-25T14:07:00+09:00","flips":["2026-11-25T14:07:00+09:00","2026-11-25T14:07:00+09:00"],"last":{"Check":"web-port","Host":"db-3","OK":true,"Unknown":false,"At":"2026-11-25T05:00:40.128395057Z","Firing":"","Resolved":"","Detail":"d","Severity":"","Duration":0},"hist":{"at":"gNOP4uLCmOsxgJnZwUqAmdnBSoCi08JKgJnZwUo","ok":23}}`,
}

// incidentIDs matches the incident IDs of a record (random).
var incidentIDs = regexp.MustCompile(`"(incident|blind)":"[^"]*"`)

// TestStoredFormUnchanged: what a check state stores under
// "alert/check/CHECK/HOST" (its last result, flips, history, incidents)
// is byte for byte what the version before the compact state stored, and
// it loads back to the same record.
func TestStoredFormUnchanged(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Flapping = config.Flapping{Window: config.Duration(time.Hour), Changes: 10}
	h := newHarness(t, cfg)
	ctx := context.Background()
	agentAt := time.Date(2026, 11, 25, 5, 0, 0, 123456789, time.UTC)
	results := []check.Result{
		{Check: "httpd", OK: false, Firing: txtHttpd, Resolved: "[복구] httpd", Detail: "no process", DetailKo: "프로세스 없음", Severity: "critical", Duration: 1500 * time.Microsecond},
		{Check: "httpd", OK: true, Resolved: "[복구] httpd", Detail: "ok"},
		{Check: "httpd", OK: false, Firing: txtHttpd, DetailKo: "프로세스 없음"},
		{Check: "web-port", Host: "db-1", OK: true, At: agentAt, Detail: "listening", DetailKo: "대기 중", Duration: time.Millisecond},
		{Check: "web-port", Host: "db-2", Unknown: true, At: agentAt, Firing: "[경고] 점검 불가", Detail: "cannot", Severity: "warning"},
		{Check: "oom", OK: true},
	}
	for i, r := range results {
		if r.At.IsZero() && i%2 == 0 {
			r.At = h.clock.Now().Add(-time.Duration(i) * 1234567 * time.Nanosecond)
		}
		h.e.Observe(r)
		h.clock.Advance(70 * time.Second) // wider than a narrow history step
		h.flush()
	}
	for i := range 5 { // a narrow history: 10 s steps
		h.e.Observe(check.Result{Check: "web-port", Host: "db-3", OK: i != 3, At: agentAt.Add(time.Duration(i) * (10*time.Second + 1234567)), Detail: "d"})
	}
	if err := h.e.saveKeys(ctx, allHistory); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, k := range h.st.keys(prefixCheck) {
		v, _ := h.st.GetState(ctx, k)
		got[k] = incidentIDs.ReplaceAllString(string(v), `"$1":"ID"`)
	}
	if len(got) != len(storedForms) {
		t.Errorf("%d records, want %d", len(got), len(storedForms))
	}
	for k, want := range storedForms {
		if got[k] != want {
			t.Errorf("%s stored\n%s\nwant\n%s", k, got[k], want)
		}
	}
	// Loaded and written again: the same bytes.
	h.restart(cfg)
	h.e.mu.Lock()
	for k := range got {
		h.e.markDirty(k)
	}
	h.e.mu.Unlock()
	h.flush()
	for k, want := range got {
		if v, _ := h.st.GetState(ctx, k); incidentIDs.ReplaceAllString(string(v), `"$1":"ID"`) != want {
			t.Errorf("%s after a restart\n%s\nwant\n%s", k, v, want)
		}
	}
}

// TestLastResultAsObserved: a check's status shows its last result as it
// came (the state keeps it compactly: the texts shared, the details in one
// string), whichever details it has, and after a restart.
func TestLastResultAsObserved(t *testing.T) {
	h := newHarness(t, baseConfig())
	agentAt := time.Date(2026, 11, 25, 5, 0, 0, 123456789, time.UTC)
	for i, d := range [][2]string{{"", ""}, {"no process", ""}, {"", "프로세스 없음"}, {"no process", "프로세스 없음"}, {"no process", "프로세스 없음"}, {"x", ""}} {
		r := check.Result{Check: "web-port", Host: "db-1", OK: i%2 == 0, At: agentAt.Add(time.Duration(i) * time.Second),
			Firing: "[경고] web-port", Resolved: "[복구] web-port " + d[1], Detail: d[0], DetailKo: d[1],
			Severity: config.Severity([]string{"", "warning", "critical"}[i%3]), Duration: time.Duration(i) * time.Millisecond}
		h.e.Observe(r)
		for restarted := range 2 {
			var got check.Result
			for _, st := range h.e.Checks() {
				if st.Check == "web-port" && st.Host == "db-1" {
					got = st.Last
				}
			}
			if got != r {
				t.Errorf("result %d (restarted: %d): last\n%+v\nwant\n%+v", i, restarted, got, r)
			}
			if restarted == 0 {
				if err := h.e.saveKeys(context.Background(), allHistory); err != nil {
					t.Fatal(err)
				}
				h.restart(h.cfg)
			}
		}
	}
}
