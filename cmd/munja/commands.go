package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/munja-sms/munja/app"
	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/web"
)

var version = "dev" // set with -ldflags "-X main.version=…"

func resolveDefaultConfig() string { return config.ResolvePath() }

// open loads and validates the config and builds the App (not started).
func (e *env) open() (*app.App, int) {
	cfg, err := app.LoadConfig(e.configPath)
	if err != nil {
		fmt.Fprintln(e.stderr, "munja: config:", err)
		return nil, 2
	}
	log := app.NewLogger(cfg, e.stderr)
	a, err := app.New(e.ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(e.stderr, "munja:", err)
		return nil, 1
	}
	return a, 0
}

func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("munja "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseInterleaved parses flags that may come after positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "-" || !strings.HasPrefix(args[0], "-") {
			pos = append(pos, args[0])
			args = args[1:]
			continue
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
	}
}

func cmdServe(e *env, args []string) int {
	fs := newFlags(e, "serve")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file until munja stops (for performance work)")
	memprofile := fs.String("memprofile", "", "write a heap profile to this file when munja stops (for performance work)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			fmt.Fprintln(e.stderr, "munja serve: --memprofile:", err)
			return 2
		}
		defer func() {
			if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
				fmt.Fprintln(e.stderr, "munja serve: --memprofile:", err)
			}
			f.Close()
		}()
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(e.stderr, "munja serve: --cpuprofile:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(e.stderr, "munja serve: --cpuprofile:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	daemonGC()
	a, code := e.open()
	if a == nil {
		return code
	}
	defer a.Close()
	if err := a.Run(e.ctx); err != nil {
		fmt.Fprintln(e.stderr, "munja:", err)
		return 1
	}
	return 0
}

// daemonGC sets the GC for long-running commands (serve, agent): an idle
// monitor has about 1 MB of live heap and the default GC target would let
// 4 MB stay resident; half the growth keeps ~2 MB less at no measurable
// CPU cost (docs/BENCHMARKS.md section 4). GOGC in the environment still
// decides.
func daemonGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func cmdSend(e *env, args []string) int {
	fs := newFlags(e, "send")
	var to, groups listFlag
	fs.Var(&to, "to", "recipient phone numbers, comma-separated (repeatable)")
	fs.Var(&groups, "group", "recipient group (repeatable)")
	title := fs.String("title", "", "LMS title (up to 44 bytes)")
	typ := fs.String("type", "auto", "auto | sms | lms")
	test := fs.Bool("test", false, "gateway test mode: accepted, not delivered")
	sender := fs.String("sender", "", "registered sender number (default sms.sender)")
	wait := fs.Duration("wait", time.Minute, "how long to wait for the gateway, retrying retryable failures")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "munja send: give the text as one argument, or - to read stdin")
		return 2
	}
	text := pos[0]
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(e.stdin, 64<<10))
		if err != nil {
			fmt.Fprintln(e.stderr, "munja send: read stdin:", err)
			return 1
		}
		text = strings.TrimRight(string(b), "\r\n")
	}
	a, code := e.open()
	if a == nil {
		return code
	}
	defer a.Close()
	m, err := a.Outbox.Submit(e.ctx, outbox.Request{
		To: to, Groups: groups, Text: text, Title: *title, Type: *typ, Test: *test, Sender: *sender,
		Source: "cli", Actor: "cli:" + currentUser(),
	})
	if err != nil {
		fmt.Fprintln(e.stderr, "munja send:", err)
		return 1
	}
	fmt.Fprintf(e.stderr, "message %d stored (%s, %d recipients); sending…\n", m.ID, m.Kind, len(m.Deliveries))
	m, err = waitForMessage(e.ctx, a, m.ID, *wait)
	if err != nil {
		fmt.Fprintln(e.stderr, "munja send:", err)
		return 1
	}
	return printOutcome(e, a, m)
}

// waitForMessage dispatches the message's due deliveries (as munja serve
// would) until none is left unfinished or wait has passed. When a munja
// serve owns dispatching on this database, it only watches serve do it.
func waitForMessage(ctx context.Context, a *app.App, id int64, wait time.Duration) (*sms.Message, error) {
	deadline := time.Now().Add(wait)
	unlock, dispatch, err := a.LockDispatch(ctx, false)
	if err != nil {
		return nil, err
	}
	if dispatch {
		defer unlock()
	}
	for {
		if dispatch {
			if _, err := a.Dispatcher.DispatchOnce(ctx, store.ClaimFilter{MessageID: id}); err != nil {
				return nil, err
			}
		}
		m, err := a.Store.GetMessage(ctx, id)
		if err != nil {
			return nil, err
		}
		next := time.Time{}
		for _, d := range m.Deliveries {
			if !d.Status.Final() && (next.IsZero() || d.NextAttemptAt.Before(next)) {
				next = d.NextAttemptAt
			}
		}
		if !dispatch && !next.IsZero() {
			next = time.Now().Add(100 * time.Millisecond) // serve is sending: look again shortly
		}
		if next.IsZero() || !next.Before(deadline) || ctx.Err() != nil {
			return m, nil
		}
		select {
		case <-ctx.Done():
			return m, nil
		case <-time.After(max(time.Until(next), 50*time.Millisecond)):
		}
	}
}

