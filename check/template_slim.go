//go:build slimagent

package check

import "github.com/munja-sms/munja/internal/template"

// msgTemplate is a check's message or resolved template. In munja-agent
// (built with -tags slimagent) it is internal/template: text/template,
// calling only the methods of the types a check's fields hold (time.Time,
// time.Duration and what their methods return), which are the only methods
// a check's template can reach (the data is a map of the fields). With
// text/template, which calls any method by its name, the linker keeps every
// exported method of every type that may sit in an interface: 0.9 MB more
// code and tables, 0.7 MiB more RSS (docs/BENCHMARKS.md section 9).
// munja serve keeps text/template (html/template uses it anyway).
type msgTemplate = template.Template

func newTemplate(name string) *msgTemplate { return template.New(name) }
