package alimtalk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/provider/aligo"
	"github.com/munja-sms/munja/provider/internal/gateway"
)

// The Kakao API's answers are typed loosely (aligo-api.md §7): numbers may
// come as strings, the status as "code" or (heartinfo's table) as
// "result_code", counters at the top or under "list", and a PHP empty
// array ([]) where an object is expected. The types here accept all of it.

// flexNum decodes a number that may be a JSON number (3, 2.5), a numeric
// string ("3") or empty ("", null → 0). Fractions are cut (point balances).
type flexNum int64

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexNum) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = strings.TrimSpace(str)
	}
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexNum(n)
		return nil
	}
	fl, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(fl) || math.IsInf(fl, 0) || math.Abs(fl) > 1<<62 {
		return fmt.Errorf("alimtalk: %q is not a number", s)
	}
	*f = flexNum(int64(fl))
	return nil
}

// flexText decodes a text that may come as a string, a number or null.
type flexText string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexText(s)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		*f = "" // an object where a text was expected: no text
	default:
		*f = flexText(b) // a number or true/false, as written
	}
	return nil
}

// envelope is the status part of every answer.
type envelope struct {
	Code       *flexNum `json:"code"`
	ResultCode *flexNum `json:"result_code"`
	Message    flexText `json:"message"`
}

// status is the answer's code: "code", else "result_code" (heartinfo's
// spec table); false when neither came.
func (e envelope) status() (int64, bool) {
	switch {
	case e.Code != nil:
		return int64(*e.Code), true
	case e.ResultCode != nil:
		return int64(*e.ResultCode), true
	}
	return 0, false
}

// object decodes a JSON object into T, and anything else (a PHP empty
// array [], "", null, a number) into T's zero value.
type object[T any] struct{ V T }

// UnmarshalJSON implements json.Unmarshaler.
func (o *object[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		var zero T
		o.V = zero
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// rows decodes a JSON array of T, an object of T (a PHP array with keys,
// taken in key order), or anything else as no rows.
type rows[T any] []T

// UnmarshalJSON implements json.Unmarshaler.
func (r *rows[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '[':
		var out []T
		if err := json.Unmarshal(b, &out); err != nil {
			return err
		}
		*r = out
	case len(b) > 0 && b[0] == '{':
		var m map[string]T
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			x, errA := strconv.Atoi(a)
			y, errB := strconv.Atoi(b)
			if errA == nil && errB == nil {
				return x - y
			}
			return strings.Compare(a, b)
		})
		out := make([]T, 0, len(keys))
		for _, k := range keys {
			out = append(out, m[k])
		}
		*r = out
	default:
		*r = nil
	}
	return nil
}

type tokenResponse struct {
	envelope
	Token     string `json:"token"`
	URLEncode string `json:"urlencode"`
}

// sendResponse is /akv10/alimtalk/send/'s answer.
type sendResponse struct {
	envelope
	Info object[sendInfo] `json:"info"`
}

type sendInfo struct {
	Type string           `json:"type"` // AT
	MID  aligo.FlexString `json:"mid"`
	SCnt flexNum          `json:"scnt"`
	FCnt flexNum          `json:"fcnt"`
	// current, unit and total (points, floats) are not read.
}

// counts are heartinfo's counters.
type counts struct {
	SMS flexNum `json:"SMS_CNT"`
	LMS flexNum `json:"LMS_CNT"`
	MMS flexNum `json:"MMS_CNT"`
	ALT flexNum `json:"ALT_CNT"` // Alimtalk
}

func (c counts) nonzero() bool { return c.SMS != 0 || c.LMS != 0 || c.MMS != 0 || c.ALT != 0 }

// heartResponse is /akv10/heartinfo/'s answer: counters at the top (the
// spec's table) or under "list" (the spec's example).
type heartResponse struct {
	envelope
	counts
	List object[counts] `json:"list"`
}

// historyResponse is /akv10/history/list/'s answer.
type historyResponse struct {
	envelope
	List      rows[historyRow] `json:"list"`
	Current   flexNum          `json:"currentPage"`
	TotalPage flexNum          `json:"totalPage"`
	Total     flexNum          `json:"totalCount"`
}

type historyRow struct {
	MID          aligo.FlexString `json:"mid"`
	Type         flexText         `json:"type"`
	Sender       flexText         `json:"sender"`
	Count        flexNum          `json:"msg_count"`
	Body         flexText         `json:"mbody"`
	ReserveDate  flexText         `json:"reserve_date"`
	ReserveState flexText         `json:"reserve_state"`
	RegDate      flexText         `json:"regdate"`
	RegDate2     flexText         `json:"reg_date"` // the spec's example
}

// detailResponse is /akv10/history/detail/'s answer.
type detailResponse struct {
	envelope
	List      rows[detailRow] `json:"list"`
	Current   flexNum         `json:"currentPage"`
	TotalPage flexNum         `json:"totalPage"`
	Total     flexNum         `json:"totalCount"`
}

type detailRow struct {
	MsgID       flexText         `json:"msgid"` // Q… while in transit
	Type        flexText         `json:"type"`
	Sender      flexText         `json:"sender"`
	Phone       flexText         `json:"phone"`
	Status      flexText         `json:"status"` // 2: a number Kakao cannot recognise, 3: recognisable
	ReqDate     flexText         `json:"reqdate"`
	SentDate    flexText         `json:"sentdate"`
	RsltDate    flexText         `json:"rsltdate"`
	ReportDate  flexText         `json:"reportdate"`
	Rslt        flexText         `json:"rslt"`
	RsltMessage flexText         `json:"rslt_message"`
	Message     flexText         `json:"message"`
	TplCode     flexText         `json:"tpl_code"`
	SMID        aligo.FlexString `json:"smid"` // the failover SMS's mid; 0 = none
}

// kst is Korea Standard Time, the zone of Aligo's dates.
var kst = gateway.KST

// parseTime reads Aligo's dates (KST); "" or garbage gives the zero time.
func parseTime(s string) time.Time {
	return gateway.ParseKST(s, "2006-01-02 15:04:05", "2006-01-02 15:04", "20060102150405", "200601021504", "2006-01-02")
}
