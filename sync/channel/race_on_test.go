//go:build race

package channel

// raceEnabled scales the heavier tests down under the race detector.
const raceEnabled = true
