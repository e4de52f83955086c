package main

import (
	"fmt"
	"time"

	"github.com/munja-sms/munja/agent"
	"github.com/munja-sms/munja/app"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/check/checks"
)

// cmdAgent runs this host's checks and pushes the results to the munja
// server at agent.server, which alerts (and notices when this host goes
// silent). The agent keeps no database and sends no SMS itself.
func cmdAgent(e *env, args []string) int {
	fs := newFlags(e, "agent")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, code := e.loadConfig(true) // it calls no gateway: one's ${VAR} may be unset
	if cfg == nil {
		return code
	}
	bad := func(key, msg string) int {
		fmt.Fprintf(e.stderr, "munja agent: %s: %s\n", key, msg)
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
	daemonGC()
	log := app.NewLogger(cfg, e.stderr)
	host := cfg.HostName()
	scheduled, err := checks.Build(cfg.Checks, check.Defaults{Interval: cfg.Alerting.Interval.D()},
		check.Deps{Host: host, Log: log.With("part", "check"), Now: time.Now})
	if err != nil {
		fmt.Fprintln(e.stderr, "munja agent: checks:", err)
		return 2
	}
	log.Info("munja agent running", "server", cfg.Agent.Server, "host", host, "checks", len(scheduled))
	if err := agent.Run(e.ctx, agent.Options{
		Server: cfg.Agent.Server, Token: cfg.Agent.Token.Reveal(), Host: host, Checks: scheduled,
		DependsOn: agent.DependsOf(cfg.Checks),
		Interval:  cfg.Alerting.Interval.D(), Log: log.With("part", "agent"),
	}); err != nil {
		fmt.Fprintln(e.stderr, "munja agent:", err)
		return 1
	}
	return 0
}
