package main

import "github.com/munja-sms/munja/cmd/internal/cli"

// cmdAgent runs this host's checks and pushes the results to the munja
// server at agent.server, which alerts (and notices when this host goes
// silent). The agent keeps no database and sends no SMS itself. The slim
// munja-agent binary (cmd/munja-agent) runs the same code.
func cmdAgent(e *env, args []string) int {
	fs := newFlags(e, "agent")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, code := e.loadConfig(true) // it calls no gateway: one's ${VAR} may be unset
	if cfg == nil {
		return code
	}
	return cli.Agent(e.ctx, "munja agent", cfg, e.stderr)
}
