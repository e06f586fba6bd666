//go:build goexperiment.simd

// The 4 x 24 register tile of microKernel for AVX2 with FMA (see
// kernel_avx2_amd64.go): twelve accumulators in Y4-Y15, the same fused
// multiply-adds in the same order as the Go kernel, so results are equal
// bit for bit.

#include "textflag.h"

// ZERO_ACC clears the twelve accumulators Y4-Y15.
#define ZERO_ACC \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7; \
	VXORPS Y8, Y8, Y8; \
	VXORPS Y9, Y9, Y9; \
	VXORPS Y10, Y10, Y10; \
	VXORPS Y11, Y11, Y11; \
	VXORPS Y12, Y12, Y12; \
	VXORPS Y13, Y13, Y13; \
	VXORPS Y14, Y14, Y14; \
	VXORPS Y15, Y15, Y15

// FMA_STEP is one depth step: three vectors of b (DX) times four splatted
// weights of a (SI), added into Y4-Y15.
#define FMA_STEP \
	VMOVUPS (DX), Y0; \
	VMOVUPS 32(DX), Y1; \
	VMOVUPS 64(DX), Y2; \
	VBROADCASTSS (SI), Y3; \
	VFMADD231PS Y0, Y3, Y4; \
	VFMADD231PS Y1, Y3, Y5; \
	VFMADD231PS Y2, Y3, Y6; \
	VBROADCASTSS 4(SI), Y3; \
	VFMADD231PS Y0, Y3, Y7; \
	VFMADD231PS Y1, Y3, Y8; \
	VFMADD231PS Y2, Y3, Y9; \
	VBROADCASTSS 8(SI), Y3; \
	VFMADD231PS Y0, Y3, Y10; \
	VFMADD231PS Y1, Y3, Y11; \
	VFMADD231PS Y2, Y3, Y12; \
	VBROADCASTSS 12(SI), Y3; \
	VFMADD231PS Y0, Y3, Y13; \
	VFMADD231PS Y1, Y3, Y14; \
	VFMADD231PS Y2, Y3, Y15

// STORE_ACC writes Y4-Y15 to rows DI, DI+R8, ... of c (DI ends on the
// last row).
#define STORE_ACC \
	VMOVUPS Y4, (DI); \
	VMOVUPS Y5, 32(DI); \
	VMOVUPS Y6, 64(DI); \
	ADDQ R8, DI; \
	VMOVUPS Y7, (DI); \
	VMOVUPS Y8, 32(DI); \
	VMOVUPS Y9, 64(DI); \
	ADDQ R8, DI; \
	VMOVUPS Y10, (DI); \
	VMOVUPS Y11, 32(DI); \
	VMOVUPS Y12, 64(DI); \
	ADDQ R8, DI; \
	VMOVUPS Y13, (DI); \
	VMOVUPS Y14, 32(DI); \
	VMOVUPS Y15, 64(DI)

// func tile4x24(K int, a, b, c *float32, ldc, ldb, add int)
// add != 0 adds the tile to c (one VADDPS per vector, as addRows does).
TEXT ·tile4x24(SB), NOSPLIT, $0-56
	MOVQ K+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), R8
	MOVQ ldb+40(FP), R9
	MOVQ add+48(FP), R10
	SHLQ $2, R8
	SHLQ $2, R9
	ZERO_ACC
	TESTQ CX, CX
	JLE store
loop:
	FMA_STEP
	ADDQ $16, SI
	ADDQ R9, DX
	DECQ CX
	JNZ loop
store:
	TESTQ R10, R10
	JZ put
	MOVQ DI, R11
	VADDPS (R11), Y4, Y4
	VADDPS 32(R11), Y5, Y5
	VADDPS 64(R11), Y6, Y6
	ADDQ R8, R11
	VADDPS (R11), Y7, Y7
	VADDPS 32(R11), Y8, Y8
	VADDPS 64(R11), Y9, Y9
	ADDQ R8, R11
	VADDPS (R11), Y10, Y10
	VADDPS 32(R11), Y11, Y11
	VADDPS 64(R11), Y12, Y12
	ADDQ R8, R11
	VADDPS (R11), Y13, Y13
	VADDPS 32(R11), Y14, Y14
	VADDPS 64(R11), Y15, Y15
put:
	STORE_ACC
	VZEROUPPER
	RET

// func tile4x24N(nblk, K int, a, b, c *float32, ldc, ldb int)
// tile4x24 (storing) for nblk consecutive row blocks: block i reads the
// weights that follow block i-1's (a advances by K*16 bytes through the
// loop) and writes rows 4i..4i+3 of c. One call per product's row blocks
// instead of one per block.
TEXT ·tile4x24N(SB), NOSPLIT, $0-56
	MOVQ nblk+0(FP), R12
	MOVQ K+8(FP), R13
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), R14
	MOVQ c+32(FP), DI
	MOVQ ldc+40(FP), R8
	MOVQ ldb+48(FP), R9
	SHLQ $2, R8
	SHLQ $2, R9
	TESTQ R12, R12
	JLE done
	TESTQ R13, R13
	JLE done
block:
	ZERO_ACC
	MOVQ R13, CX
	MOVQ R14, DX
nloop:
	FMA_STEP
	ADDQ $16, SI
	ADDQ R9, DX
	DECQ CX
	JNZ nloop
	STORE_ACC
	ADDQ R8, DI
	DECQ R12
	JNZ block
done:
	VZEROUPPER
	RET
