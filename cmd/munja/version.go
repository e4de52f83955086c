package main

import "github.com/munja-sms/munja/cmd/internal/cli"

func cmdVersion(e *env, _ []string) int {
	cli.Version(e.stdout, "munja", version)
	return 0
}
