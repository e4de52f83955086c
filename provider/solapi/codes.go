package solapi

import "strings"

// Message status codes (solapi/documents api-reference/message-status-codes):
// four digits; 1xxx = refused at registration, 2000 = accepted, 2xxx =
// failed inside the platform, 3000 = handed to the carrier (waiting for its
// report), 3xxx = failed at the carrier, 4000 = received by the handset.
const (
	codeAccepted  = "2000"
	codeAtCarrier = "3000"
	codeReceived  = "4000"
)

// scope says what a registration failure is about, which decides whether
// a batch that failed whole is an error (it fails over) or per-receiver
// failures (the receiver is the problem: another gateway cannot help).
type scope int

const (
	scopeReceiver scope = iota // this receiver: blocked, opted out, malformed, duplicate
	scopeRequest               // the message itself (type, title, length, characters): same for every receiver
	scopeAccount               // the account or sender: balance, unregistered sender, blocked account
	scopeRetry                 // Solapi's own server error: try again
)

type codeInfo struct {
	ko    string // Solapi's words from its status code table
	en    string
	scope scope
}

var statusCodes = map[string]codeInfo{
	"1010": {"필수 입력 값 미입력", "a required field is missing", scopeRequest},
	"1011": {"Format Error", "format error (receiver number?)", scopeReceiver},
	"1013": {"SMS에는 제목을 사용할 수 없음", "an SMS cannot have a title", scopeRequest},
	"1014": {"제목은 40byte까지 사용 가능", "the title is longer than 40 bytes", scopeRequest},
	"1020": {"등록된 계정이 아니거나 패스워드가 틀림", "unknown account or wrong credentials", scopeAccount},
	"1024": {"서버 오류", "Solapi server error", scopeRetry},
	"1025": {"잘못된 메시지 타입", "invalid message type", scopeRequest},
	"1026": {"중복 수신번호", "duplicate receiver number", scopeReceiver},
	"1027": {"인코딩 방식은 UTF8만 사용 가능", "the text must be UTF-8", scopeRequest},
	"1028": {"Non Printable Characters는 사용할 수 없음", "the text has non-printable characters", scopeRequest},
	"1029": {"EUC-KR(완성형 한글) 범위 밖의 문자", "the text has characters outside EUC-KR", scopeRequest},
	"1030": {"잔액 부족", "insufficient Solapi balance", scopeAccount},
	"1031": {"메시지 길이 초과 (SMS 90byte, LMS 2000byte)", "the text is too long for its type (SMS 90 bytes, LMS 2000 bytes)", scopeRequest},
	"1032": {"유효한 커스텀 필드 값이 아님", "invalid customFields", scopeRequest},
	"1034": {"imageId가 존재하지 않음", "imageId does not exist", scopeRequest},
	"1058": {"전송경로 없음", "no route to the receiver", scopeReceiver},
	"1060": {"차단된 수신번호", "the receiver number is blocked", scopeReceiver},
	"1061": {"080 무료수신거부", "the receiver opted out (080 수신거부)", scopeReceiver},
	"1062": {"발신번호 미등록", "the sender number is not registered in the Solapi console (발신번호 등록)", scopeAccount},
	"1064": {"KISA 신고로 인한 차단", "blocked after a KISA spam report", scopeAccount},
	"2011": {"Format Error", "format error", scopeReceiver},
	"2024": {"서버 오류", "Solapi server error", scopeRetry},
	"2060": {"차단된 수신번호", "the receiver number is blocked", scopeReceiver},
	"2061": {"080 무료수신거부", "the receiver opted out (080 수신거부)", scopeReceiver},
	"2062": {"발신번호 미등록", "the sender number is not registered in the Solapi console (발신번호 등록)", scopeAccount},
	"2063": {"차단된 계정", "the Solapi account is blocked", scopeAccount},
	"2064": {"KISA 신고로 인한 차단", "blocked after a KISA spam report", scopeAccount},
	"2230": {"잔액 부족", "insufficient Solapi balance", scopeAccount},
	"2254": {"플랫폼 내부 스팸처리", "treated as spam by Solapi", scopeReceiver},
	"3000": {"이통사로 접수 (리포트 대기)", "handed to the carrier, waiting for its report", scopeReceiver},
	"3010": {"수신번호 형식 오류", "invalid receiver number", scopeReceiver},
	"3011": {"Format Error", "format error", scopeReceiver},
	"3012": {"연동처 서버 오류", "carrier server error", scopeReceiver},
	"3013": {"발신번호 형식 오류 (세칙 위반)", "invalid sender number format", scopeReceiver},
	"3014": {"알 수 없는 메시지 상태", "unknown message state", scopeReceiver},
	"3024": {"서버 오류", "server error", scopeReceiver},
	"3031": {"전송할 수 없음", "cannot be sent", scopeReceiver},
	"3032": {"미가입자", "not a subscriber", scopeReceiver},
	"3040": {"전송시간 초과", "delivery timed out", scopeReceiver},
	"3041": {"단말기 busy", "handset busy", scopeReceiver},
	"3042": {"음영지역", "no coverage", scopeReceiver},
	"3043": {"단말기 Power off", "handset switched off", scopeReceiver},
	"3044": {"단말기 메시지 저장갯수 초과", "handset message storage full", scopeReceiver},
	"3045": {"단말기 일시 서비스 정지", "handset service suspended", scopeReceiver},
	"3046": {"기타 단말기 문제", "other handset problem", scopeReceiver},
	"3047": {"착신거절", "refused by the receiver", scopeReceiver},
	"3048": {"Unknown Code", "unknown code", scopeReceiver},
	"3050": {"SMS서비스 불가 단말기", "handset cannot receive SMS", scopeReceiver},
	"3051": {"착신측의 호불가 상태", "receiver cannot be reached", scopeReceiver},
	"3052": {"이통사 서버 운영자 삭제", "deleted by the carrier", scopeReceiver},
	"3053": {"서버 메시지 Que Full", "carrier queue full", scopeReceiver},
	"3054": {"SPAM", "spam", scopeReceiver},
	"3055": {"SPAM, nospam.or.kr 에 등록된 번호", "spam (number on nospam.or.kr)", scopeReceiver},
	"3056": {"전송실패 (무선망단)", "delivery failed (wireless network)", scopeReceiver},
	"3057": {"전송실패 (무선망->단말기단)", "delivery failed (network to handset)", scopeReceiver},
	"3058": {"전송경로 없음", "no route", scopeReceiver},
	"3059": {"변작된 발신번호", "spoofed sender number", scopeReceiver},
	"3060": {"성인 인증 실패", "adult verification failed", scopeReceiver},
	"4000": {"수신 완료", "received", scopeReceiver},
}

