package auth

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	hash, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=3,p=2$") || strings.Contains(hash, "horse") {
		t.Fatalf("hash %q", hash)
	}
	other, _ := HashPassword("correct horse battery")
	if other == hash {
		t.Fatal("same hash twice: no salt")
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		ok, err := VerifyPassword(hash, pw)
		if err != nil || ok != want {
			t.Errorf("VerifyPassword(%q) = %v, %v", pw, ok, err)
		}
	}
	if _, err := HashPassword("short"); err == nil {
		t.Fatal("short password hashed")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=9999999,t=3,p=2$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=65536,t=3,p=2$!!$a2V5"} {
		if _, err := VerifyPassword(bad, "x"); err == nil {
			t.Errorf("VerifyPassword accepted hash %q", bad)
		}
	}
	if ok, err := VerifyPassword(dummyHash, "anything at all"); err != nil || ok {
		t.Fatalf("dummy hash: %v %v", ok, err)
	}
}

func TestPasswordPolicy(t *testing.T) {
	for pw, ok := range map[string]bool{
		"":                        false,
		"123456789":               false,
		"1234567890":              true,
		"비밀번호는열글자이상":              true, // counted in characters, not bytes
		strings.Repeat("x", 1024): true,
		strings.Repeat("x", 1025): false,
		strings.Repeat("가", 342):  false, // 1026 bytes
	} {
		if err := CheckPasswordPolicy(pw); (err == nil) != ok {
			t.Errorf("CheckPasswordPolicy(%d runes) = %v, want ok=%v", len([]rune(pw)), err, ok)
		}
	}
}
