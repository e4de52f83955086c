package fakegw

import "sync"

// Numbers is a gateway's set of registered phone numbers (the senders
// it lets a client use). It is safe for concurrent use.
type Numbers struct {
	mu  sync.Mutex
	set map[string]bool
}

// NewNumbers is the set of numbers.
func NewNumbers(numbers ...string) *Numbers {
	n := &Numbers{set: make(map[string]bool, len(numbers))}
	for _, number := range numbers {
		n.set[number] = true
	}
	return n
}

// Senders is the set of numbers for a fake's WithSenders, and the first of
// them, the fake's Sender; with no numbers it is first, unchanged.
func Senders(numbers []string, first string) (*Numbers, string) {
	if len(numbers) > 0 {
		first = numbers[0]
	}
	return NewNumbers(numbers...), first
}

// Add registers number.
func (n *Numbers) Add(number string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.set[number] = true
}

// Has reports whether number is registered.
func (n *Numbers) Has(number string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.set[number]
}
