// Package groupcommit shares commits among concurrent writers (group
// commit), for the stores' CreateMessage.
//
// A durable commit costs far more than the rows it writes. Submit therefore
// hands its item to one committer goroutine, which commits every item
// waiting at that moment in one call of the commit function (one
// transaction) and then answers each caller. A lone caller gets a batch of
// one; concurrent callers share commits. Each caller still returns only
// after its own item is committed.
//
// If a batch of several items fails, each is committed again alone, so one
// bad item cannot fail the others. A caller whose context ends before the
// committer took its item withdraws it: nothing is stored and the context's
// error is returned. Once taken, the item's outcome is the answer, whatever
// the context does meanwhile.
package groupcommit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Batcher. Commit and Closed are required.
type Config[T any] struct {
	// Commit stores items in one transaction. On success it has filled in
	// what storing assigns; on failure it leaves the items unchanged.
	Commit func(ctx context.Context, items []T) error
	// Weight is an item's share of MaxWeight; nil weighs every item 1.
	Weight func(T) int
	// MaxWeight bounds the weight of one batch: the committer stops adding
	// items once the batch weighs that much.
	MaxWeight int
	// Timeout bounds one batch, its one-by-one retries included.
	Timeout time.Duration
	// Queue is how many submitted items may wait for the committer.
	Queue int
	// Closed is returned by Submit after Close.
	Closed error
	// Log receives a warning when a batch fails and is retried one by one;
	// nil discards it. Name prefixes the message ("sqlite", "postgres").
	Log  *slog.Logger
	Name string
}

// Request states: the committer takes a pending request, or its caller
// cancels it first; whoever wins the swap decides.
const (
	reqPending int32 = iota
	reqTaken
	reqCanceled
)

type request[T any] struct {
	item  T
	state atomic.Int32
	done  chan error // buffered; receives exactly one result once taken
}

// Batcher commits submitted items in shared batches. It is safe for
// concurrent use.
type Batcher[T any] struct {
	cfg     Config[T]
	queue   chan *request[T]
	stop    chan struct{} // closed by Close
	exited  chan struct{} // closed by the committer when it returns
	commits atomic.Int64  // calls of cfg.Commit so far

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
}

// New starts the committer of a Batcher; Close stops it.
func New[T any](cfg Config[T]) *Batcher[T] {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Weight == nil {
		cfg.Weight = func(T) int { return 1 }
	}
	b := &Batcher[T]{
		cfg:    cfg,
		queue:  make(chan *request[T], cfg.Queue),
		stop:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	go b.committer()
	return b
}

// Submit commits item, sharing the transaction with whatever else is
// waiting, and returns once it is committed, with Commit's error. If ctx
// ends before the committer took item, nothing is stored and ctx's error is
// returned; after Close it returns Config.Closed.
func (b *Batcher[T]) Submit(ctx context.Context, item T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &request[T]{item: item, done: make(chan error, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return b.cfg.Closed
	}
	select {
	case b.queue <- req:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		if req.state.CompareAndSwap(reqPending, reqCanceled) {
			return ctx.Err()
		}
		// Already in a transaction: its outcome is the answer.
		return <-req.done
	}
}

// Close lets no new item in, commits the items already submitted and
// returns once they are. A second Close returns at once.
func (b *Batcher[T]) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	<-b.exited
}

// Queued returns how many submitted items wait for the committer.
func (b *Batcher[T]) Queued() int { return len(b.queue) }

// Commits returns how many times Commit was called so far.
func (b *Batcher[T]) Commits() int64 { return b.commits.Load() }

// committer runs until stop is closed, then commits what is still queued
// (Close lets no new request in first) and returns.
func (b *Batcher[T]) committer() {
	defer close(b.exited)
	for {
		select {
		case req := <-b.queue:
			b.commitBatch(b.collect(req))
		case <-b.stop:
			for {
				select {
				case req := <-b.queue:
					b.commitBatch(b.collect(req))
				default:
					return
				}
			}
		}
	}
}

// collect takes first and whatever else is queued, up to MaxWeight.
func (b *Batcher[T]) collect(first *request[T]) []*request[T] {
	batch := []*request[T]{first}
	n := b.cfg.Weight(first.item)
	for n < b.cfg.MaxWeight {
		select {
		case req := <-b.queue:
			batch = append(batch, req)
			n += b.cfg.Weight(req.item)
		default:
			return batch
		}
	}
	return batch
}

// commitBatch commits the live requests of batch in one transaction. If
// that fails and the batch has several items, each is retried alone.
func (b *Batcher[T]) commitBatch(batch []*request[T]) {
	live := batch[:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(reqPending, reqTaken) {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.Timeout)
	defer cancel()
	items := make([]T, len(live))
	for i, r := range live {
		items[i] = r.item
	}
	err := b.commit(ctx, items)
	if err == nil || len(live) == 1 {
		for _, r := range live {
			r.done <- err
		}
		return
	}
	b.cfg.Log.Warn(b.cfg.Name+": group commit failed, storing messages one by one", "messages", len(live), "err", err)
	for _, r := range live {
		r.done <- b.commit(ctx, []T{r.item})
	}
}

func (b *Batcher[T]) commit(ctx context.Context, items []T) error {
	b.commits.Add(1)
	return b.cfg.Commit(ctx, items)
}
