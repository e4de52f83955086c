// Package wakeup runs a watcher's work on a goroutine of its own only
// when something woke it: no goroutine waits between wake-ups.
//
// munja serve watches many things that are idle most of the time (200 log
// files, 250 process checks at 1,000 checks); a goroutine waiting for each
// held a stack of 4–8 KiB for as long as it watched (docs/BENCHMARKS.md
// section 9). A Looker starts a goroutine when woken (an inotify event, a
// pidfd, a timer, the end of a context), which looks, and ends.
package wakeup

import "sync"

// Looker runs look one at a time: a wake-up while look runs has it run
// once more when it returns, never two at once, and none is lost.
type Looker struct {
	look func() (finished bool)
	idle func()

	mu      sync.Mutex
	running bool // a goroutine looks (or, once finished, nobody will)
	again   bool // woken while it looked: it looks once more
}

// New returns a Looker that is set up: it holds the first look, so that a
// wake-up coming before its owner's set-up is done (and calls Start) only
// asks for another look instead of starting one that races with set-up.
//
// look does the work; when it returns true, looking has ended for good
// and later wake-ups do nothing. idle, if not nil, is called when a look
// ended with no wake-up meanwhile, before the next wake-up can start one
// (e.g. to arm a timer).
func New(look func() (finished bool), idle func()) *Looker {
	return &Looker{look: look, idle: idle, running: true}
}

// Start runs the first look, once the owner's set-up is done.
func (l *Looker) Start() { go l.work() }

// Wake has a goroutine look: a new one, or the one looking once more.
func (l *Looker) Wake() {
	l.mu.Lock()
	if l.running {
		l.again = true
		l.mu.Unlock()
		return
	}
	l.running = true
	l.mu.Unlock()
	go l.work()
}

func (l *Looker) work() {
	for {
		if l.look() {
			return // running stays set: later wake-ups do nothing
		}
		l.mu.Lock()
		if l.again {
			l.again = false
			l.mu.Unlock()
			continue
		}
		l.running = false
		if l.idle != nil {
			l.idle()
		}
		l.mu.Unlock()
		return
	}
}
