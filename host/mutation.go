package host

import "github.com/wasisim/wasisim/internal/mutation"

// drop ends a handle's object. It is also where the handle-drop mutations
// act (Host.mut is zero outside this module's property suites): they
// release at the handle what only the last reference should release.
func (h *Host) drop(d dropper) {
	if h.mut != 0 {
		switch o := d.(type) {
		case *descriptor:
			if h.mut.Has(mutation.ReleaseLocksOnHandleDrop) {
				o.ofd.Unlock() //nolint:errcheck // mutation: early release
			}
		case *tcpSocket:
			if h.mut.Has(mutation.CloseSocketOnHandleDrop) {
				o.r.Shared().ReleaseAll() // mutation: close with the handle
			}
		}
	}
	d.drop()
}
