package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/munja-sms/munja/provider"
)

func cmdRemain(e *env, args []string) int {
	if err := newFlags(e, "remain").Parse(args); err != nil {
		return 2
	}
	a, code := e.open()
	if a == nil {
		return code
	}
	defer a.Close()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tSMS\tLMS\tMMS")
	code = 0
	for _, p := range a.Providers {
		b, ok := p.(provider.Balancer)
		if !ok {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t(not offered by this gateway)\n", p.Name())
			continue
		}
		ctx, cancel := context.WithTimeout(e.ctx, 15*time.Second)
		bal, err := b.Remain(ctx)
		cancel()
		if err != nil {
			tw.Flush()
			fmt.Fprintf(e.stderr, "munja remain: %s: %v\n", p.Name(), err)
			code = 1
			continue
		}
		if bal.Alimtalk > 0 {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t(알림톡 %d)\n", p.Name(), bal.SMS, bal.LMS, bal.MMS, bal.Alimtalk)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", p.Name(), bal.SMS, bal.LMS, bal.MMS)
	}
	tw.Flush()
	return code
}
