package console

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/sms"
)

// Form decoders are pure functions of the posted values (fuzzed in
// forms_fuzz_test.go). They return the decoded form and, per field, a
// message already translated with tr.

// trFunc translates a catalog key with arguments.
type trFunc func(key string, args ...any) string

// phoneErr is the form error for a number that cannot be read, with the
// parser's reason in the form's language (the catalog's "lang" says which).
func phoneErr(tr trFunc, pe *sms.PhoneError) string {
	return tr("err.phone", shorten(pe.Input, 30), inLang(tr("lang"), pe.Reason, pe.ReasonKo))
}

// formErrs maps a form field to what is wrong with it.
type formErrs map[string]string

func (e formErrs) set(field, msg string) {
	if _, ok := e[field]; !ok {
		e[field] = msg
	}
}

// Limits of form fields.
const (
	maxNameRunes   = 100
	maxMemoRunes   = 1000
	maxGroupRunes  = 50
	maxTypedTo     = 64 << 10 // bytes of typed recipients
	maxPicked      = 10000    // contacts picked in one send
	maxPickedGroup = 200
	maxTextBytes   = 16 << 10 // raw text accepted before counting
	minReserveLead = 10 * time.Minute
)

// maxTemplateName is the longest munja template name the send form
// carries (a longer one is not a template's: it is dropped).
const maxTemplateName = 100

// cleanLine trims s and refuses control characters and invalid UTF-8.
func cleanLine(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", false
		}
	}
	return s, true
}

// line reads a one-line field of at most maxRunes characters.
func line(v url.Values, field string, maxRunes int, required bool, errs formErrs, tr trFunc) string {
	s, ok := cleanLine(v.Get(field))
	switch {
	case !ok:
		errs.set(field, tr("err.bad_chars"))
	case required && s == "":
		errs.set(field, tr("err.required"))
	case utf8.RuneCountInString(s) > maxRunes:
		errs.set(field, tr("err.too_long", maxRunes))
	}
	return s
}

// charErr says which character CP949 cannot carry.
func charErr(tr trFunc, err error) string {
	var ce *sms.CharError
	if errors.As(err, &ce) {
		if ce.Char == utf8.RuneError {
			return tr("err.char_invalid", ce.Pos)
		}
		return tr("err.char", string(ce.Char), fmt.Sprintf("U+%04X", ce.Char), ce.Pos)
	}
	return err.Error()
}

func (c *Console) charErr(lang string, err error) string {
	return charErr(func(k string, a ...any) string { return c.tf(lang, k, a...) }, err)
}

// textErr is sms.CheckText's refusal in the user's language: a control
// or invisible character by its position and code point (never the
// character itself), one CP949 lacks by charErr.
func textErr(tr trFunc, s string, err error) string {
	var fe *sms.FieldError
	if errors.As(err, &fe) {
		pos := 0
		for _, r := range s {
			pos++
			if sms.Invisible(r) {
				return tr("err.char_control", pos, fmt.Sprintf("U+%04X", r))
			}
		}
	}
	return charErr(tr, err)
}

// messageText checks a text and a title the way the outbox will.
func messageText(v url.Values, errs formErrs, tr trFunc) (text, title string) {
	text = sms.NormalizeNewlines(v.Get("text"))
	title = strings.TrimSpace(sms.NormalizeNewlines(v.Get("title")))
	switch n, err := sms.CheckText("text", text); {
	case len(text) > maxTextBytes:
		errs.set("text", tr("err.text_long", thousands(sms.MaxLMSBytes)))
	case err != nil:
		errs.set("text", textErr(tr, text, err))
	case strings.TrimSpace(text) == "":
		errs.set("text", tr("err.text_empty"))
	case n > sms.MaxLMSBytes:
		errs.set("text", tr("err.text_bytes", thousands(n), thousands(sms.MaxLMSBytes)))
	}
	switch n, err := sms.CheckText("title", title); {
	case len(title) > 1024:
		errs.set("title", tr("err.title_bytes", len(title), sms.MaxTitleBytes))
	case err != nil:
		errs.set("title", textErr(tr, title, err))
	case n > sms.MaxTitleBytes:
		errs.set("title", tr("err.title_bytes", n, sms.MaxTitleBytes))
	case strings.Contains(title, "\n"):
		errs.set("title", tr("err.bad_chars"))
	}
	return text, title
}

