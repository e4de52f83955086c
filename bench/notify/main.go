// Command notify measures how long it takes to get one alert text to 3, 100
// and 1,000 recipients through a fake Aligo gateway with a fixed latency:
// munja (a running `munja serve`, POST /api/v1/messages, batching receivers)
// against the original script's approach (one curl process per recipient,
// each a separate gateway call). It prints medians over -runs repetitions.
//
//	go build -o /tmp/munja ./cmd/munja && go run ./bench/notify -munja /tmp/munja
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

func main() {
	bin := flag.String("munja", "munja", "munja binary")
	latency := flag.Duration("latency", 50*time.Millisecond, "gateway latency per call")
	runs := flag.Int("runs", 5, "repetitions per size")
	sizesFlag := flag.String("sizes", "3,100,1000", "recipient counts")
	curlMax := flag.Int("curl-max", 1000, "skip the curl loop above this many recipients")
	flag.Parse()

	fake := aligotest.Start()
	defer fake.Close()
	fake.SetLatency(*latency)

	dir, _ := os.MkdirTemp("", "munja-bench-")
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "munja.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`server:
  listen: "127.0.0.1:0"
  trusted_networks: ["127.0.0.1/32"]
database: %q
sms:
  sender: %q
  providers:
    - {name: aligo, type: aligo, user_id: %q, key: %q, base_url: %q}
  limits: {per_day: 0, per_recipient_per_hour: 0}
`, filepath.Join(dir, "munja.db"), fake.Sender, fake.UserID, fake.Key, fake.URL())), 0o600)

	addr, stop := serve(*bin, cfg)
	defer stop()

	fmt.Printf("gateway latency %s, %d runs, median (min–max)\n\n", *latency, *runs)
	fmt.Printf("| recipients | munja: gateway calls | munja: API → all at gateway | curl loop: gateway calls | curl loop (original script) | ratio |\n|---|---|---|---|---|---|\n")
	for _, s := range strings.Split(*sizesFlag, ",") {
		var n int
		fmt.Sscan(s, &n)
		phones := make([]string, n)
		for i := range phones {
			phones[i] = fmt.Sprintf("010%08d", 20000000+i)
		}
		var mt, ct []time.Duration
		var mcalls, ccalls int
		for r := range *runs {
			fake.Reset()
			text := fmt.Sprintf("[경고] httpd 프로세스가 동작하지 않습니다. run %d", r)
			start := time.Now()
			body, _ := json.Marshal(map[string]any{"to": phones, "text": text})
			resp, err := http.Post("http://"+addr+"/api/v1/messages", "application/json", bytes.NewReader(body))
			if err != nil || resp.StatusCode != http.StatusAccepted {
				log.Fatalf("POST: %v %v", err, resp)
			}
			resp.Body.Close()
			for len(fake.Delivered()) < n {
				time.Sleep(time.Millisecond)
			}
			mt = append(mt, time.Since(start))
			mcalls = len(fake.Requests())

			if n > *curlMax {
				continue
			}
			fake.Reset()
			start = time.Now()
			for _, p := range phones { // the original check_and_alert.sh loop
				out, err := exec.Command("curl", "-s", "-X", "POST", fake.URL()+"/send/",
					"-d", "key="+fake.Key, "-d", "user_id="+fake.UserID, "-d", "sender="+fake.Sender,
					"-d", "receiver="+p, "--data-urlencode", "msg="+text).CombinedOutput()
				if err != nil {
					log.Fatalf("curl: %v %s", err, out)
				}
			}
			ct = append(ct, time.Since(start))
			ccalls = len(fake.Requests())
		}
		m := median(mt)
		line := fmt.Sprintf("| %d | %d | %s (%s–%s) |", n, mcalls, round(m), round(slices.Min(mt)), round(slices.Max(mt)))
		if len(ct) > 0 {
			c := median(ct)
			line += fmt.Sprintf(" %d | %s (%s–%s) | %.1f× |", ccalls, round(c), round(slices.Min(ct)), round(slices.Max(ct)), float64(c)/float64(m))
		} else {
			line += " – | – | – |"
		}
		fmt.Println(line)
	}
}

var addrRe = regexp.MustCompile(`msg="munja serving" addr=(\S+)`)

func serve(bin, cfg string) (string, func()) {
	cmd := exec.Command(bin, "serve", "--config", cfg)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := addrRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case a := <-found:
		return a, func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }
	case <-time.After(30 * time.Second):
		log.Fatal("munja serve did not start")
	}
	return "", nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}
