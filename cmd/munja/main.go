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

// command is one subcommand. Only commands that work are listed. more is
// what `munja COMMAND --help` adds to the usage line and help: what the
// arguments mean, the flags and examples.
type command struct {
	name, args, help, more string
	run                    func(e *env, args []string) int
}

func commands() []command {
	return []command{
		{"serve", "[--cpuprofile FILE] [--memprofile FILE]", "run the relay: HTTP API, dispatcher (and checks)", `Runs until SIGINT or SIGTERM; SIGHUP reloads the TLS certificate.

flags:
  --cpuprofile FILE   write a CPU profile to FILE until munja stops
  --memprofile FILE   write a heap profile to FILE when munja stops

examples:
  munja serve
  munja --config /etc/munja/munja.yaml serve`, cmdServe},
		{"send", "--to N[,N…] [--group G] [--title T] [--type auto|sms|lms] [--test] TEXT|-", "send an SMS now and wait for the gateway's answer", `TEXT is the message, one argument (quote it); - reads the message from
stdin instead (up to 64 KiB; trailing newlines are dropped). Up to 90 bytes
go as one SMS, longer text as an LMS (--type auto).

flags:
  --to N[,N…]      recipient phone numbers, comma-separated (repeatable)
  --group G        a contact group's members (repeatable)
  --title T        LMS title (up to 44 bytes)
  --type T         auto | sms | lms (default auto)
  --test           gateway test mode: accepted, not delivered
  --sender N       registered sender number (default sms.sender)
  --wait D         how long to wait for the gateway, retrying (default 1m0s)

exit 0 when every recipient was accepted, 1 otherwise, 2 on a usage error.

examples:
  munja send --to 010-1234-5678 "[경고] web1 디스크 95%"
  munja send --to 01012345678,01098765432 --title "점검 안내" "오늘 22시 점검"
  df -h | munja send --group ops -`, cmdSend},
		{"agent", "", "run this host's checks and report them to the munja server at agent.server", `Runs until SIGINT or SIGTERM. Needs agent.server and agent.token in the config.

examples:
  munja --config /etc/munja/agent.yaml agent`, cmdAgent},
		{"check", "[--once] [--notify]", "run the configured checks once, print a table, exit 1 if any fails, 3 if any cannot check; --notify alerts (cron mode)", `flags:
  --once       run the checks once (the only mode; munja serve runs them continuously)
  --notify     alert through the alert engine and send what is due
  --wait D     with --notify: how long to wait for the gateway (default 30s)

examples:
  munja check
  */5 * * * * munja check --notify    (crontab)`, cmdCheck},
		{"logscan", "[--regex] [--count] --pattern P FILE…", "run the log matcher over whole files: matching lines or their count", `FILE is a log file to read whole; give one or more.

flags:
  --pattern P       literal text to look for (a regular expression with --regex)
  --regex           the pattern is a regular expression (RE2)
  --count           print the number of matching lines instead of the lines
  --ignore-case     match case-insensitively
  --encoding E      log encoding: utf-8 or cp949 (default utf-8)

examples:
  munja logscan --pattern "Out of memory" /var/log/messages
  munja logscan --regex --count --pattern "5[0-9][0-9] " /var/log/nginx/access.log`, cmdLogscan},
		{"remain", "", "what the balance still buys (SMS, LMS, MMS) per provider", `examples:
  munja remain`, cmdRemain},
		{"history", "[--limit N] [--recipients] [ID]", "recent messages, one line each with recipient counts by status; ID or --recipients: per recipient", `ID is a message id (the first column): that message with every recipient.

flags:
  --limit N       number of messages, 1..10000 (default 20)
  --recipients    list each message's recipients under it

examples:
  munja history
  munja history --limit 100 --recipients
  munja history 42`, cmdHistory},
		{"user", "add NAME [--role admin|operator|viewer] | passwd NAME | list", "console users (password read from stdin)", `NAME is the console login name (no spaces, '/', '\' or ':'). The password is
typed twice without echo on a terminal, or read as one line from a pipe.
Needs only the database: the gateways' settings are not used.

flags:
  --role R    admin | operator | viewer (default operator; add only)

examples:
  munja user add kim --role admin
  echo "$PW" | munja user passwd kim
  munja user list`, cmdUser},
		{"token", "create NAME [--scope send|read|admin] | list | revoke NAME", "API tokens", `NAME names the token (1 to 64 characters). create prints the token once,
on the last line; only its hash is kept. Needs only the database: the
gateways' settings are not used.

flags:
  --scope S    send | read | admin (default send; create only)

examples:
  munja token create deploy --scope send
  munja token list
  munja token revoke deploy`, cmdToken},
		{"config", "check", "validate the config and print every problem; warn about sources unreadable here", `Reports every problem in one run: YAML keys and values, then each
gateway's and check's settings, each with its key and line. Exit 0 when
valid, 1 when not.

examples:
  munja --config /etc/munja/munja.yaml config check`, cmdConfig},
		{"backup", "FILE", "a consistent copy of the SQLite database, also while munja serve runs (PostgreSQL: use pg_dump)", `FILE is where the copy is written; it must not exist yet. Needs only the
database: the gateways' settings are not used.

examples:
  munja backup /var/backups/munja-$(date +%F).db`, cmdBackup},
		{"completion", "bash|zsh", "print a shell completion script", `examples:
  munja completion bash > /etc/bash_completion.d/munja
  munja completion zsh > "${fpath[1]}/_munja"`, cmdCompletion},
		{"version", "", "version, commit, Go version (also munja --version)", `examples:
  munja version
  munja --version`, cmdVersion},
		{"help", "[COMMAND]", "this list, or one command's usage and examples", `examples:
  munja help
  munja help send    (the same as munja send --help)`, cmdHelp},
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
	switch args[0] {
	case "-h", "--help", "-help":
		return cmdHelp(e, nil)
	case "--version", "-version", "-V":
		return cmdVersion(e, nil)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if wantsHelp(args[1:]) {
				return cmdHelp(e, []string{c.name})
			}
			return c.run(e, args[1:])
		}
	}
	if near := closest(args[0]); near != "" {
		fmt.Fprintf(stderr, "munja: unknown command %q: did you mean %s? (see munja help)\n", args[0], near)
	} else {
		fmt.Fprintf(stderr, "munja: unknown command %q (see munja help)\n", args[0])
	}
	return 2
}

