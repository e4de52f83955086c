package check

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"golang.org/x/sys/unix"
)

func TestValidateTemplates(t *testing.T) {
	tests := []struct {
		name     string
		message  string
		resolved string
		fields   map[string]any
		want     []string // error substrings, in order
	}{
		{"defaults", "", "", processFields, nil},
		{"common and type fields", "{{.Host}} {{.Name}} {{.Process}} {{.Count}}/{{.Min}} {{.Detail}}", "{{.Name}} ok", processFields, nil},
		{"typed comparison", "{{if gt .Count 3}}many{{end}}", "", processFields, nil},
		{"misspelt field", "{{.Proces}}", "", processFields, []string{`checks[0].message: template: message:1:2: executing "message" at <.Proces>: map has no entry for key "Proces"`}},
		{"field of another type", "", "{{.Port}}", processFields, []string{`checks[0].resolved: `}},
		{"parse error", "{{.Name", "", processFields, []string{`checks[0].message: template: message:1: unclosed action`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := ValidateTemplates(config.Check{Message: tt.message, Resolved: tt.resolved}, "checks[0]", tt.fields)
			if len(errs) != len(tt.want) {
				t.Fatalf("errors %v, want %d", errs, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %q, want %q in it", errs[i], w)
				}
			}
		})
	}
}

func TestTextsRuntimeFailureKeepsDefault(t *testing.T) {
	tx, err := NewTexts(config.Check{Name: "x", Message: "{{index .PIDs 5}}"}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	r := tx.Result(time.Now(), Outcome{Firing: "[경고] default", Resolved: "[복구] default", Fields: map[string]any{"PIDs": []int{1}}})
	if r.Firing != "[경고] default" || r.Resolved != "[복구] default" {
		t.Fatalf("a failing template must fall back to the default text: %+v", r)
	}
}

func TestTextsOKHasNoFiring(t *testing.T) {
	tx, _ := NewTexts(config.Check{Name: "x", Message: "down", Resolved: "up {{.Detail}}"}, Deps{})
	r := tx.Result(time.Now(), Outcome{OK: true, Detail: "fine", Firing: "f", Resolved: "r"})
	if r.Firing != "" || r.Resolved != "up fine" || !r.OK {
		t.Fatalf("%+v", r)
	}
}

func TestCannotCheckTexts(t *testing.T) {
	// A configured message describes the failure of what the check
	// watches; it must not turn a blind check into "httpd is down".
	tx, _ := NewTexts(config.Check{Name: "oom", Message: "{{.Name}} down", Resolved: "{{.Name}} up"}, Deps{})
	r := tx.Result(time.Now(), tx.CannotCheck(ReasonJournal, errors.New("journalctl: not found"), nil))
	if r.OK || !r.Unknown || r.Firing != "[경고] oom 점검 불가: 시스템 저널을 읽을 수 없습니다." ||
		r.Resolved != "[복구] oom 점검이 다시 동작합니다." || r.Detail != "cannot check: journalctl: not found" {
		t.Fatalf("%+v", r)
	}
	for _, tt := range []struct{ got, want string }{
		{CannotCheckText("app", ReasonLogMissing("/var/log/app.log")), "[경고] app 점검 불가: 로그 파일이 없습니다 (/var/log/app.log)."},
		{CannotCheckText("app", ReasonLogUnreadable("/var/log/app.log")), "[경고] app 점검 불가: 로그 파일을 읽을 수 없습니다 (/var/log/app.log)."},
		{CannotCheckText("job", ReasonCommandNotFound("pg_isready")), "[경고] job 점검 불가: 명령을 찾을 수 없습니다 (pg_isready)."},
		{CannotCheckText("mem", ReasonProc), "[경고] mem 점검 불가: /proc을 읽을 수 없습니다."},
		{CannotCheckText("mem", procReason(&pathError{"open", "/proc/meminfo", unix.EACCES})), "[경고] mem 점검 불가: 권한이 없습니다 (/proc/meminfo)."},
		{CannotCheckText("mem", procReason(&fs.PathError{Op: "open", Path: "/proc/1/stat", Err: unix.EPERM})), "[경고] mem 점검 불가: 권한이 없습니다 (/proc/1/stat)."},
		{CannotCheckText("mem", procReason(errors.New("malformed"))), "[경고] mem 점검 불가: /proc을 읽을 수 없습니다."},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{5 * time.Minute, "5m"}, {90 * time.Second, "1m30s"}, {time.Hour, "1h"}, {90 * time.Minute, "1h30m"},
		{48 * time.Hour, "2d"}, {25 * time.Hour, "25h"}, {300 * time.Millisecond, "300ms"}, {6*time.Minute + 400*time.Millisecond, "6m"},
	} {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
