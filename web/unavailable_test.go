package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"os"
	"testing"

	_ "modernc.org/sqlite" // the driver, for readOnly's checkpoint

	"github.com/munja-sms/munja/store"
)

// TestStoreUnavailable: while the database refuses writes, a send is
// answered 503 with Retry-After and a JSON error (the caller should retry:
// nothing was acknowledged), never 500, and nothing is stored. The compat
// form answers the same in Aligo's shape.
func TestStoreUnavailable(t *testing.T) {
	f := newFixture(t)
	readOnly(t, f.path)
	for _, r := range []req{
		{method: "POST", path: "/api/v1/messages", token: "send", body: `{"to":["01012345678"],"text":"x"}`},
		{method: "POST", path: "/sms/aligo_send.php", from: trusted, ctype: "application/x-www-form-urlencoded",
			body: url.Values{"receiver": {"01012345678"}, "msg": {"x"}}.Encode()},
	} {
		w := f.do(r)
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: body %q is not JSON: %v", r.path, w.Body.String(), err)
		}
		if w.Code != 503 || w.Header().Get("Retry-After") == "" || body["error"] == "" || body["error"] == nil {
			t.Errorf("%s: status %d, Retry-After %q, body %v; want 503 with Retry-After and an error",
				r.path, w.Code, w.Header().Get("Retry-After"), body)
		}
		sp := loadSpec(t)
		if s, ok := sp.responseSchema(specOperation(t, r.method, r.path), w.Code); !ok {
			t.Errorf("%s: status %d is not in openapi.json", r.path, w.Code)
		} else if errs := sp.validate(body, s, "body"); len(errs) > 0 {
			t.Errorf("%s: the %d body does not match openapi.json: %v", r.path, w.Code, errs)
		}
	}
	ms, err := f.db.ListMessages(context.Background(), store.MessageFilter{})
	noErr(t, err)
	if len(ms) != 0 {
		t.Errorf("%d messages stored by refused requests", len(ms))
	}
}

// readOnly makes the open SQLite database at path read-only in a way SQLite
// honours whoever runs the test (file modes do not stop root, and the store
// keeps its files open): a file format write version above 2 (byte 18 of
// the header) makes SQLite refuse every write with SQLITE_READONLY. The WAL
// is checkpointed into the file and truncated first, so the store's
// connections reread the header at their next transaction.
func readOnly(t *testing.T, path string) {
	t.Helper()
	c, err := sql.Open("sqlite", path)
	noErr(t, err)
	defer c.Close()
	var busy, logFrames, done int
	noErr(t, c.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done))
	if busy != 0 {
		t.Fatal("readOnly: the checkpoint was blocked")
	}
	fh, err := os.OpenFile(path, os.O_WRONLY, 0)
	noErr(t, err)
	defer fh.Close()
	_, err = fh.WriteAt([]byte{3}, 18)
	noErr(t, err)
}
