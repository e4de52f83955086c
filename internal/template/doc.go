// Package template is Go 1.26's text/template (exec.go, funcs.go,
// option.go, template.go, and internal/fmtsort as fmtsort.go; the same
// parser, text/template/parse), for the check messages: the same language,
// functions, options and errors, with one difference. A template calls the
// methods only of the types that a check's fields hold (time.Time,
// time.Duration and what their methods return: see methodByName), where
// text/template calls any method of any value by its name.
//
// That is what lets the linker drop the methods nothing calls. A program
// that runs text/template keeps every exported method of every type that
// may end up in an interface, because a template may name any of them: in
// munja-agent that was 1.1 MB of its 8.6 MB of code and tables, and the
// pages of them it maps at start-up (docs/BENCHMARKS.md section 9).
//
// The changes to the Go files are marked "munja:". LICENSE is Go's.
package template
