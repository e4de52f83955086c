// Package faults holds the fault scenarios of munja's reliability suite
// (issue 11, "Keep the proof"): real `munja serve` processes, killed with
// SIGKILL, sharing a PostgreSQL schema, behind fake Aligo gateways that
// fail, on a database that turns read-only or fills its disk, with
// PostgreSQL ending their connections. Each scenario is a test that writes
// its figures with reliability/report; `make test` runs the short version,
// `make reliability` the long one (-full) into docs/RELIABILITY.md.
//
// The package has no code outside its tests.
package faults
