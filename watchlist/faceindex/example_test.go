package faceindex_test

import (
	"fmt"

	"github.com/checkpoint-edge/checkpoint/watchlist/faceindex"
)

func Example() {
	idx, err := faceindex.New("dlib_face_recognition_resnet_model_v1", 4, faceindex.Options{})
	if err != nil {
		panic(err)
	}
	defer idx.Close() // zeroes and unmaps the templates

	_ = idx.Add("P1/F1", []float32{1, 0, 0, 0})
	_ = idx.Add("P2/F1", []float32{0, 1, 0, 0})
	_ = idx.Add("P1/F2", []float32{0.9, 0.1, 0, 0})

	res, err := idx.Search("dlib_face_recognition_resnet_model_v1", []float32{1, 0.05, 0, 0}, 10, 0.6)
	if err != nil {
		panic(err)
	}
	for _, r := range res {
		fmt.Printf("%s %.3f\n", r.ID, r.Distance)
	}
	_, err = idx.Search("another-model", []float32{1, 0, 0, 0}, 10, 0.6)
	fmt.Println(err)
	// Output:
	// P1/F1 0.050
	// P1/F2 0.112
	// faceindex: face model mismatch: query of "another-model" against an index of "dlib_face_recognition_resnet_model_v1"
}
