package host

import (
	"time"

	"github.com/wasisim/wasisim/vnet"
)

// The tcp-socket and udp-socket option getters and setters of
// wasi:sockets@0.3.0. Each is a plain func on the socket; the rules (0 is
// invalid-argument, other values are clamped, in-range values read back
// exactly, accepted sockets inherit the listener's values, what the buffer
// sizes bound) are vnet's.

func tcpGet[T any](in *Instance, sock Handle, call string, get func(*vnet.TCPSocket) (T, error)) (T, error) {
	t, err := in.tcp(sock, call)
	if err != nil {
		var zero T
		return zero, err
	}
	return get(t.s)
}

func tcpSet[T any](in *Instance, sock Handle, call string, v T, set func(*vnet.TCPSocket, T) error) error {
	t, err := in.tcp(sock, call)
	if err != nil {
		return err
	}
	return set(t.s, v)
}

// SetListenBacklogSize is tcp-socket.set-listen-backlog-size.
func (in *Instance) SetListenBacklogSize(sock Handle, v uint64) error {
	return tcpSet(in, sock, "set-listen-backlog-size", v, (*vnet.TCPSocket).SetListenBacklogSize)
}

// KeepAliveEnabled is tcp-socket.get-keep-alive-enabled.
func (in *Instance) KeepAliveEnabled(sock Handle) (bool, error) {
	return tcpGet(in, sock, "get-keep-alive-enabled", (*vnet.TCPSocket).KeepAliveEnabled)
}

// SetKeepAliveEnabled is tcp-socket.set-keep-alive-enabled.
func (in *Instance) SetKeepAliveEnabled(sock Handle, v bool) error {
	return tcpSet(in, sock, "set-keep-alive-enabled", v, (*vnet.TCPSocket).SetKeepAliveEnabled)
}

// KeepAliveIdleTime is tcp-socket.get-keep-alive-idle-time.
func (in *Instance) KeepAliveIdleTime(sock Handle) (time.Duration, error) {
	return tcpGet(in, sock, "get-keep-alive-idle-time", (*vnet.TCPSocket).KeepAliveIdleTime)
}

// SetKeepAliveIdleTime is tcp-socket.set-keep-alive-idle-time.
func (in *Instance) SetKeepAliveIdleTime(sock Handle, v time.Duration) error {
	return tcpSet(in, sock, "set-keep-alive-idle-time", v, (*vnet.TCPSocket).SetKeepAliveIdleTime)
}

// KeepAliveInterval is tcp-socket.get-keep-alive-interval.
func (in *Instance) KeepAliveInterval(sock Handle) (time.Duration, error) {
	return tcpGet(in, sock, "get-keep-alive-interval", (*vnet.TCPSocket).KeepAliveInterval)
}

// SetKeepAliveInterval is tcp-socket.set-keep-alive-interval.
func (in *Instance) SetKeepAliveInterval(sock Handle, v time.Duration) error {
	return tcpSet(in, sock, "set-keep-alive-interval", v, (*vnet.TCPSocket).SetKeepAliveInterval)
}

// KeepAliveCount is tcp-socket.get-keep-alive-count.
func (in *Instance) KeepAliveCount(sock Handle) (uint32, error) {
	return tcpGet(in, sock, "get-keep-alive-count", (*vnet.TCPSocket).KeepAliveCount)
}

// SetKeepAliveCount is tcp-socket.set-keep-alive-count.
func (in *Instance) SetKeepAliveCount(sock Handle, v uint32) error {
	return tcpSet(in, sock, "set-keep-alive-count", v, (*vnet.TCPSocket).SetKeepAliveCount)
}

// HopLimit is tcp-socket.get-hop-limit.
func (in *Instance) HopLimit(sock Handle) (uint8, error) {
	return tcpGet(in, sock, "get-hop-limit", (*vnet.TCPSocket).HopLimit)
}

// SetHopLimit is tcp-socket.set-hop-limit.
func (in *Instance) SetHopLimit(sock Handle, v uint8) error {
	return tcpSet(in, sock, "set-hop-limit", v, (*vnet.TCPSocket).SetHopLimit)
}

// ReceiveBufferSize is tcp-socket.get-receive-buffer-size.
func (in *Instance) ReceiveBufferSize(sock Handle) (uint64, error) {
	return tcpGet(in, sock, "get-receive-buffer-size", (*vnet.TCPSocket).ReceiveBufferSize)
}

// SetReceiveBufferSize is tcp-socket.set-receive-buffer-size.
func (in *Instance) SetReceiveBufferSize(sock Handle, v uint64) error {
	return tcpSet(in, sock, "set-receive-buffer-size", v, (*vnet.TCPSocket).SetReceiveBufferSize)
}

// SendBufferSize is tcp-socket.get-send-buffer-size.
func (in *Instance) SendBufferSize(sock Handle) (uint64, error) {
	return tcpGet(in, sock, "get-send-buffer-size", (*vnet.TCPSocket).SendBufferSize)
}

// SetSendBufferSize is tcp-socket.set-send-buffer-size.
func (in *Instance) SetSendBufferSize(sock Handle, v uint64) error {
	return tcpSet(in, sock, "set-send-buffer-size", v, (*vnet.TCPSocket).SetSendBufferSize)
}

func udpGet[T any](in *Instance, sock Handle, call string, get func(*vnet.UDPSocket) (T, error)) (T, error) {
	u, err := in.udpPlain(sock, call)
	if err != nil {
		var zero T
		return zero, err
	}
	return get(u.s)
}

func udpSet[T any](in *Instance, sock Handle, call string, v T, set func(*vnet.UDPSocket, T) error) error {
	u, err := in.udpPlain(sock, call)
	if err != nil {
		return err
	}
	return set(u.s, v)
}

// UnicastHopLimit is udp-socket.get-unicast-hop-limit.
func (in *Instance) UnicastHopLimit(sock Handle) (uint8, error) {
	return udpGet(in, sock, "get-unicast-hop-limit", (*vnet.UDPSocket).UnicastHopLimit)
}

// SetUnicastHopLimit is udp-socket.set-unicast-hop-limit.
func (in *Instance) SetUnicastHopLimit(sock Handle, v uint8) error {
	return udpSet(in, sock, "set-unicast-hop-limit", v, (*vnet.UDPSocket).SetUnicastHopLimit)
}

// UDPReceiveBufferSize is udp-socket.get-receive-buffer-size.
func (in *Instance) UDPReceiveBufferSize(sock Handle) (uint64, error) {
	return udpGet(in, sock, "get-receive-buffer-size", (*vnet.UDPSocket).ReceiveBufferSize)
}

// SetUDPReceiveBufferSize is udp-socket.set-receive-buffer-size.
func (in *Instance) SetUDPReceiveBufferSize(sock Handle, v uint64) error {
	return udpSet(in, sock, "set-receive-buffer-size", v, (*vnet.UDPSocket).SetReceiveBufferSize)
}

// UDPSendBufferSize is udp-socket.get-send-buffer-size.
func (in *Instance) UDPSendBufferSize(sock Handle) (uint64, error) {
	return udpGet(in, sock, "get-send-buffer-size", (*vnet.UDPSocket).SendBufferSize)
}

// SetUDPSendBufferSize is udp-socket.set-send-buffer-size.
func (in *Instance) SetUDPSendBufferSize(sock Handle, v uint64) error {
	return udpSet(in, sock, "set-send-buffer-size", v, (*vnet.UDPSocket).SetSendBufferSize)
}
