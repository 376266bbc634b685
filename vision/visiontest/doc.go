// Package visiontest finds the face models and labelled photos that tests
// and benchmarks of the face path need, and reads the go-face reference
// descriptors. In CI (CI set) a missing model or photo fails the test;
// locally it skips with the reason.
package visiontest
