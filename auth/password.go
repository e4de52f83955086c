package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// MinPasswordLen is the shortest password accepted (in characters).
const MinPasswordLen = 10

// maxPasswordLen bounds what is fed to the KDF.
const maxPasswordLen = 1024

// argon2id parameters for new hashes (RFC 9106 second recommendation
// scaled to a small server: 64 MiB, 3 passes). Verification reads the
// parameters from the stored hash, so they can be raised later.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 2
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashSlots bounds concurrent KDF runs (each takes argonMemory), so a flood
// of login attempts cannot exhaust memory.
var hashSlots = make(chan struct{}, 4)

// ErrPasswordPolicy is returned (wrapped) for a password that is too short
// or too long.
var ErrPasswordPolicy = errors.New("password does not meet the policy")

// CheckPasswordPolicy says whether pw may be used as a password.
func CheckPasswordPolicy(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen {
		return fmt.Errorf("%w: at least %d characters", ErrPasswordPolicy, MinPasswordLen)
	}
	if len(pw) > maxPasswordLen {
		return fmt.Errorf("%w: at most %d bytes", ErrPasswordPolicy, maxPasswordLen)
	}
	return nil
}

// HashPassword returns the argon2id hash of pw as a PHC string:
// $argon2id$v=19$m=65536,t=3,p=2$SALT$HASH (base64 without padding).
func HashPassword(pw string) (string, error) {
	if err := CheckPasswordPolicy(pw); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	hashSlots <- struct{}{}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	<-hashSlots
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches the PHC-encoded argon2id hash,
// comparing in constant time. An unreadable hash is an error.
func VerifyPassword(encoded, pw string) (bool, error) {
	p, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	if len(pw) > maxPasswordLen {
		return false, nil
	}
	hashSlots <- struct{}{}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	<-hashSlots
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

type phc struct {
	time, memory uint32
	threads      uint8
	salt, key    []byte
}

// parsePHC reads $argon2id$v=19$m=…,t=…,p=…$salt$key with sane bounds.
func parsePHC(s string) (phc, error) {
	bad := func(why string) (phc, error) { return phc{}, fmt.Errorf("password hash: %s", why) }
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return bad("not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return bad("unsupported version")
	}
	var p phc
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil {
		return bad("unreadable parameters")
	}
	if p.memory < 8*1024 || p.memory > 1024*1024 || p.time < 1 || p.time > 20 || threads < 1 || threads > 16 {
		return bad("parameters out of range")
	}
	p.threads = uint8(threads)
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return bad("unreadable salt")
	}
	if p.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return bad("unreadable key")
	}
	return p, nil
}

// dummyHash is verified against when a user name does not exist, so a
// login takes as long whether or not the name is known.
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=2$c29tZXNhbHRzb21lc2FsdA$" +
	"2H0pP9dcMqY6vJ1O2yoWn9lJYxwq2x4OQb8yM1Xw7fE"

// VerifyNoUser spends the time VerifyPassword would on a real hash and
// matches nothing: a login for an unknown name calls it, so the answer
// takes as long whether or not the name exists.
func VerifyNoUser(pw string) { _, _ = VerifyPassword(dummyHash, pw) }
