package bridge

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Mapping pairs an address on the machine (Host) with one in the
// simulation (Guest): a published guest listener is reachable at Host, a
// forwarded Guest address reaches Host.
type Mapping struct {
	Host, Guest netip.AddrPort
	// AnyPort publishes every port: a guest listener on Guest's address
	// (or the unspecified one) and any port P is reachable on Host's
	// address and the same port P. The ports of Host and Guest are 0.
	AnyPort bool
}

// String formats the mapping as ParseMapping reads it.
func (m Mapping) String() string {
	if m.AnyPort {
		return addrStar(m.Host.Addr()) + "=" + addrStar(m.Guest.Addr())
	}
	return m.Host.String() + "=" + m.Guest.String()
}

func addrStar(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]:*"
	}
	return a.String() + ":*"
}

// ParseMapping reads "HOSTADDR=GUESTADDR", or "ADDR" for the same address
// on both sides. An address is IP:PORT ("127.0.0.1:8080", "[::1]:8080",
// "localhost:8080" for 127.0.0.1, ":8080" too); a port "*" on both sides
// maps every port (AnyPort). The two sides must have the same family; no
// address may be unspecified, multicast or IPv4-mapped, and no port 0.
func ParseMapping(s string) (Mapping, error) {
	hs, gs, ok := strings.Cut(s, "=")
	if !ok {
		gs = hs
	}
	h, hAny, err := parseAddr(hs)
	if err != nil {
		return Mapping{}, fmt.Errorf("%q: %v", s, err)
	}
	g, gAny, err := parseAddr(gs)
	if err != nil {
		return Mapping{}, fmt.Errorf("%q: %v", s, err)
	}
	if hAny != gAny {
		return Mapping{}, fmt.Errorf("%q: a port \"*\" must be on both sides", s)
	}
	if h.Addr().Is4() != g.Addr().Is4() {
		return Mapping{}, fmt.Errorf("%q: the two addresses are of different families", s)
	}
	return Mapping{Host: h, Guest: g, AnyPort: hAny}, nil
}

func parseAddr(s string) (netip.AddrPort, bool, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return netip.AddrPort{}, false, fmt.Errorf("%q has no port", s)
	}
	host, port := strings.TrimSuffix(strings.TrimPrefix(s[:i], "["), "]"), s[i+1:]
	var a netip.Addr
	switch host {
	case "", "localhost":
		a = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	default:
		var err error
		if a, err = netip.ParseAddr(host); err != nil {
			return netip.AddrPort{}, false, fmt.Errorf("%q is not an IP address", host)
		}
	}
	if a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() || a.Is4In6() {
		return netip.AddrPort{}, false, fmt.Errorf("%s cannot be bridged (unspecified, multicast, zoned or IPv4-mapped)", a)
	}
	if port == "*" {
		return netip.AddrPortFrom(a, 0), true, nil
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return netip.AddrPort{}, false, fmt.Errorf("bad port %q (want 1-65535 or *)", port)
	}
	return netip.AddrPortFrom(a, uint16(p)), false, nil
}
