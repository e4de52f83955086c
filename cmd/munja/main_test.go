package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the munja binary built for the end-to-end tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
