//go:build race

package evalset

// raceEnabled: under the race detector (ten times slower) the budget test
// screens a third of the set and checks it runs, with looser bounds; `make
// test` runs it again without the race detector on the whole set, where
// the budgets are asserted.
const raceEnabled = true