// sendForm is the send page's form.
type sendForm struct {
	To        string      // typed numbers, as typed
	Phones    []sms.Phone // the typed numbers, parsed
	Contacts  []int64
	Groups    []string
	Text      string
	Title     string
	Sender    string
	Test      bool
	Reserve   bool
	Date      string // 예약 date, YYYY-MM-DD
	Time      string // 예약 time, HH:MM
	At        time.Time
	Confirmed int  // recipient count shown on the confirm page; 0 = not confirmed
	Edit      bool // back from the confirm page to the form
	// Template is the name of the munja template last put into the text
	// ("" = none); Kakao asks to send it as Kakao Alimtalk through the
	// approved template a provider has for it (SMS/LMS failover).
	Template string
	Kakao    bool
}

// decodeSendForm reads the send form posted at now (in loc).
func decodeSendForm(v url.Values, loc *time.Location, now time.Time, tr trFunc) (sendForm, formErrs) {
	errs := formErrs{}
	f := sendForm{To: v.Get("to"), Sender: strings.TrimSpace(v.Get("sender")),
		Test: v.Get("test") != "", Reserve: v.Get("reserve") != "", Edit: v.Get("edit") != "",
		Date: strings.TrimSpace(v.Get("date")), Time: strings.TrimSpace(v.Get("time")), Kakao: v.Get("kakao") != ""}
	if name, ok := cleanLine(v.Get("template")); ok && utf8.RuneCountInString(name) <= maxTemplateName {
		f.Template = name
	}
	f.Text, f.Title = messageText(v, errs, tr)
	if len(f.To) > maxTypedTo {
		errs.set("to", tr("err.too_long", maxTypedTo))
		f.To = ""
	}
	phones, bad := sms.ParsePhones([]string{f.To})
	for _, err := range bad {
		var pe *sms.PhoneError
		if errors.As(err, &pe) {
			errs.set("to", phoneErr(tr, pe))
		}
	}
	for _, p := range phones {
		if !p.IsMobile() {
			errs.set("to", tr("err.not_mobile", p.Display()))
		}
	}
	f.Phones = phones
	if ids := v["contact"]; len(ids) > maxPicked {
		errs.set("to", tr("err.too_many", maxPicked))
	} else {
		for _, s := range ids {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil || id <= 0 {
				errs.set("to", tr("err.bad_value"))
				continue
			}
			f.Contacts = append(f.Contacts, id)
		}
	}
	if gs := v["group"]; len(gs) > maxPickedGroup {
		errs.set("to", tr("err.too_many", maxPickedGroup))
	} else {
		for _, g := range gs {
			if g, ok := cleanLine(g); ok && g != "" && utf8.RuneCountInString(g) <= maxGroupRunes {
				f.Groups = append(f.Groups, g)
			} else {
				errs.set("to", tr("err.bad_value"))
			}
		}
	}
	if len(f.Phones) == 0 && len(f.Contacts) == 0 && len(f.Groups) == 0 {
		errs.set("to", tr("err.no_recipients"))
	}
	if f.Reserve {
		at, err := time.ParseInLocation("2006-01-02 15:04", f.Date+" "+f.Time, loc)
		earliest := now.Add(minReserveLead)
		switch {
		case err != nil:
			errs.set("at", tr("err.at_format"))
		case at.Before(earliest):
			errs.set("at", tr("err.at_soon", int(minReserveLead.Minutes()), earliest.In(loc).Add(time.Minute-1).Truncate(time.Minute).Format(timeLayout)))
		case at.After(now.AddDate(1, 0, 0)):
			errs.set("at", tr("err.at_far"))
		default:
			f.At = at
		}
	}
	if s := v.Get("confirmed"); s != "" {
		n, err := strconv.Atoi(s)
		if err == nil && n > 0 {
			f.Confirmed = n
		}
	}
	return f, errs
}

func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// contactForm is a contact's edit form.
type contactForm struct {
	Name, PhoneText, Memo string
	Phone                 sms.Phone
	Groups                []string
}

