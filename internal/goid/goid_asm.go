//go:build 386 || amd64 || arm || arm64 || loong64 || ppc64 || ppc64le || riscv64 || s390x

package goid

// get returns the address of the calling goroutine's runtime descriptor
// (the runtime's g), which lives as long as the goroutine does.
func get() uintptr
