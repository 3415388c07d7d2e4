//go:build race

package bridge

// raceEnabled: under the race detector sync.Pool drops items on purpose, so
// pion's pooled buffers allocate.
const raceEnabled = true
