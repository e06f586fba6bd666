//go:build goexperiment.simd && wasm

#include "textflag.h"

// LOAD_B(reg) loads the three pixel vectors of one row of the right-hand
// side, at the address in reg, into V12-V14.
#define LOAD_B(reg) \
	Get reg; I32WrapI64; V128Load $0; Set V12; \
	Get reg; I32WrapI64; V128Load $16; Set V13; \
	Get reg; I32WrapI64; V128Load $32; Set V14

// LOAD_B_AT_OFFSET(off) does LOAD_B for the row whose offset (in floats from
// R2) is the int32 at R6+off; it leaves the row's address in R7.
#define LOAD_B_AT_OFFSET(off) \
	Get R6; I32WrapI64; I64Load32U off; I64Const $2; I64Shl; Get R2; I64Add; Set R7; \
	LOAD_B(R7)

// ZERO_TILE clears the twelve accumulators V0-V11.
#define ZERO_TILE \
	I32Const $0; \
	I32x4Splat; \
	Set V0; \
	Get V0; \
	Set V1; \
	Get V0; \
	Set V2; \
	Get V0; \
	Set V3; \
	Get V0; \
	Set V4; \
	Get V0; \
	Set V5; \
	Get V0; \
	Set V6; \
	Get V0; \
	Set V7; \
	Get V0; \
	Set V8; \
	Get V0; \
	Set V9; \
	Get V0; \
	Set V10; \
	Get V0; \
	Set V11

// FMA_STEP multiplies the weights at R1 (four rows) by the three pixel
// vectors V12-V14 into the accumulators.
#define FMA_STEP \
	Get R1; \
	I32WrapI64; \
	F32Load $0; \
	F32x4Splat; \
	Set V15; \
	Get V15; \
	Get V12; \
	F32x4Mul; \
	Get V0; \
	F32x4Add; \
	Set V0; \
	Get V15; \
	Get V13; \
	F32x4Mul; \
	Get V1; \
	F32x4Add; \
	Set V1; \
	Get V15; \
	Get V14; \
	F32x4Mul; \
	Get V2; \
	F32x4Add; \
	Set V2; \
	Get R1; \
	I32WrapI64; \
	F32Load $4; \
	F32x4Splat; \
	Set V15; \
	Get V15; \
	Get V12; \
	F32x4Mul; \
	Get V3; \
	F32x4Add; \
	Set V3; \
	Get V15; \
	Get V13; \
	F32x4Mul; \
	Get V4; \
	F32x4Add; \
	Set V4; \
	Get V15; \
	Get V14; \
	F32x4Mul; \
	Get V5; \
	F32x4Add; \
	Set V5; \
	Get R1; \
	I32WrapI64; \
	F32Load $8; \
	F32x4Splat; \
	Set V15; \
	Get V15; \
	Get V12; \
	F32x4Mul; \
	Get V6; \
	F32x4Add; \
	Set V6; \
	Get V15; \
	Get V13; \
	F32x4Mul; \
	Get V7; \
	F32x4Add; \
	Set V7; \
	Get V15; \
	Get V14; \
	F32x4Mul; \
	Get V8; \
	F32x4Add; \
	Set V8; \
	Get R1; \
	I32WrapI64; \
	F32Load $12; \
	F32x4Splat; \
	Set V15; \
	Get V15; \
	Get V12; \
	F32x4Mul; \
	Get V9; \
	F32x4Add; \
	Set V9; \
	Get V15; \
	Get V13; \
	F32x4Mul; \
	Get V10; \
	F32x4Add; \
	Set V10; \
	Get V15; \
	Get V14; \
	F32x4Mul; \
	Get V11; \
	F32x4Add; \
	Set V11

