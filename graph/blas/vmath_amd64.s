//go:build amd64 && !purego

#include "textflag.h"

// Each constant is eight copies of one float32 (or int32) bit pattern.
DATA vmNeg87<>+0(SB)/4, $0xc2ae0000
DATA vmNeg87<>+4(SB)/4, $0xc2ae0000
DATA vmNeg87<>+8(SB)/4, $0xc2ae0000
DATA vmNeg87<>+12(SB)/4, $0xc2ae0000
DATA vmNeg87<>+16(SB)/4, $0xc2ae0000
DATA vmNeg87<>+20(SB)/4, $0xc2ae0000
DATA vmNeg87<>+24(SB)/4, $0xc2ae0000
DATA vmNeg87<>+28(SB)/4, $0xc2ae0000
GLOBL vmNeg87<>(SB), RODATA|NOPTR, $32

DATA vmPos88<>+0(SB)/4, $0x42b00000
DATA vmPos88<>+4(SB)/4, $0x42b00000
DATA vmPos88<>+8(SB)/4, $0x42b00000
DATA vmPos88<>+12(SB)/4, $0x42b00000
DATA vmPos88<>+16(SB)/4, $0x42b00000
DATA vmPos88<>+20(SB)/4, $0x42b00000
DATA vmPos88<>+24(SB)/4, $0x42b00000
DATA vmPos88<>+28(SB)/4, $0x42b00000
GLOBL vmPos88<>(SB), RODATA|NOPTR, $32

DATA vmLog2e<>+0(SB)/4, $0x3fb8aa3b
DATA vmLog2e<>+4(SB)/4, $0x3fb8aa3b
DATA vmLog2e<>+8(SB)/4, $0x3fb8aa3b
DATA vmLog2e<>+12(SB)/4, $0x3fb8aa3b
DATA vmLog2e<>+16(SB)/4, $0x3fb8aa3b
DATA vmLog2e<>+20(SB)/4, $0x3fb8aa3b
DATA vmLog2e<>+24(SB)/4, $0x3fb8aa3b
DATA vmLog2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL vmLog2e<>(SB), RODATA|NOPTR, $32

DATA vmMagic<>+0(SB)/4, $0x4b400000
DATA vmMagic<>+4(SB)/4, $0x4b400000
DATA vmMagic<>+8(SB)/4, $0x4b400000
DATA vmMagic<>+12(SB)/4, $0x4b400000
DATA vmMagic<>+16(SB)/4, $0x4b400000
DATA vmMagic<>+20(SB)/4, $0x4b400000
DATA vmMagic<>+24(SB)/4, $0x4b400000
DATA vmMagic<>+28(SB)/4, $0x4b400000
GLOBL vmMagic<>(SB), RODATA|NOPTR, $32

DATA vmC1<>+0(SB)/4, $0x3f318000
DATA vmC1<>+4(SB)/4, $0x3f318000
DATA vmC1<>+8(SB)/4, $0x3f318000
DATA vmC1<>+12(SB)/4, $0x3f318000
DATA vmC1<>+16(SB)/4, $0x3f318000
DATA vmC1<>+20(SB)/4, $0x3f318000
DATA vmC1<>+24(SB)/4, $0x3f318000
DATA vmC1<>+28(SB)/4, $0x3f318000
GLOBL vmC1<>(SB), RODATA|NOPTR, $32

DATA vmC2<>+0(SB)/4, $0x395e8083
DATA vmC2<>+4(SB)/4, $0x395e8083
DATA vmC2<>+8(SB)/4, $0x395e8083
DATA vmC2<>+12(SB)/4, $0x395e8083
DATA vmC2<>+16(SB)/4, $0x395e8083
DATA vmC2<>+20(SB)/4, $0x395e8083
DATA vmC2<>+24(SB)/4, $0x395e8083
DATA vmC2<>+28(SB)/4, $0x395e8083
GLOBL vmC2<>(SB), RODATA|NOPTR, $32

DATA vmP0<>+0(SB)/4, $0x39506967
DATA vmP0<>+4(SB)/4, $0x39506967
DATA vmP0<>+8(SB)/4, $0x39506967
DATA vmP0<>+12(SB)/4, $0x39506967
DATA vmP0<>+16(SB)/4, $0x39506967
DATA vmP0<>+20(SB)/4, $0x39506967
DATA vmP0<>+24(SB)/4, $0x39506967
DATA vmP0<>+28(SB)/4, $0x39506967
GLOBL vmP0<>(SB), RODATA|NOPTR, $32

