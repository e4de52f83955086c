package aligo

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

// BenchmarkSend1000 is one full /send/ call with 1000 receivers against the
// fake on loopback: form encoding, the fake's validation and the decoding.
func BenchmarkSend1000(b *testing.B) {
	gw := aligotest.New(b)
	c, err := NewClient(gw.ProviderConfig(), &http.Client{}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	batch := provider.Batch{Text: "[경고] httpd 프로세스가 동작하지 않습니다.", Receivers: phones(1000), Test: true}
	for b.Loop() {
		if _, err := c.Send(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		gw.Reset()
	}
}

// BenchmarkSendLatency50ms sends single-receiver batches from parallel
// goroutines to a fake answering after 50 ms, like a distant gateway: the
// client must not serialise calls.
func BenchmarkSendLatency50ms(b *testing.B) {
	gw := aligotest.New(b)
	gw.SetLatency(50 * time.Millisecond)
	c, err := NewClient(gw.ProviderConfig(), &http.Client{}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	batch := provider.Batch{Text: "x", Receivers: phones(1), Test: true}
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Send(context.Background(), batch); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
