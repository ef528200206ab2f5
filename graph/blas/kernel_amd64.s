//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// Register use in both micro-kernels:
//	SI: packed A, DI: packed B, DX: C, R8: ldc in bytes, CX: loop count
//	Y0..Y11: the 6×2 accumulators (row r in Y(2r), Y(2r+1))
//	Y12, Y13: one row of the B micro-panel; Y14, Y15: broadcast A values

// SSTEP is one k step of the 6×16 float32 kernel: B row at b0(DI),
// b1(DI), A column at a0..a5(SI).
#define SSTEP(b0, b1, a0, a1, a2, a3, a4, a5) \
	VMOVUPS      b0(DI), Y12;     \
	VMOVUPS      b1(DI), Y13;     \
	VBROADCASTSS a0(SI), Y14;     \
	VFMADD231PS  Y12, Y14, Y0;    \
	VFMADD231PS  Y13, Y14, Y1;    \
	VBROADCASTSS a1(SI), Y15;     \
	VFMADD231PS  Y12, Y15, Y2;    \
	VFMADD231PS  Y13, Y15, Y3;    \
	VBROADCASTSS a2(SI), Y14;     \
	VFMADD231PS  Y12, Y14, Y4;    \
	VFMADD231PS  Y13, Y14, Y5;    \
	VBROADCASTSS a3(SI), Y15;     \
	VFMADD231PS  Y12, Y15, Y6;    \
	VFMADD231PS  Y13, Y15, Y7;    \
	VBROADCASTSS a4(SI), Y14;     \
	VFMADD231PS  Y12, Y14, Y8;    \
	VFMADD231PS  Y13, Y14, Y9;    \
	VBROADCASTSS a5(SI), Y15;     \
	VFMADD231PS  Y12, Y15, Y10;   \
	VFMADD231PS  Y13, Y15, Y11

// SROWBETA writes one row of C = acc + beta·C (beta in Y13).
#define SROWBETA(lo, hi) \
	VFMADD231PS 0(DX), Y13, lo;  \
	VMOVUPS     lo, 0(DX);       \
	VFMADD231PS 32(DX), Y13, hi; \
	VMOVUPS     hi, 32(DX);      \
	ADDQ        R8, DX

// ROWSTORE writes one row of C = acc.
#define ROWSTORE(lo, hi) \
	VMOVUPS lo, 0(DX);  \
	VMOVUPS hi, 32(DX); \
	ADDQ    R8, DX

// func sgemmKernelAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmKernelAVX2(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   stail

sloop4:
	SSTEP(0, 32, 0, 4, 8, 12, 16, 20)
	SSTEP(64, 96, 24, 28, 32, 36, 40, 44)
	SSTEP(128, 160, 48, 52, 56, 60, 64, 68)
	SSTEP(192, 224, 72, 76, 80, 84, 88, 92)
	ADDQ $96, SI
	ADDQ $256, DI
	DECQ BX
	JNZ  sloop4

stail:
	ANDQ $3, CX
	JZ   sstore

sloop1:
	SSTEP(0, 32, 0, 4, 8, 12, 16, 20)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  sloop1

sstore:
	VBROADCASTSS alpha+40(FP), Y12
	VMULPS       Y12, Y0, Y0
	VMULPS       Y12, Y1, Y1
	VMULPS       Y12, Y2, Y2
	VMULPS       Y12, Y3, Y3
	VMULPS       Y12, Y4, Y4
	VMULPS       Y12, Y5, Y5
	VMULPS       Y12, Y6, Y6
	VMULPS       Y12, Y7, Y7
	VMULPS       Y12, Y8, Y8
	VMULPS       Y12, Y9, Y9
	VMULPS       Y12, Y10, Y10
	VMULPS       Y12, Y11, Y11

	MOVL beta+44(FP), AX
	ANDL $0x7fffffff, AX
	JZ   snobeta

	VBROADCASTSS beta+44(FP), Y13
	SROWBETA(Y0, Y1)
	SROWBETA(Y2, Y3)
	SROWBETA(Y4, Y5)
	SROWBETA(Y6, Y7)
	SROWBETA(Y8, Y9)
	SROWBETA(Y10, Y11)
	VZEROUPPER
	RET

