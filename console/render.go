package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

var (
	//go:embed templates/*.html
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS
	//go:embed i18n/*.json
	i18nFS embed.FS
)

const (
	langKO = "ko" // the default
	langEN = "en"
)

// catalog is every string of the console in one language.
type catalog map[string]string

func loadCatalogs() (map[string]catalog, error) {
	out := map[string]catalog{}
	for _, lang := range []string{langKO, langEN} {
		b, err := i18nFS.ReadFile("i18n/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", lang, err)
		}
		var cat catalog
		if err := json.Unmarshal(b, &cat); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", lang, err)
		}
		out[lang] = cat
	}
	return out, nil
}

// t looks key up in lang's catalog (falling back to Korean, then the key).
func (c *Console) t(lang, key string) string {
	if s, ok := c.cats[lang][key]; ok {
		return s
	}
	if s, ok := c.cats[langKO][key]; ok {
		return s
	}
	return key
}

func (c *Console) tf(lang, key string, args ...any) string {
	return fmt.Sprintf(c.t(lang, key), args...)
}

// inLang is a text given in English and Korean in lang: the Korean one
// when there is one.
func inLang(lang, en, ko string) string {
	if lang == langKO && ko != "" {
		return ko
	}
	return en
}

// timeLayout is how every time is shown (DESIGN §5b).
const timeLayout = "2006-01-02 15:04"

func (c *Console) fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(c.loc).Format(timeLayout)
}

// thousands writes n with comma separators: 2,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// numAny formats any integer with thousands separators.
func numAny(v any) string {
	switch n := v.(type) {
	case int:
		return thousands(n)
	case int64:
		return thousands(int(n))
	case int32:
		return thousands(int(n))
	}
	return fmt.Sprint(v)
}

// byteCount is the counter shown next to a text.
type byteCount struct {
	N     int
	Kind  string // SMS | LMS
	Label string // "42 / 90 byte" or "LMS (최대 2,000 byte)"
	Err   string // a character CP949 cannot carry
}

func (c *Console) countText(lang, text, title string) byteCount {
	text = sms.NormalizeNewlines(text)
	n, err := sms.CountBytes(text)
	if err != nil {
		return byteCount{Kind: string(sms.KindSMS), Label: "? / 90 byte", Err: c.charErr(lang, err)}
	}
	if n <= sms.MaxSMSBytes && strings.TrimSpace(title) == "" {
		return byteCount{N: n, Kind: string(sms.KindSMS), Label: sms.Describe(n, sms.KindSMS)}
	}
	// Past 90 bytes, or with a title, it is an LMS.
	return byteCount{N: n, Kind: string(sms.KindLMS), Label: thousands(n) + " / " + thousands(sms.MaxLMSBytes) + " byte · " +
		c.tf(lang, "send.lms_label", thousands(sms.MaxLMSBytes))}
}

func (c *Console) funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t":  func(key string) string { return c.t(lang, key) },
		"tf": func(key string, args ...any) string { return c.tf(lang, key, args...) },
		"tm": c.fmtTime,
		// detail is a check's detail in the page's language: the Korean
		// one (check.Result.DetailKo) when there is one.
		"detail": func(en, ko string) string { return inLang(lang, en, ko) },
		"phone": func(v any) string {
			if s, ok := v.(string); ok {
				return sms.Phone(s).Display()
			}
			if p, ok := v.(sms.Phone); ok {
				return p.Display()
			}
			return fmt.Sprint(v)
		},
		"num":     numAny,
		"tl":      func(l, key string) string { return c.t(l, key) },
		"tk":      func(prefix string, v any) string { return c.tkey(lang, prefix, fmt.Sprint(v)) },
		"actor":   func(a string) string { return c.actorLabel(lang, a) },
		"action":  func(a string) string { return c.actionLabel(lang, a) },
		"target":  func(a string) string { return c.targetLabel(lang, a) },
		"adetail": func(d string) string { return c.auditDetail(lang, d) },
		"asset":   func(name string) string { return "/static/" + name + "?v=" + c.assets[name] },
		"deps":    c.depLinks,
		"status":  func(s sms.Status) string { return c.t(lang, "status."+string(s)) },
		"count":   func(text, title string) byteCount { return c.countText(lang, text, title) },
		"path":    url.PathEscape, // one path segment; after "?" html/template escapes by itself (no "query": "%" became "%25")
		"add":     func(a, b int) int { return a + b },
		"join":    strings.Join,
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
	}
}

// shared are parsed into every page.
var shared = []string{"templates/layout.html", "templates/parts.html"}

// pageSet parses page templates on first use: most pages of a monitoring
// host are never opened, and every parsed page holds its own copy of the
// layout (html/template escapes each copy in place), about 100 KB a page.
type pageSet struct {
	mu    sync.Mutex
	funcs func(lang string) template.FuncMap
	m     map[[2]string]*template.Template // {lang, page}
}

