//go:build !amd64

package logwatch

const hasIndexPair = false

func indexPair(b []byte, c1, c2 byte, d int) int { panic("logwatch: indexPair without AVX2") }
