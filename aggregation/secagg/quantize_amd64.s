//go:build amd64 && !purego

#include "textflag.h"

DATA qconst<>+0(SB)/8, $0x41f0000000000000  // 2^32
DATA qconst<>+8(SB)/8, $0x41e0000000000000  // 2^31
DATA qconst<>+16(SB)/8, $0x3ff0000000000000 // 1.0
DATA qconst<>+24(SB)/4, $0x80000000
DATA qconst<>+28(SB)/4, $0
GLOBL qconst<>(SB), RODATA|NOPTR, $32

// func roundWordsAVX2(dst *uint32, x *float64, rnd *byte, n int, f, lim float64)
// n is a positive multiple of 4. Same arithmetic as roundWordsGeneric.
TEXT ·roundWordsAVX2(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         rnd+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSD f+32(FP), Y15
	VBROADCASTSD lim+40(FP), Y14
	VXORPD       Y13, Y13, Y13
	VSUBPD       Y14, Y13, Y13      // -lim
	VBROADCASTSD qconst<>+0(SB), Y12  // 2^32
	VBROADCASTSD qconst<>+8(SB), Y11  // 2^31
	VBROADCASTSD qconst<>+16(SB), Y10 // 1.0
	VPBROADCASTD qconst<>+24(SB), X9  // 0x80000000 in each lane
	SHRQ         $2, CX

roundloop:
	VMULPD      (SI), Y15, Y0   // s = x·f
	VROUNDPD    $9, Y0, Y1      // fl = floor(s), no precision exception
	VSUBPD      Y1, Y0, Y0      // s - fl
	VMULPD      Y12, Y0, Y0     // fr = (s - fl)·2^32
	VPXOR       (DX), X9, X2    // u - 2^31 as int32
	VCVTDQ2PD   X2, Y2
	VADDPD      Y11, Y2, Y2     // u, exact
	VCMPPD      $1, Y0, Y2, Y2  // u < fr
	VANDPD      Y10, Y2, Y2     // 1.0 or 0
	VADDPD      Y2, Y1, Y1
	VMINPD      Y14, Y1, Y1
	VMAXPD      Y13, Y1, Y1
	VCVTTPD2DQY Y1, X1
	VMOVDQU     X1, (DI)
	ADDQ        $32, SI
	ADDQ        $16, DX
	ADDQ        $16, DI
	DECQ        CX
	JNZ         roundloop
	VZEROUPPER
	RET

// func sumSquaresAVX2(lanes *[16]float64, x *float64, n int)
// lanes[j] += x[i]² for i ≡ j mod 16, i < n; n a positive multiple of 16.
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-24
	MOVQ    lanes+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    n+16(FP), CX
	VMOVUPD 0(DI), Y0
	VMOVUPD 32(DI), Y1
	VMOVUPD 64(DI), Y2
	VMOVUPD 96(DI), Y3
	SHRQ    $4, CX

ssloop:
	VMOVUPD 0(SI), Y4
	VMOVUPD 32(SI), Y5
	VMOVUPD 64(SI), Y6
	VMOVUPD 96(SI), Y7
	VMULPD  Y4, Y4, Y4
	VMULPD  Y5, Y5, Y5
	VMULPD  Y6, Y6, Y6
	VMULPD  Y7, Y7, Y7
	VADDPD  Y4, Y0, Y0
	VADDPD  Y5, Y1, Y1
	VADDPD  Y6, Y2, Y2
	VADDPD  Y7, Y3, Y3
	ADDQ    $128, SI
	DECQ    CX
	JNZ     ssloop
	VMOVUPD Y0, 0(DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VZEROUPPER
	RET
