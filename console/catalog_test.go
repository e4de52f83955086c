package console

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/munja-sms/munja/addressbook"
	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/check/checks"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// TestCatalogs checks that both languages have the same keys with the same
// format verbs, and that every key the templates and the code use exists.
func TestCatalogs(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	ko, en := cats[langKO], cats[langEN]
	verbs := regexp.MustCompile(`%[sdq]`)
	for k, v := range ko {
		e, ok := en[k]
		if !ok {
			t.Errorf("en lacks %q", k)
			continue
		}
		if !slices.Equal(verbs.FindAllString(v, -1), verbs.FindAllString(e, -1)) {
			t.Errorf("%q: format verbs differ: %q vs %q", k, v, e)
		}
	}
	for k := range en {
		if _, ok := ko[k]; !ok {
			t.Errorf("ko lacks %q", k)
		}
	}

	used := map[string]bool{}
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`\b(?:t|tf)\s+"([a-z_.0-9]+)"`),
		regexp.MustCompile(`\btl\s+"[a-z]+"\s+"([a-z_.0-9]+)"`),
		regexp.MustCompile(`\bc\.tf?\([^,]+,\s*"([a-z_.0-9]+)"`),
		regexp.MustCompile(`\btr\("([a-z_.0-9]+)"`),
		regexp.MustCompile(`c\.fail\([^"]*"([a-z_.0-9]+)"`),
		regexp.MustCompile(`render(?:Status)?\(w, r, q,(?: [^,]+,)? "[a-z]+", "([a-z_.0-9]+)"`),
		regexp.MustCompile(`title = "([a-z_.]+)"`),
		regexp.MustCompile(`title := "([a-z_.]+)"`),
	}
	flash := regexp.MustCompile(`redirect\(w, r, .*, "([a-z_]+)"\)\n`)
	files, _ := filepath.Glob("templates/*.html")
	gofiles, _ := filepath.Glob("*.go")
	for _, f := range append(files, gofiles...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range patterns {
			for _, m := range p.FindAllStringSubmatch(string(b), -1) {
				if !strings.HasSuffix(m[1], ".") { // a prefix completed at run time
					used[m[1]] = true
				}
			}
		}
		for _, m := range flash.FindAllStringSubmatch(string(b), -1) {
			used["flash."+m[1]] = true
		}
	}
	// Keys built at run time from a value.
	for _, s := range []string{alert.StateUnknown, alert.StateOK, alert.StatePending, alert.StateFiring, alert.StateCannotCheck, "flapping", "silenced"} {
		used["state."+s] = true
	}
	for _, s := range []string{store.CheckOK, store.CheckFailing, store.CheckCannotCheck, statusNoData} {
		used["timeline."+s] = true
	}
	for _, r := range chartRanges {
		used["range."+r.Key] = true
	}
	for _, u := range []string{"days", "hours", "minutes", "seconds"} {
		used["dur."+u] = true
	}
	for _, r := range auth.Roles() {
		used["role."+r] = true
	}
	for _, s := range append(shownStatuses, statusPartial) {
		used["status."+string(s)] = true
	}
	for _, s := range sms.Sources {
		used["source."+s] = true
	}
	for _, r := range []alert.Reason{alert.ReasonFirst, alert.ReasonRepeat, alert.ReasonResolved, alert.ReasonEscalation, alert.ReasonFlapping} {
		used["reason."+string(r)] = true
	}
	for _, c := range []string{addressbook.CodeNoPhone, addressbook.CodeBadPhone, addressbook.CodeNotMobile, addressbook.CodeDuplicate,
		addressbook.CodeTooLong, addressbook.CodeBadRow, addressbook.CodeTooMany} {
		used["import.code."+c] = true
	}
	for _, ty := range checks.Types() {
		used["ctype."+ty] = true
	}
	for _, a := range auditActions {
		used["action."+a] = true
	}
	for _, a := range actorKinds {
		used["actor."+a] = true
	}
	for _, p := range targetPrefixes {
		used[p.key] = true
	}
	for _, p := range detailPhrases {
		used[p.key] = true
	}
	used["detail.role"], used["detail.scope"] = true, true
	for _, f := range detailFieldNames {
		used["field."+f] = true
	}
	for _, s := range []string{auth.ScopeRead, auth.ScopeSend, auth.ScopeAdmin} {
		used["scope."+s] = true
	}
	for _, s := range []config.Severity{config.SeverityInfo, config.SeverityWarning, config.SeverityCritical} {
		used["severity."+string(s)] = true
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		used["weekday."+d.String()[:3]] = true
	}
	if len(used) < 200 {
		t.Fatalf("only %d keys found in use: the scan is broken", len(used))
	}
	for k := range used {
		if _, ok := ko[k]; !ok {
			t.Errorf("key %q is used but not in the catalogs", k)
		}
	}
	for k := range ko {
		if !used[k] {
			t.Errorf("key %q is in the catalogs but never used", k)
		}
	}
}

// TestCP949Bitmap checks the table the browser's byte counter uses
// against sms.CountBytes, the server's authority.
func TestCP949Bitmap(t *testing.T) {
	bits := cp949Bitmap()
	if len(bits) != 8192 {
		t.Fatalf("bitmap is %d bytes", len(bits))
	}
	has := func(r rune) bool { return bits[r>>3]&(1<<(r&7)) != 0 }
	for r := rune(0); r < 0x10000; r += 7 {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		n, err := sms.CountBytes(string(r))
		if has(r) != (err == nil) {
			t.Fatalf("%U: bitmap %v, CountBytes %v", r, has(r), err)
		}
		if err == nil && r >= 0x80 && n != 2 {
			t.Fatalf("%U counts %d", r, n)
		}
	}
	for _, r := range []rune{'가', '힣', 'A', '\n', '★', '㈜'} {
		if !has(r) {
			t.Errorf("%q missing", r)
		}
	}
	for _, r := range []rune{'✔', '\u20A9', '\uFE0F'} {
		if has(r) {
			t.Errorf("%q should not be in CP949", r)
		}
	}
	if cp949Version() == "" {
		t.Fatal("no version")
	}
}

// TestStaticAssets serves the JS, CSS and table, and nothing else.
func TestStaticAssets(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.client()
	for path, ctype := range map[string]string{"/static/app.js": "text/javascript", "/static/style.css": "text/css",
		"/static/cp949.bin": "application/octet-stream"} {
		r := c.get(path).mustStatus(t, 200)
		if !strings.HasPrefix(r.header.Get("Content-Type"), ctype) {
			t.Errorf("%s: %s", path, r.header.Get("Content-Type"))
		}
	}
	c.get("/static/templates/login.html").mustStatus(t, 404)
	c.get("/static/nope.js").mustStatus(t, 404)
	// The JS carries no secrets and works under the CSP (no eval).
	js, _ := fs.ReadFile(staticFS, "static/app.js")
	if strings.Contains(string(js), "eval(") || strings.Contains(string(js), "innerHTML") || !utf8.Valid(js) {
		t.Fatal("app.js uses eval or innerHTML")
	}
}
