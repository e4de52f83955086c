package aligotest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// answer is one raw reply of the fake.
type answer struct {
	status int
	ctype  string
	body   string
	fields map[string]json.RawMessage
}

// num returns a field that must be a JSON number.
func (a answer) num(t *testing.T, key string) int64 {
	t.Helper()
	raw, ok := a.fields[key]
	if !ok {
		t.Fatalf("field %s missing in %s", key, a.body)
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatalf("field %s = %s, want a JSON number", key, raw)
	}
	return n
}

// str returns a field that must be a JSON string.
func (a answer) str(t *testing.T, key string) string {
	t.Helper()
	raw, ok := a.fields[key]
	if !ok {
		t.Fatalf("field %s missing in %s", key, a.body)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("field %s = %s, want a JSON string", key, raw)
	}
	return s
}

// code returns result_code whichever way it is typed.
func (a answer) code(t *testing.T) int64 {
	t.Helper()
	raw := a.fields["result_code"]
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		var n int64
		if err := json.Unmarshal([]byte(s), &n); err != nil {
			t.Fatalf("result_code %s", raw)
		}
		return n
	}
	return a.num(t, "result_code")
}

func (a answer) message(t *testing.T) string { t.Helper(); return a.str(t, "message") }

func (a answer) list(t *testing.T) []map[string]json.RawMessage {
	t.Helper()
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal(a.fields["list"], &rows); err != nil {
		t.Fatalf("list: %v in %s", err, a.body)
	}
	return rows
}

func send(t *testing.T, c *http.Client, req *http.Request) answer {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: string(b)}
	if resp.StatusCode == http.StatusOK {
		_ = json.Unmarshal(b, &a.fields)
	}
	return a
}

// auth is the form with valid credentials plus kv pairs.
func auth(s *Server, kv ...string) url.Values {
	f := url.Values{"key": {s.Key}, "user_id": {s.UserID}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func post(t *testing.T, s *Server, path string, form url.Values) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(t, http.DefaultClient, req)
}

// postMultipart sends form as multipart/form-data, plus files (field → content).
func postMultipart(t *testing.T, s *Server, path string, form url.Values, files map[string]string) answer {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			if err := mw.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	for field, content := range files {
		fw, err := mw.CreateFormFile(field, field+".jpg")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write([]byte(content))
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL()+path, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return send(t, http.DefaultClient, req)
}

// postTimeout posts with a client deadline and returns the client error.
func postTimeout(s *Server, path string, form url.Values, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

// clock is a settable clock for WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func receiversN(n int) string {
	r := make([]string, n)
	for i := range r {
		r[i] = fmt.Sprintf("010%08d", i)
	}
	return strings.Join(r, ",")
}
