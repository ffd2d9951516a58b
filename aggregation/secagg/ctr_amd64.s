//go:build amd64 && !purego

#include "textflag.h"

// Byte reversal of each 16-byte lane: native (lo, hi) uint64 counter lanes
// become big-endian AES-CTR counter blocks.
DATA ctrRev<>+0x00(SB)/8, $0x08090a0b0c0d0e0f
DATA ctrRev<>+0x08(SB)/8, $0x0001020304050607
GLOBL ctrRev<>(SB), RODATA|NOPTR, $16

// Lane increment: 4 blocks.
DATA ctrInc4<>+0x00(SB)/8, $4
DATA ctrInc4<>+0x08(SB)/8, $0
GLOBL ctrInc4<>(SB), RODATA|NOPTR, $16

#define ROUND(k) \
	VAESENC k, Z0, Z0; VAESENC k, Z1, Z1; VAESENC k, Z2, Z2; VAESENC k, Z3, Z3; \
	VAESENC k, Z4, Z4; VAESENC k, Z5, Z5; VAESENC k, Z6, Z6; VAESENC k, Z7, Z7

#define NEXT(z) \
	VPSHUFB Z27, Z28, z; VPADDQ Z29, Z28, Z28

#define SETUP \
	MOVQ rk+0(FP), AX; \
	MOVQ ctr+8(FP), BX; \
	MOVQ dst+16(FP), DI; \
	MOVQ blocks+24(FP), CX; \
	VBROADCASTI32X4 0(AX), Z16; \
	VBROADCASTI32X4 16(AX), Z17; \
	VBROADCASTI32X4 32(AX), Z18; \
	VBROADCASTI32X4 48(AX), Z19; \
	VBROADCASTI32X4 64(AX), Z20; \
	VBROADCASTI32X4 80(AX), Z21; \
	VBROADCASTI32X4 96(AX), Z22; \
	VBROADCASTI32X4 112(AX), Z23; \
	VBROADCASTI32X4 128(AX), Z24; \
	VBROADCASTI32X4 144(AX), Z25; \
	VBROADCASTI32X4 160(AX), Z26; \
	VBROADCASTI32X4 ctrRev<>(SB), Z27; \
	VBROADCASTI32X4 ctrInc4<>(SB), Z29; \
	VMOVDQU64 (BX), Z28

// ENC8 encrypts the next 32 counter blocks into Z0–Z7.
#define ENC8 \
	NEXT(Z0); NEXT(Z1); NEXT(Z2); NEXT(Z3); NEXT(Z4); NEXT(Z5); NEXT(Z6); NEXT(Z7); \
	VPXORQ Z16, Z0, Z0; VPXORQ Z16, Z1, Z1; VPXORQ Z16, Z2, Z2; VPXORQ Z16, Z3, Z3; \
	VPXORQ Z16, Z4, Z4; VPXORQ Z16, Z5, Z5; VPXORQ Z16, Z6, Z6; VPXORQ Z16, Z7, Z7; \
	ROUND(Z17); ROUND(Z18); ROUND(Z19); ROUND(Z20); ROUND(Z21); \
	ROUND(Z22); ROUND(Z23); ROUND(Z24); ROUND(Z25); \
	VAESENCLAST Z26, Z0, Z0; VAESENCLAST Z26, Z1, Z1; VAESENCLAST Z26, Z2, Z2; VAESENCLAST Z26, Z3, Z3; \
	VAESENCLAST Z26, Z4, Z4; VAESENCLAST Z26, Z5, Z5; VAESENCLAST Z26, Z6, Z6; VAESENCLAST Z26, Z7, Z7

// ENC1 encrypts the next 4 counter blocks into Z0.
#define ENC1 \
	NEXT(Z0); \
	VPXORQ Z16, Z0, Z0; \
	VAESENC Z17, Z0, Z0; VAESENC Z18, Z0, Z0; VAESENC Z19, Z0, Z0; \
	VAESENC Z20, Z0, Z0; VAESENC Z21, Z0, Z0; VAESENC Z22, Z0, Z0; \
	VAESENC Z23, Z0, Z0; VAESENC Z24, Z0, Z0; VAESENC Z25, Z0, Z0; \
	VAESENCLAST Z26, Z0, Z0

