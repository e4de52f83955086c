package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/munja-sms/munja/app"
	"github.com/munja-sms/munja/cmd/internal/cli"
	"github.com/munja-sms/munja/cmd/internal/logscan"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
)

var version = "dev" // set with -ldflags "-X main.version=…"

func resolveDefaultConfig() string { return config.ResolvePath() }

// open loads and validates the config and builds the App (not started).
func (e *env) open() (*app.App, int) {
	cfg, code := e.loadConfig(false)
	if cfg == nil {
		return nil, code
	}
	log := app.NewLogger(cfg, e.stderr)
	a, err := app.New(e.ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(e.stderr, "munja:", err)
		return nil, 1
	}
	return a, 0
}

// storeApp is what the commands that use only the database get: the
// config and the store, no gateway built.
type storeApp struct {
	Config *config.Config
	Store  store.Store
}

func (s *storeApp) Close() error { return s.Store.Close() }

// openStore loads the config and opens only the database, for the commands
// that never call a gateway (user, token): a ${VAR} left unset in a
// gateway's options is no problem for them.
func (e *env) openStore() (*storeApp, int) {
	cfg, code := e.loadConfig(true)
	if cfg == nil {
		return nil, code
	}
	st, err := app.OpenStore(e.ctx, cfg, app.NewLogger(cfg, e.stderr))
	if err != nil {
		fmt.Fprintln(e.stderr, "munja:", err)
		return nil, 1
	}
	return &storeApp{Config: cfg, Store: st}, 0
}

// loadConfig reads and validates the config, printing every problem as
// "munja: config FILE: …". storeOnly ignores an unset ${VAR} in a
// gateway's options (and what validating that option then says).
func (e *env) loadConfig(storeOnly bool) (*config.Config, int) {
	return cli.Load{Prog: "munja", Path: e.configPath, StoreOnly: storeOnly, Validate: app.Validate,
		Hint: "munja config check lists them too"}.Config(e.stderr)
}

func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("munja "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseInterleaved parses flags that may come after positional arguments
// (it lives with munja logscan, which must not import this package).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	return logscan.ParseInterleaved(fs, args)
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

// plural counts English nouns: "1 recipient", "2 recipients".
func plural(n int, noun string) string { return cli.Plural(n, noun) }
