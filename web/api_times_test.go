package web

import (
	"regexp"
	"testing"
	"time"
)

// TestAPITimesInConfiguredZone: every time the API writes — messages,
// checks (since, history), incidents (started, sent, acked), silences — is
// RFC 3339 with the configured zone's offset, none in UTC.
func TestAPITimesInConfiguredZone(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	noErr(t, err)
	f := newFixture(t, func(o *Options) { o.Location = seoul })
	id := f.fire()
	f.must(req{method: "POST", path: "/api/v1/incidents/" + id + "/ack", token: "send"}, 200)
	f.must(req{method: "POST", path: "/api/v1/silences", token: "send",
		body: `{"check":"nightly","until":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`}, 201)
	f.must(req{method: "POST", path: "/api/v1/messages", token: "send", body: `{"to":["01012345678"],"text":"시간"}`}, 202)

	stamp := regexp.MustCompile(`"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))"`)
	for _, path := range []string{"/api/v1/checks", "/api/v1/incidents", "/api/v1/incidents?open=false",
		"/api/v1/incidents/" + id, "/api/v1/silences", "/api/v1/messages"} {
		w := f.do(req{path: path, token: "read"})
		if w.Code != 200 {
			t.Fatalf("%s: %d", path, w.Code)
		}
		found := stamp.FindAllStringSubmatch(w.Body.String(), -1)
		if len(found) == 0 {
			t.Errorf("%s: no time in %s", path, w.Body)
		}
		for _, m := range found {
			if _, err := time.Parse(time.RFC3339, m[1]); err != nil || m[1][len(m[1])-6:] != "+09:00" {
				t.Errorf("%s: %s is not RFC 3339 in +09:00", path, m[1])
			}
		}
	}
}
