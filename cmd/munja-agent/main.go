// Command munja-agent is `munja agent` alone: it runs this host's checks
// and pushes their results to the munja server at agent.server. It is
// built from the same code (cmd/internal/cli) and reads the same config, but
// links only the checks and the report client — no console, database or
// SMS gateway: 11 MB against munja's 36 MB, built without inlining and with
// -tags slimagent (Makefile; docs/BENCHMARKS.md section 9).
// The differences: it does not validate sms.providers (it sends no SMS;
// munja agent does), and (-tags slimagent) its checks' message templates run
// on internal/template, which calls the methods of the time fields only —
// the only methods a check's data has, so the same texts.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/munja-sms/munja/cmd/internal/cli"
	"github.com/munja-sms/munja/config"
)

var version = "dev" // set with -ldflags "-X main.version=…"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: munja-agent [--config FILE]

Runs this host's checks and reports them to the munja server at
agent.server until SIGINT or SIGTERM (the same as munja agent, in a smaller
binary). Needs agent.server and agent.token in the config.

flags:
  --config FILE   the config (default $MUNJA_CONFIG, else ./munja.yaml if
                  present, else built-in defaults)
  --version       print the version and exit

examples:
  munja-agent --config /etc/munja/munja.yaml
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("munja-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	path := fs.String("config", config.ResolvePath(), "")
	showVersion := fs.Bool("version", false, "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprint(stdout, usage)
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "munja-agent: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *showVersion {
		cli.Version(stdout, "munja-agent", version)
		return 0
	}
	cfg, code := cli.Load{Prog: "munja-agent", Path: *path, StoreOnly: true, Validate: cli.ValidateAgent}.Config(stderr)
	if cfg == nil {
		return code
	}
	return cli.Agent(ctx, "munja-agent", cfg, stderr)
}
