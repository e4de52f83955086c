package config

import (
	"strings"
	"testing"
)

func TestLowBalance(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	c, err := Parse([]byte("sms:\n  low_balance: 500\n"), noEnv, nil)
	if err != nil || c.SMS.LowBalance != 500 {
		t.Fatalf("low_balance 500: %v %v", c, err)
	}
	if Default().SMS.LowBalance != 0 {
		t.Error("low balance alert is on by default")
	}
	c, err = Parse([]byte("sms:\n  low_balance: -1\n"), noEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "sms.low_balance: must not be negative") {
		t.Errorf("negative: %v", err)
	}
}
