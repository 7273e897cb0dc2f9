package bridge

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/wasisim/wasisim/vnet"
)

// What crosses from the machine into the world, one event per input
// chunk recorded in the trace (sim.World.Input, named "bridge").
const (
	evAccept  = 'A' // a machine client connected to a published address: id, the guest address to connect to
	evData    = 'D' // bytes arrived from the machine peer of a connection: id, bytes
	evEOF     = 'E' // the machine peer shut down writing: id
	evReset   = 'R' // the machine connection failed or was reset: id
	evWritten = 'W' // bytes a guest sent reached the machine peer: id, count
	evDial    = 'd' // the result of a forwarded dial: id (0 when it failed), error code
	evListen  = 'l' // the result of publishing a guest listener: ok
	evQuiet   = 'T' // the machine sent nothing for Options.IdleTimeout
)

// event is one decoded input.
type event struct {
	kind byte
	id   uint64
	n    uint64         // evWritten: bytes
	addr netip.AddrPort // evAccept: where to connect
	data []byte         // evData
	code vnet.ErrorCode // evDial: the failure
	ok   bool           // evListen
}

func (e event) encode() []byte {
	b := []byte{e.kind}
	b = binary.AppendUvarint(b, e.id)
	switch e.kind {
	case evAccept:
		a, _ := e.addr.MarshalBinary()
		b = append(b, a...)
	case evData:
		b = append(b, e.data...)
	case evWritten:
		b = binary.AppendUvarint(b, e.n)
	case evDial:
		b = append(b, byte(e.code))
	case evListen:
		if e.ok {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	return b
}

var errBadEvent = errors.New("bridge: malformed input in the trace")

func decode(b []byte) (event, error) {
	if len(b) == 0 {
		return event{}, errBadEvent
	}
	e := event{kind: b[0]}
	id, k := binary.Uvarint(b[1:])
	if k <= 0 {
		return event{}, errBadEvent
	}
	e.id = id
	rest := b[1+k:]
	switch e.kind {
	case evAccept:
		if err := e.addr.UnmarshalBinary(rest); err != nil || !e.addr.IsValid() {
			return event{}, errBadEvent
		}
	case evData:
		e.data = rest
	case evWritten:
		n, k := binary.Uvarint(rest)
		if k <= 0 {
			return event{}, errBadEvent
		}
		e.n = n
	case evDial:
		if len(rest) != 1 {
			return event{}, errBadEvent
		}
		e.code = vnet.ErrorCode(rest[0])
	case evListen:
		if len(rest) != 1 {
			return event{}, errBadEvent
		}
		e.ok = rest[0] == 1
	case evEOF, evReset, evQuiet:
	default:
		return event{}, errBadEvent
	}
	return e, nil
}