DATA vmP1<>+0(SB)/4, $0x3ab743ce
DATA vmP1<>+4(SB)/4, $0x3ab743ce
DATA vmP1<>+8(SB)/4, $0x3ab743ce
DATA vmP1<>+12(SB)/4, $0x3ab743ce
DATA vmP1<>+16(SB)/4, $0x3ab743ce
DATA vmP1<>+20(SB)/4, $0x3ab743ce
DATA vmP1<>+24(SB)/4, $0x3ab743ce
DATA vmP1<>+28(SB)/4, $0x3ab743ce
GLOBL vmP1<>(SB), RODATA|NOPTR, $32

DATA vmP2<>+0(SB)/4, $0x3c088908
DATA vmP2<>+4(SB)/4, $0x3c088908
DATA vmP2<>+8(SB)/4, $0x3c088908
DATA vmP2<>+12(SB)/4, $0x3c088908
DATA vmP2<>+16(SB)/4, $0x3c088908
DATA vmP2<>+20(SB)/4, $0x3c088908
DATA vmP2<>+24(SB)/4, $0x3c088908
DATA vmP2<>+28(SB)/4, $0x3c088908
GLOBL vmP2<>(SB), RODATA|NOPTR, $32

DATA vmP3<>+0(SB)/4, $0x3d2aa9c1
DATA vmP3<>+4(SB)/4, $0x3d2aa9c1
DATA vmP3<>+8(SB)/4, $0x3d2aa9c1
DATA vmP3<>+12(SB)/4, $0x3d2aa9c1
DATA vmP3<>+16(SB)/4, $0x3d2aa9c1
DATA vmP3<>+20(SB)/4, $0x3d2aa9c1
DATA vmP3<>+24(SB)/4, $0x3d2aa9c1
DATA vmP3<>+28(SB)/4, $0x3d2aa9c1
GLOBL vmP3<>(SB), RODATA|NOPTR, $32

DATA vmP4<>+0(SB)/4, $0x3e2aaaaa
DATA vmP4<>+4(SB)/4, $0x3e2aaaaa
DATA vmP4<>+8(SB)/4, $0x3e2aaaaa
DATA vmP4<>+12(SB)/4, $0x3e2aaaaa
DATA vmP4<>+16(SB)/4, $0x3e2aaaaa
DATA vmP4<>+20(SB)/4, $0x3e2aaaaa
DATA vmP4<>+24(SB)/4, $0x3e2aaaaa
DATA vmP4<>+28(SB)/4, $0x3e2aaaaa
GLOBL vmP4<>(SB), RODATA|NOPTR, $32

DATA vmP5<>+0(SB)/4, $0x3f000000
DATA vmP5<>+4(SB)/4, $0x3f000000
DATA vmP5<>+8(SB)/4, $0x3f000000
DATA vmP5<>+12(SB)/4, $0x3f000000
DATA vmP5<>+16(SB)/4, $0x3f000000
DATA vmP5<>+20(SB)/4, $0x3f000000
DATA vmP5<>+24(SB)/4, $0x3f000000
DATA vmP5<>+28(SB)/4, $0x3f000000
GLOBL vmP5<>(SB), RODATA|NOPTR, $32

DATA vmOne<>+0(SB)/4, $0x3f800000
DATA vmOne<>+4(SB)/4, $0x3f800000
DATA vmOne<>+8(SB)/4, $0x3f800000
DATA vmOne<>+12(SB)/4, $0x3f800000
DATA vmOne<>+16(SB)/4, $0x3f800000
DATA vmOne<>+20(SB)/4, $0x3f800000
DATA vmOne<>+24(SB)/4, $0x3f800000
DATA vmOne<>+28(SB)/4, $0x3f800000
GLOBL vmOne<>(SB), RODATA|NOPTR, $32

