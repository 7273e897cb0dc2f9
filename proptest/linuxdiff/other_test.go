//go:build !linux

package linuxdiff

import "testing"

// TestLinuxOnly says why nothing runs: the differential tests need the
// Linux kernel.
func TestLinuxOnly(t *testing.T) {
	t.Skip("linuxdiff compares vfs and vnet with the Linux kernel; it runs only on Linux")
}
