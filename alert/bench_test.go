package alert

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkObserve feeds steady and failing results for 500 checks on 10
// hosts: the cost a check runner pays per result.
func BenchmarkObserve(b *testing.B) {
	cfg := baseConfig()
	cfg.Alerting.Failures = 3
	e, err := New(Options{Config: cfg, State: newMemState(), Notifier: &recorder{}})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.Observe(checkResult(fmt.Sprintf("c%d", i%500), i%11 != 0, now))
		i++
	}
}

// BenchmarkFlush evaluates 500 open incidents with nothing due.
func BenchmarkFlush(b *testing.B) {
	e, err := New(Options{Config: baseConfig(), State: newMemState(), Notifier: &recorder{}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range 500 {
		e.Observe(checkResult(fmt.Sprintf("c%d", i), false, time.Now()))
	}
	if err := e.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.evaluate(ctx, false); err != nil {
			b.Fatal(err)
		}
	}
}