DATA vmTwo<>+0(SB)/4, $0x40000000
DATA vmTwo<>+4(SB)/4, $0x40000000
DATA vmTwo<>+8(SB)/4, $0x40000000
DATA vmTwo<>+12(SB)/4, $0x40000000
DATA vmTwo<>+16(SB)/4, $0x40000000
DATA vmTwo<>+20(SB)/4, $0x40000000
DATA vmTwo<>+24(SB)/4, $0x40000000
DATA vmTwo<>+28(SB)/4, $0x40000000
GLOBL vmTwo<>(SB), RODATA|NOPTR, $32

DATA vmExpBias<>+0(SB)/4, $0x4b3fff81
DATA vmExpBias<>+4(SB)/4, $0x4b3fff81
DATA vmExpBias<>+8(SB)/4, $0x4b3fff81
DATA vmExpBias<>+12(SB)/4, $0x4b3fff81
DATA vmExpBias<>+16(SB)/4, $0x4b3fff81
DATA vmExpBias<>+20(SB)/4, $0x4b3fff81
DATA vmExpBias<>+24(SB)/4, $0x4b3fff81
DATA vmExpBias<>+28(SB)/4, $0x4b3fff81
GLOBL vmExpBias<>(SB), RODATA|NOPTR, $32

DATA vmAbs<>+0(SB)/4, $0x7fffffff
DATA vmAbs<>+4(SB)/4, $0x7fffffff
DATA vmAbs<>+8(SB)/4, $0x7fffffff
DATA vmAbs<>+12(SB)/4, $0x7fffffff
DATA vmAbs<>+16(SB)/4, $0x7fffffff
DATA vmAbs<>+20(SB)/4, $0x7fffffff
DATA vmAbs<>+24(SB)/4, $0x7fffffff
DATA vmAbs<>+28(SB)/4, $0x7fffffff
GLOBL vmAbs<>(SB), RODATA|NOPTR, $32

DATA vmSign<>+0(SB)/4, $0x80000000
DATA vmSign<>+4(SB)/4, $0x80000000
DATA vmSign<>+8(SB)/4, $0x80000000
DATA vmSign<>+12(SB)/4, $0x80000000
DATA vmSign<>+16(SB)/4, $0x80000000
DATA vmSign<>+20(SB)/4, $0x80000000
DATA vmSign<>+24(SB)/4, $0x80000000
DATA vmSign<>+28(SB)/4, $0x80000000
GLOBL vmSign<>(SB), RODATA|NOPTR, $32

DATA vmT0<>+0(SB)/4, $0xbbbaf0ea
DATA vmT0<>+4(SB)/4, $0xbbbaf0ea
DATA vmT0<>+8(SB)/4, $0xbbbaf0ea
DATA vmT0<>+12(SB)/4, $0xbbbaf0ea
DATA vmT0<>+16(SB)/4, $0xbbbaf0ea
DATA vmT0<>+20(SB)/4, $0xbbbaf0ea
DATA vmT0<>+24(SB)/4, $0xbbbaf0ea
DATA vmT0<>+28(SB)/4, $0xbbbaf0ea
GLOBL vmT0<>(SB), RODATA|NOPTR, $32

DATA vmT1<>+0(SB)/4, $0x3ca9134e
DATA vmT1<>+4(SB)/4, $0x3ca9134e
DATA vmT1<>+8(SB)/4, $0x3ca9134e
DATA vmT1<>+12(SB)/4, $0x3ca9134e
DATA vmT1<>+16(SB)/4, $0x3ca9134e
DATA vmT1<>+20(SB)/4, $0x3ca9134e
DATA vmT1<>+24(SB)/4, $0x3ca9134e
DATA vmT1<>+28(SB)/4, $0x3ca9134e
GLOBL vmT1<>(SB), RODATA|NOPTR, $32

DATA vmT2<>+0(SB)/4, $0xbd5c1e2d
DATA vmT2<>+4(SB)/4, $0xbd5c1e2d
DATA vmT2<>+8(SB)/4, $0xbd5c1e2d
DATA vmT2<>+12(SB)/4, $0xbd5c1e2d
DATA vmT2<>+16(SB)/4, $0xbd5c1e2d
DATA vmT2<>+20(SB)/4, $0xbd5c1e2d
DATA vmT2<>+24(SB)/4, $0xbd5c1e2d
DATA vmT2<>+28(SB)/4, $0xbd5c1e2d
GLOBL vmT2<>(SB), RODATA|NOPTR, $32

