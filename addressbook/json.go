package addressbook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ParseJSON reads a JSON address book. It accepts what munja exports and
// every shape a PHP json_encode of a contact list produces:
//
//	[{"name":"홍길동","phone":"010-1234-5678"}, …]        a list of objects
//	{"0":{"name":…,"phone":…},"2":{…}}                    a list with holes (unset())
//	{"홍길동":"01012345678", …}                            a map name → phone
//	{"홍길동":{"phone":…,"memo":…}, …}                     a map name → object
//	[["홍길동","01012345678"], …]                          a list of pairs
//	{"contacts":[…]}                                      any of these under one key
//
// Keys may be English or Korean ("이름", "전화번호", "tel", "number",
// "mobile", …); a phone may be a string or a number (a leading 0 lost to a
// PHP int is put back). Text is UTF-8, with or without BOM. The error is
// for a file that is not JSON or not a list of contacts at all; rows that
// cannot be read are in Result.Errors.
func ParseJSON(data []byte) (Result, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	c := newCollector()
	if err := parseJSONValue(data, c, true); err != nil {
		return Result{}, err
	}
	return c.res, nil
}

func newDecoder(data []byte) *json.Decoder {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d
}

// parseJSONValue reads a top-level list or map; unwrap allows one level of
// {"key": list} wrapping.
func parseJSONValue(data []byte, c *collector, unwrap bool) error {
	dec := newDecoder(data)
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not JSON: %w", syntaxErr(err))
	}
	switch tok {
	case json.Delim('['):
		for row := 1; dec.More(); row++ {
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return fmt.Errorf("not JSON: %w", syntaxErr(err))
			}
			if !c.add(rowFromJSON(row, "", v)) {
				return nil
			}
		}
	case json.Delim('{'):
		var keys []string
		var vals []json.RawMessage
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return fmt.Errorf("not JSON: %w", syntaxErr(err))
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return fmt.Errorf("not JSON: %w", syntaxErr(err))
			}
			keys = append(keys, kt.(string))
			vals = append(vals, v)
			if len(keys) > MaxRows {
				// Report the overflow and stop reading.
				for i := range keys {
					if !c.add(rowFromJSON(i+1, keys[i], vals[i])) {
						break
					}
				}
				return nil
			}
		}
		if unwrap && len(keys) == 1 && firstByte(vals[0]) == '[' {
			return parseJSONValue(vals[0], c, false)
		}
		if singleContact(keys, vals) {
			// {"name":…,"phone":…}: one contact on its own.
			c.add(rowFromJSON(1, "", data))
			return nil
		}
		for i := range keys {
			if !c.add(rowFromJSON(i+1, keys[i], vals[i])) {
				return nil
			}
		}
	default:
		return errors.New("not an address book: expected a JSON list or object of contacts")
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("not JSON: %w", syntaxErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("not JSON: unexpected data after the address book")
	}
	return nil
}

func syntaxErr(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func firstByte(v json.RawMessage) byte {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return 0
	}
	return v[0]
}

// singleContact reports whether an object's own keys name a phone field
// with a scalar value: the object is one contact, not a map of contacts.
func singleContact(keys []string, vals []json.RawMessage) bool {
	for i, k := range keys {
		if keyKind(k) == fieldPhone {
			switch firstByte(vals[i]) {
			case '{', '[':
			default:
				return true
			}
		}
	}
	return false
}

// indexKey reports whether a map key is a PHP array index, not a name (a
// phone number used as key is longer).
func indexKey(k string) bool {
	k = strings.TrimSpace(k)
	return isDigits(k) && len(k) <= 7
}

// rowFromJSON turns one list element or map entry into a raw row.
func rowFromJSON(row int, key string, v json.RawMessage) raw {
	r := raw{row: row, key: key}
	if key != "" && !indexKey(key) {
		r.name = key
	}
	dec := newDecoder(v)
	var val any
	if err := dec.Decode(&val); err != nil {
		r.notContactWhat = "unreadable value"
		return r
	}
	switch x := val.(type) {
	case string:
		r.phone = x
		return swapIfPhoneKey(r)
	case json.Number:
		r.phone, r.phoneIsNumber = numberText(x), true
		return swapIfPhoneKey(r)
	case []any:
		return pairRow(r, x)
	case map[string]any:
		return objectRow(r, x)
	case nil:
		r.notContactWhat = "null"
	default:
		r.notContactWhat = fmt.Sprintf("a %s is not a contact", jsonType(val))
	}
	return r
}

