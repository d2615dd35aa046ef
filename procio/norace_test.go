//go:build !race

package procio

const raceEnabled = false