// get returns page name in lang, parsing it the first time it is asked for.
func (ps *pageSet) get(lang, name string) (*template.Template, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	key := [2]string{lang, name}
	if t := ps.m[key]; t != nil {
		return t, nil
	}
	file := "templates/" + name + ".html"
	if isShared(file) || !fs.ValidPath(file) {
		return nil, fmt.Errorf("no page template %q", name)
	}
	t, err := template.New("layout").Funcs(ps.funcs(lang)).ParseFS(templateFS, append([]string{file}, shared...)...)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	if ps.m == nil {
		ps.m = map[[2]string]*template.Template{}
	}
	ps.m[key] = t
	return t, nil
}

// pageNames lists every page template (for tests that parse them all).
func pageNames() ([]string, error) {
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if file := "templates/" + e.Name(); !isShared(file) {
			out = append(out, strings.TrimSuffix(e.Name(), ".html"))
		}
	}
	return out, nil
}

func isShared(file string) bool {
	for _, s := range shared {
		if s == file {
			return true
		}
	}
	return false
}

// page is what the layout and every page template see.
type page struct {
	Lang    string
	Title   string
	Nav     string
	User    *user
	CSRF    string
	DryRun  bool
	Flash   string
	Path    string // this page, for the language switch
	CanSend bool   // operator or admin
	IsAdmin bool
	OnCall  bool // on-call schedules are configured: the nav shows the page
	Data    any

	// StoreError is why the store refuses writes (Options.StoreWritable),
	// shown in a banner; "" while it takes them.
	StoreError string
	// GatewaysDown are the providers in an outage, each shown in a banner.
	GatewaysDown []gatewayBanner
}

type gatewayBanner struct {
	Name, Since, Reason string
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, q *request, name, titleKey, nav string, data any) {
	c.renderStatus(w, r, q, http.StatusOK, name, titleKey, nav, data)
}

func (c *Console) renderStatus(w http.ResponseWriter, r *http.Request, q *request, status int, name, titleKey, nav string, data any) {
	t, err := c.pages.get(q.Lang, name)
	if err != nil {
		c.opt.Log.Error("console: page template", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p := page{
		Lang: q.Lang, Title: c.t(q.Lang, titleKey), Nav: nav, User: q.User, CSRF: q.CSRF,
		DryRun: c.opt.Config.DryRun(), Path: r.URL.RequestURI(), Data: data,
		CanSend: q.User.can(roleOperator), IsAdmin: q.User.can(roleAdmin), OnCall: c.onCallConfigured(),
	}
	if r.Method != http.MethodGet {
		p.Path = r.URL.Path
	}
	if c.opt.StoreWritable != nil {
		if err := c.opt.StoreWritable(r.Context()); err != nil {
			p.StoreError = err.Error()
		}
	}
	if c.opt.GatewaysDown != nil {
		for _, g := range c.opt.GatewaysDown() {
			b := gatewayBanner{Name: g.Name, Since: g.Since.In(c.loc).Format("2006-01-02 15:04")}
			if q.Lang == "ko" {
				b.Reason = g.Reason
			}
			p.GatewaysDown = append(p.GatewaysDown, b)
		}
	}
	if key := r.URL.Query().Get("ok"); key != "" {
		if s, ok := c.cats[q.Lang]["flash."+key]; ok {
			p.Flash = s
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		c.opt.Log.Error("console: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct {
	Status  int
	Message string
}

// fail renders an error page with a catalog message.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, q *request, status int, key string, args ...any) {
	c.renderStatus(w, r, q, status, "error", "error.title", "", errorData{Status: status, Message: c.tf(q.Lang, key, args...)})
}

// internal logs err and shows a page that tells nothing about it.
func (c *Console) internal(w http.ResponseWriter, r *http.Request, q *request, err error) {
	c.opt.Log.Error("console: request failed", "path", r.URL.Path, "user", q.userName(), "err", err)
	c.fail(w, r, q, http.StatusInternalServerError, "err.internal")
}

// redirect answers a POST with 303 to target, adding ?ok=flash.
func redirect(w http.ResponseWriter, r *http.Request, target, flash string) {
	if flash != "" {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + "ok=" + url.QueryEscape(flash)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func isStatic(p string) bool { return strings.HasPrefix(p, "/static/") }

func assetVersions() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		out[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(h[:6])
		return nil
	})
	out["cp949.bin"] = cp949Version()
	return out, err
}

// static serves the embedded assets and the CP949 table the byte counter uses.
func (c *Console) static(w http.ResponseWriter, r *http.Request, q *request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/static/")
	if name == "cp949.bin" {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(cp949Bitmap())
		return
	}
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "..") {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".svg":
		w.Header().Set("Content-Type", "image/svg+xml")
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(b)
}

// failStore answers a store error: 404 for store.ErrNotFound, else an
// internal error. It reports whether it answered (err != nil).
func (c *Console) failStore(w http.ResponseWriter, r *http.Request, q *request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		c.fail(w, r, q, http.StatusNotFound, "err.not_found")
	default:
		c.internal(w, r, q, err)
	}
	return true
}
