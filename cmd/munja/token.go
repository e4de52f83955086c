package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/munja-sms/munja/auth"
)

func cmdToken(e *env, args []string) int {
	const usage = "munja token: create NAME [--scope send|read|admin] | list | revoke NAME"
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, usage)
		return 2
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "create", "list", "revoke":
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, usage)
		return 0
	default: // before opening (and maybe creating) the database
		fmt.Fprintf(e.stderr, "munja token: unknown subcommand %q\n%s\n", sub, usage)
		return 2
	}
	fs := newFlags(e, "token "+sub)
	scope := fs.String("scope", auth.ScopeSend, "send | read | admin")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	switch sub {
	case "create":
		if len(pos) != 1 || !auth.ValidTokenName(pos[0]) {
			fmt.Fprintln(e.stderr, "munja token create: give one NAME (1 to 64 characters, no space at either end)")
			return 2
		}
		if !auth.ValidScope(*scope) {
			fmt.Fprintf(e.stderr, "munja token create: --scope %q: must be send, read or admin\n", *scope)
			return 2
		}
	case "revoke":
		if len(pos) != 1 || pos[0] == "" {
			fmt.Fprintln(e.stderr, "munja token revoke: give one NAME")
			return 2
		}
	}
	a, code := e.openStore()
	if a == nil {
		return code
	}
	defer a.Close()
	tokens, actor := auth.NewService(a.Store, time.Now), "cli:"+currentUser()
	switch sub {
	case "create":
		plain, err := tokens.CreateToken(e.ctx, actor, pos[0], *scope)
		if errors.Is(err, auth.ErrExists) {
			fmt.Fprintf(e.stderr, "munja token create: a token named %q exists (revoke it first)\n", pos[0])
			return 1
		}
		if err != nil {
			fmt.Fprintln(e.stderr, "munja token create:", err)
			return 1
		}
		fmt.Fprintf(e.stdout, "token %q (scope %s) created. It is shown once; store it now:\n%s\n", pos[0], *scope, plain)
		return 0
	case "list":
		ts, err := tokens.ListTokens(e.ctx)
		if err != nil {
			fmt.Fprintln(e.stderr, "munja token list:", err)
			return 1
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSCOPE\tCREATED\tLAST USED\tREVOKED")
		loc := a.Config.Location()
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Scope, fmtTime(t.CreatedAt, loc), fmtTime(t.LastUsed, loc), fmtTime(t.RevokedAt, loc))
		}
		tw.Flush()
		return 0
	default: // revoke (the check at the top allows nothing else)
		if err := tokens.RevokeToken(e.ctx, actor, pos[0]); err != nil {
			fmt.Fprintf(e.stderr, "munja token revoke %s: %v\n", pos[0], err)
			return 1
		}
		fmt.Fprintf(e.stdout, "token %q revoked\n", pos[0])
		return 0
	}
}
