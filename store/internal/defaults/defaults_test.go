package defaults

import (
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

var (
	kst  = time.FixedZone("KST", 9*3600)
	now  = time.Date(2026, 3, 1, 9, 0, 0, 123456789, kst)
	nowM = time.Date(2026, 3, 1, 0, 0, 0, 123000000, time.UTC)
	then = time.Date(2025, 1, 2, 3, 4, 5, 999999999, time.UTC)
	thnM = time.Date(2025, 1, 2, 3, 4, 5, 999000000, time.UTC)
)

func TestTruncMS(t *testing.T) {
	tests := []struct{ in, want time.Time }{
		{time.Time{}, time.Time{}},
		{now, nowM},
		{then, thnM},
		{nowM, nowM},
	}
	for _, tt := range tests {
		got := TruncMS(tt.in)
		if !got.Equal(tt.want) || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("TruncMS(%v) = %v, want %v in UTC", tt.in, got, tt.want)
		}
	}
}

func TestUser(t *testing.T) {
	tests := []struct {
		name string
		in   store.User
		want store.User
	}{
		{"empty", store.User{Name: "a"}, store.User{Name: "a", Lang: "ko", CreatedAt: nowM, PasswordChangedAt: nowM}},
		{"kept", store.User{Lang: "en", CreatedAt: then, PasswordChangedAt: now, DisabledAt: then},
			store.User{Lang: "en", CreatedAt: thnM, PasswordChangedAt: nowM, DisabledAt: thnM}},
		{"changed defaults to created", store.User{CreatedAt: then}, store.User{Lang: "ko", CreatedAt: thnM, PasswordChangedAt: thnM}},
	}
	for _, tt := range tests {
		got := User(tt.in, now)
		if got != tt.want {
			t.Errorf("%s: User = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestMessage(t *testing.T) {
	tests := []struct {
		name                string
		m                   sms.Message
		wantAt, wantCreated time.Time
		wantDue             time.Time
	}{
		{"now", sms.Message{}, time.Time{}, nowM, nowM},
		{"scheduled", sms.Message{At: then}, thnM, nowM, thnM},
		{"imported", sms.Message{CreatedAt: then}, time.Time{}, thnM, thnM},
	}
	for _, tt := range tests {
		c := Message(&tt.m, now)
		c.ID = 7
		if !c.At.Equal(tt.wantAt) || !c.CreatedAt.Equal(tt.wantCreated) || !c.Due().Equal(tt.wantDue) {
			t.Errorf("%s: at %v created %v due %v; want %v %v %v", tt.name, c.At, c.CreatedAt, c.Due(), tt.wantAt, tt.wantCreated, tt.wantDue)
		}
		d := c.Delivery(9, "01012345678")
		want := sms.Delivery{ID: 9, MessageID: 7, Phone: "01012345678", Status: sms.StatusQueued,
			NextAttemptAt: tt.wantDue, CreatedAt: tt.wantCreated, UpdatedAt: tt.wantCreated}
		if !d.NextAttemptAt.Equal(want.NextAttemptAt) || d.ID != want.ID || d.MessageID != 7 || d.Phone != want.Phone ||
			d.Status != want.Status || !d.CreatedAt.Equal(want.CreatedAt) || !d.UpdatedAt.Equal(want.UpdatedAt) {
			t.Errorf("%s: Delivery = %+v, want %+v", tt.name, d, want)
		}
		c.Deliveries = []sms.Delivery{d}
		m := tt.m
		c.Apply(&m)
		if m.ID != 7 || !m.CreatedAt.Equal(tt.wantCreated) || !m.At.Equal(tt.wantAt) || len(m.Deliveries) != 1 {
			t.Errorf("%s: Apply = %+v", tt.name, m)
		}
	}
}
