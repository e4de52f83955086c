package console

import "testing"

// TestAuditLabels: every audit actor, action, target and detail munja
// writes reads in Korean, English keeps the detail as stored, and an
// unknown form is shown as it is.
func TestAuditLabels(t *testing.T) {
	c := newHarness(t, harnessOpts{}).con
	for _, tc := range []struct{ fn, in, ko, en string }{
		{"actor", "user:kim", "사용자 kim", "user kim"},
		{"actor", "token:deploy", "토큰 deploy", "token deploy"},
		{"actor", "cli:root", "명령줄 (root)", ""},
		{"actor", "cli", "명령줄", ""},
		{"actor", "alert:first", "장애 알림 (최초 알림)", ""},
		{"actor", "agent:web01:resolved", "에이전트 web01 (복구)", "agent web01 (resolved)"},
		{"actor", "link:10.0.0.7", "확인 링크 10.0.0.7", ""},
		{"actor", "net:10.0.0.8", "허용 네트워크 10.0.0.8", ""},
		{"actor", "compat", "aligo_send.php 호환", ""},
		{"actor", "gateway-down:aligo", "게이트웨이 장애 감시 aligo", "gateway down watch aligo"},
		{"actor", "balance:aligo", "잔액 감시 aligo", ""},
		{"actor", "oncall:ops", "당직 교대 알림 ops", "on-call handoff ops"},
		{"actor", "someone", "someone", "someone"},
		{"action", "message.create", "문자 접수", "message accepted"},
		{"action", "oncall.override", "당직 대체 추가", "on-call override added"},
		{"action", "oncall.override_delete", "당직 대체 삭제", "on-call override removed"},
		{"action", "future.thing", "future.thing", "future.thing"},
		{"target", "oncall:ops", "당직 일정 ops", "on-call schedule ops"},
		{"detail", "김당직 from 2026-12-09T09:30:00+09:00 to 2026-12-10T09:00:00+09:00 id 4f2a9c",
			"김당직 2026-12-09T09:30:00+09:00 ~ 2026-12-10T09:00:00+09:00 (ID 4f2a9c)", ""},
		{"target", "message 12", "문자 12", "message 12"},
		{"target", "contact:3", "연락처 3", ""},
		{"target", "group:ops", "그룹 ops", ""},
		{"target", "httpd@mon01#3", "httpd@mon01#3", ""},
		{"detail", "LMS, 4 recipients, 1 over the hourly limit, test, at 2026-12-08 09:00, Kakao Alimtalk by template 점검",
			"LMS, 수신자 4명, 시간당 한도 초과 1명 제외, 테스트, 2026-12-08 09:00 예약, 카카오 알림톡 (템플릿 점검)",
			"LMS, 4 recipients, 1 over the hourly limit, test, at 2026-12-08 09:00, Kakao Alimtalk by template 점검"},
		{"detail", "SMS, 1 recipient", "SMS, 수신자 1명", "SMS, 1 recipient"},
		{"detail", `name="홍길동, 대리" phone=010-9927-1179 groups=ops,db`, `이름 "홍길동, 대리" 번호 010-9927-1179 그룹 ops,db`, ""},
		{"detail", "role operator", "역할 운영자", ""},
		{"detail", "viewer → operator", "조회자 → 운영자", ""},
		{"detail", "scope send", "권한 발송", ""},
		{"detail", "3 new, 1 updated, 0 skipped, 2 rows refused", "새로 3명, 갱신 1명, 건너뜀 0명, 거부된 행 2개", ""},
		{"detail", "until 2026-12-07 18:00 id 4f2a", "2026-12-07 18:00까지 (ID 4f2a)", ""},
		{"detail", "something new", "something new", "something new"},
	} {
		fn := map[string]func(lang, s string) string{"actor": c.actorLabel, "action": c.actionLabel,
			"target": c.targetLabel, "detail": c.auditDetail}[tc.fn]
		if got := fn(langKO, tc.in); got != tc.ko {
			t.Errorf("%s(ko, %q) = %q, want %q", tc.fn, tc.in, got, tc.ko)
		}
		if tc.en == "" {
			continue
		}
		if got := fn(langEN, tc.in); got != tc.en {
			t.Errorf("%s(en, %q) = %q, want %q", tc.fn, tc.in, got, tc.en)
		}
	}
}
