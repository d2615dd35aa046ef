//go:build race

package procio

// raceEnabled: under the race detector sync.Pool drops items at random, so
// pooled buffers are sometimes made anew.
const raceEnabled = true
