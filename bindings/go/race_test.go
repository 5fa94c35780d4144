//go:build race

package torchinfer_test

const raceEnabled = true