func printOutcome(e *env, a *app.App, m *sms.Message) int {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECIPIENT\tSTATUS\tPROVIDER\tPROVIDER ID\tATTEMPTS\tDETAIL")
	ok := true
	for _, d := range m.Deliveries {
		if d.Status != sms.StatusSent && d.Status != sms.StatusReserved && d.Status != sms.StatusDelivered {
			ok = false
		}
		detail := d.LastError
		if d.Status == sms.StatusQueued {
			detail = fmt.Sprintf("still queued (next try %s; munja serve will keep trying): %s",
				d.NextAttemptAt.In(a.Config.Location()).Format("2006-01-02 15:04:05"), d.LastError)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", d.Phone.Display(), d.Status, d.Provider, d.ProviderMsgID, d.Attempts, detail)
	}
	tw.Flush()
	if a.Config.DryRun() {
		fmt.Fprintln(e.stderr, "note: no gateway configured (dryrun): nothing was delivered")
	}
	if !ok {
		return 1
	}
	return 0
}

func cmdRemain(e *env, args []string) int {
	if err := newFlags(e, "remain").Parse(args); err != nil {
		return 2
	}
	a, code := e.open()
	if a == nil {
		return code
	}
	defer a.Close()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tSMS\tLMS\tMMS")
	code = 0
	for _, p := range a.Providers {
		b, ok := p.(provider.Balancer)
		if !ok {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t(balance not available for this provider)\n", p.Name())
			continue
		}
		ctx, cancel := context.WithTimeout(e.ctx, 15*time.Second)
		bal, err := b.Remain(ctx)
		cancel()
		if err != nil {
			tw.Flush()
			fmt.Fprintf(e.stderr, "munja remain: %s: %v\n", p.Name(), err)
			code = 1
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", p.Name(), bal.SMS, bal.LMS, bal.MMS)
	}
	tw.Flush()
	return code
}

func cmdHistory(e *env, args []string) int {
	fs := newFlags(e, "history")
	limit := fs.Int("limit", 20, "number of messages")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *limit < 1 || *limit > 10000 {
		fmt.Fprintln(e.stderr, "munja history: --limit must be 1..10000")
		return 2
	}
	a, code := e.open()
	if a == nil {
		return code
	}
	defer a.Close()
	ms, err := a.Store.ListMessages(e.ctx, store.MessageFilter{Limit: *limit})
	if err != nil {
		fmt.Fprintln(e.stderr, "munja history:", err)
		return 1
	}
	loc := a.Config.Location()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tTYPE\tSTATUS\tSOURCE\tTEXT")
	for _, m := range ms {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.CreatedAt.In(loc).Format("2006-01-02 15:04"),
			m.Kind, web.MessageStatus(m), m.Source, oneLine(m.Text, 40))
		for _, d := range m.Deliveries {
			detail := d.LastError
			if d.ProviderMsgID != "" {
				detail = strings.TrimSpace(d.Provider + " " + d.ProviderMsgID + " " + detail)
			}
			fmt.Fprintf(tw, "\t  %s\t\t%s\t\t%s\n", d.Phone.Display(), d.Status, oneLine(detail, 80))
		}
	}
	tw.Flush()
	return 0
}

func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ⏎ ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

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
	a, code := e.open()
	if a == nil {
		return code
	}
	defer a.Close()
	switch sub {
	case "create":
		if len(pos) != 1 || strings.TrimSpace(pos[0]) == "" {
			fmt.Fprintln(e.stderr, "munja token create: give one NAME")
			return 2
		}
		if !auth.ValidScope(*scope) {
			fmt.Fprintf(e.stderr, "munja token create: --scope %q: must be send, read or admin\n", *scope)
			return 2
		}
		plain, hash, err := auth.NewToken()
		if err != nil {
			fmt.Fprintln(e.stderr, "munja token create:", err)
			return 1
		}
		t := &store.Token{Name: pos[0], Scope: *scope, Hash: hash, CreatedAt: time.Now()}
		if err := a.Store.CreateToken(e.ctx, t); err != nil {
			if errors.Is(err, store.ErrConflict) {
				fmt.Fprintf(e.stderr, "munja token create: a token named %q exists (revoke it first)\n", pos[0])
				return 1
			}
			fmt.Fprintln(e.stderr, "munja token create:", err)
			return 1
		}
		_ = a.Store.AddAudit(e.ctx, store.AuditEntry{At: time.Now(), Actor: "cli:" + currentUser(), Action: "token.create", Target: pos[0], Detail: "scope " + *scope})
		fmt.Fprintf(e.stdout, "token %q (scope %s) created. It is shown once; store it now:\n%s\n", pos[0], *scope, plain)
		return 0
	case "list":
		ts, err := a.Store.ListTokens(e.ctx)
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
	case "revoke":
		if len(pos) != 1 {
			fmt.Fprintln(e.stderr, "munja token revoke: give one NAME")
			return 2
		}
		if err := a.Store.RevokeToken(e.ctx, pos[0], time.Now()); err != nil {
			fmt.Fprintf(e.stderr, "munja token revoke %s: %v\n", pos[0], err)
			return 1
		}
		_ = a.Store.AddAudit(e.ctx, store.AuditEntry{At: time.Now(), Actor: "cli:" + currentUser(), Action: "token.revoke", Target: pos[0]})
		fmt.Fprintf(e.stdout, "token %q revoked\n", pos[0])
	}
	return 0 // revoke done (create and list returned above; the check at the top allows nothing else)
}

func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

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

func cmdVersion(e *env, _ []string) int {
	commit := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	fmt.Fprintf(e.stdout, "munja %s\ncommit %s\n%s %s/%s\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return 0
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return fmt.Sprint(os.Getuid())
}
