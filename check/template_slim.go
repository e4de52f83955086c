//go:build slimagent

package check

import "github.com/munja-sms/munja/internal/template"

// msgTemplate is a check's message or resolved template. In munja-agent
// (built with -tags slimagent) it is internal/template: text/template,
// calling only the methods of the types a check's fields hold (time.Time,
// time.Duration and what their methods return), which are the only methods
// a check's template can reach (the data is a map of the fields). With
// text/template, which calls any method by its name, the linker keeps every
// exported method of every type that may sit in an interface: 1.1 MB more
// code and tables, 1.0 MiB more RSS (docs/BENCHMARKS.md section 9).
// munja serve keeps text/template (html/template uses it anyway).
type msgTemplate = template.Template

func newTemplate(name string) *msgTemplate { return template.New(name) }
