//go:build race

package faceindex

// raceEnabled shrinks the large tests: the race detector slows the scans
// tenfold.
const raceEnabled = true
