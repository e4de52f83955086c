package alimtalk

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
)

// kindOf is the Template.For a batch needs: the munja template it was
// written from, else what the alert engine made it for. "" means none:
// a message typed in the console, sent through the API or the CLI.
func kindOf(b provider.Batch) string {
	if name := strings.TrimSpace(b.Template); name != "" {
		return forTemplate + name
	}
	switch b.Source {
	case "alert":
		// The engine's Actor is "alert:" + its reason (first, repeat,
		// resolved, escalation, flapping), "agent:HOST:" + it for one
		// agent's alerts; selfwatch says a gateway works again with
		// "gateway-up:NAME".
		if b.Actor == "alert:resolved" || strings.HasPrefix(b.Actor, "gateway-up:") ||
			strings.HasPrefix(b.Actor, "agent:") && strings.HasSuffix(b.Actor, ":resolved") {
			return ForResolved
		}
		return ForAlert
	case "alertmanager":
		// Alertmanager and Grafana webhooks: one message may hold firing
		// and resolved alerts together, so it goes as an alert.
		return ForAlert
	}
	return ""
}

// message is a batch rendered through its approved template.
type message struct {
	tpl  Template
	text string // the Alimtalk message: content with every #{variable} filled
}

// render picks the template for b and fills it. A batch it has no
// template for, or whose rendering Kakao would refuse, is a Skip error:
// the next provider sends it as SMS.
func (c *Client) render(b provider.Batch) (message, error) {
	kind := kindOf(b)
	tpl, ok := c.templates[kind]
	if !ok {
		return message{}, c.skip(kind)
	}
	var missing string
	text := placeholder().ReplaceAllStringFunc(tpl.Content, func(m string) string {
		name := m[2 : len(m)-1]
		switch v := tpl.Variables[name]; {
		case v == "text":
			return b.Text
		case v == "title":
			if strings.TrimSpace(b.Title) == "" && missing == "" {
				missing = name
			}
			return b.Title
		case strings.HasPrefix(v, "="):
			return v[1:]
		}
		return m // parseTemplate refuses a placeholder without a variable
	})
	if missing != "" {
		return message{}, c.skipReason(
			fmt.Sprintf("템플릿 %s의 #{%s}에 들어갈 제목이 없습니다", tpl.Code, missing),
			fmt.Sprintf("template %s needs a title for #{%s} and the message has none", tpl.Code, missing))
	}
	if n := utf8.RuneCountInString(text); n > MaxChars {
		return message{}, c.skipReason(
			fmt.Sprintf("알림톡은 최대 %d자입니다 (템플릿 %s 적용 후 %d자)", MaxChars, tpl.Code, n),
			fmt.Sprintf("the message through template %s is %d characters; Kakao allows %d", tpl.Code, n, MaxChars))
	}
	return message{tpl: tpl, text: text}, nil
}

// failover is what Aligo sends by SMS/LMS when the Alimtalk cannot be
// delivered (failover=Y): the same text, and a title only for an LMS (the
// failover request has no type field: a title may make Aligo send an LMS,
// so a text that fits an SMS goes without one — UNCERTAIN how Aligo
// chooses the type; munja decides it by CP949 bytes, package sms).
func failover(b provider.Batch, m message) (kind sms.Kind, title string) {
	kind = sms.FitKind(b.Kind, sms.Len(m.text))
	if kind == sms.KindMMS {
		kind = sms.KindLMS // no image goes with an Alimtalk
	}
	if kind != sms.KindLMS {
		return sms.KindSMS, ""
	}
	title = strings.TrimSpace(b.Title)
	if title == "" {
		title = defaultTitle(m.tpl.For)
	}
	return kind, sms.TruncateBytes(title, sms.MaxTitleBytes)
}

// defaultTitle is the subject of a message without a title.
func defaultTitle(kind string) string {
	switch kind {
	case ForAlert:
		return "서버 알림"
	case ForResolved:
		return "서버 복구"
	}
	return strings.TrimPrefix(kind, forTemplate)
}
