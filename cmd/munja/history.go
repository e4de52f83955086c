package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// firstRecipients is how many recipients a message's one line names.
const firstRecipients = 2

func cmdHistory(e *env, args []string) int {
	fs := newFlags(e, "history")
	limit := fs.Int("limit", 20, "number of messages")
	recipients := fs.Bool("recipients", false, "list each message's recipients under it")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if *limit < 1 || *limit > 10000 {
		fmt.Fprintln(e.stderr, "munja history: --limit must be 1..10000")
		return 2
	}
	var id int64
	switch len(pos) {
	case 0:
	case 1:
		if id, err = strconv.ParseInt(pos[0], 10, 64); err != nil || id < 1 {
			fmt.Fprintf(e.stderr, "munja history: %q is not a message id (the ID column)\n", pos[0])
			return 2
		}
	default:
		fmt.Fprintln(e.stderr, "munja history: give at most one message ID")
		return 2
	}
	a, code := e.open()
	if a == nil {
		return code
	}
	defer a.Close()
	var ms []*sms.Message
	if id != 0 {
		m, err := a.Store.GetMessage(e.ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			fmt.Fprintf(e.stderr, "munja history: no message %d\n", id)
			return 1
		}
		if err != nil {
			fmt.Fprintln(e.stderr, "munja history:", err)
			return 1
		}
		ms, *recipients = []*sms.Message{m}, true
	} else if ms, err = a.Store.ListMessages(e.ctx, store.MessageFilter{Limit: *limit}); err != nil {
		fmt.Fprintln(e.stderr, "munja history:", err)
		return 1
	}
	printHistory(e.stdout, ms, a.Config.Location(), *recipients)
	return 0
}

// printHistory prints one line per message: id, time, type, recipient
// counts by status, source, the first recipients and the text; with
// recipients, each recipient on a line of its own under it.
func printHistory(w io.Writer, ms []*sms.Message, loc *time.Location, recipients bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tTYPE\tSTATUS\tSOURCE\tTO\tTEXT")
	for _, m := range ms {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.CreatedAt.In(loc).Format("2006-01-02 15:04"),
			m.Kind, statusCounts(m.Deliveries), m.Source, firstTo(m.Deliveries), oneLine(m.Text, 40))
		if !recipients {
			continue
		}
		for _, d := range m.Deliveries {
			detail := d.LastError
			if d.ProviderMsgID != "" {
				detail = strings.TrimSpace(d.Provider + " " + d.ProviderMsgID + " " + detail)
			}
			fmt.Fprintf(tw, "\t  %s\t\t%s\t\t\t%s\n", d.Phone.Display(), d.Status, oneLine(detail, 80))
		}
	}
	tw.Flush()
}

// statusOrder is the order statuses are counted in; others follow by name.
var statusOrder = []sms.Status{sms.StatusDelivered, sms.StatusSent, sms.StatusReserved,
	sms.StatusSending, sms.StatusQueued, sms.StatusFailed, sms.StatusCanceled}

// statusCounts says how many recipients are in each status: "2 sent, 1 failed".
func statusCounts(ds []sms.Delivery) string {
	n := map[sms.Status]int{}
	var order []sms.Status
	for _, d := range ds {
		if n[d.Status] == 0 {
			order = append(order, d.Status)
		}
		n[d.Status]++
	}
	rank := func(s sms.Status) int {
		if i := slices.Index(statusOrder, s); i >= 0 {
			return i
		}
		return len(statusOrder)
	}
	slices.SortStableFunc(order, func(x, y sms.Status) int {
		if c := rank(x) - rank(y); c != 0 {
			return c
		}
		return strings.Compare(string(x), string(y))
	})
	parts := make([]string, len(order))
	for i, s := range order {
		parts[i] = fmt.Sprintf("%d %s", n[s], s)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// firstTo names the first recipients and how many more there are.
func firstTo(ds []sms.Delivery) string {
	var names []string
	for i, d := range ds {
		if i == firstRecipients {
			break
		}
		names = append(names, d.Phone.Display())
	}
	s := strings.Join(names, ",")
	if more := len(ds) - len(names); more > 0 {
		s += fmt.Sprintf(" +%d", more)
	}
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ⏎ ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
