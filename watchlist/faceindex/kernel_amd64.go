package faceindex

import "golang.org/x/sys/cpu"

//go:noescape
func l2Int8AVX2(q *int16, x *int8, dim int, rows int, out *int32)

// haveAVX2 selects the assembly kernel; tests turn it off to check the
// portable one against it.
var haveAVX2 = cpu.X86.HasAVX2

// l2Int8Batch writes the squared distances between the widened query q
// and rows consecutive int8 templates of len(q) values.
func l2Int8Batch(q []int16, x []int8, rows int, out []int32) {
	dim := len(q)
	if rows == 0 {
		return
	}
	_ = x[rows*dim-1]
	_ = out[rows-1]
	if haveAVX2 && dim%32 == 0 {
		l2Int8AVX2(&q[0], &x[0], dim, rows, &out[0])
		return
	}
	l2Int8Generic(q, x, rows, out)
}