snobeta:
	ROWSTORE(Y0, Y1)
	ROWSTORE(Y2, Y3)
	ROWSTORE(Y4, Y5)
	ROWSTORE(Y6, Y7)
	ROWSTORE(Y8, Y9)
	ROWSTORE(Y10, Y11)
	VZEROUPPER
	RET

// DSTEP is one k step of the 6×8 float64 kernel.
#define DSTEP(b0, b1, a0, a1, a2, a3, a4, a5) \
	VMOVUPD      b0(DI), Y12;     \
	VMOVUPD      b1(DI), Y13;     \
	VBROADCASTSD a0(SI), Y14;     \
	VFMADD231PD  Y12, Y14, Y0;    \
	VFMADD231PD  Y13, Y14, Y1;    \
	VBROADCASTSD a1(SI), Y15;     \
	VFMADD231PD  Y12, Y15, Y2;    \
	VFMADD231PD  Y13, Y15, Y3;    \
	VBROADCASTSD a2(SI), Y14;     \
	VFMADD231PD  Y12, Y14, Y4;    \
	VFMADD231PD  Y13, Y14, Y5;    \
	VBROADCASTSD a3(SI), Y15;     \
	VFMADD231PD  Y12, Y15, Y6;    \
	VFMADD231PD  Y13, Y15, Y7;    \
	VBROADCASTSD a4(SI), Y14;     \
	VFMADD231PD  Y12, Y14, Y8;    \
	VFMADD231PD  Y13, Y14, Y9;    \
	VBROADCASTSD a5(SI), Y15;     \
	VFMADD231PD  Y12, Y15, Y10;   \
	VFMADD231PD  Y13, Y15, Y11

#define DROWBETA(lo, hi) \
	VFMADD231PD 0(DX), Y13, lo;  \
	VMOVUPD     lo, 0(DX);       \
	VFMADD231PD 32(DX), Y13, hi; \
	VMOVUPD     hi, 32(DX);      \
	ADDQ        R8, DX

