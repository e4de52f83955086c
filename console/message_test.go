package console

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// storeMessage stores a message to n recipients (010-5555-0000 …) and
// gives them the statuses of status (index i gets status(i)), as a
// gateway and its reports would have.
func storeMessage(t *testing.T, h *harness, test bool, n int, status func(i int) sms.Status) *sms.Message {
	t.Helper()
	m := &sms.Message{Text: "[공지] 정기 점검", Kind: sms.KindSMS, Test: test, Source: "console", CreatedBy: "kim"}
	for i := range n {
		m.Deliveries = append(m.Deliveries, sms.Delivery{Phone: sms.Phone(fmt.Sprintf("0105555%04d", i))})
	}
	if err := h.st.CreateMessage(h.ctx, m); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var ups []store.DeliveryUpdate
	var reports []int
	for i, d := range m.Deliveries {
		st := status(i)
		u := store.DeliveryUpdate{ID: d.ID, Status: st, Provider: "aligo", ProviderMsgID: "991", SentAt: now}
		switch st {
		case sms.StatusDelivered, sms.StatusFailed:
			u.Status = sms.StatusSent // the report comes after the send
			reports = append(reports, i)
		case sms.StatusQueued:
			continue
		}
		ups = append(ups, u)
	}
	if err := h.st.CompleteDeliveries(h.ctx, ups); err != nil {
		t.Fatal(err)
	}
	for _, i := range reports {
		st, detail := status(i), ""
		if st == sms.StatusFailed {
			detail = "취소"
		}
		if err := h.st.RecordReport(h.ctx, m.Deliveries[i].ID, st, detail, now); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// TestTestSendShownAsTest: a test send the gateway accepted shows 테스트
// (not 실패) even when a report said it was not delivered.
func TestTestSendShownAsTest(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("kim", auth.RoleAdmin, adminPW)
	c := h.client()
	c.login("kim", adminPW)
	m := storeMessage(t, h, true, 2, func(i int) sms.Status { return []sms.Status{sms.StatusFailed, sms.StatusSent}[i] })
	page := c.get("/messages/"+strconv.FormatInt(m.ID, 10)).mustStatus(t, http.StatusOK)
	page.mustContain(t, `id="message-status">테스트`, `class="status st-test" href="/messages/`+strconv.FormatInt(m.ID, 10)+`?status=test">테스트 2`,
		`id="test-note"`)
	for _, bad := range []string{"st-failed", "실패", "취소"} {
		if strings.Contains(page.body, bad) {
			t.Errorf("message page shows %q for a test send", bad)
		}
	}
	hist := c.get("/history").mustStatus(t, http.StatusOK).mustContain(t, `<span class="status st-test">테스트 2</span>`)
	if strings.Contains(hist.body, "st-failed") {
		t.Error("history shows the test send as failed")
	}

	// A test send the gateway refused (no message id) did fail.
	refused := &sms.Message{Text: "x", Kind: sms.KindSMS, Test: true, Source: "console", Deliveries: []sms.Delivery{{Phone: "01055550000"}}}
	if err := h.st.CreateMessage(h.ctx, refused); err != nil {
		t.Fatal(err)
	}
	if err := h.st.CompleteDeliveries(h.ctx, []store.DeliveryUpdate{{ID: refused.Deliveries[0].ID, Status: sms.StatusFailed, Error: "발신번호 미등록"}}); err != nil {
		t.Fatal(err)
	}
	c.get("/messages/"+strconv.FormatInt(refused.ID, 10)).mustStatus(t, http.StatusOK).mustContain(t, `id="message-status">실패`, "발신번호 미등록")
}

// TestMessagePaged: 1,500 recipients are listed 100 a page with the counts
// by status on top; every recipient delivered makes the message delivered.
func TestMessagePaged(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("kim", auth.RoleAdmin, adminPW)
	c := h.client()
	c.login("kim", adminPW)
	m := storeMessage(t, h, false, 1500, func(i int) sms.Status {
		switch {
		case i < 1400:
			return sms.StatusDelivered
		case i < 1450:
			return sms.StatusSent
		}
		return sms.StatusFailed
	})
	base := "/messages/" + strconv.FormatInt(m.ID, 10)
	rows := func(r *resp) int { return strings.Count(r.body, `<tr class="delivery">`) }

	p1 := c.get(base).mustStatus(t, http.StatusOK).mustContain(t, "1500명", "수신 완료 1,400", "발송됨 50", "실패 50",
		`id="message-status">일부 실패`, "1 / 15쪽", `href="`+base+`?page=2" id="next-page"`, "010-5555-0000", "010-5555-0099")
	if n := rows(p1); n != 100 {
		t.Errorf("page 1 lists %d recipients, want 100", n)
	}
	if strings.Contains(p1.body, "010-5555-0100") || strings.Contains(p1.body, `id="prev-page"`) {
		t.Error("page 1 shows page 2's recipient or a previous link")
	}
	last := c.get(base+"?page=15").mustStatus(t, http.StatusOK).mustContain(t, "15 / 15쪽", "010-5555-1499", `id="prev-page"`)
	if rows(last) != 100 || strings.Contains(last.body, `id="next-page"`) {
		t.Errorf("last page: %d rows or a next link", rows(last))
	}
	c.get(base+"?page=99").mustStatus(t, http.StatusOK).mustContain(t, "15 / 15쪽")

	failed := c.get(base+"?status=failed").mustStatus(t, http.StatusOK).mustContain(t, "010-5555-1450", "취소", `id="all-recipients"`)
	if rows(failed) != 50 || strings.Contains(failed.body, `id="delivery-pager"`) {
		t.Errorf("failed filter: %d rows, want 50 on one page", rows(failed))
	}

	all := storeMessage(t, h, false, 3, func(int) sms.Status { return sms.StatusDelivered })
	c.get("/messages/"+strconv.FormatInt(all.ID, 10)).mustStatus(t, http.StatusOK).mustContain(t, `id="message-status">수신 완료`)
}
