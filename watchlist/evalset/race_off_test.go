//go:build !race

package evalset

const raceEnabled = false
