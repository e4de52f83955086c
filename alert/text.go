package alert

import "fmt"

// flappingText is the one message sent when a check starts flapping.
func flappingText(check string) string {
	return fmt.Sprintf("[경고] %s 상태가 자주 바뀝니다 (플래핑)", check)
}

func firingText(inc *incident) string {
	if inc.Text != "" {
		return inc.Text
	}
	return fmt.Sprintf("[경고] %s 검사가 실패했습니다.", inc.Check)
}

func resolvedText(inc *incident) string {
	if inc.ResolvedText != "" {
		return inc.ResolvedText
	}
	return fmt.Sprintf("[복구] %s 검사가 정상으로 돌아왔습니다.", inc.Check)
}

func title(reason Reason, count int) string {
	word := "경고"
	if reason == ReasonResolved {
		word = "복구"
	}
	return fmt.Sprintf("[munja] %s %d건", word, count)
}
