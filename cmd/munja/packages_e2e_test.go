package main

// TestPackages builds the .deb and the .rpm the way an operator does (make
// packages), reads them back with the distributions' own tools, verifies
// the systemd units and starts the packaged munja on the packaged config.

import (
	"debug/elf"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

const packageVersion = "1.2.3~test"

// need returns the path of tool, or skips the test outside CI (in CI,
// scripts/test-deps.sh installs it, so a missing tool fails).
func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing in CI (scripts/test-deps.sh installs it)", tool)
		}
		t.Skipf("%s missing here (outside CI); scripts/test-deps.sh installs it", tool)
	}
	return p
}

func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPackages(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("packages are for Linux")
	}
	need(t, "make")
	need(t, "dpkg-deb")
	need(t, "rpm")
	analyze := need(t, "systemd-analyze")

	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	dist := filepath.Join(tmp, "dist")
	start := time.Now()
	build := exec.Command("make", "-C", root, "packages", "VERSION="+packageVersion,
		"BIN="+filepath.Join(tmp, "munja"), "AGENT_BIN="+filepath.Join(tmp, "munja-agent"), "DIST="+dist)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make packages: %v\n%s", err, out)
	}
	t.Logf("make packages took %s", time.Since(start).Round(time.Second))

	rpmArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i386"}[runtime.GOARCH]
	deb := filepath.Join(dist, fmt.Sprintf("munja_%s_%s.deb", packageVersion, runtime.GOARCH))
	rpm := filepath.Join(dist, fmt.Sprintf("munja-%s-1.%s.rpm", packageVersion, rpmArch))

	t.Run("deb", func(t *testing.T) {
		if v := strings.TrimSpace(output(t, "dpkg-deb", "-f", deb, "Version")); v != packageVersion {
			t.Errorf("deb Version = %q, want %q", v, packageVersion)
		}
		list := output(t, "dpkg-deb", "-c", deb)
		for _, want := range []string{
			"-rwxr-xr-x root/root .* ./usr/bin/munja",
			"-rw-r--r-- root/root .* ./usr/lib/systemd/system/munja.service",
			"-rw-r--r-- root/root .* ./usr/lib/systemd/system/munja-agent.service",
			"-rw-r--r-- root/root .* ./usr/lib/sysusers.d/munja.conf",
			"-rw-r----- root/root .* ./etc/munja/munja.yaml",
			"-rw-r----- root/root .* ./etc/munja/munja.env",
			"drwxr-x--- root/root .* ./var/lib/munja/",
			" ./usr/share/bash-completion/completions/munja",
			" ./usr/share/zsh/vendor-completions/_munja",
		} {
			if !matchLine(list, want) {
				t.Errorf("deb contents lack %q:\n%s", want, list)
			}
		}
		control := filepath.Join(t.TempDir(), "DEBIAN")
		output(t, "dpkg-deb", "-e", deb, control)
		conffiles := readFile(t, filepath.Join(control, "conffiles"))
		if conffiles != "/etc/munja/munja.env\n/etc/munja/munja.yaml\n" {
			t.Errorf("conffiles = %q", conffiles)
		}
		postinst := readFile(t, filepath.Join(control, "postinst"))
		for _, want := range []string{"systemd-sysusers /usr/lib/sysusers.d/munja.conf", "useradd --system", "chown munja:munja /var/lib/munja", "chgrp munja /etc/munja/munja.yaml /etc/munja/munja.env", "try-restart"} {
			if !strings.Contains(postinst, want) {
				t.Errorf("postinst lacks %q", want)
			}
		}
		// remove keeps config and data; purge alone deletes them.
		postrm := readFile(t, filepath.Join(control, "postrm"))
		if !strings.Contains(postrm, "purge)\n\trm -rf /etc/munja /var/lib/munja") || strings.Count(postrm, "rm -") != 1 {
			t.Errorf("postrm does not delete config and data on purge only:\n%s", postrm)
		}
		for _, f := range []string{"postinst", "prerm", "postrm"} {
			output(t, "sh", "-n", filepath.Join(control, f))
		}
	})

	t.Run("rpm", func(t *testing.T) {
		if v := output(t, "rpm", "-qp", "--qf", "%{VERSION}-%{RELEASE}", rpm); v != packageVersion+"-1" {
			t.Errorf("rpm version = %q", v)
		}
		list := output(t, "rpm", "-qp", "--list", rpm)
		for _, want := range []string{"/usr/bin/munja", "/usr/lib/systemd/system/munja.service",
			"/usr/lib/systemd/system/munja-agent.service", "/usr/lib/sysusers.d/munja.conf",
			"/etc/munja/munja.yaml", "/etc/munja/munja.env", "/var/lib/munja",
			"/usr/share/bash-completion/completions/munja", "/usr/share/zsh/site-functions/_munja"} {
			if !matchLine(list, "^"+want+"$") {
				t.Errorf("rpm --list lacks %s:\n%s", want, list)
			}
		}
		if c := output(t, "rpm", "-qp", "--configfiles", rpm); c != "/etc/munja/munja.env\n/etc/munja/munja.yaml\n" {
			t.Errorf("rpm --configfiles = %q", c)
		}
		// %config(noreplace), mode 0640, group munja.
		flags := output(t, "rpm", "-qp", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILEGROUPNAME}\n]", rpm)
		for _, want := range []string{"/etc/munja/munja.yaml cn -rw-r----- munja", "/etc/munja/munja.env cn -rw-r----- munja"} {
			if !strings.Contains(flags, want) {
				t.Errorf("rpm file flags lack %q:\n%s", want, flags)
			}
		}
		scripts := output(t, "rpm", "-qp", "--scripts", rpm)
		for _, want := range []string{"preinstall scriptlet", "systemd-sysusers --replace=/usr/lib/sysusers.d/munja.conf -", "useradd --system",
			"postinstall scriptlet", "chown munja:munja /var/lib/munja", "preuninstall scriptlet", "postuninstall scriptlet", "try-restart"} {
			if !strings.Contains(scripts, want) {
				t.Errorf("rpm --scripts lack %q:\n%s", want, scripts)
			}
		}
		if strings.Contains(scripts, "rm -") {
			t.Errorf("rpm scripts delete files:\n%s", scripts)
		}
	})

	// What dpkg would install, in a temp root.
	inst := filepath.Join(tmp, "root")
	output(t, "dpkg-deb", "-x", deb, inst)
	bin := filepath.Join(inst, "usr/bin/munja")

	t.Run("binary", func(t *testing.T) {
		if v := output(t, bin, "version"); !strings.HasPrefix(v, "munja "+packageVersion+"\n") {
			t.Errorf("munja version = %q, want the package version %s", v, packageVersion)
		}
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the packaged munja is dynamically linked, not the static make build binary")
			}
		}
		if c := readFile(t, filepath.Join(inst, "usr/share/bash-completion/completions/munja")); !strings.Contains(c, "complete -F _munja munja") {
			t.Errorf("bash completion = %q", c)
		}
	})

	t.Run("config", func(t *testing.T) {
		cfg := filepath.Join(inst, "etc/munja/munja.yaml")
		c := readFile(t, cfg)
		for _, want := range []string{"\n  listen: \"127.0.0.1:8080\"\n", "\ndatabase: /var/lib/munja/munja.db\n", "\n# sms:\n"} {
			if !strings.Contains(c, want) {
				t.Errorf("packaged munja.yaml lacks %q", want)
			}
		}
		out := output(t, bin, "config", "check", "--config", cfg)
		if !strings.Contains(out, "dryrun") {
			t.Errorf("config check: %s", out)
		}
	})

	t.Run("units", func(t *testing.T) {
		// systemd-analyze verify checks that ExecStart's program exists:
		// point it at the packaged binary in the temp root.
		dir := t.TempDir()
		var units []string
		for _, u := range []string{"munja.service", "munja-agent.service"} {
			text := readFile(t, filepath.Join(inst, "usr/lib/systemd/system", u))
			for _, want := range []string{"\nUser=munja\n", "\nNoNewPrivileges=yes\n", "\nProtectSystem=strict\n",
				"\nReadWritePaths=/var/lib/munja\n", "\nPrivateTmp=yes\n", "\nProtectHome=yes\n",
				"\nSupplementaryGroups=systemd-journal adm\n", "\nRestart=on-failure\n",
				"\nEnvironmentFile=-/etc/munja/munja.env\n", " --config /etc/munja/munja.yaml\n"} {
				if !strings.Contains(text, want) {
					t.Errorf("%s lacks %q", u, strings.TrimSpace(want))
				}
			}
			if matchLine(text, `^(ProtectProc=invisible|ProcSubset=pid)`) {
				t.Errorf("%s hides /proc from the process checks", u)
			}
			text = strings.ReplaceAll(text, "/usr/bin/munja", bin)
			p := filepath.Join(dir, u)
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			units = append(units, p)
		}
		if s := readFile(t, filepath.Join(inst, "usr/lib/systemd/system/munja.service")); !strings.Contains(s, "\nExecReload=/bin/kill -HUP $MAINPID\n") ||
			!strings.Contains(s, "\nExecStart=/usr/bin/munja serve ") {
			t.Errorf("munja.service does not serve or reload by SIGHUP:\n%s", s)
		}
		if s := readFile(t, filepath.Join(inst, "usr/lib/systemd/system/munja-agent.service")); !strings.Contains(s, "\nExecStart=/usr/bin/munja agent ") {
			t.Errorf("munja-agent.service does not run munja agent")
		}
		// verify exits 0 on warnings too: any output is a failure.
		out, err := exec.Command(analyze, append([]string{"verify"}, units...)...).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})

	t.Run("serve", func(t *testing.T) {
		// The packaged config with only listen and database redirected.
		dir := t.TempDir()
		c := readFile(t, filepath.Join(inst, "etc/munja/munja.yaml"))
		for old, new := range map[string]string{
			`listen: "127.0.0.1:8080"`:          `listen: "127.0.0.1:0"`,
			`database: /var/lib/munja/munja.db`: "database: " + filepath.Join(dir, "munja.db"),
		} {
			if strings.Count(c, old) != 1 {
				t.Fatalf("packaged munja.yaml: %q not found once", old)
			}
			c = strings.Replace(c, old, new, 1)
		}
		cfg := filepath.Join(dir, "munja.yaml")
		if err := os.WriteFile(cfg, []byte(c), 0o640); err != nil {
			t.Fatal(err)
		}
		p := startServeBinary(t, bin, cfg)
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get("http://" + p.addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("/healthz did not answer 200: %v %v\n%s", resp, err, p.stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		// systemctl reload munja: SIGHUP keeps it running.
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if resp, err := http.Get("http://" + p.addr + "/healthz"); err != nil {
			t.Fatalf("after SIGHUP: %v\n%s", err, p.stderr.String())
		} else {
			resp.Body.Close()
		}
	})

	testAgentPackage(t, dist, rpmArch, analyze, readFile(t, filepath.Join(inst, "usr/lib/systemd/system/munja-agent.service")))
}

// matchLine reports whether a line of text matches the regular expression re.
func matchLine(text, re string) bool {
	return regexp.MustCompile("(?m)" + re).MatchString(text)
}

// testAgentPackage checks the munja-agent .deb and .rpm that make packages
// built next to munja's: the slim binary, the unit (munja's munja-agent
// unit running it), the agent's config; the packaged binary refuses its
// config until agent.server is set, then reports to a fake server.
func testAgentPackage(t *testing.T, dist, rpmArch, analyze, fullUnit string) {
	deb := filepath.Join(dist, fmt.Sprintf("munja-agent_%s_%s.deb", packageVersion, runtime.GOARCH))
	rpm := filepath.Join(dist, fmt.Sprintf("munja-agent-%s-1.%s.rpm", packageVersion, rpmArch))
	files := []string{"/usr/bin/munja-agent", "/usr/lib/systemd/system/munja-agent.service", "/usr/lib/sysusers.d/munja.conf",
		"/etc/munja/munja.yaml", "/etc/munja/munja.env", "/var/lib/munja"}

	t.Run("agent deb", func(t *testing.T) {
		info := output(t, "dpkg-deb", "-I", deb)
		for _, want := range []string{"\n Package: munja-agent\n", "\n Version: " + packageVersion + "\n", "\n Conflicts: munja\n", "  postinst ", "  prerm ", "  postrm "} {
			if !strings.Contains(info, want) {
				t.Errorf("dpkg-deb -I lacks %q:\n%s", want, info)
			}
		}
		list := output(t, "dpkg-deb", "-c", deb)
		for _, want := range []string{
			"-rwxr-xr-x root/root .* ./usr/bin/munja-agent$",
			"-rw-r--r-- root/root .* ./usr/lib/systemd/system/munja-agent.service$",
			"-rw-r--r-- root/root .* ./usr/lib/sysusers.d/munja.conf$",
			"-rw-r----- root/root .* ./etc/munja/munja.yaml$",
			"-rw-r----- root/root .* ./etc/munja/munja.env$",
			"drwxr-x--- root/root .* ./var/lib/munja/$",
		} {
			if !matchLine(list, want) {
				t.Errorf("deb contents lack %q:\n%s", want, list)
			}
		}
		if matchLine(list, " ./usr/bin/munja$") || strings.Contains(list, "munja.service") {
			t.Errorf("the munja-agent package carries the server:\n%s", list)
		}
		control := filepath.Join(t.TempDir(), "DEBIAN")
		output(t, "dpkg-deb", "-e", deb, control)
		if c := readFile(t, filepath.Join(control, "conffiles")); c != "/etc/munja/munja.env\n/etc/munja/munja.yaml\n" {
			t.Errorf("conffiles = %q", c)
		}
	})

	t.Run("agent rpm", func(t *testing.T) {
		if v := output(t, "rpm", "-qp", "--qf", "%{NAME} %{VERSION}-%{RELEASE}", rpm); v != "munja-agent "+packageVersion+"-1" {
			t.Errorf("rpm name version = %q", v)
		}
		if c := output(t, "rpm", "-qp", "--conflicts", rpm); strings.TrimSpace(c) != "munja" {
			t.Errorf("rpm --conflicts = %q", c)
		}
		list := output(t, "rpm", "-qp", "--list", rpm)
		for _, want := range files {
			if !matchLine(list, "^"+want+"$") {
				t.Errorf("rpm --list lacks %s:\n%s", want, list)
			}
		}
		if matchLine(list, "^/usr/bin/munja$") {
			t.Errorf("the munja-agent rpm carries munja:\n%s", list)
		}
		if c := output(t, "rpm", "-qp", "--configfiles", rpm); c != "/etc/munja/munja.env\n/etc/munja/munja.yaml\n" {
			t.Errorf("rpm --configfiles = %q", c)
		}
		flags := output(t, "rpm", "-qp", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILEGROUPNAME}\n]", rpm)
		if !strings.Contains(flags, "/etc/munja/munja.yaml cn -rw-r----- munja") {
			t.Errorf("rpm file flags:\n%s", flags)
		}
		if s := output(t, "rpm", "-qp", "--scripts", rpm); !strings.Contains(s, "useradd --system") || !strings.Contains(s, "try-restart") {
			t.Errorf("rpm --scripts:\n%s", s)
		}
	})

	inst := filepath.Join(t.TempDir(), "root")
	output(t, "dpkg-deb", "-x", deb, inst)
	bin := filepath.Join(inst, "usr/bin/munja-agent")

	t.Run("agent unit", func(t *testing.T) {
		unit := readFile(t, filepath.Join(inst, "usr/lib/systemd/system/munja-agent.service"))
		// munja's unit, only ExecStart changed: the same user, hardening and config.
		if want := strings.Replace(fullUnit, "\nExecStart=/usr/bin/munja agent ", "\nExecStart=/usr/bin/munja-agent ", 1); unit != want || unit == fullUnit {
			t.Errorf("munja-agent.service is not munja's with ExecStart=/usr/bin/munja-agent:\n%s", unit)
		}
		if !strings.Contains(unit, "\nExecStart=/usr/bin/munja-agent --config /etc/munja/munja.yaml\n") {
			t.Errorf("ExecStart:\n%s", unit)
		}
		p := filepath.Join(t.TempDir(), "munja-agent.service")
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(unit, "/usr/bin/munja-agent", bin)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(analyze, "verify", p).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})

	t.Run("agent binary", func(t *testing.T) {
		if v := output(t, bin, "--version"); !strings.HasPrefix(v, "munja-agent "+packageVersion+"\n") {
			t.Errorf("munja-agent --version = %q", v)
		}
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the packaged munja-agent is dynamically linked")
			}
		}
		// The packaged config: valid, but the agent needs its server first.
		cfg := filepath.Join(inst, "etc/munja/munja.yaml")
		cmd := exec.Command(bin, "--config", cfg)
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "munja-agent: agent.server: required") {
			t.Errorf("packaged config without a server: exit %d: %s", cmd.ProcessState.ExitCode(), out)
		}
		// With a server and a check added, it reports.
		sink, srv := newReportSink(t)
		c := readFile(t, cfg) + fmt.Sprintf("\nhost: pkg01\nagent: {server: %q, token: pkg-token}\nchecks:\n  - {name: root, type: disk, mount: /, max_used_percent: 100}\n", srv.URL)
		cfg2 := filepath.Join(t.TempDir(), "munja.yaml")
		writeFile(t, cfg2, c)
		agent := exec.Command(bin, "--config", cfg2)
		var stderr lockedBuffer
		agent.Stderr = &stderr
		if err := agent.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { agent.Process.Kill(); agent.Wait() }()
		deadline := time.Now().Add(20 * time.Second)
		for sink.state("pkg-token")["root"] != "ok" {
			if time.Now().After(deadline) {
				t.Fatalf("the packaged munja-agent did not report within 20 s:\n%s", stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