// describe is a status code with Solapi's words for it, and the message
// that came with it if it says more: "1062 발신번호 미등록".
func describe(code, msg string) string {
	code, msg = strings.TrimSpace(code), strings.TrimSpace(msg)
	out := code
	if ci, ok := statusCodes[code]; ok {
		out += " " + ci.ko
		if msg != "" && !strings.Contains(msg, ci.ko) {
			out += " (" + msg + ")"
		}
	} else if msg != "" {
		out += " " + msg
	}
	return strings.TrimSpace(out)
}

// codeScope is the scope of a registration failure; an unknown 1xxx/2xxx
// code is taken as the receiver's, so that it fails alone.
func codeScope(code string) scope {
	if ci, ok := statusCodes[strings.TrimSpace(code)]; ok {
		return ci.scope
	}
	return scopeReceiver
}

// delivery classifies a message's status code for delivery reports:
// 4000 delivered; 1xxx, 2xxx and 3xxx other than 2000 and 3000 failed;
// anything else (2000, 3000, empty, a test code, an unknown form) pending.
func delivery(code string) (delivered, failed bool) {
	code = strings.TrimSpace(code)
	switch {
	case code == codeReceived:
		return true, false
	case code == codeAccepted || code == codeAtCarrier:
		return false, false
	case len(code) == 4 && strings.IndexByte("123", code[0]) >= 0 && strings.Trim(code, "0123456789") == "":
		return false, true
	}
	return false, false
}
