// Package cli is what the munja command and the slim munja-agent command
// share: loading the config with every problem printed, and the agent. It
// imports only config, the checks and the agent's report client, so that
// munja-agent links no console, database or gateway.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/munja-sms/munja/agent"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/check/checks"
	"github.com/munja-sms/munja/config"
)

// Load is how a command loads its config.
type Load struct {
	Prog string // "munja" or "munja-agent": the prefix of every message
	Path string // "" = built-in defaults
	// StoreOnly ignores an unset ${VAR} in a gateway's options (and what
	// validating that option then says): for commands that call no gateway.
	StoreOnly bool
	// Validate checks cfg with every validator the command links
	// (munja: gateways and checks; munja-agent: checks).
	Validate func(*config.Config) error
	// Hint follows the count when there are several problems, e.g.
	// "munja config check lists them too".
	Hint string
}

// Config reads and validates the config, printing every problem to stderr
// as "PROG: config FILE: …"; nil and the exit code (2) when it is not valid.
func (l Load) Config(stderr io.Writer) (*config.Config, int) {
	name := l.Path
	if name == "" {
		name = "built-in defaults"
	}
	cfg, err := config.LoadPartial(l.Path)
	if cfg == nil {
		fmt.Fprintf(stderr, "%s: config %s: %v\n", l.Prog, name, err)
		return nil, 2
	}
	var verr error
	if l.Validate != nil {
		verr = l.Validate(cfg)
	}
	problems := cfg.Problems(err, verr)
	if l.StoreOnly {
		problems = slices.DeleteFunc(problems, func(f config.FieldError) bool {
			return f.Unset != "" && f.ProviderOption()
		})
	}
	switch len(problems) {
	case 0:
		return cfg, 0
	case 1:
		fmt.Fprintf(stderr, "%s: config %s: %v\n", l.Prog, name, problems[0])
	default:
		hint := ""
		if l.Hint != "" {
			hint = " (" + l.Hint + ")"
		}
		fmt.Fprintf(stderr, "%s: config %s: %s%s:\n", l.Prog, name, Plural(len(problems), "problem"), hint)
		for _, f := range problems {
			fmt.Fprintln(stderr, "  "+f.Error())
		}
	}
	return nil, 2
}

// ValidateAgent checks cfg as far as an agent uses it: everything but the
// gateways' own options (an agent sends no SMS; munja-agent links no
// gateway). munja agent checks those too.
func ValidateAgent(cfg *config.Config) error { return cfg.Validate(checks.Validate) }

// Plural is "1 problem", "2 problems".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// DaemonGC sets the GC for munja serve: daemonGCPercent unless GOGC is
// set in the environment.
func DaemonGC() { daemonGC(daemonGCPercent) }

// daemonGCPercent is the GC target of the long-running commands (serve,
// agent). A monitor's live heap is small (an agent with 20 checks: 0.8 MB;
// serve with 1,000 checks: about 12 MB) and the heap grows to live × (1 +
// GOGC/100) between collections, never below 4 MB × GOGC/100: the
// default, 100, let 4 MB stay resident for 1 MB of live heap. At 25, measured
// A/B against 50 (docs/BENCHMARKS.md section 9): an agent 0.5 MiB less RSS;
// serve 39.8 against 42.3 MiB at 1,000 checks, 29.2 against 29.7 at 200,
// at the same CPU (1.29 against 1.32 s a minute). A server taking 10,000
// agents' reports (1,000 a second, section 10) pays for it: 300 against
// 388 MiB, but 0.95 against 0.72 cores; GOGC=50 in its environment gives
// that back.
const daemonGCPercent = 25

func daemonGC(percent int) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
	}
}

// Agent runs this host's checks of cfg and pushes the results to the
// munja server at agent.server until ctx ends (munja agent, munja-agent).
// prog prefixes its messages on stderr. It returns the exit code: 2 for a
// config an agent cannot run, 1 when the agent failed.
func Agent(ctx context.Context, prog string, cfg *config.Config, stderr io.Writer) int {
	bad := func(key, msg string) int {
		fmt.Fprintf(stderr, "%s: %s: %s\n", prog, key, msg)
		return 2
	}
	if cfg.Agent.Server == "" {
		return bad("agent.server", "required: the munja server's URL, e.g. https://munja.example:8080")
	}
	if cfg.Agent.Token.Reveal() == "" {
		return bad("agent.token", "required: a token with scope send (munja token create NAME --scope send, on the server)")
	}
	for i, c := range cfg.Checks {
		if c.Type == "heartbeat" {
			return bad(fmt.Sprintf("checks[%d]", i), "heartbeat checks belong on the server (pings go to its API)")
		}
	}
	cfg.ForgetLines() // validated: the key paths' lines are not needed again
	daemonGC(daemonGCPercent)
	// One P: an agent's work is small and comes in bursts (20 checks at
	// 1 s: 0.2 CPU s a minute); a second P only added an idle spinning
	// thread and per-P caches: 0.1-0.16 MiB less RSS and ~15 % less CPU
	// with one (docs/BENCHMARKS.md section 9). GOMAXPROCS in the environment
	// still decides.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	log := cfg.Logger(stderr)
	host := cfg.HostName()
	scheduled, err := checks.Build(cfg.Checks, check.Defaults{Interval: cfg.Alerting.Interval.D()},
		check.Deps{Host: host, Log: log.With("part", "check"), Now: time.Now})
	if err != nil {
		fmt.Fprintln(stderr, prog+": checks:", err)
		return 2
	}
	log.Info(prog+" running", "server", cfg.Agent.Server, "host", host, "checks", len(scheduled))
	if err := agent.Run(ctx, agent.Options{
		Server: cfg.Agent.Server, Token: cfg.Agent.Token.Reveal(), Host: host, Checks: scheduled,
		DependsOn: agent.DependsOf(cfg.Checks),
		Interval:  cfg.Alerting.Interval.D(), Log: log.With("part", "agent"),
	}); err != nil {
		fmt.Fprintln(stderr, prog+":", err)
		return 1
	}
	return 0
}

// Version prints "PROG VERSION", the commit and the Go version.
func Version(w io.Writer, prog, version string) {
	commit := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	fmt.Fprintf(w, "%s %s\ncommit %s\n%s %s/%s\n", prog, version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
