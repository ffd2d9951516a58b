//go:build amd64 && !purego

#include "textflag.h"

// PSHUFB control reversing the bytes of each 32-bit lane.
DATA bswap32<>+0(SB)/8, $0x0405060700010203
DATA bswap32<>+8(SB)/8, $0x0c0d0e0f08090a0b
GLOBL bswap32<>(SB), RODATA|NOPTR, $16

// func addBE32AVX2(w *uint32, b *byte, n int)
// w[i] += be32(b[4i:]) for i < n; n is a positive multiple of 32.
TEXT ·addBE32AVX2(SB), NOSPLIT, $0-24
	MOVQ           w+0(FP), DI
	MOVQ           b+8(FP), SI
	MOVQ           n+16(FP), CX
	VBROADCASTI128 bswap32<>(SB), Y8
	SHRQ           $5, CX

beloop:
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 64(SI), Y2
	VMOVDQU 96(SI), Y3
	VPSHUFB Y8, Y0, Y0
	VPSHUFB Y8, Y1, Y1
	VPSHUFB Y8, Y2, Y2
	VPSHUFB Y8, Y3, Y3
	VPADDD  0(DI), Y0, Y0
	VPADDD  32(DI), Y1, Y1
	VPADDD  64(DI), Y2, Y2
	VPADDD  96(DI), Y3, Y3
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	DECQ    CX
	JNZ     beloop
	VZEROUPPER
	RET

// func addU32AVX2(w *uint32, v *uint32, n int)
// w[i] += v[i] for i < n; n is a positive multiple of 32.
TEXT ·addU32AVX2(SB), NOSPLIT, $0-24
	MOVQ w+0(FP), DI
	MOVQ v+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $5, CX

u32loop:
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 64(SI), Y2
	VMOVDQU 96(SI), Y3
	VPADDD  0(DI), Y0, Y0
	VPADDD  32(DI), Y1, Y1
	VPADDD  64(DI), Y2, Y2
	VPADDD  96(DI), Y3, Y3
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	DECQ    CX
	JNZ     u32loop
	VZEROUPPER
	RET

// func storeBE32AVX2(b *byte, w *uint32, n int)
// be32(b[4i:]) = w[i] for i < n; n is a positive multiple of 32.
TEXT ·storeBE32AVX2(SB), NOSPLIT, $0-24
	MOVQ           b+0(FP), DI
	MOVQ           w+8(FP), SI
	MOVQ           n+16(FP), CX
	VBROADCASTI128 bswap32<>(SB), Y8
	SHRQ           $5, CX

stloop:
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 64(SI), Y2
	VMOVDQU 96(SI), Y3
	VPSHUFB Y8, Y0, Y0
	VPSHUFB Y8, Y1, Y1
	VPSHUFB Y8, Y2, Y2
	VPSHUFB Y8, Y3, Y3
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	DECQ    CX
	JNZ     stloop
	VZEROUPPER
	RET
