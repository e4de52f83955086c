// Command detect measures munja's detection latency end to end: from an
// event (a watched process killed, a listening port closed, a matching log
// line appended) to the fake Aligo gateway receiving the alert, with checks
// at a 1 s interval, through a real `munja serve`. It prints p50/p99/max per
// event type over -n trials.
//
//	go build -o /tmp/munja ./cmd/munja && go run ./bench/detect -munja /tmp/munja -n 30
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

func main() {
	bin := flag.String("munja", "munja", "munja binary")
	n := flag.Int("n", 20, "trials per event type")
	cronTrials := flag.Int("cron", 0, "also run the original script under a cron-like minute loop for this many process-kill trials (each takes 1-2 minutes)")
	flag.Parse()

	dir, _ := os.MkdirTemp("", "munja-detect-")
	defer os.RemoveAll(dir)
	httpd := filepath.Join(dir, "httpd")
	src, _ := os.ReadFile("/bin/sleep")
	os.WriteFile(httpd, src, 0o755)
	logPath := filepath.Join(dir, "messages")
	os.WriteFile(logPath, nil, 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port

	fake := aligotest.Start()
	defer fake.Close()
	cfg := filepath.Join(dir, "munja.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`server: {listen: "127.0.0.1:0"}
database: %q
log: {level: warn}
sms:
  sender: %q
  providers: [{name: aligo, type: aligo, user_id: %q, key: %q, base_url: %q}]
  limits: {per_day: 0, per_recipient_per_hour: 0}
checks:
  - {name: httpd, type: process, process: httpd}
  - {name: web-port, type: listen, port: %d}
  - {name: oom, type: log, path: %q, pattern: "Out of memory", window: 1s}
alerting:
  interval: 1s
  recipients: ["01011112222"]
  flapping: {changes: 0}
`, filepath.Join(dir, "munja.db"), fake.Sender, fake.UserID, fake.Key, fake.URL(), port, logPath)), 0o600)

	proc := exec.Command(httpd, "3600")
	proc.Start()
	stop := serve(*bin, cfg)
	defer stop()
	time.Sleep(2 * time.Second)

	wait := func(text string, after int) time.Time {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			reqs := fake.Requests()
			for _, r := range reqs[min(after, len(reqs)):] {
				if r.Path == "/send/" && r.Form.Get("msg") == text {
					return r.At
				}
			}
			time.Sleep(time.Millisecond)
		}
		log.Fatalf("no %q", text)
		return time.Time{}
	}
	var procLat, portLat, logLat []time.Duration
	for range *n {
		mark := len(fake.Requests())
		t0 := time.Now()
		proc.Process.Kill()
		proc.Wait()
		procLat = append(procLat, wait("[경고] httpd 프로세스가 동작하지 않습니다.", mark).Sub(t0))
		mark = len(fake.Requests())
		proc = exec.Command(httpd, "3600")
		proc.Start()
		wait("[복구] httpd 프로세스가 다시 동작합니다.", mark)

		mark = len(fake.Requests())
		t0 = time.Now()
		ln.Close()
		portLat = append(portLat, wait(fmt.Sprintf("[경고] %d 포트가 열려있지 않습니다.", port), mark).Sub(t0))
		mark = len(fake.Requests())
		ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			log.Fatal(err)
		}
		wait(fmt.Sprintf("[복구] %d 포트가 다시 열렸습니다.", port), mark)

		mark = len(fake.Requests())
		f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
		t0 = time.Now()
		fmt.Fprintln(f, "kernel: Out of memory: Killed process 4242 (java)")
		f.Close()
		logLat = append(logLat, wait("[경고] 시스템 로그에서 'Out of memory' 탐지됨.", mark).Sub(t0))
		mark = len(fake.Requests())
		wait("[복구] 시스템 로그에서 'Out of memory' 더 이상 탐지되지 않습니다.", mark)
	}
	proc.Process.Kill()
	proc.Wait()
	stop()
	var cronLat []time.Duration
	var cronRepeats []int
	if *cronTrials > 0 {
		cronLat, cronRepeats = cronBaseline(dir, httpd, port, *cronTrials)
	}
	fmt.Printf("| event | trials | p50 | p99 | max |\n|---|---|---|---|---|\n")
	for _, r := range []struct {
		name string
		d    []time.Duration
	}{{"process killed (pidfd)", procLat}, {"port closed (1 s poll, sock_diag netlink)", portLat}, {"log line appended (inotify)", logLat}} {
		slices.Sort(r.d)
		fmt.Printf("| %s | %d | %s | %s | %s |\n", r.name, len(r.d), rd(pct(r.d, 50)), rd(pct(r.d, 99)), rd(r.d[len(r.d)-1]))
	}
	if len(cronLat) > 0 {
		slices.Sort(cronLat)
		fmt.Printf("| process killed, original script under cron (every minute) | %d | %s | %s | %s |\n",
			len(cronLat), rd(pct(cronLat, 50)), rd(pct(cronLat, 99)), rd(cronLat[len(cronLat)-1]))
		fmt.Printf("\noriginal script: gateway calls in the first 2 minutes of each outage (3 recipients): %v; munja: 1 call per incident\n", cronRepeats)
	}
}

func pct(d []time.Duration, p int) time.Duration {
	i := (len(d)*p + 99) / 100
	return d[max(0, min(len(d)-1, i-1))]
}

func rd(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }

func serve(bin, cfg string) func() {
	cmd := exec.Command(bin, "serve", "--config", cfg)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	go io.Copy(io.Discard, bufio.NewReader(pr))
	return func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }
}

// cronBaseline runs the original check_and_alert.sh (../shared/seed), with
// its curl pointed at a fake gateway and its port check at our port, at
// every minute boundary like cron, kills httpd at a random moment, and
// measures the time until the gateway gets the alert; then it counts the
// gateway calls during two minutes of outage.
func cronBaseline(dir, httpd string, port, trials int) ([]time.Duration, []int) {
	fake := aligotest.Start()
	defer fake.Close()
	script := filepath.Join(dir, "check_and_alert.sh")
	os.WriteFile(script, []byte(fmt.Sprintf(`#!/bin/bash
RECIPIENTS=("01099271179" "01012345678" "01056781234")
ALERT_MSG=""
PROCESS_NAME="httpd"
if ! pgrep -x "$PROCESS_NAME" > /dev/null; then
ALERT_MSG+="[경고] $PROCESS_NAME 프로세스가 동작하지 않습니다. "
fi
PORT=%d
if ! ss -ltn | grep -q ":$PORT "; then
ALERT_MSG+="[경고] $PORT 포트가 열려있지 않습니다. "
fi
ERROR_PATTERN="Out of memory"
if journalctl --since "5 minutes ago" 2>/dev/null | grep -q "$ERROR_PATTERN"; then
ALERT_MSG+="[경고] 시스템 로그에서 '$ERROR_PATTERN' 탐지됨. "
fi
if [ -n "$ALERT_MSG" ]; then
for PHONE in "${RECIPIENTS[@]}"; do
curl -s -X POST %s/send/ -d "key=%s" -d "user_id=%s" -d "sender=%s" \
-d "receiver=$PHONE" \
--data-urlencode "msg=$ALERT_MSG" > /dev/null
done
fi
`, port, fake.URL(), fake.Key, fake.UserID, fake.Sender)), 0o755)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // cron: * * * * *
		for {
			next := time.Now().Truncate(time.Minute).Add(time.Minute)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(next)):
			}
			exec.Command("bash", script).Run()
		}
	}()
	var lat []time.Duration
	var repeats []int
	for range trials {
		proc := exec.Command(httpd, "3600")
		proc.Start()
		// Kill at a random moment of the minute.
		time.Sleep(time.Until(time.Now().Truncate(time.Minute).Add(time.Minute + 2*time.Second)))
		time.Sleep(time.Duration(rand.Int64N(int64(55 * time.Second))))
		fake.Reset()
		t0 := time.Now()
		proc.Process.Kill()
		proc.Wait()
		for len(fake.Requests()) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		lat = append(lat, fake.Requests()[0].At.Sub(t0))
		time.Sleep(time.Until(t0.Add(2 * time.Minute)))
		repeats = append(repeats, len(fake.Requests()))
	}
	return lat, repeats
}
