package main

import "github.com/munja-sms/munja/cmd/internal/logscan"

// cmdLogscan is munja logscan when main runs it (a plain `munja logscan …`
// has already run from the package's init: see cmd/internal/logscan).
func cmdLogscan(e *env, args []string) int { return logscan.Run(args, e.stdout, e.stderr) }
