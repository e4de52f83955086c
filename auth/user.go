package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Console roles, each including the ones before it: viewer ⊂ operator ⊂
// admin. The names are stored and typed on the command line.
const (
	RoleViewer   = "viewer"   // reads everything except settings
	RoleOperator = "operator" // also sends, edits the address book and templates, acks and silences
	RoleAdmin    = "admin"    // also users, tokens and settings
)

var roleRank = map[string]int{RoleViewer: 1, RoleOperator: 2, RoleAdmin: 3}

// Roles lists the role names, least first.
func Roles() []string { return []string{RoleViewer, RoleOperator, RoleAdmin} }

// ValidRole reports whether s is a role name.
func ValidRole(s string) bool { return roleRank[s] > 0 }

// RoleAllows reports whether a user with role have may do what needs role
// need.
func RoleAllows(have, need string) bool {
	return roleRank[have] > 0 && roleRank[have] >= roleRank[need]
}

// ValidUserName reports whether s may be a console user name: 1 to 64
// printable characters without spaces, '/', '\' or ':'.
func ValidUserName(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 64 || strings.ContainsAny(s, "/\\:") {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// ValidTokenName reports whether s may name a new API token: 1 to 64
// characters, no control characters, no space at either end.
func ValidTokenName(s string) bool {
	if s == "" || s != strings.TrimSpace(s) || utf8.RuneCountInString(s) > 64 || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}
