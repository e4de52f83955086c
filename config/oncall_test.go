package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOncallSection: the section loads, validates and builds schedules
// that answer in the configured zone, with the company days off.
func TestOncallSection(t *testing.T) {
	c, err := Load("testdata/oncall.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("does not validate:\n%v", err)
	}
	o := c.Oncall
	if len(o.Schedules) != 2 || !o.Schedules[0].Notice() || o.Schedules[1].Notice() || o.Schedules[0].HandoffSummary ||
		o.Schedules[0].Layers[1].When.Days != "workdays" || o.Schedules[0].Layers[0].Start != "2026-12-07" || o.Schedules[1].Layers[0].Every.String() != "3d" {
		t.Fatalf("oncall = %+v", o)
	}
	scheds, err := c.OncallSchedules()
	if err != nil {
		t.Fatal(err)
	}
	kst := c.Location()
	for _, tc := range []struct {
		sched      int
		when, want string
	}{
		{0, "2026-12-08 10:00", "홍길동"},
		{0, "2026-12-08 18:00", "group:night"},
		{0, "2026-12-14 10:00", "김철수"},
		{0, "2026-12-31 10:00", "group:night"}, // days_off
		{0, "2027-01-04 10:00", "group:night"}, // days_off with a name
		{0, "2027-01-05 10:00", "김철수"},         // fifth turn: 홍길동, 김철수, 010…, 홍길동, 김철수
		{0, "2027-02-09 10:00", "group:night"}, // 대체공휴일(설날)
		{1, "2026-12-04 08:59", "홍길동"},
		{1, "2026-12-04 09:00", "김철수"},
	} {
		at, _ := time.ParseInLocation("2006-01-02 15:04", tc.when, kst)
		sh, ok := scheds[tc.sched].At(at)
		if !ok || sh.Member != tc.want {
			t.Errorf("%s %s: %q %v, want %q", scheds[tc.sched].Name, tc.when, sh.Member, ok, tc.want)
		}
	}
	if sh, _ := scheds[1].At(time.Date(2026, 12, 5, 0, 0, 0, 0, kst)); sh.Layer != "순번 1" {
		t.Errorf("default layer name %q", sh.Layer)
	}
	if name, ok := c.OncallHolidays().IsHoliday(time.Date(2027, 1, 4, 12, 0, 0, 0, kst)); !ok || name != "시무식" {
		t.Errorf("day off: %q %v", name, ok)
	}
}

// TestOncallProblems: every problem names its key, and `munja config
// check`'s path (LoadPartial + Problems) reports them with unknown keys.
func TestOncallProblems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "munja.yaml")
	os.WriteFile(path, []byte(`oncall:
  days_off: ["2026-13-01"]
  schedules:
    - name: ops
      layers:
        - members: [홍길동, "010-12"]
          rotation: weekly
          handoff: "mon 9:0"
          start: 2026-12-07
          when: {days: workday, hours: "09:00-25:00", dayz: x}
        - members: []
          rotation: every
          handoff: "mon 09:00"
          every: 3d
        - members: ["group:"]
          rotation: monthly
          handoff: "09:00"
          start: "12/07/2026"
          every: 2h
    - name: ops
    - name: "a b"
      layers:
        - members: [x]
          rotation: daily
          handoff: "09:00"
          start: 2026-12-07
`), 0o600)
	c, err := LoadPartial(path)
	if c == nil {
		t.Fatal(err)
	}
	text := c.Problems(err, c.Validate()).Error()
	for _, want := range []string{
		`unknown key "dayz"`,
		`oncall.days_off[0]: invalid day off "2026-13-01"`,
		`oncall.schedules[0].layers[0].members[1]: invalid phone number "010-12"`,
		`oncall.schedules[0].layers[0].handoff: invalid time "9:0"`,
		`oncall.schedules[0].layers[0].when.days: unknown days "workday"`,
		`oncall.schedules[0].layers[0].when.hours: invalid time "25:00"`,
		`oncall.schedules[0].layers[1].members: at least one member is required`,
		`oncall.schedules[0].layers[1].handoff: a weekday (mon 09:00) needs turns of whole weeks`,
		`oncall.schedules[0].layers[1].start: required`,
		`oncall.schedules[0].layers[2].members[0]: group name missing`,
		`oncall.schedules[0].layers[2].rotation: must be daily, weekly or every, not "monthly"`,
		`oncall.schedules[0].layers[2].start: invalid date "12/07/2026"`,
		`oncall.schedules[0].layers[2].every: only with rotation: every`,
		`oncall.schedules[1].name: duplicate "ops"`,
		`oncall.schedules[1].layers: at least one layer is required`,
		`oncall.schedules[2].name: invalid name "a b"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	if _, err := c.OncallSchedules(); err == nil {
		t.Error("OncallSchedules accepted it")
	}
}

// TestOncallExampleBlock: the commented oncall section of the documented
// example, uncommented, loads and validates.
func TestOncallExampleBlock(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var block []string
	in := false
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.HasPrefix(line, "# oncall:") {
			in = true
		}
		if in && !strings.HasPrefix(line, "#") {
			break
		}
		if in {
			block = append(block, strings.TrimPrefix(strings.TrimPrefix(line, "#"), " "))
		}
	}
	if len(block) < 10 {
		t.Fatalf("no oncall block in %s", examplePath)
	}
	c, err := Parse([]byte(strings.Join(block, "\n")), nil, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(block, "\n"))
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if s, err := c.OncallSchedules(); err != nil || len(s) != 1 || len(s[0].Layers) != 2 {
		t.Fatalf("%v %v", s, err)
	}
}
