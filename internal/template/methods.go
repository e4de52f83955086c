package template

import (
	"reflect"
	"time"
)

// methodByName is what text/template's ptr.MethodByName(name) is, for the
// types whose methods a template may call here: every exported method of
// time.Time, time.Duration, time.Month, time.Weekday and *time.Location (and
// of pointers to the first two). On a value of any other type it finds no
// method, as on a type that has none, and a {{.X.Name}} on it fails with
// text/template's "can't evaluate field" (a map's key is looked up as before).
//
// text/template looks methods up by a name known only when the template
// runs (reflect.Value.MethodByName), and a program that does so keeps every
// exported method of every type that may sit in an interface, since the
// linker cannot tell which one a template will call: 1.1 MB more code and
// tables in munja-agent, most of them never run. Here each method is named
// in the code, so the linker keeps only these.
//
// The methods are Go 1.26's; TestMethodsComplete fails if a Go release adds
// one.
func methodByName(v reflect.Value, name string) reflect.Value {
	if !v.IsValid() || !v.CanInterface() {
		return reflect.Value{}
	}
	var m any
	switch x := v.Interface().(type) {
	case time.Time:
		m = timeMethod(x, name)
	case *time.Time:
		if x == nil {
			return reflect.Value{}
		}
		switch name {
		case "GobDecode":
			m = x.GobDecode
		case "UnmarshalBinary":
			m = x.UnmarshalBinary
		case "UnmarshalJSON":
			m = x.UnmarshalJSON
		case "UnmarshalText":
			m = x.UnmarshalText
		default:
			m = timeMethod(*x, name)
		}
	case time.Duration:
		m = durationMethod(x, name)
	case *time.Duration:
		if x == nil {
			return reflect.Value{}
		}
		m = durationMethod(*x, name)
	case time.Month:
		if name == "String" {
			m = x.String
		}
	case time.Weekday:
		if name == "String" {
			m = x.String
		}
	case *time.Location:
		if name == "String" && x != nil {
			m = x.String
		}
	}
	if m == nil {
		return reflect.Value{}
	}
	return reflect.ValueOf(m)
}

func timeMethod(t time.Time, name string) any {
	switch name {
	case "Add":
		return t.Add
	case "AddDate":
		return t.AddDate
	case "After":
		return t.After
	case "AppendBinary":
		return t.AppendBinary
	case "AppendFormat":
		return t.AppendFormat
	case "AppendText":
		return t.AppendText
	case "Before":
		return t.Before
	case "Clock":
		return t.Clock
	case "Compare":
		return t.Compare
	case "Date":
		return t.Date
	case "Day":
		return t.Day
	case "Equal":
		return t.Equal
	case "Format":
		return t.Format
	case "GoString":
		return t.GoString
	case "GobEncode":
		return t.GobEncode
	case "Hour":
		return t.Hour
	case "ISOWeek":
		return t.ISOWeek
	case "In":
		return t.In
	case "IsDST":
		return t.IsDST
	case "IsZero":
		return t.IsZero
	case "Local":
		return t.Local
	case "Location":
		return t.Location
	case "MarshalBinary":
		return t.MarshalBinary
	case "MarshalJSON":
		return t.MarshalJSON
	case "MarshalText":
		return t.MarshalText
	case "Minute":
		return t.Minute
	case "Month":
		return t.Month
	case "Nanosecond":
		return t.Nanosecond
	case "Round":
		return t.Round
	case "Second":
		return t.Second
	case "String":
		return t.String
	case "Sub":
		return t.Sub
	case "Truncate":
		return t.Truncate
	case "UTC":
		return t.UTC
	case "Unix":
		return t.Unix
	case "UnixMicro":
		return t.UnixMicro
	case "UnixMilli":
		return t.UnixMilli
	case "UnixNano":
		return t.UnixNano
	case "Weekday":
		return t.Weekday
	case "Year":
		return t.Year
	case "YearDay":
		return t.YearDay
	case "Zone":
		return t.Zone
	case "ZoneBounds":
		return t.ZoneBounds
	}
	return nil
}

func durationMethod(d time.Duration, name string) any {
	switch name {
	case "Abs":
		return d.Abs
	case "Hours":
		return d.Hours
	case "Microseconds":
		return d.Microseconds
	case "Milliseconds":
		return d.Milliseconds
	case "Minutes":
		return d.Minutes
	case "Nanoseconds":
		return d.Nanoseconds
	case "Round":
		return d.Round
	case "Seconds":
		return d.Seconds
	case "String":
		return d.String
	case "Truncate":
		return d.Truncate
	}
	return nil
}
