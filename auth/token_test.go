package auth

import (
	"strings"
	"testing"
)

func TestNewTokenUniqueAndHashed(t *testing.T) {
	a, ha, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, hb, _ := NewToken()
	if a == b || Equal(ha, hb) {
		t.Fatal("tokens repeat")
	}
	if !strings.HasPrefix(a, "munja_") || len(a) < 50 {
		t.Fatalf("token %q: want munja_ prefix and 256 bits", a)
	}
	if !Equal(HashToken(a), ha) {
		t.Fatal("hash of the token differs from the returned hash")
	}
	if strings.Contains(string(ha), a) {
		t.Fatal("hash contains the token")
	}
}

func TestScopes(t *testing.T) {
	cases := []struct {
		have, need string
		want       bool
	}{
		{"read", "read", true}, {"read", "send", false}, {"send", "read", true},
		{"send", "admin", false}, {"admin", "send", true}, {"", "read", false}, {"root", "read", false},
	}
	for _, c := range cases {
		if got := Allows(c.have, c.need); got != c.want {
			t.Errorf("Allows(%q,%q)=%v want %v", c.have, c.need, got, c.want)
		}
	}
	if ValidScope("x") || !ValidScope("admin") {
		t.Fatal("ValidScope wrong")
	}
}
