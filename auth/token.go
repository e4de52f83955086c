// Package auth holds who may do what: API tokens and their scopes (used by
// the HTTP API), console users' passwords (argon2id), roles and names, and
// Service, the one way the CLI and the console create users, set passwords
// and create and revoke tokens, each change written to the audit log.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"strings"
)

// Scopes, each including the ones before it: read ⊂ send ⊂ admin.
const (
	ScopeRead  = "read"
	ScopeSend  = "send"
	ScopeAdmin = "admin"
)

var scopeRank = map[string]int{ScopeRead: 1, ScopeSend: 2, ScopeAdmin: 3}

// ValidScope reports whether s is a known scope.
func ValidScope(s string) bool { return scopeRank[s] > 0 }

// Allows reports whether a token with scope have may do what needs scope need.
func Allows(have, need string) bool {
	return scopeRank[have] > 0 && scopeRank[have] >= scopeRank[need]
}

const tokenPrefix = "munja_"

// NewToken returns a new random token (shown once) and the hash to store.
func NewToken() (plain string, hash []byte, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("random token: %w", err)
	}
	plain = tokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	return plain, HashToken(plain), nil
}

// HashToken is the stored form of a token: SHA-256 (tokens are 256-bit
// random, so a slow KDF adds nothing).
func HashToken(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// Equal compares two hashes in constant time.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