// func dgemmKernelAVX2(k int, a, b, c *float64, ldc int, alpha, beta float64)
TEXT ·dgemmKernelAVX2(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8

	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   dtail

dloop4:
	DSTEP(0, 32, 0, 8, 16, 24, 32, 40)
	DSTEP(64, 96, 48, 56, 64, 72, 80, 88)
	DSTEP(128, 160, 96, 104, 112, 120, 128, 136)
	DSTEP(192, 224, 144, 152, 160, 168, 176, 184)
	ADDQ $192, SI
	ADDQ $256, DI
	DECQ BX
	JNZ  dloop4

dtail:
	ANDQ $3, CX
	JZ   dstore

dloop1:
	DSTEP(0, 32, 0, 8, 16, 24, 32, 40)
	ADDQ $48, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  dloop1

dstore:
	VBROADCASTSD alpha+40(FP), Y12
	VMULPD       Y12, Y0, Y0
	VMULPD       Y12, Y1, Y1
	VMULPD       Y12, Y2, Y2
	VMULPD       Y12, Y3, Y3
	VMULPD       Y12, Y4, Y4
	VMULPD       Y12, Y5, Y5
	VMULPD       Y12, Y6, Y6
	VMULPD       Y12, Y7, Y7
	VMULPD       Y12, Y8, Y8
	VMULPD       Y12, Y9, Y9
	VMULPD       Y12, Y10, Y10
	VMULPD       Y12, Y11, Y11

	MOVQ beta+48(FP), AX
	SHLQ $1, AX
	JZ   dnobeta

	VBROADCASTSD beta+48(FP), Y13
	DROWBETA(Y0, Y1)
	DROWBETA(Y2, Y3)
	DROWBETA(Y4, Y5)
	DROWBETA(Y6, Y7)
	DROWBETA(Y8, Y9)
	DROWBETA(Y10, Y11)
	VZEROUPPER
	RET

dnobeta:
	ROWSTORE(Y0, Y1)
	ROWSTORE(Y2, Y3)
	ROWSTORE(Y4, Y5)
	ROWSTORE(Y6, Y7)
	ROWSTORE(Y8, Y9)
	ROWSTORE(Y10, Y11)
	VZEROUPPER
	RET

// AVX-512 micro-kernels: 12×32 (float32) and 12×16 (float64). Register use:
//	SI: packed A, DI: packed B, DX: C, R8: ldc in bytes, CX, BX: loop counts
//	Z0..Z23: the 12×2 accumulators (row r in Z(2r), Z(2r+1))
//	Z24, Z25: one row of the B micro-panel; Z26, Z27: broadcast A values

// ZZERO0_15 and ZZERO16_23 clear the AVX-512 accumulators Z0..Z15 and
// Z16..Z23; ZMUL0_15 and ZMUL16_23 multiply them by s (op: VMULPS or
// VMULPD).
#define ZZERO0_15 \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15

#define ZZERO16_23 \
	VPXORD Z16, Z16, Z16; \
	VPXORD Z17, Z17, Z17; \
	VPXORD Z18, Z18, Z18; \
	VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20; \
	VPXORD Z21, Z21, Z21; \
	VPXORD Z22, Z22, Z22; \
	VPXORD Z23, Z23, Z23

#define ZMUL0_15(op, s) \
	op s, Z0, Z0; \
	op s, Z1, Z1; \
	op s, Z2, Z2; \
	op s, Z3, Z3; \
	op s, Z4, Z4; \
	op s, Z5, Z5; \
	op s, Z6, Z6; \
	op s, Z7, Z7; \
	op s, Z8, Z8; \
	op s, Z9, Z9; \
	op s, Z10, Z10; \
	op s, Z11, Z11; \
	op s, Z12, Z12; \
	op s, Z13, Z13; \
	op s, Z14, Z14; \
	op s, Z15, Z15

#define ZMUL16_23(op, s) \
	op s, Z16, Z16; \
	op s, Z17, Z17; \
	op s, Z18, Z18; \
	op s, Z19, Z19; \
	op s, Z20, Z20; \
	op s, Z21, Z21; \
	op s, Z22, Z22; \
	op s, Z23, Z23

// ZSTEPS is one k step of the 12×32 float32 AVX-512 kernel: B row at b0(DI),
// b1(DI), A column at a0..a11(SI).
#define ZSTEPS(b0, b1, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) \
	VMOVUPS b0(DI), Z24; \
	VMOVUPS b1(DI), Z25; \
	VBROADCASTSS a0(SI), Z26; \
	VFMADD231PS Z24, Z26, Z0; \
	VFMADD231PS Z25, Z26, Z1; \
	VBROADCASTSS a1(SI), Z27; \
	VFMADD231PS Z24, Z27, Z2; \
	VFMADD231PS Z25, Z27, Z3; \
	VBROADCASTSS a2(SI), Z26; \
	VFMADD231PS Z24, Z26, Z4; \
	VFMADD231PS Z25, Z26, Z5; \
	VBROADCASTSS a3(SI), Z27; \
	VFMADD231PS Z24, Z27, Z6; \
	VFMADD231PS Z25, Z27, Z7; \
	VBROADCASTSS a4(SI), Z26; \
	VFMADD231PS Z24, Z26, Z8; \
	VFMADD231PS Z25, Z26, Z9; \
	VBROADCASTSS a5(SI), Z27; \
	VFMADD231PS Z24, Z27, Z10; \
	VFMADD231PS Z25, Z27, Z11; \
	VBROADCASTSS a6(SI), Z26; \
	VFMADD231PS Z24, Z26, Z12; \
	VFMADD231PS Z25, Z26, Z13; \
	VBROADCASTSS a7(SI), Z27; \
	VFMADD231PS Z24, Z27, Z14; \
	VFMADD231PS Z25, Z27, Z15; \
	VBROADCASTSS a8(SI), Z26; \
	VFMADD231PS Z24, Z26, Z16; \
	VFMADD231PS Z25, Z26, Z17; \
	VBROADCASTSS a9(SI), Z27; \
	VFMADD231PS Z24, Z27, Z18; \
	VFMADD231PS Z25, Z27, Z19; \
	VBROADCASTSS a10(SI), Z26; \
	VFMADD231PS Z24, Z26, Z20; \
	VFMADD231PS Z25, Z26, Z21; \
	VBROADCASTSS a11(SI), Z27; \
	VFMADD231PS Z24, Z27, Z22; \
	VFMADD231PS Z25, Z27, Z23

#define ZROWBETAS(lo, hi) \
	VFMADD231PS 0(DX), Z25, lo; \
	VMOVUPS lo, 0(DX); \
	VFMADD231PS 64(DX), Z25, hi; \
	VMOVUPS hi, 64(DX); \
	ADDQ R8, DX

// func sgemmKernelAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmKernelAVX512(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	ZZERO0_15
	ZZERO16_23

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   zstail

zsloop4:
	ZSTEPS(0, 64, 0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44)
	ZSTEPS(128, 192, 48, 52, 56, 60, 64, 68, 72, 76, 80, 84, 88, 92)
	ZSTEPS(256, 320, 96, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140)
	ZSTEPS(384, 448, 144, 148, 152, 156, 160, 164, 168, 172, 176, 180, 184, 188)
	ADDQ $192, SI
	ADDQ $512, DI
	DECQ BX
	JNZ  zsloop4

zstail:
	ANDQ $3, CX
	JZ   zsstore

zsloop1:
	ZSTEPS(0, 64, 0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44)
	ADDQ $48, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  zsloop1

zsstore:
	VBROADCASTSS alpha+40(FP), Z24
	ZMUL0_15(VMULPS, Z24)
	ZMUL16_23(VMULPS, Z24)

	MOVL beta+44(FP), AX
	ANDL $0x7fffffff, AX
	JZ   zsnobeta

	VBROADCASTSS beta+44(FP), Z25
	ZROWBETAS(Z0, Z1)
	ZROWBETAS(Z2, Z3)
	ZROWBETAS(Z4, Z5)
	ZROWBETAS(Z6, Z7)
	ZROWBETAS(Z8, Z9)
	ZROWBETAS(Z10, Z11)
	ZROWBETAS(Z12, Z13)
	ZROWBETAS(Z14, Z15)
	ZROWBETAS(Z16, Z17)
	ZROWBETAS(Z18, Z19)
	ZROWBETAS(Z20, Z21)
	ZROWBETAS(Z22, Z23)
	VZEROUPPER
	RET

zsnobeta:
	VMOVUPS Z0, 0(DX)
	VMOVUPS Z1, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z2, 0(DX)
	VMOVUPS Z3, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z4, 0(DX)
	VMOVUPS Z5, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z6, 0(DX)
	VMOVUPS Z7, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z8, 0(DX)
	VMOVUPS Z9, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z10, 0(DX)
	VMOVUPS Z11, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z12, 0(DX)
	VMOVUPS Z13, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z14, 0(DX)
	VMOVUPS Z15, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z16, 0(DX)
	VMOVUPS Z17, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z18, 0(DX)
	VMOVUPS Z19, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z20, 0(DX)
	VMOVUPS Z21, 64(DX)
	ADDQ R8, DX
	VMOVUPS Z22, 0(DX)
	VMOVUPS Z23, 64(DX)
	ADDQ R8, DX
	VZEROUPPER
	RET

// ZSTEPD is one k step of the 12×16 float64 AVX-512 kernel: B row at b0(DI),
// b1(DI), A column at a0..a11(SI).
#define ZSTEPD(b0, b1, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) \
	VMOVUPD b0(DI), Z24; \
	VMOVUPD b1(DI), Z25; \
	VBROADCASTSD a0(SI), Z26; \
	VFMADD231PD Z24, Z26, Z0; \
	VFMADD231PD Z25, Z26, Z1; \
	VBROADCASTSD a1(SI), Z27; \
	VFMADD231PD Z24, Z27, Z2; \
	VFMADD231PD Z25, Z27, Z3; \
	VBROADCASTSD a2(SI), Z26; \
	VFMADD231PD Z24, Z26, Z4; \
	VFMADD231PD Z25, Z26, Z5; \
	VBROADCASTSD a3(SI), Z27; \
	VFMADD231PD Z24, Z27, Z6; \
	VFMADD231PD Z25, Z27, Z7; \
	VBROADCASTSD a4(SI), Z26; \
	VFMADD231PD Z24, Z26, Z8; \
	VFMADD231PD Z25, Z26, Z9; \
	VBROADCASTSD a5(SI), Z27; \
	VFMADD231PD Z24, Z27, Z10; \
	VFMADD231PD Z25, Z27, Z11; \
	VBROADCASTSD a6(SI), Z26; \
	VFMADD231PD Z24, Z26, Z12; \
	VFMADD231PD Z25, Z26, Z13; \
	VBROADCASTSD a7(SI), Z27; \
	VFMADD231PD Z24, Z27, Z14; \
	VFMADD231PD Z25, Z27, Z15; \
	VBROADCASTSD a8(SI), Z26; \
	VFMADD231PD Z24, Z26, Z16; \
	VFMADD231PD Z25, Z26, Z17; \
	VBROADCASTSD a9(SI), Z27; \
	VFMADD231PD Z24, Z27, Z18; \
	VFMADD231PD Z25, Z27, Z19; \
	VBROADCASTSD a10(SI), Z26; \
	VFMADD231PD Z24, Z26, Z20; \
	VFMADD231PD Z25, Z26, Z21; \
	VBROADCASTSD a11(SI), Z27; \
	VFMADD231PD Z24, Z27, Z22; \
	VFMADD231PD Z25, Z27, Z23

#define ZROWBETAD(lo, hi) \
	VFMADD231PD 0(DX), Z25, lo; \
	VMOVUPD lo, 0(DX); \
	VFMADD231PD 64(DX), Z25, hi; \
	VMOVUPD hi, 64(DX); \
	ADDQ R8, DX

// func dgemmKernelAVX512(k int, a, b, c *float64, ldc int, alpha, beta float64)
TEXT ·dgemmKernelAVX512(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8

	ZZERO0_15
	ZZERO16_23

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   zdtail

zdloop4:
	ZSTEPD(0, 64, 0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88)
	ZSTEPD(128, 192, 96, 104, 112, 120, 128, 136, 144, 152, 160, 168, 176, 184)
	ZSTEPD(256, 320, 192, 200, 208, 216, 224, 232, 240, 248, 256, 264, 272, 280)
	ZSTEPD(384, 448, 288, 296, 304, 312, 320, 328, 336, 344, 352, 360, 368, 376)
	ADDQ $384, SI
	ADDQ $512, DI
	DECQ BX
	JNZ  zdloop4

zdtail:
	ANDQ $3, CX
	JZ   zdstore

zdloop1:
	ZSTEPD(0, 64, 0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88)
	ADDQ $96, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  zdloop1

zdstore:
	VBROADCASTSD alpha+40(FP), Z24
	ZMUL0_15(VMULPD, Z24)
	ZMUL16_23(VMULPD, Z24)

	MOVQ beta+48(FP), AX
	SHLQ $1, AX
	JZ   zdnobeta

	VBROADCASTSD beta+48(FP), Z25
	ZROWBETAD(Z0, Z1)
	ZROWBETAD(Z2, Z3)
	ZROWBETAD(Z4, Z5)
	ZROWBETAD(Z6, Z7)
	ZROWBETAD(Z8, Z9)
	ZROWBETAD(Z10, Z11)
	ZROWBETAD(Z12, Z13)
	ZROWBETAD(Z14, Z15)
	ZROWBETAD(Z16, Z17)
	ZROWBETAD(Z18, Z19)
	ZROWBETAD(Z20, Z21)
	ZROWBETAD(Z22, Z23)
	VZEROUPPER
	RET

zdnobeta:
	VMOVUPD Z0, 0(DX)
	VMOVUPD Z1, 64(DX)
	ADDQ R8, DX
	VMOVUPD Z2, 0(DX)
	VMOVUPD Z3, 64(DX)
	ADDQ R8, DX
	VMOVUPD Z4, 0(DX)
	VMOVUPD Z5, 64(DX)
	ADDQ R8, DX
	VMOVUPD Z6, 0(DX)
	VMOVUPD Z7, 64(DX)
	ADDQ R8, DX
	VMOVUPD Z8, 0(DX)
	VMOVUPD Z9, 64(DX)
	ADDQ R8, DX
	VMOVUPD Z10, 0(DX)
	VMOVUPD Z11, 64(DX)
	ADDQ R8, DX
	VMOVUPD Z12, 0(DX)
	VMOVUPD Z13, 64(DX)
	ADDQ R8, DX
	VMOVUPD Z14, 0(DX)
	VMOVUPD Z15, 64(DX)
	ADDQ R8, DX
	VMOVUPD Z16, 0(DX)
	VMOVUPD Z17, 64(DX)
	ADDQ R8, DX
	VMOVUPD Z18, 0(DX)
	VMOVUPD Z19, 64(DX)
	ADDQ R8, DX
	VMOVUPD Z20, 0(DX)
	VMOVUPD Z21, 64(DX)
	ADDQ R8, DX
	VMOVUPD Z22, 0(DX)
	VMOVUPD Z23, 64(DX)
	ADDQ R8, DX
	VZEROUPPER
	RET

// Row kernel: one row of C, 64 columns, B read row by row without packing.
//	SI: the row of A, DI: B at the block's first column, R8: ldb in bytes,
//	DX: C, CX: k; Y0..Y7: the 64 accumulators; Y8: the broadcast A value.

// RSTEP adds a(SI)·B's row at DI to the accumulators.
#define RSTEP \
	VBROADCASTSS (SI), Y8;         \
	VFMADD231PS  0(DI), Y8, Y0;    \
	VFMADD231PS  32(DI), Y8, Y1;   \
	VFMADD231PS  64(DI), Y8, Y2;   \
	VFMADD231PS  96(DI), Y8, Y3;   \
	VFMADD231PS  128(DI), Y8, Y4;  \
	VFMADD231PS  160(DI), Y8, Y5;  \
	VFMADD231PS  192(DI), Y8, Y6;  \
	VFMADD231PS  224(DI), Y8, Y7;  \
	ADDQ         $4, SI;           \
	ADDQ         R8, DI

// RBETA writes 8 columns of C = acc + beta·C (beta in Y9) at off(DX).
#define RBETA(acc, off) \
	VFMADD231PS off(DX), Y9, acc; \
	VMOVUPS     acc, off(DX)

// func sgemvRow64AVX2(k int, a, b *float32, ldb int, c *float32, alpha, beta float32)
TEXT ·sgemvRow64AVX2(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), R8
	SHLQ $2, R8
	MOVQ c+32(FP), DX

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   rtail

rloop4:
	RSTEP
	RSTEP
	RSTEP
	RSTEP
	DECQ BX
	JNZ  rloop4

rtail:
	ANDQ $3, CX
	JZ   rstore

rloop1:
	RSTEP
	DECQ CX
	JNZ  rloop1

rstore:
	VBROADCASTSS alpha+40(FP), Y8
	VMULPS       Y8, Y0, Y0
	VMULPS       Y8, Y1, Y1
	VMULPS       Y8, Y2, Y2
	VMULPS       Y8, Y3, Y3
	VMULPS       Y8, Y4, Y4
	VMULPS       Y8, Y5, Y5
	VMULPS       Y8, Y6, Y6
	VMULPS       Y8, Y7, Y7

	MOVL beta+44(FP), AX
	ANDL $0x7fffffff, AX
	JZ   rnobeta

	VBROADCASTSS beta+44(FP), Y9
	RBETA(Y0, 0)
	RBETA(Y1, 32)
	RBETA(Y2, 64)
	RBETA(Y3, 96)
	RBETA(Y4, 128)
	RBETA(Y5, 160)
	RBETA(Y6, 192)
	RBETA(Y7, 224)
	VZEROUPPER
	RET

rnobeta:
	VMOVUPS Y0, 0(DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMOVUPS Y4, 128(DX)
	VMOVUPS Y5, 160(DX)
	VMOVUPS Y6, 192(DX)
	VMOVUPS Y7, 224(DX)
	VZEROUPPER
	RET

// Four-row kernel (AVX-512): four rows of C, 64 columns.
//	SI, R10, R11, R12: the four rows of A; DI: B at the block's first
//	column, R8: ldb in bytes; DX: C, R13: ldc in bytes; CX: k.
//	Z0..Z15: the accumulators (row r in Z(4r)..Z(4r+3)); Z16..Z19: B's
//	row; Z20..Z23: the broadcast A values.

// R4STEP adds one k step to the 4×64 accumulators.
#define R4STEP \
	VMOVUPS      0(DI), Z16;       \
	VMOVUPS      64(DI), Z17;      \
	VMOVUPS      128(DI), Z18;     \
	VMOVUPS      192(DI), Z19;     \
	VBROADCASTSS (SI), Z20;        \
	VBROADCASTSS (R10), Z21;       \
	VBROADCASTSS (R11), Z22;       \
	VBROADCASTSS (R12), Z23;       \
	VFMADD231PS  Z16, Z20, Z0;  \
	VFMADD231PS  Z17, Z20, Z1;  \
	VFMADD231PS  Z18, Z20, Z2;  \
	VFMADD231PS  Z19, Z20, Z3;  \
	VFMADD231PS  Z16, Z21, Z4;  \
	VFMADD231PS  Z17, Z21, Z5;  \
	VFMADD231PS  Z18, Z21, Z6;  \
	VFMADD231PS  Z19, Z21, Z7;  \
	VFMADD231PS  Z16, Z22, Z8;  \
	VFMADD231PS  Z17, Z22, Z9;  \
	VFMADD231PS  Z18, Z22, Z10;  \
	VFMADD231PS  Z19, Z22, Z11;  \
	VFMADD231PS  Z16, Z23, Z12;  \
	VFMADD231PS  Z17, Z23, Z13;  \
	VFMADD231PS  Z18, Z23, Z14;  \
	VFMADD231PS  Z19, Z23, Z15;  \
	ADDQ         $4, SI;           \
	ADDQ         $4, R10;          \
	ADDQ         $4, R11;          \
	ADDQ         $4, R12;          \
	ADDQ         R8, DI

// R4ROW writes one row of C = acc (beta 0) or acc + beta·C (beta in Z16).
#define R4ROWBETA(a0, a1, a2, a3) \
	VFMADD231PS 0(DX), Z16, a0;   \
	VMOVUPS     a0, 0(DX);        \
	VFMADD231PS 64(DX), Z16, a1;  \
	VMOVUPS     a1, 64(DX);       \
	VFMADD231PS 128(DX), Z16, a2; \
	VMOVUPS     a2, 128(DX);      \
	VFMADD231PS 192(DX), Z16, a3; \
	VMOVUPS     a3, 192(DX);      \
	ADDQ        R13, DX

#define R4ROW(a0, a1, a2, a3) \
	VMOVUPS a0, 0(DX);   \
	VMOVUPS a1, 64(DX);  \
	VMOVUPS a2, 128(DX); \
	VMOVUPS a3, 192(DX); \
	ADDQ    R13, DX

// func sgemvRows4x64AVX512(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemvRows4x64AVX512(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	SHLQ $2, R9
	LEAQ (SI)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R8
	SHLQ $2, R8
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R13
	SHLQ $2, R13

	ZZERO0_15

r4loop:
	R4STEP
	DECQ CX
	JNZ  r4loop

	VBROADCASTSS alpha+56(FP), Z16
	ZMUL0_15(VMULPS, Z16)

	MOVL beta+60(FP), AX
	ANDL $0x7fffffff, AX
	JZ   r4nobeta

	VBROADCASTSS beta+60(FP), Z16
	R4ROWBETA(Z0, Z1, Z2, Z3)
	R4ROWBETA(Z4, Z5, Z6, Z7)
	R4ROWBETA(Z8, Z9, Z10, Z11)
	R4ROWBETA(Z12, Z13, Z14, Z15)
	VZEROUPPER
	RET

r4nobeta:
	R4ROW(Z0, Z1, Z2, Z3)
	R4ROW(Z4, Z5, Z6, Z7)
	R4ROW(Z8, Z9, Z10, Z11)
	R4ROW(Z12, Z13, Z14, Z15)
	VZEROUPPER
	RET

// ROWS4 points R10, R11, R12 at rows 1-3 of the matrix at SI (row stride
// R9 bytes), or at row 0 for rows at or past BX (the rows in use).
#define ROWS4 \
	MOVQ    SI, R10;        \
	MOVQ    SI, R11;        \
	MOVQ    SI, R12;        \
	LEAQ    (SI)(R9*1), AX; \
	CMPQ    BX, $2;         \
	CMOVQGE AX, R10;        \
	ADDQ    R9, AX;         \
	CMPQ    BX, $3;         \
	CMOVQGE AX, R11;        \
	ADDQ    R9, AX;         \
	CMPQ    BX, $4;         \
	CMOVQGE AX, R12

// func sgemvRows4x16MaskAVX512(k, rows int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, mask uint32)
// The columns in mask (at most 16, from b's and c's first) of rows rows
// (1 to 4) of C: row r = alpha·(row r of A)·B + beta·(row r of C), k > 0.
// Rows past rows are computed from row 0 of A and never stored. B's and
// C's rows are read through the mask (masked-off columns are not read)
// and the depth is taken two at a time into two sets of accumulators
// (Z0-Z3, Z4-Z7), so that consecutive steps' FMAs do not wait on each
// other.
TEXT ·sgemvRows4x16MaskAVX512(SB), NOSPLIT, $0-76
	MOVQ    k+0(FP), CX
	MOVQ    rows+8(FP), BX
	MOVQ    a+16(FP), SI
	MOVQ    lda+24(FP), R9
	SHLQ    $2, R9
	ROWS4
	MOVQ    b+32(FP), DI
	MOVQ    ldb+40(FP), R8
	SHLQ    $2, R8
	MOVL    mask+72(FP), AX
	KMOVW   AX, K1

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

	MOVQ CX, DX
	SHRQ $1, DX
	JZ   m4tail

m4pair:
	VMOVUPS.Z    (DI), K1, Z16
	VMOVUPS.Z    (DI)(R8*1), K1, Z17
	VBROADCASTSS (SI), Z20
	VBROADCASTSS (R10), Z21
	VBROADCASTSS (R11), Z22
	VBROADCASTSS (R12), Z23
	VBROADCASTSS 4(SI), Z24
	VBROADCASTSS 4(R10), Z25
	VBROADCASTSS 4(R11), Z26
	VBROADCASTSS 4(R12), Z27
	VFMADD231PS  Z16, Z20, Z0
	VFMADD231PS  Z16, Z21, Z1
	VFMADD231PS  Z16, Z22, Z2
	VFMADD231PS  Z16, Z23, Z3
	VFMADD231PS  Z17, Z24, Z4
	VFMADD231PS  Z17, Z25, Z5
	VFMADD231PS  Z17, Z26, Z6
	VFMADD231PS  Z17, Z27, Z7
	ADDQ         $8, SI
	ADDQ         $8, R10
	ADDQ         $8, R11
	ADDQ         $8, R12
	LEAQ         (DI)(R8*2), DI
	DECQ         DX
	JNZ          m4pair

m4tail:
	TESTQ        $1, CX
	JZ           m4sum
	VMOVUPS.Z    (DI), K1, Z16
	VBROADCASTSS (SI), Z20
	VBROADCASTSS (R10), Z21
	VBROADCASTSS (R11), Z22
	VBROADCASTSS (R12), Z23
	VFMADD231PS  Z16, Z20, Z0
	VFMADD231PS  Z16, Z21, Z1
	VFMADD231PS  Z16, Z22, Z2
	VFMADD231PS  Z16, Z23, Z3

m4sum:
	VADDPS       Z4, Z0, Z0
	VADDPS       Z5, Z1, Z1
	VADDPS       Z6, Z2, Z2
	VADDPS       Z7, Z3, Z3
	VBROADCASTSS alpha+64(FP), Z16
	VMULPS       Z16, Z0, Z0
	VMULPS       Z16, Z1, Z1
	VMULPS       Z16, Z2, Z2
	VMULPS       Z16, Z3, Z3

	// C's rows, those past rows pointed at row 0 (read, never written).
	MOVQ    c+48(FP), SI
	MOVQ    ldc+56(FP), R9
	SHLQ    $2, R9
	ROWS4

	MOVL         beta+68(FP), AX
	ANDL         $0x7fffffff, AX
	JZ           m4store
	VBROADCASTSS beta+68(FP), Z16
	VMOVUPS.Z    (SI), K1, Z20
	VMOVUPS.Z    (R10), K1, Z21
	VMOVUPS.Z    (R11), K1, Z22
	VMOVUPS.Z    (R12), K1, Z23
	VFMADD231PS  Z20, Z16, Z0
	VFMADD231PS  Z21, Z16, Z1
	VFMADD231PS  Z22, Z16, Z2
	VFMADD231PS  Z23, Z16, Z3

m4store:
	VMOVUPS Z0, K1, (SI)
	CMPQ    BX, $2
	JLT     m4done
	VMOVUPS Z1, K1, (R10)
	CMPQ    BX, $3
	JLT     m4done
	VMOVUPS Z2, K1, (R11)
	CMPQ    BX, $4
	JLT     m4done
	VMOVUPS Z3, K1, (R12)

m4done:
	VZEROUPPER
	RET
