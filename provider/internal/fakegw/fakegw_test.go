package fakegw

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type mode int

const (
	none mode = iota
	down
	late
)

type failure struct {
	Mode  mode
	Count int
}

func TestInjector(t *testing.T) {
	var in Injector[failure, mode]
	if _, ok := in.Take(down, late); ok {
		t.Fatal("the zero Injector holds a failure")
	}
	in.Set(failure{Mode: down, Count: 2}, down, 2)
	if _, ok := in.Take(late); ok {
		t.Error("a failure of another mode was taken")
	}
	var got []bool
	for range 3 {
		_, ok := in.Take(down)
		got = append(got, ok)
	}
	if want := []bool{true, true, false}; !slices.Equal(got, want) {
		t.Errorf("taken %v, want %v", got, want)
	}
	in.Set(failure{Mode: late}, late, 0)
	for range 3 {
		if f, ok := in.Take(down, late); !ok || f.Mode != late {
			t.Fatalf("a failure without a count cleared itself: %v %v", f, ok)
		}
	}
	in.Set(failure{}, none, 0)
	if _, ok := in.Take(none); ok {
		t.Error("mode none was taken")
	}
}

func get(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.Header.Get("Content-Type") + " " + string(b), err
}

// TestStallEndsWithClientAndClose: a stall ends when the client gives up
// (the handler does not go on) and Close does not wait for one.
func TestStallEndsWithClientAndClose(t *testing.T) {
	var handled atomic.Int32
	var s *Server
	s = Start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.Stall(r, time.Hour) {
			return
		}
		handled.Add(1)
	}))
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := get(ctx, s.URL()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	go func() { _, _ = get(context.Background(), s.URL()) }()
	time.Sleep(100 * time.Millisecond)
	done := make(chan struct{})
	go func() { s.Close(); s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked on a stalled request")
	}
	if handled.Load() != 0 {
		t.Error("a stalled request was handled")
	}
}

func TestLatency(t *testing.T) {
	var s *Server
	s = Start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.WaitLatency(r) {
			WriteBody(w, http.StatusOK, "text/plain", "ok")
		}
	}))
	defer s.Close()
	s.SetLatency(50 * time.Millisecond)
	start := time.Now()
	if got, err := get(context.Background(), s.URL()); err != nil || got != "text/plain ok" {
		t.Fatalf("got %q, %v", got, err)
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Errorf("answered after %v, want ≥ 50ms", el)
	}
}

// TestAnswerLate: the request is handled at once, the answer comes after
// the delay with the handler's headers, and a client that left does not
// undo it.
func TestAnswerLate(t *testing.T) {
	var handled atomic.Int32
	var s *Server
	s = Start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.AnswerLate(w, 300*time.Millisecond, func(w http.ResponseWriter) {
			handled.Add(1)
			WriteJSON(w, http.StatusCreated, "application/json", map[string]int{"n": 1})
		})
	}))
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := get(ctx, s.URL()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if handled.Load() != 1 {
		t.Fatal("the late request was not handled at once")
	}
	start := time.Now()
	got, err := get(context.Background(), s.URL())
	if err != nil || got != `application/json {"n":1}` {
		t.Fatalf("got %q, %v", got, err)
	}
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Errorf("answered after %v, want ≥ 300ms", el)
	}
}

func TestWriteEscapedJSON(t *testing.T) {
	s := Start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteEscapedJSON(w, http.StatusOK, "text/html; charset=UTF-8", map[string]string{"m": "인증 😀"})
	}))
	defer s.Close()
	got, err := get(context.Background(), s.URL())
	if want := `text/html; charset=UTF-8 {"m":"\uc778\uc99d \ud83d\ude00"}`; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
}

func TestReadFormAndLog(t *testing.T) {
	var log Log[url.Values]
	s := Start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, files, multipart, err := ReadForm(r)
		if err != nil || files != nil || multipart {
			t.Errorf("ReadForm: %v %v %v", files, multipart, err)
		}
		log.Add(form)
	}))
	defer s.Close()
	resp, err := http.PostForm(s.URL(), url.Values{"a": {"1", "2"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := log.Copy(CloneValues)
	if len(got) != 1 || strings.Join(got[0]["a"], ",") != "1,2" {
		t.Fatalf("logged %v", got)
	}
	got[0]["a"][0] = "changed"
	if again := log.Copy(CloneValues); again[0]["a"][0] != "1" {
		t.Error("Copy shares the logged values")
	}
	log.Reset()
	if n := len(log.Copy(CloneValues)); n != 0 {
		t.Errorf("%d entries after Reset", n)
	}
	if CloneValues(nil) != nil {
		t.Error("CloneValues(nil) is not nil")
	}
}

func TestNumbers(t *testing.T) {
	n, first := Senders([]string{"021", "022"}, "020")
	if !n.Has("021") || !n.Has("022") || n.Has("020") || first != "021" {
		t.Errorf("Senders = %v, %q", n.set, first)
	}
	n.Add("023")
	if !n.Has("023") {
		t.Error("Add did not register")
	}
	if n, first := Senders(nil, "020"); n.Has("020") || first != "020" {
		t.Errorf("Senders(nil) = %v, %q", n.set, first)
	}
}
