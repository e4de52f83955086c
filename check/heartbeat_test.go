package check

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
)

// memState is an in-memory StateStore with the store package's contract.
type memState struct {
	mu   sync.Mutex
	m    map[string][]byte
	fail error
}

func (s *memState) GetState(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	v, ok := s.m[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return v, nil
}

func (s *memState) PutState(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[key] = value
	return nil
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestHeartbeat(t *testing.T) {
	ctx := context.Background()
	st := &memState{}
	clock := &fakeClock{t: time.Date(2026, 11, 25, 14, 3, 0, 0, time.UTC)}
	cfg := config.Check{Name: "backup", Type: "heartbeat", Grace: config.Duration(5 * time.Minute)}
	c, err := NewHeartbeat(cfg, Deps{State: st, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	const firing = "[경고] backup 하트비트가 5m 동안 수신되지 않았습니다."
	const resolved = "[복구] backup 하트비트가 다시 수신되었습니다."

	steps := []struct {
		name    string
		advance time.Duration
		ping    bool
		ok      bool
		detail  string
	}{
		{"fresh check, no ping yet", 0, false, true, "no ping since the check started 0s ago"},
		{"within grace of the start", 4 * time.Minute, false, true, ""},
		{"grace from the start passed", 2 * time.Minute, false, false, "no ping since the check started 6m ago (grace 5m)"},
		{"ping arrives", time.Second, true, true, "last ping 2026-11-25T14:09:01Z, 0s ago"},
		{"exactly grace after the ping", 5 * time.Minute, false, true, ""},
		{"just past grace", time.Second, false, false, "5m1s ago"},
		{"pinged again", 0, true, true, ""},
	}
	for _, s := range steps {
		clock.Add(s.advance)
		if s.ping {
			if err := RecordHeartbeat(ctx, st, "backup", clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		r := c.Run(ctx)
		if r.OK != s.ok {
			t.Fatalf("%s: OK = %v, want %v (%s)", s.name, r.OK, s.ok, r.Detail)
		}
		if !s.ok && r.Firing != firing {
			t.Errorf("%s: firing = %q, want %q", s.name, r.Firing, firing)
		}
		if r.Resolved != resolved {
			t.Errorf("%s: resolved = %q", s.name, r.Resolved)
		}
		if !strings.Contains(r.Detail, s.detail) {
			t.Errorf("%s: detail = %q, want %q in it", s.name, r.Detail, s.detail)
		}
		if !r.At.Equal(clock.Now()) {
			t.Errorf("%s: At = %s, want the injected clock %s", s.name, r.At, clock.Now())
		}
	}
	if v := string(st.m["heartbeat/backup"]); v != "2026-11-25T14:14:02Z" {
		t.Errorf("stored value = %q", v)
	}
}

func TestHeartbeatStalePingFiresAtOnce(t *testing.T) {
	ctx := context.Background()
	st := &memState{}
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	if err := RecordHeartbeat(ctx, st, "cron", clock.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	c, err := NewHeartbeat(config.Check{Name: "cron", Type: "heartbeat", Grace: config.Duration(10 * time.Minute)}, Deps{State: st, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Run(ctx); r.OK || !strings.Contains(r.Detail, "1h ago") {
		t.Fatalf("a ping from before munja started still counts: %+v", r)
	}
	got, err := LastHeartbeat(ctx, st, "cron")
	if err != nil || !got.Equal(clock.Now().Add(-time.Hour)) {
		t.Fatalf("LastHeartbeat = %s, %v (nanoseconds must survive)", got, err)
	}
}

func TestHeartbeatErrors(t *testing.T) {
	cfg := config.Check{Name: "hb", Type: "heartbeat", Grace: config.Duration(time.Minute)}
	if _, err := NewHeartbeat(cfg, Deps{}); err == nil {
		t.Error("NewHeartbeat without a state store succeeded")
	}
	st := &memState{fail: errors.New("database is locked")}
	c, err := NewHeartbeat(cfg, Deps{State: st})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Run(context.Background())
	if r.OK || !r.Unknown || r.Firing != "[경고] hb 점검 불가: 하트비트 기록을 읽을 수 없습니다." || !strings.Contains(r.Detail, "database is locked") {
		t.Fatalf("store failure: %+v", r)
	}
	st.fail = nil
	st.PutState(context.Background(), HeartbeatKey("hb"), []byte("yesterday"))
	if r := c.Run(context.Background()); r.OK || !strings.Contains(r.Detail, "stored value") {
		t.Fatalf("garbage value: %+v", r)
	}
}
