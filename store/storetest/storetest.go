// Package storetest is the contract every store.Store implementation must
// pass. It tests behaviour through the interface only, so the same suite runs
// against the embedded SQLite store and against PostgreSQL.
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
//	}
package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// base is the suite's clock origin. Tests set CreatedAt explicitly so that
// due times and pruning do not depend on the wall clock.
var base = time.Date(2026, 11, 25, 5, 3, 0, 0, time.UTC)

// Run runs the contract suite. open must return a new, empty store for each
// call; Run closes it when the subtest ends. Subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateGetMessage", testCreateGetMessage},
		{"CreateMessageDefaults", testCreateMessageDefaults},
		{"ListMessages", testListMessages},
		{"ClaimDue", testClaimDue},
		{"ClaimLimitAndOrder", testClaimLimitAndOrder},
		{"ClaimLease", testClaimLease},
		{"ClaimMessageID", testClaimMessageID},
		{"ClaimConcurrent", testClaimConcurrent},
		{"CompleteDeliveries", testCompleteDeliveries},
		{"CompleteFenced", testCompleteFenced},
		{"CompleteUnknown", testCompleteUnknown},
		{"ReleaseClaims", testReleaseClaims},
		{"CountDeliveriesSince", testCountDeliveriesSince},
		{"CountDeliveriesByStatus", testCountDeliveriesByStatus},
		{"NextDue", testNextDue},
		{"PruneMessages", testPruneMessages},
		{"CreateOnce", testCreateOnce},
		{"CreateAudit", testCreateAudit},
		{"Tokens", testTokens},
		{"Audit", testAudit},
		{"AlertState", testAlertState},
		{"CheckHistory", testCheckHistory},
		{"CheckHistoryManySeries", testCheckHistoryManySeries},
		{"Contacts", testContacts},
		{"ListContacts", testListContacts},
		{"Groups", testGroups},
		{"Users", testUsers},
		{"SetPassword", testSetPassword},
		{"Sessions", testSessions},
		{"Templates", testTemplates},
		{"Reports", testReports},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// ctx returns a context that ends with the test, with a generous deadline.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// newMessage builds a message to phones created at base+at.
func newMessage(text string, at time.Duration, phones ...sms.Phone) *sms.Message {
	m := &sms.Message{Text: text, Kind: sms.KindSMS, Source: "api", CreatedBy: "tester", CreatedAt: base.Add(at)}
	for _, p := range phones {
		m.Deliveries = append(m.Deliveries, sms.Delivery{Phone: p})
	}
	return m
}

func mustCreate(t *testing.T, s store.Store, m *sms.Message) *sms.Message {
	t.Helper()
	if err := s.CreateMessage(ctx(t), m); err != nil {
		t.Fatalf("CreateMessage(%q): %v", m.Text, err)
	}
	return m
}

func mustGet(t *testing.T, s store.Store, id int64) *sms.Message {
	t.Helper()
	m, err := s.GetMessage(ctx(t), id)
	if err != nil {
		t.Fatalf("GetMessage(%d): %v", id, err)
	}
	return m
}

func mustClaim(t *testing.T, s store.Store, now time.Time, limit int, lease time.Duration, f store.ClaimFilter) []store.Claim {
	t.Helper()
	cs, err := s.ClaimDeliveries(ctx(t), now, limit, lease, f)
	if err != nil {
		t.Fatalf("ClaimDeliveries(%v, %d): %v", now, limit, err)
	}
	return cs
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

// sameTime compares at millisecond precision; zero only equals zero.
func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	return a.UnixMilli() == b.UnixMilli()
}

// norm returns v with every time.Time at millisecond precision in UTC, so
// values can be compared with reflect.DeepEqual.
func norm[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	normValue(rv)
	return v
}

var timeType = reflect.TypeFor[time.Time]()

func normValue(v reflect.Value) {
	switch {
	case v.Type() == timeType:
		t := v.Interface().(time.Time)
		if t.IsZero() {
			v.Set(reflect.ValueOf(time.Time{}))
		} else {
			v.Set(reflect.ValueOf(time.UnixMilli(t.UnixMilli()).UTC()))
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				normValue(v.Field(i))
			}
		}
	case v.Kind() == reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.Zero(v.Type())) // empty and nil compare equal
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len()) // leave the caller's slice alone
		reflect.Copy(c, v)
		for i := range c.Len() {
			normValue(c.Index(i))
		}
		v.Set(c)
	case v.Kind() == reflect.Pointer && !v.IsNil():
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(v.Elem())
		normValue(c.Elem())
		v.Set(c)
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, g, w)
	}
}

func ids(ms []*sms.Message) []int64 {
	out := []int64{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func claimIDs(cs []store.Claim) []int64 {
	out := []int64{}
	for _, c := range cs {
		out = append(out, c.Delivery.ID)
	}
	return out
}

func deliveryIDs(m *sms.Message) []int64 {
	out := []int64{}
	for _, d := range m.Deliveries {
		out = append(out, d.ID)
	}
	return out
}
