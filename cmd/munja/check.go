package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/store"
)

// cmdCheck runs the configured checks once (cron mode). With --notify the
// results go through the alert engine, whose state is in the store, so a
// cron job every minute pages once per incident, not once per run.
func cmdCheck(e *env, args []string) int {
	fs := newFlags(e, "check")
	fs.Bool("once", true, "run the checks once (the only mode; munja serve runs them continuously)")
	notify := fs.Bool("notify", false, "alert through the alert engine and send what is due")
	wait := fs.Duration("wait", 30*time.Second, "with --notify: how long to wait for the gateway")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	a, code := e.open()
	if a == nil {
		return code
	}
	defer a.Close()
	mon, err := a.NewMonitor(e.ctx)
	if err != nil {
		fmt.Fprintln(e.stderr, "munja check:", err)
		return 1
	}
	if len(mon.Checks) == 0 {
		fmt.Fprintln(e.stderr, "munja check: no checks configured (checks: in the config)")
		return 2
	}
	results := check.RunOnce(e.ctx, mon.Checks)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATE\tTOOK\tDETAIL")
	failed, blind := 0, 0
	for _, r := range results {
		state, detail := "ok", r.Detail
		switch {
		case r.Unknown:
			// Cannot check: the reason, as the alert says it, then why.
			state = "UNKNOWN"
			blind++
			detail = cannotCheckReason(r) + ": " + strings.TrimPrefix(detail, "cannot check: ")
		case !r.OK:
			state = "FAIL"
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Check, state, r.Duration.Round(time.Millisecond), oneLine(detail, 200))
	}
	tw.Flush()
	if *notify {
		for _, r := range results {
			mon.Engine.Observe(r)
		}
		if err := mon.Engine.Flush(e.ctx); err != nil {
			fmt.Fprintln(e.stderr, "munja check: alert:", err)
			return 1
		}
		byServer, err := a.Deliver(e.ctx, store.ClaimFilter{}, *wait)
		if err != nil {
			fmt.Fprintln(e.stderr, "munja check: dispatch:", err)
			return 1
		}
		if byServer {
			fmt.Fprintln(e.stderr, "munja serve is running on this database: it sends the alerts")
		}
		for _, inc := range mon.Engine.Incidents(true) {
			fmt.Fprintf(e.stderr, "open incident %s: %s (since %s)\n", inc.ID, strings.TrimSpace(inc.Text),
				inc.Started.In(a.Config.Location()).Format("2006-01-02 15:04"))
		}
	}
	switch {
	case failed > 0:
		return 1
	case blind > 0:
		return exitCannotCheck
	}
	return 0
}

// exitCannotCheck is munja check's exit status when no check failed but
// one or more could not check (Nagios's UNKNOWN): a cron job or a wrapper
// tells "all fine" (0), "something fails" (1) and "cannot see" (3) apart.
const exitCannotCheck = 3

// cannotCheckReason is the reason in a cannot-check alert text, "[경고]
// oom 점검 불가: 시스템 저널을 읽을 수 없습니다." → "시스템 저널을 읽을 수 없습니다".
func cannotCheckReason(r check.Result) string {
	_, reason, ok := strings.Cut(r.Firing, "점검 불가: ")
	if !ok {
		return "점검 불가"
	}
	return strings.TrimSuffix(reason, ".")
}