// wantsHelp reports whether -h or --help comes before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "--help", "-help":
			return true
		}
	}
	return false
}

// closest returns the command nearest to name (at most 2 edits, or name
// a prefix of it), "" when none is near enough.
func closest(name string) string {
	best, bestD := "", 3
	for _, c := range commands() {
		if len(name) >= 2 && strings.HasPrefix(c.name, name) {
			return c.name
		}
		if d := editDistance(name, c.name); d < bestD {
			best, bestD = c.name, d
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein (optimal string alignment)
// distance: "sned" is one transposition from "send".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
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

func cmdHelp(e *env, args []string) int {
	if len(args) > 0 {
		for _, c := range commands() {
			if c.name == args[0] {
				fmt.Fprintf(e.stdout, "usage: munja [--config FILE] %s\n\n%s.\n", strings.TrimSpace(c.name+" "+c.args), c.help)
				if c.more != "" {
					fmt.Fprintf(e.stdout, "\n%s\n", c.more)
				}
				return 0
			}
		}
		fmt.Fprintf(e.stderr, "munja help: unknown command %q\n", args[0])
		return 2
	}
	fmt.Fprintln(e.stdout, "munja — SMS alerts and relay (문자)")
	fmt.Fprintln(e.stdout, "\nusage: munja [--config FILE] COMMAND [flags]")
	fmt.Fprintln(e.stdout, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(e.stdout, "  %-8s %s\n  %-8s   %s\n", c.name, c.args, "", c.help)
	}
	fmt.Fprintln(e.stdout, "\nmunja COMMAND --help: its usage, flags and examples")
	fmt.Fprintln(e.stdout, "config: --config FILE, else $MUNJA_CONFIG, else ./munja.yaml if present, else built-in defaults")
	return 0
}