DATA vmT3<>+0(SB)/4, $0x3e088393
DATA vmT3<>+4(SB)/4, $0x3e088393
DATA vmT3<>+8(SB)/4, $0x3e088393
DATA vmT3<>+12(SB)/4, $0x3e088393
DATA vmT3<>+16(SB)/4, $0x3e088393
DATA vmT3<>+20(SB)/4, $0x3e088393
DATA vmT3<>+24(SB)/4, $0x3e088393
DATA vmT3<>+28(SB)/4, $0x3e088393
GLOBL vmT3<>(SB), RODATA|NOPTR, $32

DATA vmT4<>+0(SB)/4, $0xbeaaaa99
DATA vmT4<>+4(SB)/4, $0xbeaaaa99
DATA vmT4<>+8(SB)/4, $0xbeaaaa99
DATA vmT4<>+12(SB)/4, $0xbeaaaa99
DATA vmT4<>+16(SB)/4, $0xbeaaaa99
DATA vmT4<>+20(SB)/4, $0xbeaaaa99
DATA vmT4<>+24(SB)/4, $0xbeaaaa99
DATA vmT4<>+28(SB)/4, $0xbeaaaa99
GLOBL vmT4<>(SB), RODATA|NOPTR, $32

DATA vmThr<>+0(SB)/4, $0x3f200000
DATA vmThr<>+4(SB)/4, $0x3f200000
DATA vmThr<>+8(SB)/4, $0x3f200000
DATA vmThr<>+12(SB)/4, $0x3f200000
DATA vmThr<>+16(SB)/4, $0x3f200000
DATA vmThr<>+20(SB)/4, $0x3f200000
DATA vmThr<>+24(SB)/4, $0x3f200000
DATA vmThr<>+28(SB)/4, $0x3f200000
GLOBL vmThr<>(SB), RODATA|NOPTR, $32
// EXP8 sets X = e^X on eight lanes (X clamped to [−87, 88]), with T, P
// and R2 as scratch: t = x·log2e + 1.5·2^23 rounds k into t's low bits,
// r = x − k·ln2 (in two parts), e^r from a degree-5 polynomial, 2^k from
// the exponent bits of t.
#define EXP8(X, T, P, R2) \
	VMAXPS       vmNeg87<>(SB), X, X; \
	VMINPS       vmPos88<>(SB), X, X; \
	VMOVUPS      vmMagic<>(SB), T;    \
	VFMADD231PS  vmLog2e<>(SB), X, T; \
	VSUBPS       vmMagic<>(SB), T, P; \
	VFNMADD231PS vmC1<>(SB), P, X;    \
	VFMADD231PS  vmC2<>(SB), P, X;    \
	VMOVUPS      vmP0<>(SB), P;       \
	VFMADD213PS  vmP1<>(SB), X, P;    \
	VFMADD213PS  vmP2<>(SB), X, P;    \
	VFMADD213PS  vmP3<>(SB), X, P;    \
	VFMADD213PS  vmP4<>(SB), X, P;    \
	VFMADD213PS  vmP5<>(SB), X, P;    \
	VMULPS       X, X, R2;            \
	VFMADD213PS  X, R2, P;            \
	VADDPS       vmOne<>(SB), P, P;   \
	VPSUBD       vmExpBias<>(SB), T, T; \
	VPSLLD       $23, T, T;           \
	VMULPS       T, P, X

// func sigmoid32Vec(v *float32, n int)
TEXT ·sigmoid32Vec(SB), NOSPLIT, $0-16
	MOVQ    v+0(FP), SI
	MOVQ    n+8(FP), CX
	SHRQ    $3, CX
	VMOVUPS vmOne<>(SB), Y15
	VXORPS  Y14, Y14, Y14

sigloop:
	VMOVUPS (SI), Y0
	VSUBPS  Y0, Y14, Y0
	EXP8(Y0, Y1, Y2, Y3)
	VADDPS  Y15, Y0, Y0
	VDIVPS  Y0, Y15, Y0
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	DECQ    CX
	JNZ     sigloop
	VZEROUPPER
	RET

// func exp32Vec(v *float32, n int)
TEXT ·exp32Vec(SB), NOSPLIT, $0-16
	MOVQ v+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX

exploop:
	VMOVUPS (SI), Y0
	EXP8(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	DECQ    CX
	JNZ     exploop
	VZEROUPPER
	RET

// func tanh32Vec(v *float32, n int)
TEXT ·tanh32Vec(SB), NOSPLIT, $0-16
	MOVQ    v+0(FP), SI
	MOVQ    n+8(FP), CX
	SHRQ    $3, CX
	VMOVUPS vmOne<>(SB), Y15
	VMOVUPS vmTwo<>(SB), Y14

tanhloop:
	VMOVUPS (SI), Y4
	VANDPS  vmAbs<>(SB), Y4, Y0
	VCMPPS  $1, vmThr<>(SB), Y0, Y5
	VADDPS  Y0, Y0, Y0
	EXP8(Y0, Y1, Y2, Y3)
	VADDPS  Y15, Y0, Y0
	VDIVPS  Y0, Y14, Y0
	VSUBPS  Y0, Y15, Y0
	VANDPS  vmSign<>(SB), Y4, Y1
	VORPS   Y1, Y0, Y0
	VMULPS  Y4, Y4, Y1
	VMOVUPS vmT0<>(SB), Y2
	VFMADD213PS vmT1<>(SB), Y1, Y2
	VFMADD213PS vmT2<>(SB), Y1, Y2
	VFMADD213PS vmT3<>(SB), Y1, Y2
	VFMADD213PS vmT4<>(SB), Y1, Y2
	VMULPS  Y1, Y2, Y2
	VFMADD213PS Y4, Y4, Y2
	VBLENDVPS Y5, Y2, Y0, Y0
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	DECQ    CX
	JNZ     tanhloop
	VZEROUPPER
	RET

// func add32Vec(dst, src *float32, n int)
TEXT ·add32Vec(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX

addloop:
	VMOVUPS (DI), Y0
	VADDPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	DECQ    CX
	JNZ     addloop
	VZEROUPPER
	RET

// The exponent fields of float32 and float64: all ones means NaN or ±Inf.
DATA vmExp32<>+0(SB)/4, $0x7f800000
GLOBL vmExp32<>(SB), RODATA|NOPTR, $4
DATA vmExp64<>+0(SB)/8, $0x7ff0000000000000
GLOBL vmExp64<>(SB), RODATA|NOPTR, $8

// FINITE4(cmp) ORs into Y5 the lanes of four vectors at SI whose exponent
// field (mask in Y4) is all ones (cmp compares 32- or 64-bit lanes).
#define FINITE4(cmp) \
	VPAND   0(SI), Y4, Y0;  \
	VPAND   32(SI), Y4, Y1; \
	VPAND   64(SI), Y4, Y2; \
	VPAND   96(SI), Y4, Y3; \
	cmp     Y4, Y0, Y0;     \
	cmp     Y4, Y1, Y1;     \
	cmp     Y4, Y2, Y2;     \
	cmp     Y4, Y3, Y3;     \
	VPOR    Y0, Y1, Y0;     \
	VPOR    Y2, Y3, Y2;     \
	VPOR    Y0, Y5, Y5;     \
	VPOR    Y2, Y5, Y5;     \
	ADDQ    $128, SI

// func allFinite32Vec(v *float32, n int) bool
TEXT ·allFinite32Vec(SB), NOSPLIT, $0-17
	MOVQ         v+0(FP), SI
	MOVQ         n+8(FP), CX
	SHRQ         $5, CX
	VPBROADCASTD vmExp32<>(SB), Y4
	VPXOR        Y5, Y5, Y5

fin32loop:
	FINITE4(VPCMPEQD)
	DECQ CX
	JNZ  fin32loop
	VPTEST Y5, Y5
	SETEQ  AL
	MOVB   AL, ret+16(FP)
	VZEROUPPER
	RET

// func allFinite64Vec(v *float64, n int) bool
TEXT ·allFinite64Vec(SB), NOSPLIT, $0-17
	MOVQ         v+0(FP), SI
	MOVQ         n+8(FP), CX
	SHRQ         $4, CX
	VPBROADCASTQ vmExp64<>(SB), Y4
	VPXOR        Y5, Y5, Y5

fin64loop:
	FINITE4(VPCMPEQQ)
	DECQ CX
	JNZ  fin64loop
	VPTEST Y5, Y5
	SETEQ  AL
	MOVB   AL, ret+16(FP)
	VZEROUPPER
	RET

// func copyFinite32Vec(dst, src *float32, n int) bool
TEXT ·copyFinite32Vec(SB), NOSPLIT, $0-25
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	SHRQ         $5, CX
	VPBROADCASTD vmExp32<>(SB), Y4
	VPXOR        Y5, Y5, Y5

copyfinloop:
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	FINITE4(VPCMPEQD) // reads the 128 bytes again, from L1
	ADDQ    $128, DI
	DECQ     CX
	JNZ      copyfinloop
	VPTEST   Y5, Y5
	SETEQ    AL
	MOVB     AL, ret+24(FP)
	VZEROUPPER
	RET

// func interleave6Vec(dst *float32, stride int, rows *[6]*float32, n int)
// For j < n (a positive multiple of 8): dst[j*stride+i] = rows[i][j], i < 6.
// Eight columns at a time: the six rows' eight values are transposed in
// registers (unpack, shuffle) and each column's six values are stored as
// four (low half of a lane) and two (a 64-bit half of the rows 4–5 pair).
TEXT ·interleave6Vec(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ stride+8(FP), DX
	SHLQ $2, DX
	MOVQ rows+16(FP), SI
	MOVQ n+24(FP), CX
	MOVQ 0(SI), R8
	MOVQ 8(SI), R9
	MOVQ 16(SI), R10
	MOVQ 24(SI), R11
	MOVQ 32(SI), R12
	MOVQ 40(SI), R13
	XORQ AX, AX
	SHRQ $3, CX

il6loop:
	VMOVUPS   (R8)(AX*1), Y0
	VMOVUPS   (R9)(AX*1), Y1
	VMOVUPS   (R10)(AX*1), Y2
	VMOVUPS   (R11)(AX*1), Y3
	VMOVUPS   (R12)(AX*1), Y4
	VMOVUPS   (R13)(AX*1), Y5
	VUNPCKLPS Y1, Y0, Y6
	VUNPCKHPS Y1, Y0, Y7
	VUNPCKLPS Y3, Y2, Y8
	VUNPCKHPS Y3, Y2, Y9
	VUNPCKLPS Y5, Y4, Y10
	VUNPCKHPS Y5, Y4, Y11
	VSHUFPS   $0x44, Y8, Y6, Y12
	VSHUFPS   $0xEE, Y8, Y6, Y13
	VSHUFPS   $0x44, Y9, Y7, Y14
	VSHUFPS   $0xEE, Y9, Y7, Y15

	// Columns 0-3 from the low lanes.
	MOVQ    DI, R14
	LEAQ    (DI)(DX*1), R15
	VMOVUPS X12, (R14)
	VMOVLPS X10, 16(R14)
	VMOVUPS X13, (R15)
	VMOVHPS X10, 16(R15)
	VMOVUPS X14, (R14)(DX*2)
	VMOVLPS X11, 16(R14)(DX*2)
	VMOVUPS X15, (R15)(DX*2)
	VMOVHPS X11, 16(R15)(DX*2)

	// Columns 4-7 from the high lanes.
	LEAQ         (R14)(DX*4), R14
	LEAQ         (R15)(DX*4), R15
	VEXTRACTF128 $1, Y12, X12
	VEXTRACTF128 $1, Y13, X13
	VEXTRACTF128 $1, Y14, X14
	VEXTRACTF128 $1, Y15, X15
	VEXTRACTF128 $1, Y10, X10
	VEXTRACTF128 $1, Y11, X11
	VMOVUPS      X12, (R14)
	VMOVLPS      X10, 16(R14)
	VMOVUPS      X13, (R15)
	VMOVHPS      X10, 16(R15)
	VMOVUPS      X14, (R14)(DX*2)
	VMOVLPS      X11, 16(R14)(DX*2)
	VMOVUPS      X15, (R15)(DX*2)
	VMOVHPS      X11, 16(R15)(DX*2)

	LEAQ (DI)(DX*8), DI
	ADDQ $32, AX
	DECQ CX
	JNZ  il6loop
	VZEROUPPER
	RET
