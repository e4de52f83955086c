// Package logwatch finds lines in logs: Matcher searches text for a literal
// or regular-expression pattern as fast as the hardware allows (whole-chunk
// SIMD search, line boundaries found only around hits, a literal prefilter
// for regular expressions, CP949 logs searched without decoding), Follow
// tails a log file across rotations like `tail -F` without losing or
// repeating lines, and FollowJournal follows the systemd journal.
package logwatch
