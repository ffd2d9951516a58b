//go:build amd64 && !purego

#include "textflag.h"

// func addVecSSE2(w *uint32, k *byte, n int)
// w[i] += k32[i] for i < n; n is a positive multiple of 16.
TEXT ·addVecSSE2(SB), NOSPLIT, $0-24
	MOVQ w+0(FP), DI
	MOVQ k+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX

addloop:
	MOVOU 0(DI), X0
	MOVOU 16(DI), X1
	MOVOU 32(DI), X2
	MOVOU 48(DI), X3
	MOVOU 0(SI), X4
	MOVOU 16(SI), X5
	MOVOU 32(SI), X6
	MOVOU 48(SI), X7
	PADDL X4, X0
	PADDL X5, X1
	PADDL X6, X2
	PADDL X7, X3
	MOVOU X0, 0(DI)
	MOVOU X1, 16(DI)
	MOVOU X2, 32(DI)
	MOVOU X3, 48(DI)
	ADDQ  $64, DI
	ADDQ  $64, SI
	DECQ  CX
	JNZ   addloop
	RET

// func subVecSSE2(w *uint32, k *byte, n int)
// w[i] -= k32[i] for i < n; n is a positive multiple of 16.
TEXT ·subVecSSE2(SB), NOSPLIT, $0-24
	MOVQ w+0(FP), DI
	MOVQ k+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX

subloop:
	MOVOU 0(DI), X0
	MOVOU 16(DI), X1
	MOVOU 32(DI), X2
	MOVOU 48(DI), X3
	MOVOU 0(SI), X4
	MOVOU 16(SI), X5
	MOVOU 32(SI), X6
	MOVOU 48(SI), X7
	PSUBL X4, X0
	PSUBL X5, X1
	PSUBL X6, X2
	PSUBL X7, X3
	MOVOU X0, 0(DI)
	MOVOU X1, 16(DI)
	MOVOU X2, 32(DI)
	MOVOU X3, 48(DI)
	ADDQ  $64, DI
	ADDQ  $64, SI
	DECQ  CX
	JNZ   subloop
	RET
