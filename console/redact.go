package console

import (
	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// ackRole is the least role that may acknowledge an incident. An alert's
// text may carry a one-time ack link (server.public_url + /ack/TOKEN)
// whose token alone acknowledges, so users below this role see message
// texts with the token redacted.
const ackRole = roleOperator

// shown is m as q's user may see it.
func shown(q *request, m *sms.Message) *sms.Message {
	if q.User.can(ackRole) {
		return m
	}
	red := alert.RedactAckLinks(m.Text)
	if red == m.Text {
		return m
	}
	cp := *m
	cp.Text = red
	return &cp
}

// hiddenFrom reports whether a history search must leave m out for q's
// user: it matched only through a token the user may not see.
func hiddenFrom(q *request, f store.MessageFilter, m *sms.Message) bool {
	return !q.User.can(ackRole) && alert.FoundOnlyInAckLink(m.Text, m.Title, f.Text)
}
