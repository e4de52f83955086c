package web

import (
	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// An alert's text may carry a one-time ack link (server.public_url +
// /ack/TOKEN), and the token alone acknowledges. A caller that may not
// acknowledge (scope read) sees message texts with the token redacted.

// seesAckLinks reports whether c may see ack links: whoever may
// acknowledge through the API (scope send or above).
func seesAckLinks(c Caller) bool { return auth.Allows(c.Scope, auth.ScopeSend) }

// forCaller is m as c may see it.
func forCaller(c Caller, m messageJSON) messageJSON {
	if !seesAckLinks(c) {
		m.Text = alert.RedactAckLinks(m.Text)
	}
	return m
}

// hiddenFrom reports whether a history search must leave m out for c: it
// matched only through a token c may not see.
func hiddenFrom(c Caller, f store.MessageFilter, m *sms.Message) bool {
	return !seesAckLinks(c) && alert.FoundOnlyInAckLink(m.Text, m.Title, f.Text)
}
