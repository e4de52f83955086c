package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/munja-sms/munja/store"
)

func cmdHistory(e *env, args []string) int {
	fs := newFlags(e, "history")
	limit := fs.Int("limit", 20, "number of messages")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *limit < 1 || *limit > 10000 {
		fmt.Fprintln(e.stderr, "munja history: --limit must be 1..10000")
		return 2
	}
	a, code := e.open()
	if a == nil {
		return code
	}
	defer a.Close()
	ms, err := a.Store.ListMessages(e.ctx, store.MessageFilter{Limit: *limit})
	if err != nil {
		fmt.Fprintln(e.stderr, "munja history:", err)
		return 1
	}
	loc := a.Config.Location()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tTYPE\tSTATUS\tSOURCE\tTEXT")
	for _, m := range ms {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.CreatedAt.In(loc).Format("2006-01-02 15:04"),
			m.Kind, m.Summary(), m.Source, oneLine(m.Text, 40))
		for _, d := range m.Deliveries {
			detail := d.LastError
			if d.ProviderMsgID != "" {
				detail = strings.TrimSpace(d.Provider + " " + d.ProviderMsgID + " " + detail)
			}
			fmt.Fprintf(tw, "\t  %s\t\t%s\t\t%s\n", d.Phone.Display(), d.Status, oneLine(detail, 80))
		}
	}
	tw.Flush()
	return 0
}

func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ⏎ ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
