package sms

import "testing"

func TestMessageSummary(t *testing.T) {
	msg := func(st ...Status) *Message {
		m := &Message{}
		for _, s := range st {
			m.Deliveries = append(m.Deliveries, Delivery{Status: s})
		}
		return m
	}
	for _, c := range []struct {
		m    *Message
		want string
	}{
		{msg(StatusQueued), "queued"},
		{msg(StatusSent, StatusSending), "queued"},
		{msg(StatusSent, StatusDelivered, StatusReserved), "sent"},
		{msg(StatusFailed, StatusCanceled), "failed"},
		{msg(StatusDelivered, StatusFailed), "partial"},
	} {
		if got := c.m.Summary(); got != c.want {
			t.Errorf("%v: %q, want %q", c.m.Deliveries, got, c.want)
		}
	}
}
