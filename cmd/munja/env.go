package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/munja-sms/munja/app"
	"github.com/munja-sms/munja/config"
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

func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return fmt.Sprint(os.Getuid())
}
