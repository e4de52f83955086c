package check

// SetProc points a memory, load, process or listen check at a fake /proc
// (for the tests of package check_test).
func SetProc(c Checker, dir string) {
	switch c := c.(type) {
	case *memoryCheck:
		c.proc = dir
	case *loadCheck:
		c.proc = dir
	case *processCheck:
		c.proc = dir
	case *listenCheck:
		c.proc = dir
	}
}
