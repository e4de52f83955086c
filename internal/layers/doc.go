// Package layers holds no code: its test keeps the map of which munja
// package may import which (README, Development) true.
package layers
