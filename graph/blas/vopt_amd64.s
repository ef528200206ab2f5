//go:build amd64 && !purego

#include "textflag.h"

// func adam32Vec(w, grad, m, v *float32, n int, p *[8]float32)
// p: β1, 1-β1, β2, 1-β2, step size, ε, norm-clip scale, clip bound.
// Register use: Y8..Y15 the broadcast parameters (Y15 = -clip), Y0..Y5
// the lane values; no fused multiply-add, so that every lane rounds as the
// Go loop of train/optimizers does.
TEXT ·adam32Vec(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ p+40(FP), AX
	SHRQ $3, CX

	VBROADCASTSS 0(AX), Y8   // β1
	VBROADCASTSS 4(AX), Y9   // 1-β1
	VBROADCASTSS 8(AX), Y10  // β2
	VBROADCASTSS 12(AX), Y11 // 1-β2
	VBROADCASTSS 16(AX), Y12 // step size
	VBROADCASTSS 20(AX), Y13 // ε
	VBROADCASTSS 24(AX), Y14 // scale
	VBROADCASTSS 28(AX), Y7  // clip
	VXORPS       Y15, Y15, Y15
	VSUBPS       Y7, Y15, Y15 // -clip

adamloop:
	VMULPS  (SI), Y14, Y0   // g·scale
	VMINPS  Y0, Y7, Y0      // min(clip, g) (NaN g stays NaN)
	VMAXPS  Y0, Y15, Y0     // max(-clip, g)
	VMULPS  (R8), Y8, Y1    // β1·m
	VMULPS  Y0, Y9, Y2      // (1-β1)·g
	VADDPS  Y2, Y1, Y1      // m
	VMOVUPS Y1, (R8)
	VMULPS  Y0, Y0, Y3      // g²
	VMULPS  Y3, Y11, Y3     // (1-β2)·g²
	VMULPS  (R9), Y10, Y4   // β2·v
	VADDPS  Y3, Y4, Y4      // v
	VMOVUPS Y4, (R9)
	VSQRTPS Y4, Y4
	VADDPS  Y13, Y4, Y4     // sqrt(v)+ε
	VMULPS  Y1, Y12, Y5     // lr·m
	VDIVPS  Y4, Y5, Y5      // lr·m/(sqrt(v)+ε)
	VMOVUPS (DI), Y6
	VSUBPS  Y5, Y6, Y6
	VMOVUPS Y6, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, R9
	DECQ    CX
	JNZ     adamloop
	VZEROUPPER
	RET
