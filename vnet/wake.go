package vnet

import "github.com/wasisim/wasisim/sim"

// Wake wakes every task or goroutine blocked in WaitChange, as if a socket
// had changed. A host uses it when something outside vnet (a guest dropping
// the stream a producer feeds) should make a waiting producer look again.
func (n *Net) Wake() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.w != nil {
		n.w.Touch(netObj, sim.Read) // it only counts a change (see netObj)
	}
	n.notifyLocked(nil)
}
