package faults

// PostgreSQL: each scenario gets a schema of its own on the test server
// (the approach of app's and store/postgres's tests), so replicas of one
// scenario share it and no other test sees it.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgSchema is a schema made for one scenario.
type pgSchema struct {
	base   string // the server's URL (no schema)
	name   string // the schema
	dsn    string // the URL munja gets: search_path and application_name set
	appTag string // application_name of munja's pool connections
}

// postgresSchema creates an empty schema on the test PostgreSQL and drops
// it at the end; it skips the test when no server answers (fails under CI).
func postgresSchema(t testing.TB) *pgSchema {
	t.Helper()
	urls := []string{os.Getenv("MUNJA_TEST_POSTGRES")}
	if urls[0] == "" {
		const def = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
		urls = []string{def, strings.Replace(def, "postgres@", "root@", 1)}
	}
	var errs []error
	for _, base := range urls {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			cancel()
			errs = append(errs, err)
			continue
		}
		b := make([]byte, 6)
		rand.Read(b)
		s := &pgSchema{base: base, name: "munja_faults_" + hex.EncodeToString(b)}
		_, err = c.Exec(ctx, `CREATE SCHEMA `+s.name)
		c.Close(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := pgx.Connect(ctx, base)
			if err != nil {
				t.Errorf("drop schema: %v", err)
				return
			}
			defer c.Close(ctx)
			if _, err := c.Exec(ctx, `DROP SCHEMA `+s.name+` CASCADE`); err != nil {
				t.Errorf("drop schema: %v", err)
			}
		})
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		s.appTag = "munja " + s.name
		q := u.Query()
		q.Set("search_path", s.name)
		q.Set("application_name", s.appTag)
		u.RawQuery = q.Encode()
		s.dsn = u.String()
		return s
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no PostgreSQL test server reachable (CI is set, so this fails; set MUNJA_TEST_POSTGRES): %v", errors.Join(errs...))
	}
	t.Skipf("no PostgreSQL test server reachable (set MUNJA_TEST_POSTGRES): %v", errors.Join(errs...))
	return nil
}

// conn opens a connection to the scenario's schema.
func (s *pgSchema) conn(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, _ := url.Parse(s.base)
	q := u.Query()
	q.Set("search_path", s.name)
	q.Set("application_name", "munja-faults test")
	u.RawQuery = q.Encode()
	c, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// terminateBackends ends every PostgreSQL session of the given munja
// processes — found by their client ports (each process's TCP sockets,
// from /proc), so the leader and presence connections, which name
// themselves "munja leader …", count too — and of munja's pool
// (application_name), never another test's. It returns how many ended.
func (s *pgSchema) terminateBackends(t testing.TB, admin *pgx.Conn, pids ...int) int {
	t.Helper()
	var ports []int32
	for _, pid := range pids {
		ports = append(ports, localPorts(pid)...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	err := admin.QueryRow(ctx, `SELECT count(*) FROM (
		SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()
		  AND (application_name = $1 OR (client_addr = '127.0.0.1' AND client_port = ANY($2)))) t`,
		s.appTag, ports).Scan(&n)
	if err != nil {
		t.Fatalf("terminate backends: %v", err)
	}
	return n
}

// localPorts are the local ports of pid's TCP sockets (IPv4).
func localPorts(pid int) []int32 {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", pid))
	if err != nil {
		return nil
	}
	var ports []int32
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 10 || !inodes[f[9]] {
			continue
		}
		_, port, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		if p, err := strconv.ParseInt(port, 16, 32); err == nil {
			ports = append(ports, int32(p))
		}
	}
	return ports
}
