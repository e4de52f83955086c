package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Built-in defaults (DESIGN.md §4).
const (
	DefaultListen          = "127.0.0.1:8080"
	DefaultDatabase        = "munja.db"
	DefaultTimezone        = "Asia/Seoul"
	DefaultProviderTimeout = Duration(10 * time.Second)
	// DefaultPath is the config file used when present and nothing else is named.
	DefaultPath = "munja.yaml"
	// EnvConfig names the environment variable holding the config path.
	EnvConfig = "MUNJA_CONFIG"
)

// Default returns the built-in configuration used when no file is given.
// It has no providers: EffectiveProviders then gives the dryrun provider.
func Default() *Config {
	resolved := true
	return &Config{
		Server: Server{
			Listen:            DefaultListen,
			ShutdownTimeout:   Duration(10 * time.Second),
			HeartbeatInterval: Duration(time.Minute),
		},
		Database:  DefaultDatabase,
		Retention: Duration(400 * 24 * time.Hour),
		Timezone:  DefaultTimezone,
		Log:       Log{Level: "info", Format: "text"},
		SMS: SMS{
			Limits:    Limits{PerDay: 1000, PerRecipientPerHour: 30},
			DownAfter: Duration(5 * time.Minute),
			Retry: Retry{
				Initial:     Duration(2 * time.Second),
				Max:         Duration(5 * time.Minute),
				GiveUpAfter: Duration(24 * time.Hour),
			},
		},
		Alerting: Alerting{
			Interval:  Duration(10 * time.Second),
			Failures:  1,
			Successes: 1,
			Repeat:    Duration(time.Hour),
			Resolved:  &resolved,
			Flapping:  Flapping{Window: Duration(10 * time.Minute), Changes: 4},
			// checkhist.DefaultRetention
			HistoryRetention: Duration(90 * 24 * time.Hour),
		},
	}
}

// ResolvePath returns the config file to use when no --config flag was
// given: $MUNJA_CONFIG, else ./munja.yaml if it exists, else "" (meaning the
// built-in defaults).
func ResolvePath() string {
	if p := os.Getenv(EnvConfig); p != "" {
		return p
	}
	if fi, err := os.Stat(DefaultPath); err == nil && !fi.IsDir() {
		return DefaultPath
	}
	return ""
}

// Load reads and parses the file at path with the process environment; an
// empty path gives Default(). It does not Validate.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(data, os.LookupEnv, os.ReadFile)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// LoadPartial reads and parses the file at path like Load, but a problem
// with a key or value (an unknown key, a bad duration, an unset ${VAR})
// does not stop it: it returns the config as far as it could be read (a
// bad value keeps its default, an unset ${VAR} its text) together with
// every such problem as Errors, so that `munja config check` can validate
// the rest and report everything in one run, and the commands that use only
// the database can ignore a gateway's unset variable. The config is nil
// only when the file cannot be read or is not YAML at all.
func LoadPartial(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := &parser{env: os.LookupEnv, readFile: os.ReadFile, src: newSource(), partial: true}
	return p.parse(data)
}

// Parse decodes a munja.yaml document: ${VAR}, ${VAR:-default} and $$ are
// expanded in values from env; unknown keys are refused (a provider's own
// keys by its package, see Provider.Decode); agent.token_file is read with
// readFile into token and then cleared, a provider's KEY_file options when
// it decodes them (nil env or readFile mean os.LookupEnv and
// os.ReadFile); anything unset keeps its default.
// Problems are returned as Errors with lines; Parse does not Validate.
func Parse(data []byte, env func(string) (string, bool), readFile func(string) ([]byte, error)) (*Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	if readFile == nil {
		readFile = os.ReadFile
	}
	p := &parser{env: env, readFile: readFile, src: newSource()}
	return p.parse(data)
}

type parser struct {
	env      func(string) (string, bool)
	readFile func(string) ([]byte, error)
	src      *source
	errs     Errors
	// partial: go on after problems and return the config with them.
	partial bool
}

