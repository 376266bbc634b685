//go:build race

package main

// visionBuildFlags makes the vision tests build checkpointctl the way the
// test binary was built, so the cgo objects come from the same cache entries.
var visionBuildFlags = []string{"-race"}