// APPLY8/APPLY1 add (op = VPADDD) or subtract (op = VPSUBD) the keystream
// in Z0–Z7 / Z0 to the uint32 words at DI.
#define APPLY8(op) \
	VMOVDQU64 0(DI), Z8; VMOVDQU64 64(DI), Z9; VMOVDQU64 128(DI), Z10; VMOVDQU64 192(DI), Z11; \
	VMOVDQU64 256(DI), Z12; VMOVDQU64 320(DI), Z13; VMOVDQU64 384(DI), Z14; VMOVDQU64 448(DI), Z15; \
	op Z0, Z8, Z8; op Z1, Z9, Z9; op Z2, Z10, Z10; op Z3, Z11, Z11; \
	op Z4, Z12, Z12; op Z5, Z13, Z13; op Z6, Z14, Z14; op Z7, Z15, Z15; \
	VMOVDQU64 Z8, 0(DI); VMOVDQU64 Z9, 64(DI); VMOVDQU64 Z10, 128(DI); VMOVDQU64 Z11, 192(DI); \
	VMOVDQU64 Z12, 256(DI); VMOVDQU64 Z13, 320(DI); VMOVDQU64 Z14, 384(DI); VMOVDQU64 Z15, 448(DI)

#define APPLY1(op) \
	VMOVDQU64 0(DI), Z8; op Z0, Z8, Z8; VMOVDQU64 Z8, 0(DI)

#define KERNEL(name, store8, store1) \
TEXT name(SB), NOSPLIT, $0-32; \
	SETUP; \
loop32: ; \
	CMPQ CX, $32; \
	JB   loop4; \
	ENC8; \
	store8; \
	ADDQ $512, DI; \
	SUBQ $32, CX; \
	JMP  loop32; \
loop4: ; \
	CMPQ CX, $4; \
	JB   done; \
	ENC1; \
	store1; \
	ADDQ $64, DI; \
	SUBQ $4, CX; \
	JMP  loop4; \
done: ; \
	VZEROUPPER; \
	RET

#define STORE8 \
	VMOVDQU64 Z0, 0(DI); VMOVDQU64 Z1, 64(DI); VMOVDQU64 Z2, 128(DI); VMOVDQU64 Z3, 192(DI); \
	VMOVDQU64 Z4, 256(DI); VMOVDQU64 Z5, 320(DI); VMOVDQU64 Z6, 384(DI); VMOVDQU64 Z7, 448(DI)

#define STORE1 VMOVDQU64 Z0, 0(DI)

// func ctrVAES(rk *[176]byte, ctr *[8]uint64, dst *byte, blocks int)
// Writes blocks (a multiple of 4) AES-128 keystream blocks to dst: lane j
// of ctr holds (lo+j, hi) of the first four counters; lo must not wrap.
KERNEL(·ctrVAES, STORE8, STORE1)

// func ctrVAESAdd(rk *[176]byte, ctr *[8]uint64, dst *uint32, blocks int)
// Adds the keystream of blocks blocks (a multiple of 4), as little-endian
// uint32 words, to the 4·blocks words at dst (mod 2^32).
KERNEL(·ctrVAESAdd, APPLY8(VPADDD), APPLY1(VPADDD))

// func ctrVAESSub(rk *[176]byte, ctr *[8]uint64, dst *uint32, blocks int)
// Subtracts it.
KERNEL(·ctrVAESSub, APPLY8(VPSUBD), APPLY1(VPSUBD))

// EXPAND128 derives the next AES-128 round key in X0 from the previous
// one (X4 must start zero) and stores it at BX: crypto/aes's
// _expand_key_128. AESKEYGENASSIST does SubWord in hardware, so no memory
// access depends on the key.
#define EXPAND128(rcon) \
	AESKEYGENASSIST $rcon, X0, X1; \
	PSHUFD $0xff, X1, X1; \
	SHUFPS $0x10, X0, X4; \
	PXOR X4, X0; \
	SHUFPS $0x8c, X0, X4; \
	PXOR X4, X0; \
	PXOR X1, X0; \
	MOVUPS X0, (BX); \
	ADDQ $16, BX

// func expandKey128Asm(key *[16]byte, rk *[176]byte)
TEXT ·expandKey128Asm(SB), NOSPLIT, $0-16
	MOVQ key+0(FP), AX
	MOVQ rk+8(FP), BX
	MOVUPS (AX), X0
	MOVUPS X0, (BX)
	ADDQ $16, BX
	PXOR X4, X4
	EXPAND128(0x01)
	EXPAND128(0x02)
	EXPAND128(0x04)
	EXPAND128(0x08)
	EXPAND128(0x10)
	EXPAND128(0x20)
	EXPAND128(0x40)
	EXPAND128(0x80)
	EXPAND128(0x1b)
	EXPAND128(0x36)
	PXOR X0, X0
	PXOR X1, X1
	RET
