package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/munja-sms/munja/cmd/internal/cli"
)

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
	a.Config.ForgetLines() // validated: the key paths' lines are not needed again
	if err := a.Run(e.ctx); err != nil {
		fmt.Fprintln(e.stderr, "munja:", err)
		return 1
	}
	return 0
}

func daemonGC() { cli.DaemonGC() }
