package alert

import (
	"regexp"
	"strings"
)

// ackLinkToken matches "/ack/" and the token of a one-time ack link, as
// compose writes it into a message.
var ackLinkToken = regexp.MustCompile(`/ack/[A-Za-z0-9_-]+`)

// RedactAckLinks returns text with the token of every one-time ack link
// replaced by "…". The token alone acknowledges incidents, so a message's
// text is shown whole only to those allowed to acknowledge (console
// operators, API scope send); everyone else sees it redacted.
func RedactAckLinks(text string) string {
	if !strings.Contains(text, "/ack/") {
		return text
	}
	return ackLinkToken.ReplaceAllLiteralString(text, "/ack/…")
}

// FoundOnlyInAckLink reports whether a history search for q finds the
// message with this text and title only through an ack link's token (the
// stores search both, case-insensitively). Such a hit must be left out for
// whoever sees texts redacted: else they could guess the token a
// character at a time.
func FoundOnlyInAckLink(text, title, q string) bool {
	red := RedactAckLinks(text)
	if q == "" || red == text {
		return false
	}
	q = strings.ToLower(q)
	return strings.Contains(strings.ToLower(text), q) && !strings.Contains(strings.ToLower(red), q) &&
		!strings.Contains(strings.ToLower(title), q)
}
