package main

import (
	"errors"
	"fmt"

	"github.com/munja-sms/munja/app"
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
	return 0
}
