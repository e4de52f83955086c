package main

import (
	"context"
	"fmt"
	"time"

	"github.com/munja-sms/munja/app"
	"github.com/munja-sms/munja/check/checks"
	"github.com/munja-sms/munja/config"
)

func cmdConfig(e *env, args []string) int {
	if len(args) != 1 || args[0] != "check" {
		fmt.Fprintln(e.stderr, "munja config: usage: munja config check")
		return 2
	}
	src := e.configPath
	if src == "" {
		src = "built-in defaults"
	}
	// Every problem in one run: those of reading the file (unknown keys,
	// bad values, unset variables) with those of validating what was read.
	cfg, err := config.LoadPartial(e.configPath)
	if cfg == nil {
		fmt.Fprintf(e.stderr, "%s: invalid\n", src)
		fmt.Fprintln(e.stdout, err)
		return 1
	}
	if problems := cfg.Problems(err, app.Validate(cfg)); len(problems) > 0 {
		fmt.Fprintf(e.stderr, "%s: invalid (%s)\n", src, plural(len(problems), "problem"))
		for _, f := range problems {
			fmt.Fprintln(e.stdout, f.Error())
		}
		return 1
	}
	fmt.Fprintf(e.stdout, "%s: ok (%s, %s", src, plural(len(cfg.EffectiveProviders()), "provider"), plural(len(cfg.Checks), "check"))
	if cfg.DryRun() {
		fmt.Fprint(e.stdout, "; no gateway configured: dryrun, nothing will be delivered")
	}
	fmt.Fprintln(e.stdout, ")")
	// Valid, but a source a check reads may be unreadable here: it would
	// run, and never see anything. Said, not refused: the config may be
	// checked on another host than the one that runs it.
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	for _, w := range checks.Unreadable(ctx, cfg.Checks) {
		fmt.Fprintln(e.stdout, "warning:", w)
	}
	return 0
}
