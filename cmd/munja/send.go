package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/munja-sms/munja/app"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

func cmdSend(e *env, args []string) int {
	fs := newFlags(e, "send")
	var to, groups listFlag
	fs.Var(&to, "to", "recipient phone numbers, comma-separated (repeatable)")
	fs.Var(&groups, "group", "recipient group (repeatable)")
	title := fs.String("title", "", "LMS title (up to 44 bytes)")
	typ := fs.String("type", "auto", "auto | sms | lms")
	test := fs.Bool("test", false, "gateway test mode: accepted, not delivered")
	sender := fs.String("sender", "", "registered sender number (default sms.sender)")
	wait := fs.Duration("wait", time.Minute, "how long to wait for the gateway, retrying retryable failures")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "munja send: give the text as one argument, or - to read stdin")
		return 2
	}
	text := pos[0]
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(e.stdin, 64<<10))
		if err != nil {
			fmt.Fprintln(e.stderr, "munja send: read stdin:", err)
			return 1
		}
		text = strings.TrimRight(string(b), "\r\n")
	}
	a, code := e.open()
	if a == nil {
		return code
	}
	defer a.Close()
	m, err := a.Outbox.Submit(e.ctx, outbox.Request{
		To: to, Groups: groups, Text: text, Title: *title, Type: *typ, Test: *test, Sender: *sender,
		Source: "cli", Actor: "cli:" + currentUser(),
	})
	if err != nil {
		fmt.Fprintln(e.stderr, "munja send:", err)
		return 1
	}
	fmt.Fprintf(e.stderr, "message %d stored (%s, %s); sending…\n", m.ID, m.Kind, plural(len(m.Deliveries), "recipient"))
	m, err = waitForMessage(e.ctx, a, m.ID, *wait)
	if err != nil {
		fmt.Fprintln(e.stderr, "munja send:", err)
		return 1
	}
	return printOutcome(e, a, m)
}

// waitForMessage sends the message (as munja serve would) until no
// delivery is left unfinished or wait has passed. When a munja serve owns
// dispatching on this database, it only watches serve do it.
func waitForMessage(ctx context.Context, a *app.App, id int64, wait time.Duration) (*sms.Message, error) {
	deadline := time.Now().Add(wait)
	byServer, err := a.Deliver(ctx, store.ClaimFilter{MessageID: id}, wait)
	if err != nil {
		return nil, err
	}
	for {
		m, err := a.Store.GetMessage(ctx, id)
		if err != nil || !byServer || finished(m) || !time.Now().Before(deadline) {
			return m, err
		}
		select {
		case <-ctx.Done():
			return m, nil
		case <-time.After(100 * time.Millisecond): // serve is sending: look again shortly
		}
	}
}

// finished reports whether every delivery of m reached a final status.
func finished(m *sms.Message) bool {
	for _, d := range m.Deliveries {
		if !d.Status.Final() {
			return false
		}
	}
	return true
}

func printOutcome(e *env, a *app.App, m *sms.Message) int {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECIPIENT\tSTATUS\tPROVIDER\tPROVIDER ID\tATTEMPTS\tDETAIL")
	ok := true
	for _, d := range m.Deliveries {
		if d.Status != sms.StatusSent && d.Status != sms.StatusReserved && d.Status != sms.StatusDelivered {
			ok = false
		}
		detail := d.LastError
		if d.Status == sms.StatusQueued {
			detail = fmt.Sprintf("still queued (next try %s; munja serve will keep trying): %s",
				d.NextAttemptAt.In(a.Config.Location()).Format("2006-01-02 15:04:05"), d.LastError)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", d.Phone.Display(), d.Status, d.Provider, d.ProviderMsgID, d.Attempts, detail)
	}
	tw.Flush()
	if a.Config.DryRun() {
		fmt.Fprintln(e.stderr, "note: no gateway configured (dryrun): nothing was delivered")
	}
	if !ok {
		return 1
	}
	return 0
}