func decodeContactForm(v url.Values, tr trFunc) (contactForm, formErrs) {
	errs := formErrs{}
	f := contactForm{PhoneText: strings.TrimSpace(v.Get("phone"))}
	f.Name = line(v, "name", maxNameRunes, true, errs, tr)
	memo := strings.TrimSpace(sms.NormalizeNewlines(v.Get("memo")))
	if !utf8.ValidString(memo) {
		errs.set("memo", tr("err.bad_chars"))
	} else if utf8.RuneCountInString(memo) > maxMemoRunes {
		errs.set("memo", tr("err.too_long", maxMemoRunes))
	}
	f.Memo = memo
	if f.PhoneText == "" {
		errs.set("phone", tr("err.required"))
	} else if p, err := sms.ParsePhone(f.PhoneText); err != nil {
		var pe *sms.PhoneError
		if errors.As(err, &pe) {
			errs.set("phone", phoneErr(tr, pe))
		}
	} else if !p.IsMobile() {
		errs.set("phone", tr("err.not_mobile", p.Display()))
	} else {
		f.Phone = p
	}
	groups := append([]string(nil), v["group"]...)
	groups = append(groups, strings.Split(v.Get("new_groups"), ",")...)
	if len(groups) > maxPickedGroup {
		errs.set("groups", tr("err.too_many", maxPickedGroup))
		groups = nil
	}
	seen := map[string]bool{}
	for _, g := range groups {
		g, ok := cleanLine(g)
		switch {
		case !ok || strings.Contains(g, ","): // a comma separates new_groups: no group has one
			errs.set("groups", tr("err.bad_chars"))
		case g == "" || seen[g]:
		case utf8.RuneCountInString(g) > maxGroupRunes:
			errs.set("groups", tr("err.too_long", maxGroupRunes))
		default:
			seen[g] = true
			f.Groups = append(f.Groups, g)
		}
	}
	return f, errs
}

// templateForm is a message template's edit form.
type templateForm struct{ Name, Title, Text string }

func decodeTemplateForm(v url.Values, tr trFunc) (templateForm, formErrs) {
	errs := formErrs{}
	f := templateForm{Name: line(v, "name", maxNameRunes, true, errs, tr)}
	f.Text, f.Title = messageText(v, errs, tr)
	return f, errs
}

// silenceForm silences a check (or everything) until a time.
type silenceForm struct {
	Check, Host, Comment string
	Until                time.Time
	Back                 string // page to return to
}

func decodeSilenceForm(v url.Values, loc *time.Location, now time.Time, tr trFunc) (silenceForm, formErrs) {
	errs := formErrs{}
	f := silenceForm{Back: safeNext(v.Get("back"))}
	f.Check = line(v, "check", 200, false, errs, tr)
	f.Host = line(v, "host", 200, false, errs, tr)
	f.Comment = line(v, "comment", 200, false, errs, tr)
	if d := v.Get("for"); d != "" {
		dur, err := time.ParseDuration(d)
		if err != nil || dur < time.Minute || dur > 90*24*time.Hour {
			errs.set("until", tr("err.bad_value"))
		} else {
			f.Until = now.Add(dur)
		}
		return f, errs
	}
	date, clock := strings.TrimSpace(v.Get("date")), strings.TrimSpace(v.Get("time"))
	at, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, loc)
	switch {
	case err != nil:
		errs.set("until", tr("err.at_format"))
	case !at.After(now):
		errs.set("until", tr("err.until_past"))
	case at.After(now.AddDate(1, 0, 0)):
		errs.set("until", tr("err.at_far"))
	default:
		f.Until = at
	}
	return f, errs
}

// userForm adds a console user (or resets a password: Name unused).
type userForm struct{ Name, Role, Password string }

func decodeUserForm(v url.Values, needName bool, tr trFunc) (userForm, formErrs) {
	errs := formErrs{}
	f := userForm{Role: v.Get("role"), Password: v.Get("password")}
	if needName {
		f.Name = line(v, "name", 64, true, errs, tr)
		if f.Name != "" && !auth.ValidUserName(f.Name) {
			errs.set("name", tr("err.user_name"))
		}
		if !auth.ValidRole(f.Role) {
			errs.set("role", tr("err.bad_value"))
		}
	}
	if err := auth.CheckPasswordPolicy(f.Password); err != nil {
		errs.set("password", tr("err.password_policy", auth.MinPasswordLen))
	} else if f.Password != v.Get("password2") {
		errs.set("password2", tr("err.password_mismatch"))
	}
	return f, errs
}

// limitErr explains an outbox refusal by sms.limits.
func limitErr(tr trFunc, le *outbox.LimitError) string {
	switch le.Limit {
	case "sms.limits.per_day":
		return tr("err.limit_day", le.Msg)
	case "sms.limits.per_recipient_per_hour":
		return tr("err.limit_recipient", le.Msg)
	}
	return le.Error()
}
