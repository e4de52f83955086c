package main

import (
	"context"
	"errors"
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
	cfg, err := app.LoadConfig(e.configPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: invalid\n", src)
		var fe config.Errors
		if errors.As(err, &fe) {
			for _, f := range fe {
				fmt.Fprintln(e.stdout, f.Error())
			}
		} else {
			fmt.Fprintln(e.stdout, err)
		}
		return 1
	}
	fmt.Fprintf(e.stdout, "%s: ok (%d providers, %d checks", src, len(cfg.EffectiveProviders()), len(cfg.Checks))
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
