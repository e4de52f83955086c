package template

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	stdtemplate "text/template"
	"time"
)

// The types whose methods a template may call here, and every method of
// theirs: text/template's reflect.Value.MethodByName must find the same.
func TestMethodsComplete(t *testing.T) {
	when := time.Date(2026, 12, 7, 21, 5, 0, 0, time.FixedZone("KST", 9*3600))
	dur := 90 * time.Second
	values := []any{when, &when, dur, &dur, time.December, time.Monday, time.UTC}
	var all []string
	for _, v := range values {
		rt := reflect.TypeOf(v)
		for i := range rt.NumMethod() {
			all = append(all, rt.Method(i).Name)
		}
	}
	all = append(all, "Nope", "String2", "")
	for _, v := range values {
		rv := reflect.ValueOf(v)
		for _, name := range all {
			want := rv.MethodByName(name)
			got := methodByName(rv, name)
			if got.IsValid() != want.IsValid() {
				t.Errorf("%T.%s: found %v, text/template finds it: %v", v, name, got.IsValid(), want.IsValid())
				continue
			}
			if !want.IsValid() {
				continue
			}
			if got.Type() != want.Type() {
				t.Errorf("%T.%s: %v, want %v", v, name, got.Type(), want.Type())
				continue
			}
			if want.Type().NumIn() == 0 {
				g, w := got.Call(nil), want.Call(nil)
				for i := range w {
					if !reflect.DeepEqual(g[i].Interface(), w[i].Interface()) {
						t.Errorf("%T.%s() = %v, want %v", v, name, g[i], w[i])
					}
				}
			}
		}
	}
	// Other types: no methods, as for a type that has none.
	for _, v := range []any{errors.New("x"), &bytes.Buffer{}, time.Location{}, strings.NewReader("x")} {
		rv := reflect.ValueOf(v)
		for i := range rv.Type().NumMethod() {
			if name := rv.Type().Method(i).Name; methodByName(rv, name).IsValid() {
				t.Errorf("%T.%s found", v, name)
			}
		}
	}
	var nilTime *time.Time
	if methodByName(reflect.ValueOf(nilTime), "String").IsValid() {
		t.Error("(*time.Time)(nil).String found")
	}
}

