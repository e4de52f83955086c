//go:build !linux

package logwatch

import (
	"errors"
	"os"
)

// notifier is inotify on Linux; elsewhere Follow polls.
type notifier struct{}

func newNotifier(dir, base string, wake func()) (*notifier, error) {
	return nil, errors.New("inotify is only available on Linux")
}

func (n *notifier) watchDir()                             {}
func (n *notifier) watchFile(f *os.File, path string) int { return -1 }
func (n *notifier) unwatch(wd int)                        {}
func (n *notifier) close()                                {}
