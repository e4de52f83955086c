#include "textflag.h"

// func indexPairAVX2(b []byte, c1, c2 byte, d int) int
// The first j with b[j] == c1 and b[j+d] == c2 (0 < d < len(b)), or -1:
// 32 positions per step, both bytes compared at once.
TEXT ·indexPairAVX2(SB), NOSPLIT, $0-48
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), BX
	MOVBLZX c1+24(FP), AX
	MOVBLZX c2+25(FP), CX
	MOVQ d+32(FP), DX
	SUBQ DX, BX // positions j with j+d < len(b)
	JLE notfound
	LEAQ (SI)(DX*1), R9 // b[d:]
	MOVQ AX, X0
	VPBROADCASTB X0, Y0
	MOVQ CX, X1
	VPBROADCASTB X1, Y1
	XORQ DI, DI

loop64: // 64 positions a step while they fit
	LEAQ 64(DI), R8
	CMPQ R8, BX
	JA loop
	VPCMPEQB (SI)(DI*1), Y0, Y2
	VPCMPEQB (R9)(DI*1), Y1, Y3
	VPAND Y2, Y3, Y3
	VPCMPEQB 32(SI)(DI*1), Y0, Y4
	VPCMPEQB 32(R9)(DI*1), Y1, Y5
	VPAND Y4, Y5, Y5
	VPOR Y3, Y5, Y6
	VPTEST Y6, Y6
	JNZ found64
	MOVQ R8, DI
	JMP loop64

found64:
	VPMOVMSKB Y3, R10
	TESTL R10, R10
	JNZ found
	VPMOVMSKB Y5, R10
	ADDQ $32, DI
	JMP found

loop:
	LEAQ 32(DI), R8
	CMPQ R8, BX
	JA tail
	VPCMPEQB (SI)(DI*1), Y0, Y2
	VPCMPEQB (R9)(DI*1), Y1, Y3
	VPAND Y2, Y3, Y3
	VPMOVMSKB Y3, R10
	TESTL R10, R10
	JNZ found
	MOVQ R8, DI
	JMP loop

found:
	BSFL R10, R10
	ADDQ R10, DI
	VZEROUPPER
	MOVQ DI, ret+40(FP)
	RET

tail:
	VZEROUPPER

tailloop:
	CMPQ DI, BX
	JGE notfound
	MOVBLZX (SI)(DI*1), R10
	CMPL R10, AX
	JNE next
	MOVBLZX (R9)(DI*1), R10
	CMPL R10, CX
	JEQ foundscalar

next:
	INCQ DI
	JMP tailloop

foundscalar:
	MOVQ DI, ret+40(FP)
	RET

notfound:
	MOVQ $-1, ret+40(FP)
	RET

// func cpuHasAVX2() bool
// AVX2 present and its registers saved by the OS (what x/sys/cpu checks,
// without linking it into munja-agent).
TEXT ·cpuHasAVX2(SB), NOSPLIT, $0-1
	XORL AX, AX
	XORL CX, CX
	CPUID
	CMPL AX, $7
	JLT no
	MOVL $1, AX
	XORL CX, CX
	CPUID
	ANDL $0x18000000, CX // OSXSAVE, AVX
	CMPL CX, $0x18000000
	JNE no
	XORL CX, CX
	XGETBV
	ANDL $6, AX // XMM and YMM state
	CMPL AX, $6
	JNE no
	MOVL $7, AX
	XORL CX, CX
	CPUID
	ANDL $0x20, BX // AVX2
	JZ no
	MOVB $1, ret+0(FP)
	RET

no:
	MOVB $0, ret+0(FP)
	RET
