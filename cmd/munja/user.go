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

	"github.com/munja-sms/munja/auth"
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
	role := fs.String("role", auth.RoleOperator, "admin | operator | viewer")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	switch sub {
	case "add", "passwd":
		if len(pos) != 1 || !auth.ValidUserName(pos[0]) {
			fmt.Fprintf(e.stderr, "munja user %s: give one NAME (no spaces, '/', '\\' or ':')\n", sub)
			return 2
		}
		if sub == "add" && !auth.ValidRole(*role) {
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
	a, code := e.openStore()
	if a == nil {
		return code
	}
	defer a.Close()
	users, actor := auth.NewService(a.Store, time.Now), "cli:"+currentUser()
	switch sub {
	case "list":
		list, err := users.ListUsers(e.ctx)
		if err != nil {
			fmt.Fprintln(e.stderr, "munja user list:", err)
			return 1
		}
		loc := a.Config.Location()
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tPASSWORD CHANGED\tLANG")
		for _, u := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, fmtTime(u.CreatedAt, loc), fmtTime(u.PasswordChangedAt, loc), u.Lang)
		}
		tw.Flush()
		if len(list) == 0 {
			fmt.Fprintln(e.stderr, "no users yet: munja user add NAME --role admin")
		}
		return 0
	case "add":
		name := pos[0]
		// Checked before asking for the password; AddUser checks again.
		if _, err := users.User(e.ctx, name); err == nil {
			fmt.Fprintf(e.stderr, "munja user add: user %q exists (munja user passwd %s changes the password)\n", name, name)
			return 1
		} else if !errors.Is(err, auth.ErrNotFound) {
			fmt.Fprintln(e.stderr, "munja user add:", err)
			return 1
		}
		pw, code := readNewPassword(e, "user add")
		if code != 0 {
			return code
		}
		if _, err := users.AddUser(e.ctx, actor, name, *role, pw); err != nil {
			if errors.Is(err, auth.ErrExists) {
				fmt.Fprintf(e.stderr, "munja user add: user %q exists\n", name)
				return 1
			}
			fmt.Fprintln(e.stderr, "munja user add:", err)
			return 1
		}
		fmt.Fprintf(e.stdout, "user %q (%s) created; log in at the console\n", name, *role)
		return 0
	default: // passwd
		name := pos[0]
		_, err := users.User(e.ctx, name)
		if errors.Is(err, auth.ErrNotFound) {
			fmt.Fprintf(e.stderr, "munja user passwd: no user %q (munja user list)\n", name)
			return 1
		}
		if err != nil {
			fmt.Fprintln(e.stderr, "munja user passwd:", err)
			return 1
		}
		pw, code := readNewPassword(e, "user passwd")
		if code != 0 {
			return code
		}
		if err := users.SetPassword(e.ctx, actor, name, pw); err != nil {
			fmt.Fprintln(e.stderr, "munja user passwd:", err)
			return 1
		}
		fmt.Fprintf(e.stdout, "password of %q changed; their console sessions were logged out\n", name)
		return 0
	}
}

// readNewPassword reads a password (twice on a terminal) and checks the
// policy (the service checks it again, and hashes it).
func readNewPassword(e *env, what string) (string, int) {
	var pw string
	if tty, ok := terminal(e.stdin); ok {
		first, err := promptHidden(tty, e.stderr, "Password: ")
		if err != nil {
			fmt.Fprintf(e.stderr, "munja %s: %v\n", what, err)
			return "", 1
		}
		if err := auth.CheckPasswordPolicy(first); err != nil {
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
	if err := auth.CheckPasswordPolicy(pw); err != nil {
		fmt.Fprintf(e.stderr, "munja %s: %v\n", what, err)
		return "", 1
	}
	return pw, 0
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
