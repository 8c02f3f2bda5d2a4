//go:build race

package tasklog

const raceEnabled = true
