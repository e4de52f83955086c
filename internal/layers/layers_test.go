package layers

import (
	"os/exec"
	"path"
	"strings"
	"testing"
)

const module = "github.com/munja-sms/munja/"

// allowed lists, for each package (or folder/...), the munja packages it
// may import. The data flows down: domain (sms, config) ← store ←
// outbox ← dispatcher ← providers; checks → alert; web and console on top;
// app wires everything; cmd/munja parses flags and calls app.
var allowed = map[string][]string{
	"sms":             {},
	"holiday":         {},
	"oncall":          {"holiday"},
	"oncall/roster":   {"holiday", "oncall", "outbox", "sms", "store"},
	"config":          {"holiday", "oncall"},
	"internal/...":    {},
	"logwatch":        {"internal/tick", "internal/wakeup"},
	"store":           {"sms"},
	"store/...":       {"store", "store/internal/...", "sms"},
	"provider":        {"config", "sms"},
	"provider/...":    {"provider", "provider/...", "config", "sms"},
	"outbox":          {"sms", "store"},
	"dispatcher":      {"provider", "sms", "store", "internal/tick"},
	"balance":         {"outbox", "provider", "store", "internal/tick"},
	"selfwatch":       {"dispatcher", "outbox", "provider", "store"},
	"check":           {"config", "store", "internal/template", "internal/tick", "internal/wakeup"},
	"check/...":       {"check", "check/...", "config", "logwatch", "store"},
	"alert":           {"check", "config", "holiday", "oncall", "sms", "store"},
	"alert/...":       {},
	"checkhist":       {"check", "store", "internal/tick"},
	"agent":           {"check", "config", "sms", "internal/tick"},
	"auth":            {"store"},
	"addressbook":     {"sms"},
	"web":             {"agent", "alert", "auth", "check", "checkhist", "config", "holiday", "oncall", "oncall/roster", "outbox", "sms", "store"},
	"console":         {"addressbook", "alert", "auth", "balance", "checkhist", "config", "holiday", "oncall", "oncall/roster", "outbox", "provider", "sms", "store"},
	"app":             {"*"},
	"cmd/munja":       {"agent", "app", "auth", "check", "check/...", "cmd/internal/cli", "cmd/internal/logscan", "config", "logwatch", "outbox", "provider", "sms", "store"},
	"bench/...":       {"*"},
	"reliability/...": {"*"},
	"internal/layers": {},

	// Test support, imported only by the gateways' _test.go files: their
	// tests through the real pipeline (SQLite store, outbox, dispatcher).
	"provider/internal/pipelinetest": {"*"},

	// What munja and the slim munja-agent share: never app, a store, the
	// console or a gateway, so that munja-agent links none of them.
	"cmd/internal/cli": {"agent", "check", "check/...", "config"},
	"cmd/munja-agent":  {"cmd/internal/cli", "config"},
	// munja logscan alone: it runs from its init, before the inits of what
	// it does not import, so it may import only logwatch.
	"cmd/internal/logscan": {"logwatch"},
}

// rule returns the allowed list that governs pkg: its own entry, else the
// nearest folder/... entry above it.
func rule(pkg string) ([]string, bool) {
	if r, ok := allowed[pkg]; ok {
		return r, true
	}
	for dir := pkg; dir != "." && dir != "/" && dir != ""; dir = path.Dir(dir) {
		if r, ok := allowed[dir+"/..."]; ok && dir != pkg {
			return r, true
		}
	}
	return nil, false
}

func matches(pattern, pkg string) bool {
	if pattern == "*" || pattern == pkg {
		return true
	}
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return strings.HasPrefix(pkg, dir+"/")
	}
	return false
}

// TestImportLayers fails when a package imports a munja package its layer
// may not (test files are not counted: a test may reach further).
func TestImportLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		r, ok := rule(pkg)
		if !ok {
			t.Errorf("%s: no import rule (add it to allowed here and to README's Development map)", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			ok = false
			for _, p := range r {
				ok = ok || matches(p, dep)
			}
			if !ok {
				t.Errorf("%s imports %s, which its layer may not (allowed: %v)", pkg, dep, r)
			}
		}
	}
}
