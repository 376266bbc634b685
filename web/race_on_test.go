//go:build race

package web

// raceEnabled scales memory bounds for the race detector's shadow memory.
const raceEnabled = true
