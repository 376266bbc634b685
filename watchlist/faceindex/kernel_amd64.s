#include "textflag.h"

// func l2Int8AVX2(q *int16, x *int8, dim int, rows int, out *int32)
//
// For each of rows templates of dim int8 values at x (contiguous), writes
// the squared Euclidean distance to the query q (dim int16 values, the
// query's int8 codes widened once) into out. dim must be a positive
// multiple of 32. Per 16 dimensions: widen 16 codes to int16, subtract,
// VPMADDWD squares and adds neighbouring pairs into 8 int32 lanes.
TEXT ·l2Int8AVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ dim+16(FP), CX
	MOVQ rows+24(FP), DX
	MOVQ out+32(FP), R8

row:
	TESTQ DX, DX
	JZ    done
	VPXOR Y0, Y0, Y0
	VPXOR Y5, Y5, Y5
	XORQ  AX, AX

inner:
	VPMOVSXBW (DI)(AX*1), Y2
	VMOVDQU   (SI)(AX*2), Y1
	VPSUBW    Y2, Y1, Y1
	VPMADDWD  Y1, Y1, Y1
	VPADDD    Y1, Y0, Y0
	VPMOVSXBW 16(DI)(AX*1), Y4
	VMOVDQU   32(SI)(AX*2), Y3
	VPSUBW    Y4, Y3, Y3
	VPMADDWD  Y3, Y3, Y3
	VPADDD    Y3, Y5, Y5
	ADDQ      $32, AX
	CMPQ      AX, CX
	JL        inner

	VPADDD       Y5, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4E, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xB1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, (R8)
	ADDQ         $4, R8
	ADDQ         CX, DI
	DECQ         DX
	JMP          row

done:
	VZEROUPPER
	RET
