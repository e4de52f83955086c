package addressbook

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/munja-sms/munja/sms"
)

type want struct {
	name, phone, memo string
	groups            []string
}

func check(t *testing.T, res Result, entries []want, errRows []int) {
	t.Helper()
	if len(res.Entries) != len(entries) {
		t.Fatalf("got %d entries %+v (errors %v), want %d", len(res.Entries), res.Entries, res.Errors, len(entries))
	}
	for i, w := range entries {
		e := res.Entries[i]
		if e.Name != w.name || string(e.Phone) != w.phone || e.Memo != w.memo || !reflect.DeepEqual(e.Groups, w.groups) {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
	}
	var rows []int
	for _, e := range res.Errors {
		rows = append(rows, e.Row)
	}
	if !reflect.DeepEqual(rows, errRows) {
		t.Errorf("error rows %v (%v), want %v", rows, res.Errors, errRows)
	}
}

func TestParseJSONShapes(t *testing.T) {
	hong := want{name: "홍길동", phone: "01099271179"}
	kim := want{name: "김철수", phone: "01012345678"}
	cases := []struct {
		name    string
		in      string
		entries []want
		errRows []int
	}{
		{"list of objects", `[{"name":"홍길동","phone":"01099271179"},{"name":"김철수","phone":"010-1234-5678"}]`, []want{hong, kim}, nil},
		{"PHP escaped unicode", `[{"name":"\ud64d\uae38\ub3d9","phone":"01099271179"}]`, []want{hong}, nil},
		{"BOM", "\uFEFF" + `[{"name":"홍길동","phone":"01099271179"}]`, []want{hong}, nil},
		{"map name to phone", `{"홍길동":"01099271179","김철수":"010 1234 5678"}`, []want{hong, kim}, nil},
		{"map name to number", `{"홍길동":1099271179}`, []want{hong}, nil},
		{"map phone to name", `{"01099271179":"홍길동"}`, []want{hong}, nil},
		{"map of index to object", `{"0":{"name":"홍길동","phone":"01099271179"},"3":{"name":"김철수","phone":"01012345678"}}`, []want{hong, kim}, nil},
		{"map name to object", `{"홍길동":{"phone":"01099271179","memo":"서버"}}`, []want{{name: "홍길동", phone: "01099271179", memo: "서버"}}, nil},
		{"korean keys", `[{"이름":"홍길동","전화번호":"+82 10-9927-1179"}]`, []want{hong}, nil},
		{"tel number mobile keys", `[{"name":"홍길동","tel":"01099271179"},{"Name":"김철수","NUMBER":"01012345678"},{"name":"x","mobile":"01022223333"}]`,
			[]want{hong, kim, {name: "x", phone: "01022223333"}}, nil},
		{"phone as number", `[{"name":"홍길동","phone":1099271179},{"name":"김철수","phone":1.012345678E+9}]`, []want{hong, kim}, nil},
		{"pairs", `[["홍길동","01099271179"],["01012345678","김철수"]]`, []want{hong, kim}, nil},
		{"bare phones", `["01099271179"]`, []want{{name: "010-9927-1179", phone: "01099271179"}}, nil},
		{"wrapped", `{"contacts":[{"name":"홍길동","phone":"01099271179"}]}`, []want{hong}, nil},
		{"single object", `{"name":"홍길동","phone":"01099271179"}`, []want{hong}, nil},
		{"groups list and string", `[{"name":"홍길동","phone":"01099271179","groups":["ops","dev"]},{"name":"김철수","phone":"01012345678","group":"ops, db"}]`,
			[]want{{name: "홍길동", phone: "01099271179", groups: []string{"ops", "dev"}}, {name: "김철수", phone: "01012345678", groups: []string{"ops", "db"}}}, nil},
		{"bad rows reported", `[{"name":"a","phone":"12"},{"name":"b"},null,{"name":"홍길동","phone":"01099271179"},{"name":"c","phone":"021234567"},{"name":"d","phone":"010-9927-1179"},{"name":"e","phone":{"x":1}}]`,
			[]want{hong}, []int{1, 2, 3, 5, 6, 7}},
		{"prefers mobile of two phone keys", `[{"name":"홍길동","tel":"02-123-4567","mobile":"01099271179"}]`, []want{hong}, nil},
		{"empty list", `[]`, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := ParseJSON([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			check(t, res, c.entries, c.errRows)
		})
	}
}

func TestParseJSONErrorCodes(t *testing.T) {
	res, err := ParseJSON([]byte(`[{"name":"a","phone":"12"},{"name":"b"},{"name":"c","phone":"021234567"},{"name":"d","phone":"01099271179"},{"name":"e","phone":"010-9927-1179"}]`))
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, e := range res.Errors {
		codes = append(codes, e.Code)
	}
	if want := []string{CodeBadPhone, CodeNoPhone, CodeNotMobile, CodeDuplicate}; !reflect.DeepEqual(codes, want) {
		t.Fatalf("codes %v, want %v", codes, want)
	}
	if msg := res.Errors[3].Error(); !strings.Contains(msg, "row 5") || !strings.Contains(msg, "row 4") {
		t.Fatalf("duplicate message %q should name both rows", msg)
	}
}

func TestParseJSONRefusesNonAddressBooks(t *testing.T) {
	for _, in := range []string{``, `{`, `"x"`, `42`, `[1,2`, `[] []`, `nul`} {
		if _, err := ParseJSON([]byte(in)); err == nil {
			t.Errorf("ParseJSON(%q): no error", in)
		}
	}
}

func TestOriginalFiles(t *testing.T) {
	data, err := os.ReadFile("testdata/address_book.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := ParseJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	check(t, res, []want{{name: "홍길동", phone: "01099271179"}, {name: "김철수", phone: "01012345678"}, {name: "이영희", phone: "01056781234"}}, nil)

	data, err = os.ReadFile("testdata/address_book_edited.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err = ParseJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	check(t, res, []want{{name: "홍길동", phone: "01099271179"}, {name: "이영희", phone: "01056781234"}, {name: "최지우", phone: "01022223333"}}, []int{3, 5})
	if res.Errors[0].Key != "3" || res.Errors[1].Key != "6" {
		t.Fatalf("keys of bad rows: %+v", res.Errors)
	}
}

func TestParseCSV(t *testing.T) {
	hong := want{name: "홍길동", phone: "01099271179"}
	kim := want{name: "김철수", phone: "01012345678"}
	cases := []struct {
		name    string
		in      string
		entries []want
		errRows []int
	}{
		{"header english", "name,phone,memo\n홍길동,010-9927-1179,db\n", []want{{name: "홍길동", phone: "01099271179", memo: "db"}}, nil},
		{"header reordered", "전화번호,이름\n01099271179,홍길동\n", []want{hong}, nil},
		{"no header", "홍길동,01099271179\n김철수,010-1234-5678\n", []want{hong, kim}, nil},
		{"no header phone first", "01099271179,홍길동\n", []want{hong}, nil},
		{"semicolon", "이름;전화번호\n홍길동;01099271179\n", []want{hong}, nil},
		{"tab", "이름\t휴대폰\n홍길동\t01099271179\n", []want{hong}, nil},
		{"excel dropped zero", "홍길동,1099271179\n", []want{hong}, nil},
		{"quoted", "이름,전화번호,메모\n\"홍, 길동\",\"010-9927-1179\",\"a \"\"b\"\"\"\n", []want{{name: "홍, 길동", phone: "01099271179", memo: `a "b"`}}, nil},
		{"blank lines and bad rows", "이름,전화번호\n\n홍길동,01099271179\n김철수,12\n,\n이영희,\n", []want{hong}, []int{4, 6}},
		{"formula guard removed", "이름,전화번호\n'=cmd,01099271179\n", []want{{name: "=cmd", phone: "01099271179"}}, nil},
		{"utf16", string([]byte{0xFF, 0xFE, 'a', 0, ',', 0, '0', 0, '1', 0, '0', 0, '9', 0, '9', 0, '2', 0, '7', 0, '1', 0, '1', 0, '7', 0, '9', 0}),
			[]want{{name: "a", phone: "01099271179"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := ParseCSV([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			check(t, res, c.entries, c.errRows)
		})
	}
}

func TestParseCSVExcelFiles(t *testing.T) {
	for _, f := range []struct {
		file    string
		entries []want
	}{
		{"testdata/excel_utf8.csv", []want{{name: "홍길동", phone: "01099271179", memo: "서버 담당", groups: []string{"ops", "dev"}}, {name: "김철수", phone: "01012345678", groups: []string{"ops"}}}},
		{"testdata/excel_cp949.csv", []want{{name: "홍길동", phone: "01099271179"}, {name: "김철수", phone: "01012345678"}}},
	} {
		data, err := os.ReadFile(f.file)
		if err != nil {
			t.Fatal(err)
		}
		res, err := ParseCSV(data)
		if err != nil {
			t.Fatalf("%s: %v", f.file, err)
		}
		check(t, res, f.entries, nil)
	}
}

func TestParseCSVRefusesBinary(t *testing.T) {
	if _, err := ParseCSV([]byte{0x80, 0xFF, 0xFE, 0x00, 0x81}); err == nil {
		t.Fatal("binary accepted as CSV")
	}
}

func TestTooManyRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("이름,전화번호\n")
	for i := 0; i < MaxRows+10; i++ {
		b.WriteString("x,010")
		b.WriteString(strings.Repeat("0", 4))
		n := []byte("0000")
		v := i
		for j := 3; j >= 0; j-- {
			n[j] = byte('0' + v%10)
			v /= 10
		}
		b.Write(n)
		b.WriteString("\n")
	}
	res, err := ParseCSV([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	last := res.Errors[len(res.Errors)-1]
	if last.Code != CodeTooMany {
		t.Fatalf("last error %+v, want too_many", last)
	}
}

func TestRoundTrip(t *testing.T) {
	entries := []Entry{
		{Name: "홍길동", Phone: "01099271179", Memo: "서버, \"DB\" 담당", Groups: []string{"dev", "ops"}},
		{Name: "=HYPERLINK(\"x\")", Phone: "01012345678"},
		{Name: "Kim", Phone: "01056781234", Memo: "-1"},
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, entries); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "'=HYPERLINK") || !strings.Contains(b.String(), "010-9927-1179") {
		t.Fatalf("CSV export:\n%s", b.String())
	}
	res, err := ParseCSV(b.Bytes())
	if err != nil || len(res.Errors) > 0 || !reflect.DeepEqual(res.Entries, entries) {
		t.Fatalf("CSV round trip: %v %v\n%+v", err, res.Errors, res.Entries)
	}
	b.Reset()
	if err := WriteJSON(&b, entries); err != nil {
		t.Fatal(err)
	}
	res, err = ParseJSON(b.Bytes())
	if err != nil || len(res.Errors) > 0 || !reflect.DeepEqual(res.Entries, entries) {
		t.Fatalf("JSON round trip: %v %v\n%+v", err, res.Errors, res.Entries)
	}
}

// validEntries checks the invariants every parse result keeps.
func validEntries(t *testing.T, res Result) {
	t.Helper()
	seen := map[sms.Phone]bool{}
	for _, e := range res.Entries {
		p, err := sms.ParsePhone(string(e.Phone))
		if err != nil || p != e.Phone || !p.IsMobile() {
			t.Fatalf("entry with bad phone %q", e.Phone)
		}
		if seen[e.Phone] {
			t.Fatalf("duplicate phone %q", e.Phone)
		}
		seen[e.Phone] = true
		if e.Name == "" || strings.TrimSpace(e.Name) != e.Name {
			t.Fatalf("bad name %q", e.Name)
		}
	}
	if len(res.Entries) > MaxRows {
		t.Fatalf("%d entries", len(res.Entries))
	}
}

// roundTrip checks that what was parsed survives export and import.
func roundTrip(t *testing.T, res Result) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteCSV(&b, res.Entries); err != nil {
		t.Fatal(err)
	}
	back, err := ParseCSV(b.Bytes())
	if err != nil || len(back.Errors) > 0 || !sameEntries(back.Entries, res.Entries) {
		t.Fatalf("CSV round trip: %v %v\n got %+v\nwant %+v", err, back.Errors, back.Entries, res.Entries)
	}
	b.Reset()
	if err := WriteJSON(&b, res.Entries); err != nil {
		t.Fatal(err)
	}
	back, err = ParseJSON(b.Bytes())
	if err != nil || len(back.Errors) > 0 || !sameEntries(back.Entries, res.Entries) {
		t.Fatalf("JSON round trip: %v %v\n got %+v\nwant %+v", err, back.Errors, back.Entries, res.Entries)
	}
}

func sameEntries(a, b []Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Phone != b[i].Phone || a[i].Memo != b[i].Memo || len(a[i].Groups) != len(b[i].Groups) {
			return false
		}
		for j := range a[i].Groups {
			if a[i].Groups[j] != b[i].Groups[j] {
				return false
			}
		}
	}
	return true
}

func FuzzParseJSON(f *testing.F) {
	for _, file := range []string{"testdata/address_book.json", "testdata/address_book_edited.json"} {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"홍길동":1099271179}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseJSON(data)
		if err != nil {
			return
		}
		validEntries(t, res)
		roundTrip(t, res)
	})
}

func FuzzParseCSV(f *testing.F) {
	for _, file := range []string{"testdata/excel_utf8.csv", "testdata/excel_cp949.csv"} {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("홍길동,01099271179\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseCSV(data)
		if err != nil {
			return
		}
		validEntries(t, res)
		roundTrip(t, res)
	})
}
