package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/munja-sms/munja/console"
	"github.com/munja-sms/munja/store"
)

const userUsage = "munja user: add NAME [--role admin|operator|viewer] | passwd NAME | list (passwords are read from stdin)"

// cmdUser manages console users: `user add NAME [--role R]`, `user passwd
// NAME` and `user list`. Passwords come from stdin: typed twice without
// echo on a terminal, or one line from a pipe.
func cmdUser(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, userUsage)
		return 2
	}
	sub, args := args[0], args[1:]
	fs := newFlags(e, "user "+sub)
	role := fs.String("role", console.RoleOperator, "admin | operator | viewer")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	switch sub {
	case "add", "passwd":
		if len(pos) != 1 || !console.ValidUserName(pos[0]) {
			fmt.Fprintf(e.stderr, "munja user %s: give one NAME (no spaces, '/', '\\' or ':')\n", sub)
			return 2
		}
		if sub == "add" && !console.ValidRole(*role) {
			fmt.Fprintf(e.stderr, "munja user add: --role %q: must be admin, operator or viewer\n", *role)
			return 2
		}
	case "list":
		if len(pos) != 0 {
			fmt.Fprintln(e.stderr, "munja user list: takes no arguments")
			return 2
		}
	default:
		fmt.Fprintf(e.stderr, "munja user: unknown subcommand %q\n%s\n", sub, userUsage)
		return 2
	}
	a, code := e.open()
	if a == nil {
		return code
	}
	defer a.Close()
	st, actor := a.Store, "cli:"+currentUser()
	switch sub {
	case "list":
		users, err := st.ListUsers(e.ctx)
		if err != nil {
			fmt.Fprintln(e.stderr, "munja user list:", err)
			return 1
		}
		loc := a.Config.Location()
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tPASSWORD CHANGED\tLANG")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, fmtTime(u.CreatedAt, loc), fmtTime(u.PasswordChangedAt, loc), u.Lang)
		}
		tw.Flush()
		if len(users) == 0 {
			fmt.Fprintln(e.stderr, "no users yet: munja user add NAME --role admin")
		}
		return 0
	case "add":
		name := pos[0]
		if _, err := st.UserByName(e.ctx, name); err == nil {
			fmt.Fprintf(e.stderr, "munja user add: user %q exists (munja user passwd %s changes the password)\n", name, name)
			return 1
		}
		hash, code := readNewPassword(e, "user add")
		if code != 0 {
			return code
		}
		u := &store.User{Name: name, Role: *role, PasswordHash: hash, CreatedAt: time.Now()}
		if err := st.CreateUser(e.ctx, u); err != nil {
			if errors.Is(err, store.ErrConflict) {
				fmt.Fprintf(e.stderr, "munja user add: user %q exists\n", name)
				return 1
			}
			fmt.Fprintln(e.stderr, "munja user add:", err)
			return 1
		}
		_ = st.AddAudit(e.ctx, store.AuditEntry{At: time.Now(), Actor: actor, Action: "user.create", Target: name, Detail: "role " + *role})
		fmt.Fprintf(e.stdout, "user %q (%s) created; log in at the console\n", name, *role)
		return 0
	default: // passwd
		name := pos[0]
		u, err := st.UserByName(e.ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			fmt.Fprintf(e.stderr, "munja user passwd: no user %q (munja user list)\n", name)
			return 1
		}
		if err != nil {
			fmt.Fprintln(e.stderr, "munja user passwd:", err)
			return 1
		}
		hash, code := readNewPassword(e, "user passwd")
		if code != 0 {
			return code
		}
		if err := st.SetPassword(e.ctx, u.ID, hash, time.Now()); err != nil {
			fmt.Fprintln(e.stderr, "munja user passwd:", err)
			return 1
		}
		_ = st.AddAudit(e.ctx, store.AuditEntry{At: time.Now(), Actor: actor, Action: "user.password", Target: name, Detail: "set from the command line; sessions revoked"})
		fmt.Fprintf(e.stdout, "password of %q changed; their console sessions were logged out\n", name)
		return 0
	}
}

// readNewPassword reads a password (twice on a terminal), checks the
// policy and returns its argon2id hash.
func readNewPassword(e *env, what string) (string, int) {
	var pw string
	if tty, ok := terminal(e.stdin); ok {
		first, err := promptHidden(tty, e.stderr, "Password: ")
		if err != nil {
			fmt.Fprintf(e.stderr, "munja %s: %v\n", what, err)
			return "", 1
		}
		if err := console.CheckPasswordPolicy(first); err != nil {
			fmt.Fprintf(e.stderr, "munja %s: %v\n", what, err)
			return "", 1
		}
		second, err := promptHidden(tty, e.stderr, "Again: ")
		if err != nil {
			fmt.Fprintf(e.stderr, "munja %s: %v\n", what, err)
			return "", 1
		}
		if first != second {
			fmt.Fprintf(e.stderr, "munja %s: the passwords differ\n", what)
			return "", 1
		}
		pw = first
	} else {
		line, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(e.stderr, "munja %s: read password: %v\n", what, err)
			return "", 1
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if pw == "" {
		fmt.Fprintf(e.stderr, "munja %s: no password on stdin (type it, or pipe one line)\n", what)
		return "", 2
	}
	hash, err := console.HashPassword(pw)
	if err != nil {
		fmt.Fprintf(e.stderr, "munja %s: %v\n", what, err)
		return "", 1
	}
	return hash, 0
}

// terminal reports whether r is an interactive terminal.
func terminal(r io.Reader) (*os.File, bool) {
	f, ok := r.(*os.File)
	if !ok {
		return nil, false
	}
	fi, err := f.Stat()
	return f, err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// promptHidden reads one line from the terminal with echo turned off
// (through stty, which every Unix has).
func promptHidden(tty *os.File, out io.Writer, prompt string) (string, error) {
	fmt.Fprint(out, prompt)
	stty := func(arg string) error {
		cmd := exec.Command("stty", arg)
		cmd.Stdin = tty
		return cmd.Run()
	}
	if err := stty("-echo"); err != nil {
		return "", fmt.Errorf("cannot turn off terminal echo (stty: %w); pipe the password instead", err)
	}
	defer func() {
		_ = stty("echo")
		fmt.Fprintln(out)
	}()
	line, err := bufio.NewReader(io.LimitReader(tty, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
