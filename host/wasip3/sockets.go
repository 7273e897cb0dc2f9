package wasip3

import (
	"net/netip"
	"time"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/vnet"
)

// family decodes an ip-address-family value.
func family(t *ctype, v value) (vnet.Family, error) {
	name, _, err := caseName(t, v)
	if err != nil {
		return 0, err
	}
	switch name {
	case "ipv4":
		return vnet.IPv4, nil
	case "ipv6":
		return vnet.IPv6, nil
	}
	return 0, errType("address family %q", name)
}

func (b *binder) sockets() {
	tcp := func(name string, f fnImpl) { b.fn(ifSockets, "[method]tcp-socket."+name, f) }
	udp := func(name string, f fnImpl) { b.fn(ifSockets, "[method]udp-socket."+name, f) }

	create := func(newSock func(in *host.Instance, f vnet.Family) (host.Handle, error)) fnImpl {
		return func(c *component.Call, a []value) (value, error) {
			t, err := paramType(c, 0)
			if err != nil {
				return nil, err
			}
			f, err := family(t, a[0])
			if err != nil {
				return nil, err
			}
			h, err := newSock(c.Instance(), f)
			return ret(c, uint32(h), err)
		}
	}
	b.fn(ifSockets, "[static]tcp-socket.create", create((*host.Instance).NewTCPSocket))
	b.fn(ifSockets, "[static]udp-socket.create", create((*host.Instance).NewUDPSocket))

	// withAddr runs an operation taking (self, ip-socket-address).
	withAddr := func(op func(in *host.Instance, h host.Handle, ap netip.AddrPort) error) fnImpl {
		return func(c *component.Call, a []value) (value, error) {
			t, err := paramType(c, 1)
			if err != nil {
				return nil, err
			}
			ap, err := fromSocketAddress(t, a[1])
			if err != nil {
				return nil, err
			}
			return ret(c, nil, op(c.Instance(), hd(a[0]), ap))
		}
	}
	tcp("bind", withAddr((*host.Instance).Bind))
	b.blocking(ifSockets, "[method]tcp-socket.connect", withAddr((*host.Instance).Connect))
	tcp("listen", func(c *component.Call, a []value) (value, error) {
		s, err := c.Instance().Listen(hd(a[0]))
		return ret(c, uint32(s), err)
	})
	b.l.Func(ifSockets, "[method]tcp-socket.send", component.HostFunc{Blocks: true, Call: func(c *component.Call, a []value) (value, error) {
		f, err := c.Instance().Send(hd(a[0]), hd(a[1]))
		return writeResult(c, f, err)
	}})
	tcp("receive", func(c *component.Call, a []value) (value, error) {
		data, res, err := c.Instance().Receive(hd(a[0]))
		if err != nil {
			return nil, err
		}
		return []value{uint32(data), uint32(res)}, nil
	})
	addr := func(get func(in *host.Instance, h host.Handle) (netip.AddrPort, error)) fnImpl {
		return func(c *component.Call, a []value) (value, error) {
			ap, err := get(c.Instance(), hd(a[0]))
			return retWith(c, err, func(ok *ctype) (value, error) { return socketAddress(ok, ap) })
		}
	}
	tcp("get-local-address", addr((*host.Instance).LocalAddress))
	tcp("get-remote-address", addr((*host.Instance).RemoteAddress))
	tcp("get-is-listening", func(c *component.Call, a []value) (value, error) {
		l, err := c.Instance().IsListening(hd(a[0]))
		if err != nil && !isWASIError(err) {
			return nil, err
		}
		return l, nil
	})
	fam := func(get func(*host.Instance, host.Handle) (vnet.Family, error)) fnImpl {
		return func(c *component.Call, a []value) (value, error) {
			f, err := get(c.Instance(), hd(a[0]))
			if err != nil && !isWASIError(err) {
				return nil, err
			}
			t, terr := resultTypeOf(c)
			if terr != nil {
				return nil, terr
			}
			return named(t, f.String())
		}
	}
	tcp("get-address-family", fam((*host.Instance).AddressFamily))
	tcp("set-listen-backlog-size", func(c *component.Call, a []value) (value, error) {
		v, _ := a[1].(uint64)
		return ret(c, nil, c.Instance().SetListenBacklogSize(hd(a[0]), v))
	})
	getBool := func(get func(*host.Instance, host.Handle) (bool, error)) fnImpl {
		return func(c *component.Call, a []value) (value, error) {
			v, err := get(c.Instance(), hd(a[0]))
			return ret(c, v, err)
		}
	}
	getDur := func(get func(*host.Instance, host.Handle) (time.Duration, error)) fnImpl {
		return func(c *component.Call, a []value) (value, error) {
			v, err := get(c.Instance(), hd(a[0]))
			return ret(c, uint64(v), err)
		}
	}
	setDur := func(set func(*host.Instance, host.Handle, time.Duration) error) fnImpl {
		return func(c *component.Call, a []value) (value, error) {
			v, _ := a[1].(uint64)
			d := time.Duration(min(v, uint64(1<<63-1)))
			return ret(c, nil, set(c.Instance(), hd(a[0]), d))
		}
	}
	tcp("get-keep-alive-enabled", getBool((*host.Instance).KeepAliveEnabled))
	tcp("set-keep-alive-enabled", func(c *component.Call, a []value) (value, error) {
		v, _ := a[1].(bool)
		return ret(c, nil, c.Instance().SetKeepAliveEnabled(hd(a[0]), v))
	})
	tcp("get-keep-alive-idle-time", getDur((*host.Instance).KeepAliveIdleTime))
	tcp("set-keep-alive-idle-time", setDur((*host.Instance).SetKeepAliveIdleTime))
	tcp("get-keep-alive-interval", getDur((*host.Instance).KeepAliveInterval))
	tcp("set-keep-alive-interval", setDur((*host.Instance).SetKeepAliveInterval))
	tcp("get-keep-alive-count", func(c *component.Call, a []value) (value, error) {
		v, err := c.Instance().KeepAliveCount(hd(a[0]))
		return ret(c, v, err)
	})
	tcp("set-keep-alive-count", func(c *component.Call, a []value) (value, error) {
		v, _ := a[1].(uint32)
		return ret(c, nil, c.Instance().SetKeepAliveCount(hd(a[0]), v))
	})
	tcp("get-hop-limit", func(c *component.Call, a []value) (value, error) {
		v, err := c.Instance().HopLimit(hd(a[0]))
		return ret(c, v, err)
	})
	tcp("set-hop-limit", func(c *component.Call, a []value) (value, error) {
		v, _ := a[1].(uint8)
		return ret(c, nil, c.Instance().SetHopLimit(hd(a[0]), v))
	})
	getSize := func(get func(*host.Instance, host.Handle) (uint64, error)) fnImpl {
		return func(c *component.Call, a []value) (value, error) {
			v, err := get(c.Instance(), hd(a[0]))
			return ret(c, v, err)
		}
	}
	setSize := func(set func(*host.Instance, host.Handle, uint64) error) fnImpl {
		return func(c *component.Call, a []value) (value, error) {
			v, _ := a[1].(uint64)
			return ret(c, nil, set(c.Instance(), hd(a[0]), v))
		}
	}
	tcp("get-receive-buffer-size", getSize((*host.Instance).ReceiveBufferSize))
	tcp("set-receive-buffer-size", setSize((*host.Instance).SetReceiveBufferSize))
	tcp("get-send-buffer-size", getSize((*host.Instance).SendBufferSize))
	tcp("set-send-buffer-size", setSize((*host.Instance).SetSendBufferSize))

	udp("get-local-address", addr((*host.Instance).UDPLocalAddress))
	udp("get-remote-address", addr((*host.Instance).UDPRemoteAddress))
	udp("get-address-family", fam((*host.Instance).UDPAddressFamily))
	udp("get-unicast-hop-limit", func(c *component.Call, a []value) (value, error) {
		v, err := c.Instance().UnicastHopLimit(hd(a[0]))
		return ret(c, v, err)
	})
	udp("set-unicast-hop-limit", func(c *component.Call, a []value) (value, error) {
		v, _ := a[1].(uint8)
		return ret(c, nil, c.Instance().SetUnicastHopLimit(hd(a[0]), v))
	})
	udp("get-receive-buffer-size", getSize((*host.Instance).UDPReceiveBufferSize))
	udp("set-receive-buffer-size", setSize((*host.Instance).SetUDPReceiveBufferSize))
	udp("get-send-buffer-size", getSize((*host.Instance).UDPSendBufferSize))
	udp("set-send-buffer-size", setSize((*host.Instance).SetUDPSendBufferSize))
	udp("bind", withAddr((*host.Instance).UDPBind))
	udp("connect", withAddr((*host.Instance).UDPConnect))
	udp("disconnect", func(c *component.Call, a []value) (value, error) {
		return ret(c, nil, c.Instance().UDPDisconnect(hd(a[0])))
	})
	udp("send", func(c *component.Call, a []value) (value, error) {
		data, ok := a[1].([]byte)
		if !ok {
			return nil, errType("udp send of a %T", a[1])
		}
		t, err := paramType(c, 2)
		if err != nil {
			return nil, err
		}
		var to *netip.AddrPort
		if vv, ok := a[2].(component.VariantValue); ok && vv.Case == 1 {
			ap, err := fromSocketAddress(t.Elem, vv.Value)
			if err != nil {
				return nil, err
			}
			to = &ap
		}
		return ret(c, nil, c.Instance().UDPSend(hd(a[0]), data, to))
	})
	b.blocking(ifSockets, "[method]udp-socket.receive", func(c *component.Call, a []value) (value, error) {
		data, from, err := c.Instance().UDPReceive(hd(a[0]))
		return retWith(c, err, func(ok *ctype) (value, error) {
			if len(ok.Fields) != 2 {
				return nil, errType("udp receive's result is a %s", ok)
			}
			sa, err := socketAddress(ok.Fields[1].Type, from)
			return []value{data, sa}, err
		})
	})

	b.fn(ifNameLookup, "resolve-addresses", func(c *component.Call, a []value) (value, error) {
		name, _ := a[0].(string)
		addrs, err := c.Instance().ResolveAddresses(name)
		return retWith(c, err, func(ok *ctype) (value, error) {
			out := make([]value, len(addrs))
			for i, ad := range addrs {
				v, err := ipAddress(ok.Elem, ad)
				if err != nil {
					return nil, err
				}
				out[i] = v
			}
			return out, nil
		})
	})
}
