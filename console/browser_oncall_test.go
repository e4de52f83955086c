package console

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/munja-sms/munja/auth"
)

// TestBrowserOnCallOverride: an operator opens /oncall in Chromium, adds
// an override through the form (picking a member, dates and times in the
// date and time inputs) and sees the person as on call now, in today's
// box of the calendar marked 대체, and in the list of overrides.
func TestBrowserOnCallOverride(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	h := newHarness(t, harnessOpts{oncall: true, now: func() time.Time { return oncallNow }})
	h.addUser("lee", auth.RoleOperator, adminPW)
	b := &browser{t: t, ctx: ctx, url: h.srv.URL}
	b.login("lee", adminPW)
	b.open("/oncall")
	b.waitText("#oncall-ops .oncall-now .who", oncallDayA)
	b.checkKorean("/oncall")
	form := "#override-form-ops "
	b.do("fill the override form",
		chromedp.SetValue(chromedp.CSS(form+".override-member"), oncallDayB),
		chromedp.SetValue(chromedp.CSS(form+".override-from-date"), "2026-12-09"),
		chromedp.SetValue(chromedp.CSS(form+".override-from-time"), "09:30"),
		chromedp.SetValue(chromedp.CSS(form+".override-to-date"), "2026-12-11"),
		chromedp.SetValue(chromedp.CSS(form+".override-to-time"), "09:00"),
		chromedp.SendKeys(chromedp.CSS(form+`input[name="note"]`), "병원 진료"),
		chromedp.Click(chromedp.CSS(form+".override-submit")),
		chromedp.WaitVisible(chromedp.CSS("#flash")),
	)
	b.waitText("#flash", "대체 근무를 추가했습니다")
	b.waitText("#oncall-ops .oncall-now .who", oncallDayB)
	b.waitText("#oncall-ops .oncall-now .who", "대체 근무")
	b.waitText("#oncall-ops .cal-day.today", "대체 "+oncallDayB)
	b.waitText("#oncall-ops table.overrides", "병원 진료")
	// The next day is covered too, the one after is back to the rotation.
	days, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#oncall-ops .cal-day")].map(d => d.textContent.replace(/\s+/g, " ")).join("\n")`))
	if err != nil {
		t.Fatal(err)
	}
	var thu, fri string
	for _, d := range strings.Split(days, "\n") {
		switch {
		case strings.Contains(d, "12/10"):
			thu = d
		case strings.Contains(d, "12/11"):
			fri = d
		}
	}
	if !strings.Contains(thu, "대체 "+oncallDayB) || strings.Contains(thu, oncallNight) {
		t.Errorf("12/10 in the calendar: %q", thu)
	}
	if !strings.Contains(fri, oncallDayA) {
		t.Errorf("12/11 in the calendar: %q", fri)
	}
	b.checkKorean("/oncall after an override")
	b.open("/")
	b.waitText("#oncall-card", oncallDayB)
}
