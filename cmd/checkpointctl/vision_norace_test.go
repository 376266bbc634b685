//go:build !race

package main

// visionBuildFlags: see vision_race_test.go.
var visionBuildFlags []string