func (p *parser) parse(data []byte) (*Config, error) {
	c := Default()
	c.src = p.src
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) && (err != nil || !emptyDoc(&extra)) {
		return nil, fmt.Errorf("invalid YAML: only one document is allowed (found a second one or trailing content)")
	}
	if emptyDoc(&doc) {
		return c, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, FieldError{Line: root.Line, Msg: "the config must be a mapping of keys (server:, sms:, checks: …)"}
	}
	p.prepare(root, "")
	p.checkKeys(root, reflect.TypeFor[Config](), "", map[visit]bool{})
	if len(p.errs) > 0 && !p.partial {
		sortErrors(p.errs, p.src)
		return nil, p.errs
	}
	if err := doc.Decode(c); err != nil {
		if !p.partial {
			return nil, p.decodeError(err)
		}
		var es Errors
		errors.As(p.decodeError(err), &es)
		p.errs = append(p.errs, es...)
	}
	c.src = p.src
	p.readSecrets(c)
	applyDefaults(c)
	if len(p.errs) > 0 {
		sortErrors(p.errs, p.src)
		if p.partial {
			return c, p.errs
		}
		return nil, p.errs
	}
	return c, nil
}

func emptyDoc(doc *yaml.Node) bool {
	return doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || isNull(doc.Content[0])
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// decodeError turns decoder errors ("line 5: cannot unmarshal …") into
// FieldErrors naming the key path of that line.
func (p *parser) decodeError(err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var es Errors
	for _, m := range msgs {
		fe := FieldError{Msg: strings.TrimPrefix(m, "yaml: ")}
		if sub := lineRE.FindStringSubmatch(m); sub != nil {
			fe.Line, _ = strconv.Atoi(sub[1])
			fe.Msg = sub[2]
			fe.Path = p.src.valuePath(fe.Line, fe.Msg)
		}
		es = append(es, fe)
	}
	sortErrors(es, p.src)
	return es
}

// readSecrets fills agent.token from token_file and clears that key: after
// Parse the secret is in token, as if it had been written there. Gateways
// read their own KEY_file options when they decode them.
func (p *parser) readSecrets(c *Config) {
	for i := range c.SMS.Providers {
		pr := &c.SMS.Providers[i]
		base := joinIndex("sms.providers", i)
		// The gateway reads its own KEY_file options (Provider.Decode).
		pr.readFile = p.readFile
		pr.lines = make(map[string]int, len(pr.Options))
		for k := range pr.Options {
			pr.lines[k] = p.src.line(joinKey(base, k))
		}
	}
	p.secretFile("agent", "token", &c.Agent.Token, &c.Agent.TokenFile)
}

func (p *parser) secretFile(base, key string, dst *Secret, fileKey *string) {
	file := *fileKey
	if file == "" {
		return
	}
	path := joinKey(base, key+"_file")
	if !dst.IsZero() {
		p.errs = append(p.errs, FieldError{Path: base, Line: p.src.line(path),
			Msg: fmt.Sprintf("%s and %s_file are both set; use one", key, key)})
		return
	}
	data, err := p.readFile(file)
	if err != nil {
		p.errs = append(p.errs, FieldError{Path: path, Line: p.src.line(path),
			Msg: fmt.Sprintf("cannot read %s: %v", key, err)})
		return
	}
	v := strings.TrimRight(string(data), "\r\n")
	if v == "" {
		p.errs = append(p.errs, FieldError{Path: path, Line: p.src.line(path),
			Msg: fmt.Sprintf("file %q is empty", file)})
		return
	}
	*dst = Secret(v)
	*fileKey = ""
}

// applyDefaults fills per-item defaults that a list item cannot inherit
// from Default() (items are decoded fresh).
func applyDefaults(c *Config) {
	for i := range c.SMS.Providers {
		if c.SMS.Providers[i].Timeout == 0 {
			c.SMS.Providers[i].Timeout = DefaultProviderTimeout
		}
	}
	if c.Alerting.Resolved == nil {
		resolved := true
		c.Alerting.Resolved = &resolved
	}
}
