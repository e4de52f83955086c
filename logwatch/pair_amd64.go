package logwatch

// hasIndexPair: indexPair runs 64 positions a step (AVX2).
var hasIndexPair = cpuHasAVX2()

func cpuHasAVX2() bool

//go:noescape
func indexPairAVX2(b []byte, c1, c2 byte, d int) int

// indexPair returns the first j with b[j] == c1 and b[j+d] == c2, or -1;
// 0 < d. Only when hasIndexPair.
func indexPair(b []byte, c1, c2 byte, d int) int {
	if d >= len(b) {
		return -1
	}
	return indexPairAVX2(b, c1, c2, d)
}
