package config

import (
	"fmt"
	"slices"
	"testing"
)

func TestValidateDependsOn(t *testing.T) {
	const three = `checks:
  - {name: httpd, type: process, process: httpd%s}
  - {name: oom, type: log, journal: true, pattern: "Out of memory"%s}
  - {name: web-port, type: listen, port: 80%s}
`
	src := func(httpd, oom, port string) string {
		dep := func(s string) string {
			if s == "" {
				return ""
			}
			return ", depends_on: " + s
		}
		return fmt.Sprintf(three, dep(httpd), dep(oom), dep(port))
	}
	tests := []struct {
		name             string
		httpd, oom, port string
		want             []string
	}{
		{"none", "", "", "", nil},
		{"one", "[web-port]", "", "", nil},
		{"chain", "[web-port]", "[httpd]", "", nil},
		{"several and a host", "[web-port, oom, \"host:db01\"]", "", "", nil},
		{"unknown", "", "", "[htpd]", []string{
			`checks[2].depends_on[0]: unknown check "htpd" (depends_on names checks of this file, or host:NAME)`}},
		{"itself", "[httpd]", "", "", []string{
			`checks[0].depends_on[0]: cycle httpd -> httpd (a check cannot depend on itself)`}},
		{"two chains into httpd", "[oom]", "", "[httpd]", nil},
		{"cycle", "[web-port]", "", "[httpd]", []string{
			`checks[0].depends_on[0]: cycle httpd -> web-port -> httpd (a cycle would hold the root cause's alert too)`}},
		{"cycle of three", "[oom]", "[web-port]", "[httpd]", []string{
			`checks[0].depends_on[0]: cycle httpd -> oom -> web-port -> httpd (a cycle would hold the root cause's alert too)`}},
		{"cycle behind a check", "", "[web-port]", "[oom]", []string{
			`checks[1].depends_on[0]: cycle oom -> web-port -> oom (a cycle would hold the root cause's alert too)`}},
		{"duplicate, empty and bad host", `[web-port, web-port, "", "host:"]`, "", "", []string{
			`checks[0].depends_on[1]: duplicate "web-port"`,
			`checks[0].depends_on[2]: required (a check name, or host:NAME for an agent's host)`,
			`checks[0].depends_on[3]: invalid host "" after "host:" (an agent's host name)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := validateErrs(t, src(tt.httpd, tt.oom, tt.port))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestValidateDependsOnLinesPointAtTheEntry(t *testing.T) {
	c := mustParse(t, `checks:
  - name: httpd
    type: process
    process: httpd
    depends_on:
      - web-port
  - name: web-port
    type: listen
    port: 80
    depends_on: [httpd]
`, nil)
	err := c.Validate()
	if err == nil {
		t.Fatal("a cycle passed validation")
	}
	es := err.(Errors)
	if len(es) != 1 || es[0].Path != "checks[0].depends_on[0]" || c.Line(es[0].Path) != 6 {
		t.Fatalf("got %v (line %d), want checks[0].depends_on[0] on line 6", es, c.Line(es[0].Path))
	}
}
