// Package binpages gives back the pages of the program's own file that
// start-up mapped and the running program no longer uses.
//
// A Go binary is mapped from its file: its code (r-x) and read-only data
// (r--: type descriptors, function tables, strings). Every page a function
// or table touches stays mapped, counted in the process's RSS, for as long
// as the process runs, and the kernel maps up to 64 KiB around each page
// fault of a file. munja serve's start-up runs code it never runs again —
// the config parser, the database migrations, the template parser, every
// package's init — and leaves about 19 MiB of the binary mapped with 20
// checks, where the running service uses a few (docs/BENCHMARKS.md
// section 9). Release unmaps those pages with madvise(MADV_DONTNEED): the
// page cache keeps them (they are the file's, clean, shared with every
// process running the binary), and a page the program touches again is
// mapped again by a minor fault (with its 64 KiB around), so what stays
// mapped is what the service goes on using.
//
// Only mappings of the executable's own file that are not writable and hold
// no private copy of a page (smaps "Anonymous: 0 kB") are touched: such a
// mapping's pages are all the file's, so dropping them loses nothing. A
// position-independent build's relocated read-only data (a private copy)
// is left alone.
package binpages

import (
	"context"
	"log/slog"
	"time"
)

// Stats says what Release did.
type Stats struct {
	Mappings int   // mappings of the executable given back
	Bytes    int64 // their size (mapped or not)
	Resident int64 // bytes of them that were resident before
	// Kept counts read-only mappings of the executable left alone because
	// they hold private copies of pages (a position-independent build's
	// relocated data).
	Kept int
}

// After calls Release once d has passed, unless ctx ends first: munja
// serve and the agents call it this long after they start, when start-up's
// work is done.
func After(ctx context.Context, d time.Duration) (Stats, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return Stats{}, ctx.Err()
	case <-t.C:
	}
	return Release()
}

// StartupAfter is how long after they start munja serve and the agents give
// back the pages of their binary that start-up mapped: by then the config,
// the database's migrations, the templates and every package's init have
// run, and the checks' first runs are under way. What the running service
// uses is mapped again as it runs.
const StartupAfter = 10 * time.Second

// AfterStartup runs After(ctx, StartupAfter) and logs what it did: munja
// serve and the agents run it on a goroutine of their own once started.
func AfterStartup(ctx context.Context, log *slog.Logger) {
	st, err := After(ctx, StartupAfter)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		log.Warn("could not give back start-up's pages of the binary", "err", err)
	default:
		log.Debug("gave back start-up's pages of the binary", "mappings", st.Mappings,
			"resident_kib", st.Resident>>10, "kept", st.Kept)
	}
}
