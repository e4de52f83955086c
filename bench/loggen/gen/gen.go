// Package gen writes realistic syslog-like text for benchmarks and tests of
// the log matcher: mostly ASCII daemon chatter, some Korean application
// lines, rare "Out of memory" / "Out of swap" kernel lines and a few near
// misses ("Out of range", lower-case "out of memory") that a prefilter must
// reject. Output is deterministic for a given seed.
package gen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"

	"golang.org/x/text/encoding/korean"
)

// Options shape the generated log. Zero values take the defaults.
type Options struct {
	Seed int64
	// MatchEvery: on average one "Out of memory" line per MatchEvery lines
	// (default 100,000, i.e. 0.001%). "Out of swap" lines are 4× rarer.
	MatchEvery int
	// KoreanPercent of the lines carry Korean text (default 5).
	KoreanPercent int
	// Encoding of the Korean text: "utf-8" (default) or "cp949".
	Encoding string
	Host     string // default "web01"
	// IDs adds rare lines for literal-free patterns (off by default, so
	// that the other benchmarks' files stay the same): a 32-hex-digit
	// request id (1 in 50,000 lines), "error N" (1 in 20,000), a phone
	// number NNN-NNNN (1 in 50,000) and an oom-kill line (1 in 200,000).
	IDs bool
}

// Stats counts what was written.
type Stats struct {
	Bytes     int64
	Lines     int64
	OOM       int64 // lines containing "Out of memory"
	Swap      int64 // lines containing "Out of swap"
	NearMiss  int64 // "Out of range" and lower-case "out of memory" lines
	Korean    int64
	LongLines int64
	Hex       int64 // with IDs: lines with a 32-hex-digit id
	Errors    int64 // with IDs: "error N" lines
	Phones    int64 // with IDs: lines with NNN-NNNN
	OOMKill   int64 // with IDs: "oom-kill" lines
}

var daemons = []string{"kernel", "systemd[1]", "sshd", "CRON", "httpd", "postfix/smtpd", "dockerd", "app"}

var korean1 = []string{
	"주문 처리 완료", "사용자 로그인 성공", "결제 승인 요청", "배치 작업 시작",
	"재고 동기화 완료", "세션 만료", "메일 발송 대기열 처리", "설비 데이터 수집 완료",
}

var korean2 = []string{"김철수", "이영희", "박민수", "최지은", "생산1팀", "품질관리팀"}

var words = []string{
	"connection", "established", "timeout", "request", "worker", "cache", "refresh",
	"queue", "latency", "upstream", "session", "client", "retry", "handshake",
}

// Write writes at least size bytes (it finishes the last line) of log to w.
func Write(w io.Writer, size int64, o Options) (Stats, error) {
	if o.MatchEvery <= 0 {
		o.MatchEvery = 100_000
	}
	if o.KoreanPercent == 0 {
		o.KoreanPercent = 5
	}
	if o.Host == "" {
		o.Host = "web01"
	}
	k1, k2 := korean1, korean2
	switch o.Encoding {
	case "", "utf-8", "utf8":
	case "cp949", "euc-kr":
		var err error
		if k1, err = encodeAll(korean1); err != nil {
			return Stats{}, err
		}
		if k2, err = encodeAll(korean2); err != nil {
			return Stats{}, err
		}
	default:
		return Stats{}, fmt.Errorf("unknown encoding %q", o.Encoding)
	}

	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x6d756e6a61))
	bw := bufio.NewWriterSize(w, 1<<20)
	var st Stats
	line := make([]byte, 0, 512)
	sec := 0
	for st.Bytes < size {
		sec += rng.IntN(2)
		line = appendStamp(line[:0], sec)
		line = append(line, ' ')
		line = append(line, o.Host...)
		line = append(line, ' ')
		pid := 1000 + rng.IntN(30000)
		switch r := rng.IntN(o.MatchEvery * 4); {
		case r < 4:
			st.OOM++
			line = fmt.Appendf(line, "kernel: [%d.%06d] Out of memory: Killed process %d (java) total-vm:%dkB, anon-rss:%dkB, file-rss:0kB",
				sec, rng.IntN(1e6), pid, 8_000_000+rng.IntN(1e6), 6_000_000+rng.IntN(1e6))
		case r < 5:
			st.Swap++
			line = fmt.Appendf(line, "kernel: [%d.%06d] Out of swap space, %d pages reclaimed", sec, rng.IntN(1e6), rng.IntN(4096))
		case r < 5+o.MatchEvery/100:
			st.NearMiss++
			if rng.IntN(2) == 0 {
				line = fmt.Appendf(line, "app[%d]: ERROR index %d Out of range (len %d)", pid, rng.IntN(100), rng.IntN(100))
			} else {
				line = fmt.Appendf(line, "app[%d]: WARN cache is out of memory budget, evicting %d entries", pid, rng.IntN(1000))
			}
		default:
			if rng.IntN(100) < o.KoreanPercent {
				st.Korean++
				line = fmt.Appendf(line, "app[%d]: INFO %s order=%d user=%s elapsed=%dms",
					pid, k1[rng.IntN(len(k1))], rng.IntN(1e7), k2[rng.IntN(len(k2))], rng.IntN(3000))
				break
			}
			if o.IDs {
				if l, ok := appendID(line, rng, pid, &st); ok {
					line = l
					break
				}
			}
			line = appendASCII(line, rng, pid, sec)
			if rng.IntN(20000) == 0 {
				st.LongLines++
				for range 200 + rng.IntN(2000) {
					line = append(line, ' ')
					line = append(line, words[rng.IntN(len(words))]...)
				}
			}
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return st, err
		}
		st.Lines++
		st.Bytes += int64(len(line))
	}
	return st, bw.Flush()
}

