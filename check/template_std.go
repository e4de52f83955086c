//go:build !slimagent

package check

import "text/template"

// msgTemplate is a check's message or resolved template: Go's text/template,
// but in munja-agent (make build-agent builds it with -tags slimagent;
// template_slim.go).
type msgTemplate = template.Template

func newTemplate(name string) *msgTemplate { return template.New(name) }
