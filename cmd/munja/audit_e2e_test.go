package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

// TestCLIAudited: `munja send`, `munja user add` and `munja token create`
// are in the audit log as cli:USER (the OS user), with the message's ID
// and recipient count but not its text.
func TestCLIAudited(t *testing.T) {
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, "")
	run := func(stdin string, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, munjaBinary(t), append([]string{"--config", cfg}, args...)...)
		cmd.Env = append(os.Environ(), "TEST_ALIGO_KEY="+fake.Key, "USER=auditor")
		cmd.Stdin = strings.NewReader(stdin)
		if r := runCmd(t, cmd); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, r.code, r.stdout, r.stderr)
		}
	}
	run("", "send", "--to", "010-1234-5678,01098765432", "[경고] 비밀 hunter2")
	run("correct horse battery\ncorrect horse battery\n", "user", "add", "kim", "--role", "admin")
	run("", "token", "create", "deploy", "--scope", "send")

	st, err := sqlite.Open(context.Background(), filepath.Join(filepath.Dir(cfg), "munja.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	es, err := st.FindAudit(context.Background(), store.AuditQuery{Actor: "cli:auditor"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Action+" "+e.Target+" "+e.Detail)
		if strings.Contains(e.Detail+e.Target, "hunter2") {
			t.Errorf("the text is in the audit log: %+v", e)
		}
	}
	want := []string{"token.create deploy scope send", "user.create kim role admin", "message.create message 1 SMS, 2 recipients"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audit by cli:auditor:\n%q\nwant\n%q", got, want)
	}
}
