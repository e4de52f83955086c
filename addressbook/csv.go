package addressbook

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// ParseCSV reads a CSV address book: a header row naming the columns
// (이름/name, 전화번호/phone/tel/…, 메모/memo, 그룹/groups) or, without
// one, rows of name,phone[,memo[,groups]] (phone first works too). Comma,
// semicolon and tab separators are recognized. The text may be UTF-8 (with
// or without BOM), UTF-16 with BOM, or CP949 as Excel saves it on Korean
// Windows. An all-digit phone that lost its leading 0 in a spreadsheet gets
// it back. Row numbers in errors are line numbers in the file.
func ParseCSV(data []byte) (Result, error) {
	text, err := decodeText(data)
	if err != nil {
		return Result{}, err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = detectComma(text)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = false

	c := newCollector()
	var cols columns
	first := true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				c.fail(raw{row: pe.Line}, CodeBadRow, pe.Err.Error(), "")
				// encoding/csv cannot resume after a broken quote reliably.
				break
			}
			return Result{}, fmt.Errorf("read CSV: %w", err)
		}
		if blank(rec) {
			continue
		}
		if first {
			first = false
			if h, ok := headerColumns(rec); ok {
				cols = h
				continue
			}
			cols = guessColumns(rec)
		}
		if !c.add(cols.row(line, rec)) {
			break
		}
	}
	return c.res, nil
}

// decodeText turns the file into UTF-8.
func decodeText(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")):
		data = data[3:]
	case bytes.HasPrefix(data, []byte("\xFF\xFE")), bytes.HasPrefix(data, []byte("\xFE\xFF")):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		out, _, err := transform.Bytes(dec, data)
		if err != nil {
			return "", fmt.Errorf("read UTF-16 text: %w", err)
		}
		return string(out), nil
	}
	if utf8.Valid(data) {
		return string(data), nil
	}
	// Not UTF-8: Excel on Korean Windows saves CP949 (EUC-KR extended).
	out, _, err := transform.Bytes(korean.EUCKR.NewDecoder(), data)
	if err != nil {
		return "", fmt.Errorf("the file is neither UTF-8 nor CP949 text: %w", err)
	}
	if bytes.ContainsRune(out, utf8.RuneError) {
		return "", errors.New("the file is neither UTF-8 nor CP949 text (save it as \"CSV UTF-8\")")
	}
	return string(out), nil
}

// detectComma picks the separator that occurs most in the first line.
func detectComma(text string) rune {
	line, _, _ := strings.Cut(text, "\n")
	best, bestN := ',', strings.Count(line, ",")
	for _, sep := range []rune{'\t', ';'} {
		if n := strings.Count(line, string(sep)); n > bestN {
			best, bestN = sep, n
		}
	}
	return best
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// columns says which column holds what (-1 = none).
type columns struct{ name, phone, memo, groups int }

func headerColumns(rec []string) (columns, bool) {
	cols := columns{-1, -1, -1, -1}
	for i, h := range rec {
		switch keyKind(h) {
		case fieldName:
			if cols.name < 0 {
				cols.name = i
			}
		case fieldPhone:
			if cols.phone < 0 {
				cols.phone = i
			}
		case fieldMemo:
			if cols.memo < 0 {
				cols.memo = i
			}
		case fieldGroups:
			if cols.groups < 0 {
				cols.groups = i
			}
		}
	}
	return cols, cols.name >= 0 || cols.phone >= 0
}

// guessColumns handles a file without a header: name,phone,memo,groups,
// or phone first when the first cell is a number and the second is not.
func guessColumns(rec []string) columns {
	isPhone := func(i int) bool {
		if i >= len(rec) {
			return false
		}
		s := strings.TrimSpace(rec[i])
		_, err := parsePhone(s, isDigits(s))
		return err == nil
	}
	if isPhone(0) && !isPhone(1) {
		return columns{name: 1, phone: 0, memo: 2, groups: 3}
	}
	if len(rec) == 1 {
		return columns{name: -1, phone: 0, memo: -1, groups: -1}
	}
	return columns{name: 0, phone: 1, memo: 2, groups: 3}
}

func (c columns) row(line int, rec []string) raw {
	cell := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return rec[i]
	}
	r := raw{row: line, name: cell(c.name), memo: cell(c.memo), groups: splitGroups(cell(c.groups))}
	r.phone = strings.TrimSpace(cell(c.phone))
	r.phoneIsNumber = isDigits(r.phone)
	if c.phone < 0 {
		r.missingPhone = true
	}
	return r
}

// WriteCSV writes a UTF-8 CSV with BOM (so Excel shows Hangul) and the
// header 이름,전화번호,메모,그룹; phones hyphenated (Excel keeps them as
// text), groups joined by ";". A cell that a spreadsheet would run as a
// formula is prefixed with ' (ParseCSV removes it).
func WriteCSV(w io.Writer, entries []Entry) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write([]string{"이름", "전화번호", "메모", "그룹"}); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	for _, e := range entries {
		rec := []string{guardFormula(e.Name), e.Phone.Display(), guardFormula(e.Memo), guardFormula(strings.Join(e.Groups, ";"))}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

func guardFormula(s string) string {
	if s != "" && strings.ContainsRune(formulaStart, rune(s[0])) {
		return "'" + s
	}
	return s
}
