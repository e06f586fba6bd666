//go:build goexperiment.simd

#include "textflag.h"

// func transpose8x8asm(dst *float32, ldd int, src *float32, lds int)
// dst[i*ldd+j] = src[j*lds+i] for i, j < 8: the rows are read as 128-bit
// halves so that one lane permute per pair of rows replaces the usual
// VPERM2F128 stage.
TEXT ·transpose8x8asm(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	SHLQ $2, R8
	SHLQ $2, R9
	LEAQ (SI)(R9*4), DX // row 4
	// Y_r = rows r (low 128 bits: columns 0-3) and r+4 (high: columns 0-3)
	// for r < 4; then columns 4-7 likewise into Y4-Y7.
	VMOVUPS (SI), X0
	VINSERTF128 $1, (DX), Y0, Y0
	VMOVUPS 16(SI), X4
	VINSERTF128 $1, 16(DX), Y4, Y4
	ADDQ R9, SI
	ADDQ R9, DX
	VMOVUPS (SI), X1
	VINSERTF128 $1, (DX), Y1, Y1
	VMOVUPS 16(SI), X5
	VINSERTF128 $1, 16(DX), Y5, Y5
	ADDQ R9, SI
	ADDQ R9, DX
	VMOVUPS (SI), X2
	VINSERTF128 $1, (DX), Y2, Y2
	VMOVUPS 16(SI), X6
	VINSERTF128 $1, 16(DX), Y6, Y6
	ADDQ R9, SI
	ADDQ R9, DX
	VMOVUPS (SI), X3
	VINSERTF128 $1, (DX), Y3, Y3
	VMOVUPS 16(SI), X7
	VINSERTF128 $1, 16(DX), Y7, Y7
	// 4 x 4 transposes inside each 128-bit lane: lane 0 of the results
	// holds rows 0-3, lane 1 rows 4-7, of one output row.
	VUNPCKLPS Y1, Y0, Y8  // a0 b0 a1 b1
	VUNPCKHPS Y1, Y0, Y9  // a2 b2 a3 b3
	VUNPCKLPS Y3, Y2, Y10 // c0 d0 c1 d1
	VUNPCKHPS Y3, Y2, Y11 // c2 d2 c3 d3
	VSHUFPS $0x44, Y10, Y8, Y0 // a0 b0 c0 d0
	VSHUFPS $0xEE, Y10, Y8, Y1 // a1 b1 c1 d1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VUNPCKLPS Y5, Y4, Y8
	VUNPCKHPS Y5, Y4, Y9
	VUNPCKLPS Y7, Y6, Y10
	VUNPCKHPS Y7, Y6, Y11
	VSHUFPS $0x44, Y10, Y8, Y4
	VSHUFPS $0xEE, Y10, Y8, Y5
	VSHUFPS $0x44, Y11, Y9, Y6
	VSHUFPS $0xEE, Y11, Y9, Y7
	VMOVUPS Y0, (DI)
	ADDQ R8, DI
	VMOVUPS Y1, (DI)
	ADDQ R8, DI
	VMOVUPS Y2, (DI)
	ADDQ R8, DI
	VMOVUPS Y3, (DI)
	ADDQ R8, DI
	VMOVUPS Y4, (DI)
	ADDQ R8, DI
	VMOVUPS Y5, (DI)
	ADDQ R8, DI
	VMOVUPS Y6, (DI)
	ADDQ R8, DI
	VMOVUPS Y7, (DI)
	VZEROUPPER
	RET
