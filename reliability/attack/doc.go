// Package attack holds the attack scenarios of munja's reliability suite,
// as tests run against the real server (the App, in-process, on a temp
// SQLite file): every route walked with every kind of caller, CSRF,
// stored and reflected XSS in headless Chromium, password guessing, and
// every fuzz target for a while. Each scenario writes a section of
// docs/RELIABILITY.md through reliability/report: `make test` runs the
// short version, `make reliability` the long one (-full).
package attack
