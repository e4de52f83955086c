// Command loggen writes a syslog-like test log of a given size, for
// benchmarking `munja logscan` against grep:
//
//	go run ./bench/loggen -size 1G -o /tmp/munja-bench.log
//	time grep -F -c 'Out of memory' /tmp/munja-bench.log
//	time munja logscan --count --pattern 'Out of memory' /tmp/munja-bench.log
//
// It prints how many lines of each kind it wrote, so counts can be checked.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/munja-sms/munja/bench/internal/bytesize"
	"github.com/munja-sms/munja/bench/loggen/gen"
)

func main() {
	size := flag.String("size", "100M", "bytes to write (suffix K, M or G)")
	out := flag.String("o", "", "output file (required)")
	seed := flag.Int64("seed", 1, "random seed")
	every := flag.Int("match-every", 100_000, "one 'Out of memory' line per this many lines on average")
	kor := flag.Int("korean", 5, "percent of lines with Korean text")
	enc := flag.String("encoding", "utf-8", "encoding of Korean text: utf-8 or cp949")
	ids := flag.Bool("ids", false, "add rare lines for literal-free patterns: hex ids, 'error N', phone numbers, oom-kill")
	flag.Parse()
	if err := run(*size, *out, gen.Options{Seed: *seed, MatchEvery: *every, KoreanPercent: *kor, Encoding: *enc, IDs: *ids}); err != nil {
		fmt.Fprintln(os.Stderr, "loggen:", err)
		os.Exit(1)
	}
}

func run(sizeArg, out string, o gen.Options) error {
	if out == "" {
		return fmt.Errorf("-o FILE is required")
	}
	size, err := bytesize.Parse(sizeArg)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	st, err := gen.Write(f, size, o)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Printf("bytes=%d lines=%d oom=%d swap=%d near_miss=%d korean=%d long=%d",
		st.Bytes, st.Lines, st.OOM, st.Swap, st.NearMiss, st.Korean, st.LongLines)
	if o.IDs {
		fmt.Printf(" hex=%d error=%d phone=%d oom_kill=%d", st.Hex, st.Errors, st.Phones, st.OOMKill)
	}
	fmt.Println()
	return nil
}