// FMA_STEP_HI is FMA_STEP for the next step of k: the weights at R1+16.
#define FMA_STEP_HI \
	Get R1; \
	I32WrapI64; \
	F32Load $16; \
	F32x4Splat; \
	Set V15; \
	Get V15; \
	Get V12; \
	F32x4Mul; \
	Get V0; \
	F32x4Add; \
	Set V0; \
	Get V15; \
	Get V13; \
	F32x4Mul; \
	Get V1; \
	F32x4Add; \
	Set V1; \
	Get V15; \
	Get V14; \
	F32x4Mul; \
	Get V2; \
	F32x4Add; \
	Set V2; \
	Get R1; \
	I32WrapI64; \
	F32Load $20; \
	F32x4Splat; \
	Set V15; \
	Get V15; \
	Get V12; \
	F32x4Mul; \
	Get V3; \
	F32x4Add; \
	Set V3; \
	Get V15; \
	Get V13; \
	F32x4Mul; \
	Get V4; \
	F32x4Add; \
	Set V4; \
	Get V15; \
	Get V14; \
	F32x4Mul; \
	Get V5; \
	F32x4Add; \
	Set V5; \
	Get R1; \
	I32WrapI64; \
	F32Load $24; \
	F32x4Splat; \
	Set V15; \
	Get V15; \
	Get V12; \
	F32x4Mul; \
	Get V6; \
	F32x4Add; \
	Set V6; \
	Get V15; \
	Get V13; \
	F32x4Mul; \
	Get V7; \
	F32x4Add; \
	Set V7; \
	Get V15; \
	Get V14; \
	F32x4Mul; \
	Get V8; \
	F32x4Add; \
	Set V8; \
	Get R1; \
	I32WrapI64; \
	F32Load $28; \
	F32x4Splat; \
	Set V15; \
	Get V15; \
	Get V12; \
	F32x4Mul; \
	Get V9; \
	F32x4Add; \
	Set V9; \
	Get V15; \
	Get V13; \
	F32x4Mul; \
	Get V10; \
	F32x4Add; \
	Set V10; \
	Get V15; \
	Get V14; \
	F32x4Mul; \
	Get V11; \
	F32x4Add; \
	Set V11

// STORE_TILE writes the accumulators as four rows of twelve floats from R3
// on, R4 bytes apart, and leaves R3 after the last row.
#define STORE_TILE \
	Get R3; \
	I32WrapI64; \
	Get V0; \
	V128Store $0; \
	Get R3; \
	I64Const $16; \
	I64Add; \
	I32WrapI64; \
	Get V1; \
	V128Store $0; \
	Get R3; \
	I64Const $32; \
	I64Add; \
	I32WrapI64; \
	Get V2; \
	V128Store $0; \
	Get R3; \
	Get R4; \
	I64Add; \
	Set R3; \
	Get R3; \
	I32WrapI64; \
	Get V3; \
	V128Store $0; \
	Get R3; \
	I64Const $16; \
	I64Add; \
	I32WrapI64; \
	Get V4; \
	V128Store $0; \
	Get R3; \
	I64Const $32; \
	I64Add; \
	I32WrapI64; \
	Get V5; \
	V128Store $0; \
	Get R3; \
	Get R4; \
	I64Add; \
	Set R3; \
	Get R3; \
	I32WrapI64; \
	Get V6; \
	V128Store $0; \
	Get R3; \
	I64Const $16; \
	I64Add; \
	I32WrapI64; \
	Get V7; \
	V128Store $0; \
	Get R3; \
	I64Const $32; \
	I64Add; \
	I32WrapI64; \
	Get V8; \
	V128Store $0; \
	Get R3; \
	Get R4; \
	I64Add; \
	Set R3; \
	Get R3; \
	I32WrapI64; \
	Get V9; \
	V128Store $0; \
	Get R3; \
	I64Const $16; \
	I64Add; \
	I32WrapI64; \
	Get V10; \
	V128Store $0; \
	Get R3; \
	I64Const $32; \
	I64Add; \
	I32WrapI64; \
	Get V11; \
	V128Store $0; \
	Get R3; \
	Get R4; \
	I64Add; \
	Set R3


