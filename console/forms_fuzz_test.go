package console

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/sms"
)

// Every form decoder is fuzzed with raw form bodies: it must never panic,
// and whatever it accepts without errors must be valid.

var fuzzNow = time.Date(2026, 11, 25, 14, 3, 0, 0, time.UTC)

func fuzzTr(key string, args ...any) string { return key + fmt.Sprint(args...) }

func seoul(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func FuzzSendForm(f *testing.F) {
	f.Add("to=010-1234-5678&text=%EC%95%88%EB%85%95")
	f.Add("contact=1&contact=2&group=ops&text=hi&title=t&sender=0212345678&test=1")
	f.Add("to=01012345678&text=x&reserve=1&date=2026-11-25&time=14:20&confirmed=8")
	f.Add("to=%2B82+10+1234+5678%0A02-123-4567&text=%F0%9F%98%80")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		form, errs := decodeSendForm(v, seoul(t), fuzzNow, fuzzTr)
		if len(errs) > 0 {
			return
		}
		n, err := sms.CountBytes(form.Text)
		if err != nil || n > sms.MaxLMSBytes || strings.TrimSpace(form.Text) == "" {
			t.Fatalf("accepted text %q (%d, %v)", form.Text, n, err)
		}
		if tn, err := sms.CountBytes(form.Title); err != nil || tn > sms.MaxTitleBytes {
			t.Fatalf("accepted title %q", form.Title)
		}
		if len(form.Phones)+len(form.Contacts)+len(form.Groups) == 0 {
			t.Fatal("accepted no recipients")
		}
		for _, p := range form.Phones {
			if !p.IsMobile() {
				t.Fatalf("accepted %q", p)
			}
		}
		for _, id := range form.Contacts {
			if id <= 0 {
				t.Fatalf("contact id %d", id)
			}
		}
		if form.Reserve && form.At.Before(fuzzNow.Add(minReserveLead)) {
			t.Fatalf("reservation %v too soon", form.At)
		}
	})
}

func FuzzContactForm(f *testing.F) {
	f.Add("name=%ED%99%8D%EA%B8%B8%EB%8F%99&phone=010-9927-1179&memo=db&group=ops&new_groups=a,b")
	f.Add("name=%3Cscript%3E&phone=%2B821099271179")
	f.Add("name=a%00b&phone=1")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		form, errs := decodeContactForm(v, fuzzTr)
		if len(errs) > 0 {
			return
		}
		if !form.Phone.IsMobile() || form.Name == "" || utf8.RuneCountInString(form.Name) > maxNameRunes ||
			!utf8.ValidString(form.Name) || utf8.RuneCountInString(form.Memo) > maxMemoRunes {
			t.Fatalf("accepted %+v", form)
		}
		for _, g := range form.Groups {
			if g == "" || strings.ContainsAny(g, ",\n") || utf8.RuneCountInString(g) > maxGroupRunes {
				t.Fatalf("accepted group %q", g)
			}
		}
	})
}

func FuzzTemplateForm(f *testing.F) {
	f.Add("name=a&text=b&title=c")
	f.Add("name=&text=%F0%9F%98%80")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		form, errs := decodeTemplateForm(v, fuzzTr)
		if len(errs) > 0 {
			return
		}
		if _, err := sms.DecideKind(form.Text, form.Title, "auto"); err != nil || form.Name == "" {
			t.Fatalf("accepted %+v: %v", form, err)
		}
	})
}

func FuzzSilenceForm(f *testing.F) {
	f.Add("check=httpd&for=4h&back=/checks")
	f.Add("check=httpd&host=web1&date=2026-11-25&time=18:00&comment=x&back=//evil")
	f.Add("for=-1h")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		form, errs := decodeSilenceForm(v, seoul(t), fuzzNow, fuzzTr)
		if !strings.HasPrefix(form.Back, "/") || strings.HasPrefix(form.Back, "//") {
			t.Fatalf("back %q leaves the site", form.Back)
		}
		if len(errs) == 0 && !form.Until.After(fuzzNow) {
			t.Fatalf("accepted until %v", form.Until)
		}
	})
}

func FuzzHistoryQuery(f *testing.F) {
	f.Add("phone=010-1234-5678&q=%EC%A0%90%EA%B2%80&status=failed&from=2026-11-01&to=2026-11-25&before=100")
	f.Add("before=-1&status=x&from=2026-13-45")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		h, _ := decodeHistoryQuery(v, seoul(t), fuzzTr)
		if h.Filter.Limit != historyPerPage+1 || h.Filter.BeforeID < 0 {
			t.Fatalf("filter %+v", h.Filter)
		}
		if h.Filter.Phone != "" {
			if p, err := sms.ParsePhone(string(h.Filter.Phone)); err != nil || p != h.Filter.Phone {
				t.Fatalf("phone %q", h.Filter.Phone)
			}
		}
		if h.Filter.Status != "" && !strings.Contains("queued sending sent reserved delivered failed canceled", string(h.Filter.Status)) {
			t.Fatalf("status %q", h.Filter.Status)
		}
		if _, err := url.ParseQuery(h.values().Encode()); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzUserForm(f *testing.F) {
	f.Add("name=kim&role=admin&password=0123456789ab&password2=0123456789ab")
	f.Add("name=a+b&role=root&password=x&password2=y")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		form, errs := decodeUserForm(v, true, fuzzTr)
		if len(errs) > 0 {
			return
		}
		if !auth.ValidRole(form.Role) || auth.CheckPasswordPolicy(form.Password) != nil || form.Name == "" || strings.ContainsAny(form.Name, " /\\:") {
			t.Fatalf("accepted %+v", form)
		}
	})
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/history?q=x", "//evil.example", "/\\evil", "https://evil", "javascript:x", "/a\r\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeNext(s)
		u, err := url.Parse(got)
		if err != nil || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n") ||
			u.Host != "" || u.Scheme != "" {
			t.Fatalf("safeNext(%q) = %q", s, got)
		}
	})
}
