//go:build !amd64

package faceindex

const haveAVX2 = false

// l2Int8Batch writes the squared distances between the widened query q
// and rows consecutive int8 templates of len(q) values.
func l2Int8Batch(q []int16, x []int8, rows int, out []int32) {
	l2Int8Generic(q, x, rows, out)
}