// The 4x3 register tile of kernel_simd.go written directly in WebAssembly,
// for nblk consecutive row blocks (4 output channels each) of one panel:
// twelve v128 accumulators (V0-V11) stay in locals for the whole loop, the
// three pixel vectors in V12-V14 and the splatted weight in V15, so the loop
// body is 3 vector loads, 4 scalar loads with splats (the Go assembler does
// not encode v128.load32_splat's memory operand), 12 multiplies and 12 adds,
// with no spills and no bounds checks (the Go wrappers check the slices
// once). Stores compute their addresses in full: the assembler drops a
// store's offset immediate.
//
// microKernelWasm reads row k of the right-hand side at b + k*ldb;
// microKernelOffsWasm at b + offs[k] (in place, see rhs in gemm.go).

// func microKernelWasm(nblk, K int, a, b, c *float32, ldc, ldb int)
TEXT ·microKernelWasm(SB), NOSPLIT, $0-56
	I64Load nblk+0(FP)
	Set R8
	I64Load K+8(FP)
	Set R10
	I64Load a+16(FP)
	Set R1
	I64Load b+24(FP)
	Set R9
	I64Load c+32(FP)
	Set R3
	I64Load ldc+40(FP)
	I64Const $2
	I64Shl
	Set R4
	I64Load ldb+48(FP)
	I64Const $2
	I64Shl
	Set R5

	// One row block (four output channels) per trip of the outer loop: the
	// weights of block i+1 follow those of block i, its outputs four rows
	// further down.
	Block
	Loop
	Get R8
	I64Eqz
	BrIf $1
	Get R10
	Set R0
	Get R9
	Set R2
	ZERO_TILE

	// Two steps of k per trip, then the odd one.
	Block
	Loop
		Get R0
		I64Const $2
		I64LtU
		BrIf $1

		LOAD_B(R2)

		FMA_STEP
		Get R2
		Get R5
		I64Add
		Set R7
		LOAD_B(R7)

		FMA_STEP_HI

		Get R1
		I64Const $32
		I64Add
		Set R1
		Get R7
		Get R5
		I64Add
		Set R2
		Get R0
		I64Const $2
		I64Sub
		Set R0
		Br $0
	End
	End
	Block
		Get R0
		I64Eqz
		BrIf $0
		LOAD_B(R2)

		FMA_STEP
		Get R1
		I64Const $16
		I64Add
		Set R1
	End

	STORE_TILE
	Get R8
	I64Const $1
	I64Sub
	Set R8
	Br $0
	End
	End
	RET

// func microKernelOffsWasm(nblk, K int, a, b *float32, offs *int32, c *float32, ldc int)
TEXT ·microKernelOffsWasm(SB), NOSPLIT, $0-56
	I64Load nblk+0(FP)
	Set R8
	I64Load K+8(FP)
	Set R10
	I64Load a+16(FP)
	Set R1
	I64Load b+24(FP)
	Set R2
	I64Load offs+32(FP)
	Set R9
	I64Load c+40(FP)
	Set R3
	I64Load ldc+48(FP)
	I64Const $2
	I64Shl
	Set R4

	// One row block (four output channels) per trip of the outer loop: the
	// weights of block i+1 follow those of block i, its outputs four rows
	// further down.
	Block
	Loop
	Get R8
	I64Eqz
	BrIf $1
	Get R10
	Set R0
	Get R9
	Set R6
	ZERO_TILE

	// Two steps of k per trip, then the odd one.
	Block
	Loop
		Get R0
		I64Const $2
		I64LtU
		BrIf $1

		LOAD_B_AT_OFFSET($0)

		FMA_STEP

		LOAD_B_AT_OFFSET($4)

		FMA_STEP_HI

		Get R1
		I64Const $32
		I64Add
		Set R1
		Get R6
		I64Const $8
		I64Add
		Set R6
		Get R0
		I64Const $2
		I64Sub
		Set R0
		Br $0
	End
	End
	Block
		Get R0
		I64Eqz
		BrIf $0
		LOAD_B_AT_OFFSET($0)

		FMA_STEP
		Get R1
		I64Const $16
		I64Add
		Set R1
	End

	STORE_TILE
	Get R8
	I64Const $1
	I64Sub
	Set R8
	Br $0
	End
	End
	RET
