package main

import (
	"fmt"

	"github.com/munja-sms/munja/app"
)

// cmdBackup writes a consistent copy of the SQLite database to FILE, also
// while munja serve runs. Restore: stop munja, put the copy in place of the
// database file (removing its -wal and -shm files), start munja.
func cmdBackup(e *env, args []string) int {
	fs := newFlags(e, "backup")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "usage: munja backup FILE")
		return 2
	}
	cfg, code := e.loadConfig(true) // only the database: a gateway's ${VAR} may be unset
	if cfg == nil {
		return code
	}
	dst := fs.Arg(0)
	if err := app.Backup(e.ctx, cfg, dst); err != nil {
		fmt.Fprintln(e.stderr, "munja backup:", err)
		return 1
	}
	fmt.Fprintf(e.stdout, "backup written to %s\n", dst)
	return 0
}
