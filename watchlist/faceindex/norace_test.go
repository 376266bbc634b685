//go:build !race

package faceindex

const raceEnabled = false
