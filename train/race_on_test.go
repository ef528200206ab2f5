//go:build race

package train

// raceEnabled reports whether the race detector is on (it allocates, so
// allocation counts are not checked under it).
const raceEnabled = true
