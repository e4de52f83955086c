package sms

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func validMessage() *Message {
	return &Message{
		Text:   "[경고] httpd 프로세스가 동작하지 않습니다.",
		Source: "api",
		Deliveries: []Delivery{
			{Phone: "010-1234-5678"},
			{Phone: "+82 10 2222 3333"},
		},
	}
}

func TestValidateMessageOK(t *testing.T) {
	m := validMessage()
	m.Text = "line one\r\nline two\r\n"
	m.Sender = "02-123-4567"
	m.At = time.Now().Add(time.Hour)
	m.Deliveries = append(m.Deliveries,
		Delivery{Phone: "01012345678", Attempts: 7}, // duplicate of [0]
		Delivery{Phone: "011-123-4567"},
	)
	if err := ValidateMessage(m, "1588-1234"); err != nil {
		t.Fatal(err)
	}
	if m.Kind != KindSMS {
		t.Errorf("Kind = %q, want SMS", m.Kind)
	}
	if m.Text != "line one\nline two\n" {
		t.Errorf("Text = %q, newlines not normalized", m.Text)
	}
	if m.Sender != "021234567" {
		t.Errorf("Sender = %q, want 021234567", m.Sender)
	}
	var got []Phone
	for _, d := range m.Deliveries {
		got = append(got, d.Phone)
		if d.Attempts != 0 {
			t.Errorf("kept the duplicate delivery instead of the first: %+v", d)
		}
	}
	want := []Phone{"01012345678", "01022223333", "0111234567"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("deliveries = %q, want %q", got, want)
	}
}

func TestValidateMessageKind(t *testing.T) {
	m := validMessage()
	m.Title = "서버 알림"
	if err := ValidateMessage(m, "0212345678"); err != nil || m.Kind != KindLMS {
		t.Fatalf("with title: kind %q, %v; want LMS", m.Kind, err)
	}
	m = validMessage()
	m.Kind = KindLMS
	if err := ValidateMessage(m, "0212345678"); err != nil || m.Kind != KindLMS {
		t.Fatalf("forced LMS: kind %q, %v", m.Kind, err)
	}
	// Validating twice gives the same result.
	if err := ValidateMessage(m, "0212345678"); err != nil || m.Kind != KindLMS {
		t.Fatalf("second validation: kind %q, %v", m.Kind, err)
	}
	m = validMessage()
	m.Sender = ""
	if err := ValidateMessage(m, "0212345678"); err != nil || m.Sender != "" {
		t.Fatalf("default sender: sender %q, %v; want it left empty", m.Sender, err)
	}
}

func TestValidateMessageErrors(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(m *Message)
		def    string
		field  string
		msg    string
		target any // error type expected in the chain
	}{
		{"empty text", func(m *Message) { m.Text = "" }, "0212345678", "text", "empty", &FieldError{}},
		{"emoji in text", func(m *Message) { m.Text = "서버 😀" }, "0212345678", "text", "position 4", &CharError{}},
		{"emoji in title", func(m *Message) { m.Title = "✔ OK" }, "0212345678", "title", "position 1", &CharError{}},
		{"long title", func(m *Message) { m.Title = strings.Repeat("x", 45) }, "0212345678", "title", "45 bytes", &FieldError{}},
		{"forced sms too long", func(m *Message) { m.Kind = KindSMS; m.Text = strings.Repeat("가", 46) }, "0212345678", "text", "92 bytes", &FieldError{}},
		{"mms", func(m *Message) { m.Kind = KindMMS }, "0212345678", "type", "unknown message type", &FieldError{}},
		{"text too long", func(m *Message) { m.Text = strings.Repeat("x", 2001) }, "0212345678", "text", "2001 bytes", &FieldError{}},
		{"no deliveries", func(m *Message) { m.Deliveries = nil }, "0212345678", "to", "no recipients", &FieldError{}},
		{"bad phone", func(m *Message) {
			m.Deliveries = append(m.Deliveries, Delivery{Phone: "0101234"})
		}, "0212345678", "to[2]", `invalid phone number "0101234": too short`, &PhoneError{}},
		{"landline recipient", func(m *Message) {
			m.Deliveries[1].Phone = "02-123-4567"
		}, "0212345678", "to[1]", "02-123-4567 is not a mobile number", &FieldError{}},
		{"representative recipient", func(m *Message) {
			m.Deliveries[0].Phone = "1588-1234"
		}, "0212345678", "to[0]", "not a mobile number", &FieldError{}},
		{"no sender", func(m *Message) {}, "", "sender", "no sender number", &FieldError{}},
		{"bad sender", func(m *Message) { m.Sender = "12345" }, "0212345678", "sender", `sender: invalid phone number "12345"`, &PhoneError{}},
		{"bad default sender", func(m *Message) {}, "abc", "sender", `default sender: invalid phone number "abc": contains letters`, &PhoneError{}},
		{"past reservation", func(m *Message) { m.At = time.Now().Add(-time.Minute) }, "0212345678", "at", "in the past", &FieldError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validMessage()
			tt.edit(m)
			before := *m
			before.Deliveries = append([]Delivery(nil), m.Deliveries...)
			err := ValidateMessage(m, tt.def)
			if err == nil {
				t.Fatalf("no error, want %s: %s", tt.field, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), tt.field+": ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want field %s and %q", err, tt.field, tt.msg)
			}
			switch tt.target.(type) {
			case *FieldError:
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tt.field {
					t.Errorf("error %T %v, want *FieldError for %s", err, err, tt.field)
				}
			case *CharError:
				var ce *CharError
				if !errors.As(err, &ce) || ce.Field != tt.field {
					t.Errorf("error %T %v, want *CharError for %s", err, err, tt.field)
				}
			case *PhoneError:
				var pe *PhoneError
				var fe *FieldError
				if !errors.As(err, &pe) || !errors.As(err, &fe) || fe.Field != tt.field {
					t.Errorf("error %T %v, want *FieldError %s wrapping *PhoneError", err, err, tt.field)
				}
			}
			if !reflect.DeepEqual(*m, before) {
				t.Errorf("message changed by a failed validation:\n%+v\n%+v", *m, before)
			}
		})
	}
	if err := ValidateMessage(nil, "0212345678"); err == nil {
		t.Error("nil message accepted")
	}
}