func appendASCII(b []byte, rng *rand.Rand, pid, sec int) []byte {
	switch d := daemons[rng.IntN(len(daemons))]; d {
	case "kernel":
		return fmt.Appendf(b, "kernel: [%d.%06d] eth%d: link %s, %d Mbps, full duplex", sec, rng.IntN(1e6), rng.IntN(4), pick(rng, "up", "down"), 1000*(1+rng.IntN(10)))
	case "systemd[1]":
		return fmt.Appendf(b, "systemd[1]: Started Session %d of user %s.", rng.IntN(100000), pick(rng, "root", "deploy", "backup"))
	case "sshd":
		return fmt.Appendf(b, "sshd[%d]: Accepted publickey for %s from 10.%d.%d.%d port %d ssh2: RSA SHA256:%x",
			pid, pick(rng, "deploy", "admin", "git"), rng.IntN(256), rng.IntN(256), rng.IntN(256), 1024+rng.IntN(60000), rng.Uint64())
	case "CRON":
		return fmt.Appendf(b, "CRON[%d]: (root) CMD (/usr/local/bin/check_and_alert.sh > /dev/null 2>&1)", pid)
	case "httpd":
		return fmt.Appendf(b, "httpd[%d]: 10.%d.%d.%d - - \"GET /sms/send_form.php?page=%d HTTP/1.1\" %d %d \"-\" \"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\"",
			pid, rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(50), pickInt(rng, 200, 200, 200, 304, 404, 500), rng.IntN(60000))
	case "postfix/smtpd":
		return fmt.Appendf(b, "postfix/smtpd[%d]: connect from unknown[192.168.%d.%d]", pid, rng.IntN(256), rng.IntN(256))
	case "dockerd":
		return fmt.Appendf(b, "dockerd[%d]: time=\"2026-11-25T16:%02d:%02d.%09dZ\" level=info msg=\"%s %s\" container=%x",
			pid, rng.IntN(60), rng.IntN(60), rng.IntN(1e9), words[rng.IntN(len(words))], words[rng.IntN(len(words))], rng.Uint32())
	default:
		return fmt.Appendf(b, "app[%d]: DEBUG %s %s id=%d took=%dus", pid, words[rng.IntN(len(words))], words[rng.IntN(len(words))], rng.IntN(1e9), rng.IntN(100000))
	}
}

// appendID writes one of the rare lines of Options.IDs, or reports false.
func appendID(b []byte, rng *rand.Rand, pid int, st *Stats) ([]byte, bool) {
	switch r := rng.IntN(200_000); {
	case r < 4:
		st.Hex++
		return fmt.Appendf(b, "app[%d]: WARN slow request id=%016x%016x took=%dms", pid, rng.Uint64(), rng.Uint64(), 1000+rng.IntN(9000)), true
	case r < 14:
		st.Errors++
		return fmt.Appendf(b, "app[%d]: error %d while saving order", pid, rng.IntN(600)), true
	case r < 18:
		st.Phones++
		return fmt.Appendf(b, "app[%d]: INFO SMS queued to 010-%04d-%04d", pid, rng.IntN(10000), rng.IntN(10000)), true
	case r < 19:
		st.OOMKill++
		return fmt.Appendf(b, "kernel: [%d] oom-kill:constraint=CONSTRAINT_NONE,task=java,pid=%d", rng.IntN(1e6), pid), true
	}
	return b, false
}

func appendStamp(b []byte, sec int) []byte {
	h, m, s := (sec/3600)%24, (sec/60)%60, sec%60
	b = append(b, "Nov 25 "...)
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, m)
	b = append(b, ':')
	return append2(b, s)
}

func append2(b []byte, n int) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

func pick(rng *rand.Rand, s ...string) string { return s[rng.IntN(len(s))] }

func pickInt(rng *rand.Rand, n ...int) int { return n[rng.IntN(len(n))] }

func encodeAll(in []string) ([]string, error) {
	enc := korean.EUCKR.NewEncoder()
	out := make([]string, len(in))
	for i, s := range in {
		e, err := enc.String(s)
		if err != nil {
			return nil, fmt.Errorf("encode %q to cp949: %w", s, err)
		}
		out[i] = e
	}
	return out, nil
}
