// Package clienttest is what the gateways' own tests (package aligo, nhn,
// …, beside their clients) share: a client with its debug log captured,
// receivers, option edits, files for *_file secrets, a munja.yaml parsed,
// a gateway that gives one canned answer, and the CP949 byte boundaries
// of an SMS. It imports no gateway, so those tests can import it (unlike
// provider/internal/pipelinetest, which builds every gateway through the
// registry).
package clienttest

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/sms"
)

// Client builds a client for cfg with newClient (the gateway's NewClient),
// logging at debug level into the returned buffer, so a test can check
// that no secret is ever logged.
func Client[C any](t testing.TB, newClient func(config.Provider, *http.Client, *slog.Logger) (C, error), cfg config.Provider) (C, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := newClient(cfg, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	return c, &buf
}

// Phones returns n distinct mobile numbers, 01000000000 upwards.
func Phones(n int) []sms.Phone {
	out := make([]sms.Phone, n)
	for i := range out {
		out[i] = sms.Phone(fmt.Sprintf("010%08d", i))
	}
	return out
}

// SetOptions returns an edit that sets the gateway options kv (key,
// value, key, value …) in a config entry, for Validate tables.
func SetOptions(kv ...any) func(*config.Provider) {
	return func(c *config.Provider) {
		for k, v := range config.Opts(kv...) {
			c.Options[k] = v
		}
	}
}

// WantPaths checks a Validate's errors against a table's paths: as many
// errors as paths, error i naming paths[i] followed by ": " where match
// (strings.HasPrefix, or strings.Contains for a gateway whose errors may
// say more before the path) finds it.
func WantPaths(t testing.TB, errs []error, paths []string, match func(s, sub string) bool) {
	t.Helper()
	if len(errs) != len(paths) {
		t.Fatalf("errors %v, want paths %v", errs, paths)
	}
	for i, p := range paths {
		if !match(errs[i].Error(), p+": ") {
			t.Errorf("error %q, want path %s", errs[i], p)
		}
	}
}

// File writes content to a new file name, readable by its owner only
// (as a KEY_file secret is kept), and returns its path.
func File(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// ParseConfig parses a munja.yaml as munja does, with no environment
// variables set.
func ParseConfig(t testing.TB, src string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(src), func(string) (string, bool) { return "", false }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Canned starts a gateway that answers every call with status and body
// (with contentType, unless empty) and returns its URL.
func Canned(t testing.TB, status int, contentType, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// KindByBytes are texts of 89, 90 and 91 CP949 bytes, ASCII and Hangul (2
// bytes a syllable), with the kind a Korean gateway sends each as: 90
// bytes is the last SMS.
var KindByBytes = []struct {
	Name string
	Text string
	Kind sms.Kind
}{
	{"89 ASCII", strings.Repeat("a", 89), sms.KindSMS},
	{"90 ASCII", strings.Repeat("a", 90), sms.KindSMS},
	{"91 ASCII", strings.Repeat("a", 91), sms.KindLMS},
	{"89 bytes Hangul", strings.Repeat("가", 44) + "a", sms.KindSMS},
	{"90 bytes Hangul", strings.Repeat("가", 45), sms.KindSMS},
	{"91 bytes Hangul", strings.Repeat("가", 45) + "a", sms.KindLMS},
}
