package config

// Secret is a value that must never be printed, logged or shown. Its String,
// GoString, MarshalJSON, MarshalYAML and slog LogValue all give "<secret>".
// Use Reveal only where the value leaves for its gateway.
type Secret string

const redacted = "<secret>"

func (s Secret) String() string   { return s.mask() }
func (s Secret) GoString() string { return s.mask() }
func (s Secret) Reveal() string   { return string(s) }
func (s Secret) IsZero() bool     { return s == "" }

func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}

func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.mask() + `"`), nil }
func (s Secret) MarshalYAML() (any, error)    { return s.mask(), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }
