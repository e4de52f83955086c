package check

import (
	"reflect"
	"testing"
	"time"
)

// munja-agent renders the check messages with internal/template (built with
// -tags slimagent), which calls the methods of time.Time and time.Duration
// (and of what their methods return) but of no other type: a field of
// another type with methods would lose them there. logcheck's fields are a
// string, a string, an int and a string.
func TestTemplateFieldTypes(t *testing.T) {
	for typ, fields := range map[string]map[string]any{
		"command": commandFields, "disk": diskFields, "heartbeat": heartbeatFields, "http": httpFields,
		"listen": listenFields, "load": loadFields, "memory": memoryFields, "process": processFields, "tcp": tcpFields,
	} {
		for k, v := range fields {
			switch v.(type) {
			case time.Time, time.Duration:
				continue
			}
			if rt := reflect.TypeOf(v); rt == nil || rt.NumMethod() > 0 {
				t.Errorf("%s field %s: %T has methods; add them to internal/template's methodByName", typ, k, v)
			}
		}
	}
}
