package aligotest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFailureModes(t *testing.T) {
	sendForm := func(s *Server) map[string][]string {
		return auth(s, "sender", s.Sender, "receiver", receiversN(5), "msg", "x")
	}
	tests := []struct {
		name   string
		f      Failure
		path   string
		status int
		code   int64
		substr string
	}{
		{"5xx default", Failure{Mode: HTTPStatus}, "/send/", 503, 0, "Service Unavailable"},
		{"500", Failure{Mode: HTTPStatus, Status: 500}, "/remain/", 500, 0, "Internal Server Error"},
		{"429", Failure{Mode: HTTPStatus, Status: 429}, "/list/", 429, 0, "Too Many Requests"},
		{"garbage", Failure{Mode: Garbage}, "/send/", 200, 0, "<html>"},
		{"IP not allowed", Failure{Mode: IPNotAllowed}, "/send/", 200, -101, "인증오류입니다.-IP"},
		{"IP not allowed on remain", Failure{Mode: IPNotAllowed}, "/remain/", 200, -101, "-IP"},
		{"bad key", Failure{Mode: BadKey}, "/cancel/", 200, -101, "인증오류입니다."},
		{"unregistered sender", Failure{Mode: UnregisteredSender}, "/send/", 200, -101, "발신번호"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			s.SetFailure(tt.f)
			a := post(t, s, tt.path, sendForm(s))
			if a.status != tt.status || !strings.Contains(a.body+a.message2(), tt.substr) {
				t.Fatalf("got %d %s", a.status, a.body)
			}
			if !strings.HasPrefix(a.ctype, "text/html") {
				t.Errorf("content type %q", a.ctype)
			}
			if tt.code != 0 {
				if a.num(t, "result_code") != tt.code {
					t.Errorf("result_code in %s", a.body)
				}
				if tt.path == "/remain/" && a.num(t, "MMS_CNT") != 0 {
					t.Errorf("remain error without counters: %s", a.body)
				}
			}
			if len(s.Delivered()) != 0 {
				t.Error("a failed request delivered something")
			}
			s.SetFailure(Failure{})
			if a := post(t, s, "/send/", sendForm(s)); a.code(t) != 1 {
				t.Errorf("after clearing: %s", a.body)
			}
		})
	}
}

// message2 decodes message when present (for the \u-escaped bodies).
func (a answer) message2() string {
	if raw, ok := a.fields["message"]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return s
		}
	}
	return ""
}

func TestPartialError(t *testing.T) {
	s := New(t)
	s.SetFailure(Failure{Mode: PartialError, ErrorCount: 2})
	// PartialError does not touch other endpoints.
	if a := post(t, s, "/remain/", auth(s)); a.num(t, "result_code") != 1 {
		t.Fatal(a.body)
	}
	a := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", "01011111111,01022222222,01033333333", "msg", "x"))
	if a.code(t) != 1 || a.num(t, "success_cnt") != 1 || a.num(t, "error_cnt") != 2 {
		t.Fatalf("got %s", a.body)
	}
	if d := s.Delivered(); len(d) != 1 || d[0].Receiver != "01011111111" {
		t.Errorf("delivered %+v", d)
	}
	s.SetFailure(Failure{Mode: PartialError, ErrorCount: 5})
	a = post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", "01011111111", "msg", "x"))
	if a.code(t) != 1 || a.num(t, "success_cnt") != 0 || a.num(t, "error_cnt") != 1 {
		t.Errorf("all rejected: %s", a.body)
	}
}

func TestFailNext(t *testing.T) {
	s := New(t)
	s.FailNext(2, Failure{Mode: HTTPStatus, Status: 502})
	var got []int
	for range 4 {
		got = append(got, post(t, s, "/remain/", auth(s)).status)
	}
	if want := []int{502, 502, 200, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	// A send-only failure is not used up by other endpoints.
	s.FailNext(1, Failure{Mode: UnregisteredSender})
	post(t, s, "/remain/", auth(s))
	if a := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", "01011111111", "msg", "x")); a.num(t, "result_code") != -101 {
		t.Errorf("first send: %s", a.body)
	}
	if a := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", "01011111111", "msg", "x")); a.code(t) != 1 {
		t.Errorf("second send: %s", a.body)
	}
}

func TestTimeout(t *testing.T) {
	s := New(t)
	s.SetFailure(Failure{Mode: Timeout, Delay: time.Minute})
	start := time.Now()
	err := postTimeout(s, "/remain/", auth(s), 200*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("took %v", el)
	}
	// A short stall ends with a normal answer.
	s.SetFailure(Failure{Mode: Timeout, Delay: 50 * time.Millisecond})
	if a := post(t, s, "/remain/", auth(s)); a.num(t, "result_code") != 1 {
		t.Errorf("after stall: %s", a.body)
	}
	// Close does not wait for a stalled handler.
	s.SetFailure(Failure{Mode: Timeout, Delay: time.Hour})
	go func() { _ = postTimeout(s, "/remain/", auth(s), time.Hour) }()
	time.Sleep(100 * time.Millisecond)
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked on a stalled request")
	}
}

func TestLatency(t *testing.T) {
	s := New(t)
	s.SetLatency(50 * time.Millisecond)
	start := time.Now()
	post(t, s, "/remain/", auth(s))
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Errorf("answered after %v, want ≥ 50ms", el)
	}
}

// TestConcurrentFlip sends from many goroutines while a test flips an
// outage on and off; run with -race.
func TestConcurrentFlip(t *testing.T) {
	s := New(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				s.SetFailure(Failure{Mode: HTTPStatus})
			} else {
				s.SetFailure(Failure{})
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var mu sync.Mutex
	ok := 0
	var senders sync.WaitGroup
	for range 20 {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for range 10 {
				a := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", "01011112222", "msg", "x"))
				if a.status == http.StatusOK {
					mu.Lock()
					ok++
					mu.Unlock()
				} else if a.status != http.StatusServiceUnavailable {
					t.Errorf("status %d", a.status)
				}
			}
		}()
	}
	senders.Wait()
	close(stop)
	wg.Wait()
	if got := len(s.Requests()); got != 200 {
		t.Errorf("recorded %d requests, want 200", got)
	}
	ids := map[string]bool{}
	for _, d := range s.Delivered() {
		ids[d.MsgID] = true
	}
	if len(ids) != ok {
		t.Errorf("%d accepted, %d distinct msg_ids", ok, len(ids))
	}
}
