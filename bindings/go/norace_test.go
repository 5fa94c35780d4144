//go:build !race

package torchinfer_test

const raceEnabled = false