// A check's data (a map of its fields, see check.templateData) gives the
// same text, and the same error, here as with text/template.
func TestSameAsTextTemplate(t *testing.T) {
	when := time.Date(2026, 12, 7, 21, 5, 0, 123456789, time.FixedZone("KST", 9*3600))
	data := map[string]any{
		"Name": "web-<1>", "Host": "host a&b", "Detail": "3 processes", "DetailKo": "프로세스 3개",
		"Count": 3, "Min": 1, "Max": 0, "PIDs": []int{10, 11, 12}, "NoPIDs": []int(nil),
		"UsedPercent": 97, "MaxUsedPercent": 90.0, "Free": uint64(1 << 30), "Load": 1.25,
		"TimedOut": false, "Output": "line1\nline2", "Latency": 1234567 * time.Microsecond,
		"Last": when, "Age": 90*time.Minute + 5*time.Second, "Zero": time.Time{},
		"Fn": func(n int) int { return n * 2 },
	}
	texts := []string{
		`{{.Name}} on {{.Host}}: {{.Detail}} / {{.DetailKo}}`,
		`{{.Age}} {{.Age.Seconds}} {{.Age.Minutes | printf "%.0f"}} {{.Age.Round 60000000000}} {{.Age.Truncate 3600000000000}}`,
		`{{.Age.String}} {{.Age.Abs}} {{.Age.Milliseconds}} {{.Age.Hours}}`,
		`{{printf "%.1f ms" .Latency.Seconds}} {{.Latency.Microseconds}}`,
		`{{.Last}} {{.Last.Format "2006-01-02 15:04"}} {{.Last.UTC}} {{.Last.UTC.Format "15:04:05.000"}}`,
		`{{.Last.Month}} {{.Last.Month.String}} {{.Last.Weekday}} {{.Last.Weekday.String}} {{.Last.Year}} {{.Last.YearDay}}`,
		`{{.Last.Location}} {{.Last.Location.String}} {{.Last.UTC.Location.String}} {{.Last.IsZero}} {{.Zero.IsZero}}`,
		`{{.Last.Unix}} {{.Last.UnixMilli}} {{.Last.Add .Age}} {{(.Last.Add .Age).Hour}} {{.Last.Sub .Zero}}`,
		`{{.Last.Before .Zero}} {{.Last.After .Zero}} {{.Last.Equal .Last}} {{.Last.Compare .Zero}}`,
		`{{.Last.MarshalJSON}} {{.Last.MarshalText}} {{printf "%s" .Last.AppendFormat}}`,
		`{{.Last.Clock}}`,
		`{{.Last.Nope}}`,
		`{{.Age.Nope}}`,
		`{{.Name.Nope}}`,
		`{{.Count.Nope}}`,
		`{{.PIDs.Nope}}`,
		`{{.Missing}}`,
		`{{.Missing.Deeper}}`,
		`{{.Last.Round}}`,
		`{{.Last.Format 3}}`,
		`{{if gt .Count 2}}many{{else if eq .Count 1}}one{{else}}few{{end}} {{if not .TimedOut}}ran{{end}}`,
		`{{range .PIDs}}{{.}},{{end}} {{range $i, $p := .PIDs}}{{$i}}:{{$p}} {{end}} {{range .NoPIDs}}x{{else}}none{{end}}`,
		`{{range $k, $v := .}}{{$k}}={{printf "%v" $v}};{{end}}`,
		`{{range 3}}{{.}}{{end}} {{range .PIDs}}{{if eq . 11}}{{continue}}{{end}}{{if eq . 12}}{{break}}{{end}}{{.}}{{end}}`,
		`{{len .PIDs}} {{index .PIDs 1}} {{slice .Name 1 3}} {{index . "Name"}} {{len .}}`,
		`{{index .PIDs 9}}`,
		`{{html .Name}} {{js .Name}} {{urlquery .Host}} {{print .Free .Load}} {{println .Count}}`,
		`{{call .Fn 21}} {{and 1 0 2}} {{or 0 "" "x"}} {{not 0}} {{eq .Count 1 3}} {{ne .Min .Max}} {{le .Load 2.0}} {{ge .UsedPercent 97}}`,
		`{{eq .Name 3}}`,
		`{{lt .Count .Name}}`,
		`{{with .PIDs}}{{len .}}{{end}}{{with .NoPIDs}}x{{else with .Name}}{{.}}{{end}}`,
		`{{define "t"}}[{{.}}]{{end}}{{template "t" .Count}}{{block "b" .Host}}<{{.}}>{{end}}`,
		`{{$x := .Count}}{{$x = 5}}{{$x}} {{- " trimmed " -}} x`,
		`{{.Output | printf "%q"}} {{.UsedPercent | printf "%d%%"}} {{.MaxUsedPercent}}`,
		`{{nosuchfunc .Name}}`,
		`{{.Name`,
		`{{template "nope"}}`,
		`{{call .Name}}`,
	}
	for _, opt := range []string{"missingkey=error", "missingkey=default", "missingkey=zero"} {
		for _, text := range texts {
			want, wantErr := runStd(opt, text, data)
			got, gotErr := run(opt, text, data)
			if got != want || gotErr != wantErr {
				t.Errorf("%s %q:\n got %q, error %q\nwant %q, error %q", opt, text, got, gotErr, want, wantErr)
			}
		}
	}
}

func run(opt, text string, data any) (string, string) {
	tpl, err := New("message").Option(opt).Parse(text)
	return execute(tpl, err, data)
}

func runStd(opt, text string, data any) (string, string) {
	tpl, err := stdtemplate.New("message").Option(opt).Parse(text)
	return execute(tpl, err, data)
}

// execute runs a template that parsed (err nil): its output and error
// text.
func execute(tpl interface{ Execute(io.Writer, any) error }, err error, data any) (string, string) {
	if err != nil {
		return "", "parse: " + err.Error()
	}
	var b strings.Builder
	if err := tpl.Execute(&b, data); err != nil {
		return b.String(), err.Error()
	}
	return b.String(), ""
}

type withMethod struct{ N int }

func (w withMethod) Double() int { return 2 * w.N }

// The one difference: a method of another type is not called (the check
// messages' data holds none). A field of a struct still is read.
func TestOtherMethodsNotCalled(t *testing.T) {
	data := map[string]any{"W": withMethod{N: 2}}
	if got, err := runStd("missingkey=error", `{{.W.Double}}`, data); got != "4" || err != "" {
		t.Fatalf("text/template: %q %q", got, err)
	}
	got, err := run("missingkey=error", `{{.W.Double}}`, data)
	if want := "can't evaluate field Double in type"; !strings.Contains(err, want) {
		t.Errorf("got %q, error %q; want an error containing %q", got, err, want)
	}
	if got, err := run("missingkey=error", `{{.W.N}}`, data); got != "2" || err != "" {
		t.Errorf("field: %q %q", got, err)
	}
}
