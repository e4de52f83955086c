// Command munja pages a team by SMS when a server goes wrong and relays SMS
// for scripts and operators. See README.md and DESIGN.md §3.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one subcommand. Only commands that work are listed.
type command struct {
	name, args, help string
	run              func(e *env, args []string) int
}

func commands() []command {
	return []command{
		{"serve", "", "run the relay: HTTP API, dispatcher (and checks)", cmdServe},
		{"send", "--to N[,N…] [--group G] [--title T] [--type auto|sms|lms] [--test] TEXT|-", "send an SMS now and wait for the gateway's answer", cmdSend},
		{"agent", "", "run this host's checks and report them to the munja server at agent.server", cmdAgent},
		{"check", "[--once] [--notify]", "run the configured checks once, print a table, exit 1 if any fails, 3 if any cannot check; --notify alerts (cron mode)", cmdCheck},
		{"logscan", "[--regex] [--count] --pattern P FILE…", "run the log matcher over whole files: matching lines or their count", cmdLogscan},
		{"remain", "", "what the balance still buys (SMS, LMS, MMS) per provider", cmdRemain},
		{"history", "[--limit N]", "recent messages with per-recipient status", cmdHistory},
		{"user", "add NAME [--role admin|operator|viewer] | passwd NAME | list", "console users (password read from stdin)", cmdUser},
		{"token", "create NAME [--scope send|read|admin] | list | revoke NAME", "API tokens", cmdToken},
		{"config", "check", "validate the config and print every problem; warn about sources unreadable here", cmdConfig},
		{"backup", "FILE", "a consistent copy of the SQLite database, also while munja serve runs (PostgreSQL: use pg_dump)", cmdBackup},
		{"completion", "bash|zsh", "print a shell completion script", cmdCompletion},
		{"version", "", "version, commit, Go version", cmdVersion},
		{"help", "", "this list", cmdHelp},
	}
}

// env is what every command gets: streams and the --config path.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	configPath     string
	ctx            context.Context
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, ctx: ctx}
	args, cfgPath, err := extractConfigFlag(args)
	if err != nil {
		fmt.Fprintln(stderr, "munja:", err)
		return 2
	}
	e.configPath = cfgPath
	if len(args) == 0 {
		cmdHelp(e, nil)
		return 2
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	if args[0] == "-h" || args[0] == "--help" {
		return cmdHelp(e, nil)
	}
	fmt.Fprintf(stderr, "munja: unknown command %q (see munja help)\n", args[0])
	return 2
}

// extractConfigFlag removes --config FILE / --config=FILE from anywhere in
// args; default $MUNJA_CONFIG, then ./munja.yaml if present, else built-ins.
func extractConfigFlag(args []string) ([]string, string, error) {
	var rest []string
	path := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--config" || a == "-config":
			if i+1 >= len(args) {
				return nil, "", fmt.Errorf("--config needs a file")
			}
			path = args[i+1]
			i++
		case strings.HasPrefix(a, "--config=") || strings.HasPrefix(a, "-config="):
			path = a[strings.IndexByte(a, '=')+1:]
		case a == "--":
			rest = append(rest, args[i:]...)
			i = len(args)
		default:
			rest = append(rest, a)
		}
	}
	if path == "" {
		path = resolveDefaultConfig()
	}
	return rest, path, nil
}

func cmdHelp(e *env, _ []string) int {
	fmt.Fprintln(e.stdout, "munja — SMS alerts and relay (문자)")
	fmt.Fprintln(e.stdout, "\nusage: munja [--config FILE] COMMAND [flags]")
	fmt.Fprintln(e.stdout, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(e.stdout, "  %-8s %s\n  %-8s   %s\n", c.name, c.args, "", c.help)
	}
	fmt.Fprintln(e.stdout, "\nconfig: --config FILE, else $MUNJA_CONFIG, else ./munja.yaml if present, else built-in defaults")
	return 0
}
