package console

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/sms"
)

// TestBrowserMessagesLayout opens the send confirmation, a 1,500-recipient
// message, a test send, the history and the status columns of the
// dashboard and checks page in Chromium at 390 and 1280 px: nothing
// scrolls sideways, the message is paged with its counts on top, a test
// send reads 테스트, the history's text column keeps a readable width,
// and no status label wraps.
func TestBrowserMessagesLayout(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	h := newHarness(t, harnessOpts{engine: true})
	h.addUser("kim", auth.RoleAdmin, adminPW)
	big := storeMessage(t, h, false, 1500, func(i int) sms.Status {
		if i < 1490 {
			return sms.StatusDelivered
		}
		return sms.StatusFailed
	})
	test := storeMessage(t, h, true, 1, func(int) sms.Status { return sms.StatusFailed })
	b := &browser{t: t, ctx: ctx, url: h.srv.URL}
	b.login("kim", adminPW)
	bigURL := "/messages/" + strconv.FormatInt(big.ID, 10)

	for _, w := range []int64{390, 1280} {
		t.Run(strconv.FormatInt(w, 10), func(t *testing.T) {
			b.t = t
			b.do("viewport", chromedp.EmulateViewport(w, 900))
			noSideways := func(page string) {
				t.Helper()
				if sw := b.evalNum("page width", `document.documentElement.scrollWidth`); sw > float64(w) {
					wide, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > innerWidth && !e.closest(".table-wrap") && e.children.length == 0).slice(0, 8).map(e => e.tagName + "." + e.className + "#" + e.id + " " + Math.round(e.getBoundingClientRect().right) + " " + (e.textContent || "").slice(0, 30)).join(" | ")`))
					t.Errorf("%s is %.0f px wide in a %d px window: %s", page, sw, w, wide)
				}
			}
			oneLine := func(page, sel string) {
				t.Helper()
				js := fmt.Sprintf(`Math.max(0, ...[...document.querySelectorAll(%q)].map(e => e.getClientRects().length))`, sel)
				if n := b.evalNum(sel, js); n > 1 {
					t.Errorf("%s: a %s label wraps over %.0f lines", page, sel, n)
				}
				js = fmt.Sprintf(`Math.max(0, ...[...document.querySelectorAll(%q)].map(e => e.getBoundingClientRect().height))`, sel)
				if hgt := b.evalNum(sel, js); hgt > 30 {
					t.Errorf("%s: a %s label is %.0f px high", page, sel, hgt)
				}
			}

			// A send to one number is confirmed with its summary.
			b.open("/send")
			b.do("compose", chromedp.SendKeys(chromedp.CSS("#to"), "010-1234-5678"),
				chromedp.SendKeys(chromedp.CSS("#text"), "오늘 22시부터 서버 점검이 있습니다."),
				chromedp.Click(chromedp.CSS("#send-button")), chromedp.WaitVisible(chromedp.CSS("#confirm")))
			b.waitText("#confirm-count", "1명 · 문자 1건")
			b.waitText("#confirm-kind", "SMS")
			b.waitText("#confirm-test", "아니오")
			noSideways("the confirmation")

			b.open(bigURL)
			b.waitText("#message-counts", "수신 완료 1,490")
			b.waitText("#message-counts", "실패 10")
			b.waitText("#message-status", "일부 실패")
			b.waitText("#delivery-pager", "1 / 15쪽")
			if n := b.evalNum("rows", `document.querySelectorAll("#deliveries tr.delivery").length`); n != 100 {
				t.Errorf("%.0f recipients on a page, want 100", n)
			}
			// 100 recipients a page: stacked on a phone, rows on a desktop.
			if hgt := b.evalNum("page height", `document.documentElement.scrollHeight`); hgt > float64(20000-12*w) {
				t.Errorf("the message page is %.0f px high", hgt)
			}
			noSideways("the message page")
			oneLine("the message page", ".status")
			b.do("next page", chromedp.Click(chromedp.CSS("#next-page")), chromedp.WaitVisible(chromedp.CSS("#prev-page")))
			b.waitText("#delivery-pager", "2 / 15쪽")
			b.waitText("#deliveries", "010-5555-0100")

			b.open("/messages/" + strconv.FormatInt(test.ID, 10))
			b.waitText("#message-status", "테스트")
			b.waitText("#deliveries", "테스트")
			if n := b.evalNum("red", `document.querySelectorAll(".st-failed").length`); n != 0 {
				t.Errorf("the test send shows %.0f failed labels", n)
			}

			b.open("/history")
			b.waitText("#history", "[공지] 정기 점검")
			noSideways("the history")
			if cw := b.evalNum("text cell", `document.querySelector("#history tbody tr td:nth-child(3)").getBoundingClientRect().width`); cw < float64(min(w, 600))*0.6 && w < 600 {
				t.Errorf("the history's text is %.0f px wide in a %d px window", cw, w)
			}
			oneLine("the history", ".status")

			for _, page := range []string{"/", "/checks"} {
				b.open(page)
				noSideways(page)
				oneLine(page, ".state")
			}
		})
	}
}
