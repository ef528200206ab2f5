//go:build amd64 && !purego

#include "textflag.h"

// func packGather32Vec(dst *float32, mr int, src *float32, bases *int32, n int, loads *gatherLoad, nl int, smask uint32)
// For each column p < n: Z0 starts at zero; each load merges the source
// values at bases[p]+load.src+i, i in load.mask, into lanes i of Z0 (a
// masked load: lanes outside the mask are not read); a load with end set
// stores lanes smask of Z0 at dst[load.dst+p·mr] and clears Z0.
// gatherLoad: dst int32 +0, src int32 +4, mask uint32 +8, zero +12, end +16.
TEXT ·packGather32Vec(SB), NOSPLIT, $0-60
	MOVQ dst+0(FP), R14
	MOVQ mr+8(FP), R12
	SHLQ $2, R12
	MOVQ src+16(FP), SI
	MOVQ bases+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ loads+40(FP), R10
	MOVQ nl+48(FP), R11
	MOVL smask+56(FP), AX
	KMOVW AX, K2
	XORQ BX, BX

gcol:
	MOVLQSX (R9)(BX*4), AX
	LEAQ    (SI)(AX*4), R15
	MOVQ    R10, DX
	MOVQ    R11, R13
	VPXORD  Z0, Z0, Z0

gload:
	MOVLQSX 4(DX), AX
	KMOVW   8(DX), K1
	VMOVUPS (R15)(AX*4), K1, Z0
	MOVL    16(DX), AX
	TESTL   AX, AX
	JZ      gnext
	MOVLQSX 0(DX), AX
	VMOVUPS Z0, K2, (R14)(AX*4)
	VPXORD  Z0, Z0, Z0

gnext:
	ADDQ $20, DX
	DECQ R13
	JNZ  gload
	ADDQ R12, R14
	INCQ BX
	CMPQ BX, CX
	JLT  gcol
	VZEROUPPER
	RET
