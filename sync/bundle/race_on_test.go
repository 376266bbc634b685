//go:build race

package bundle

// raceEnabled scales the heavier tests down under the race detector.
const raceEnabled = true
