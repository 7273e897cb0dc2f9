//go:build amd64 || arm64

package goid

// get returns the address of the calling goroutine's runtime descriptor
// (the runtime's g), which lives as long as the goroutine does.
func get() uintptr