// swapIfPhoneKey handles a map phone → name ({"01012345678":"홍길동"}).
func swapIfPhoneKey(r raw) raw {
	if r.name == "" {
		return r
	}
	if _, err := parsePhone(strings.TrimSpace(r.phone), r.phoneIsNumber); err == nil {
		return r
	}
	if p, err := parsePhone(strings.TrimSpace(r.name), false); err == nil && p.IsMobile() {
		r.name, r.phone, r.phoneIsNumber = r.phone, r.name, false
	}
	return r
}

// pairRow reads ["name","phone"] (either order) or ["phone"].
func pairRow(r raw, list []any) raw {
	var texts []string
	var nums []bool
	for _, e := range list {
		s, num, ok := scalarText(e)
		if !ok {
			r.notContactWhat = "a list inside a list is not a contact"
			return r
		}
		texts = append(texts, s)
		nums = append(nums, num)
	}
	switch len(texts) {
	case 1:
		r.phone, r.phoneIsNumber = texts[0], nums[0]
	case 2, 3, 4:
		pi := 1
		if _, err := parsePhone(strings.TrimSpace(texts[0]), nums[0]); err == nil {
			pi = 0
		}
		r.phone, r.phoneIsNumber = texts[pi], nums[pi]
		r.name = texts[1-pi]
		if len(texts) > 2 {
			r.memo = texts[2]
		}
		if len(texts) > 3 {
			r.groups = splitGroups(texts[3])
		}
	default:
		r.notContactWhat = fmt.Sprintf("a list of %d values is not a contact", len(texts))
	}
	return r
}

func objectRow(r raw, m map[string]any) raw {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	type cand struct {
		text   string
		number bool
	}
	var phones []cand
	for _, k := range keys {
		v := m[k]
		switch keyKind(k) {
		case fieldName:
			if s, _, ok := scalarText(v); ok && strings.TrimSpace(s) != "" && (r.name == "" || r.name == r.key) {
				r.name = s
			}
		case fieldPhone:
			s, num, ok := scalarText(v)
			if !ok {
				r.notContactWhat = fmt.Sprintf("%q is a %s, not a phone number", k, jsonType(v))
				return r
			}
			phones = append(phones, cand{s, num})
		case fieldMemo:
			if s, _, ok := scalarText(v); ok && r.memo == "" {
				r.memo = s
			}
		case fieldGroups:
			switch g := v.(type) {
			case []any:
				for _, e := range g {
					if s, _, ok := scalarText(e); ok {
						r.groups = append(r.groups, s)
					}
				}
			default:
				if s, _, ok := scalarText(v); ok {
					r.groups = append(r.groups, splitGroups(s)...)
				}
			}
		}
	}
	if len(phones) == 0 {
		r.missingPhone = true
		return r
	}
	// Several phone keys ("tel" and "mobile"): the first mobile number wins,
	// else the first non-empty one.
	best := -1
	for i, c := range phones {
		if p, err := parsePhone(strings.TrimSpace(c.text), c.number); err == nil && p.IsMobile() {
			best = i
			break
		}
		if best < 0 && strings.TrimSpace(c.text) != "" {
			best = i
		}
	}
	if best < 0 {
		best = 0
	}
	r.phone, r.phoneIsNumber = phones[best].text, phones[best].number
	return r
}

// scalarText renders a JSON string, number or bool as text.
func scalarText(v any) (s string, number, ok bool) {
	switch x := v.(type) {
	case string:
		return x, false, true
	case json.Number:
		return numberText(x), true, true
	case bool:
		return strconv.FormatBool(x), false, true
	case nil:
		return "", false, true
	}
	return "", false, false
}

// numberText writes an integral JSON number in digits (1.012345678E+9 →
// 1012345678); anything else as written.
func numberText(n json.Number) string {
	s := n.String()
	if isDigits(s) {
		return s
	}
	f, err := n.Float64()
	if err == nil && f >= 0 && f < 1e15 && f == math.Trunc(f) {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return s
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	case nil:
		return "null"
	}
	return "value"
}

// jsonEntry is munja's JSON export row.
type jsonEntry struct {
	Name   string   `json:"name"`
	Phone  string   `json:"phone"`
	Memo   string   `json:"memo,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

// WriteJSON writes entries as a JSON list of {"name","phone","memo","groups"}
// with hyphenated phones; ParseJSON reads it back.
func WriteJSON(w io.Writer, entries []Entry) error {
	out := make([]jsonEntry, len(entries))
	for i, e := range entries {
		out[i] = jsonEntry{Name: e.Name, Phone: e.Phone.Display(), Memo: e.Memo, Groups: e.Groups}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
