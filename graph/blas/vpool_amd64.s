//go:build amd64 && !purego

#include "textflag.h"

// func maxInto32Vec(dst, src *float32, n int)
// dst[i] = src[i] where src[i] > dst[i], or src[i] is NaN and dst[i] is
// not; n a positive multiple of 8.
TEXT ·maxInto32Vec(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX
loop:
	VMOVUPS (DI)(AX*4), Y0        // best
	VMOVUPS (SI)(AX*4), Y1        // v
	VCMPPS  $6, Y0, Y1, Y2        // !(v <= best): v > best or either is NaN
	VCMPPS  $7, Y0, Y0, Y3        // best is not NaN
	VANDPS  Y3, Y2, Y2
	VBLENDVPS Y2, Y1, Y0, Y0      // mask ? v : best
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     loop
	VZEROUPPER
	RET

// func reluBiasRows32Vec(y, bias *float32, rows, c int)
// y[r*c+j] = max(y[r*c+j]+bias[j], 0) (NaN giving 0) for r < rows, j < c;
// c a positive multiple of 8. bias nil: no bias.
TEXT ·reluBiasRows32Vec(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ bias+8(FP), SI
	MOVQ rows+16(FP), DX
	MOVQ c+24(FP), CX
	VXORPS Y15, Y15, Y15
	TESTQ SI, SI
	JEQ  nobias
row:
	XORQ AX, AX
col:
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VCMPPS  $0x1e, Y15, Y0, Y1    // y > 0 (false for NaN)
	VANDPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     col
	LEAQ    (DI)(CX*4), DI
	DECQ    DX
	JNZ     row
	VZEROUPPER
	RET
nobias:
	IMULQ CX, DX
	XORQ AX, AX
nbloop:
	VMOVUPS (DI)(AX*4), Y0
	VCMPPS  $0x1e, Y15, Y0, Y1
	VANDPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, DX
	JLT     nbloop
	VZEROUPPER
	RET

// func maxEq2x2RowVec(x, dx, y, gy *float32, nwin, c, wstep, r int, keep uint32)
// See MaxEq2x2RowF32; c a positive multiple of 8, nwin positive.
TEXT ·maxEq2x2RowVec(SB), NOSPLIT, $0-68
	MOVQ x+0(FP), R8
	MOVQ dx+8(FP), DX
	SUBQ R8, DX                   // dx - x in bytes
	MOVQ y+16(FP), SI
	MOVQ gy+24(FP), BX
	SUBQ SI, BX                   // gy - y in bytes
	MOVQ nwin+32(FP), R13
	MOVQ c+40(FP), AX
	MOVQ wstep+48(FP), CX
	SUBQ AX, CX
	SHLQ $2, CX                   // bytes from a window's end to the next
	MOVQ r+56(FP), R10
	LEAQ (R8)(R10*4), R10         // e
	LEAQ (R8)(AX*4), R9           // b
	LEAQ (R10)(AX*4), R11         // f
	VBROADCASTSS keep+64(FP), Y14 // all ones without relu, else 0
	VXORPS Y15, Y15, Y15
win:
	MOVQ AX, R12
eqloop:
	VMOVUPS (SI), Y0              // yv
	VMOVUPS (SI)(BX*1), Y1        // gy
	VCMPPS  $0x1e, Y15, Y0, Y2    // yv > 0
	VORPS   Y14, Y2, Y2
	VANDPS  Y2, Y1, Y1            // g
	VCMPPS  $3, Y0, Y0, Y2        // yn: yv is NaN
	// a
	VMOVUPS (R8), Y4
	VCMPPS  $0, Y0, Y4, Y5        // a == yv
	VCMPPS  $3, Y4, Y4, Y6        // a NaN
	VANDPS  Y2, Y6, Y6
	VORPS   Y6, Y5, Y3            // ha = found
	VANDPS  Y3, Y1, Y7
	VMOVUPS Y7, (R8)(DX*1)
	// b
	VMOVUPS (R9), Y4
	VCMPPS  $0, Y0, Y4, Y5
	VCMPPS  $3, Y4, Y4, Y6
	VANDPS  Y2, Y6, Y6
	VORPS   Y6, Y5, Y5
	VANDNPS Y5, Y3, Y5            // hb = h &^ found
	VORPS   Y5, Y3, Y3
	VANDPS  Y5, Y1, Y7
	VMOVUPS Y7, (R9)(DX*1)
	// e
	VMOVUPS (R10), Y4
	VCMPPS  $0, Y0, Y4, Y5
	VCMPPS  $3, Y4, Y4, Y6
	VANDPS  Y2, Y6, Y6
	VORPS   Y6, Y5, Y5
	VANDNPS Y5, Y3, Y5
	VORPS   Y5, Y3, Y3
	VANDPS  Y5, Y1, Y7
	VMOVUPS Y7, (R10)(DX*1)
	// f
	VMOVUPS (R11), Y4
	VCMPPS  $0, Y0, Y4, Y5
	VCMPPS  $3, Y4, Y4, Y6
	VANDPS  Y2, Y6, Y6
	VORPS   Y6, Y5, Y5
	VANDNPS Y5, Y3, Y5
	VANDPS  Y5, Y1, Y7
	VMOVUPS Y7, (R11)(DX*1)
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, R9
	ADDQ    $32, R10
	ADDQ    $32, R11
	SUBQ    $8, R12
	JNZ     eqloop
	ADDQ    CX, R8
	ADDQ    CX, R9
	ADDQ    CX, R10
	ADDQ    CX, R11
	DECQ    R13
	JNZ     win
	VZEROUPPER
	RET
