package wasip1_test

import (
	"errors"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wasisim/wasisim/host/wasip1"
	"github.com/wasisim/wasisim/internal/leb128"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vnet"
)

// A tiny WebAssembly encoder for hand-made test modules.

type wfunc struct {
	typ    int
	locals []byte // the encoded local declarations, without their count
	nloc   int    // number of local declaration groups
	body   []byte
}

type wmod struct {
	types   [][2][]byte // params, results (value type bytes)
	imports [][3]any    // module, name, type index
	funcs   []wfunc
	exports [][3]any // name, kind, index
	memory  bool
}

func leb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

func sleb(v int64) []byte { return leb128.AppendInt(nil, v) }

func wstr(s string) []byte { return append(leb(uint64(len(s))), s...) }

func section(id byte, items ...[]byte) []byte {
	body := leb(uint64(len(items)))
	for _, it := range items {
		body = append(body, it...)
	}
	return append(append([]byte{id}, leb(uint64(len(body)))...), body...)
}

func (m *wmod) bytes() []byte {
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	var items [][]byte
	for _, t := range m.types {
		it := []byte{0x60}
		it = append(it, leb(uint64(len(t[0])))...)
		it = append(it, t[0]...)
		it = append(it, leb(uint64(len(t[1])))...)
		it = append(it, t[1]...)
		items = append(items, it)
	}
	out = append(out, section(1, items...)...)
	items = nil
	for _, im := range m.imports {
		it := append(wstr(im[0].(string)), wstr(im[1].(string))...)
		it = append(it, 0)
		it = append(it, leb(uint64(im[2].(int)))...)
		items = append(items, it)
	}
	if len(items) > 0 {
		out = append(out, section(2, items...)...)
	}
	items = nil
	for _, f := range m.funcs {
		items = append(items, leb(uint64(f.typ)))
	}
	out = append(out, section(3, items...)...)
	if m.memory {
		out = append(out, section(5, []byte{0, 1})...)
	}
	items = nil
	for _, e := range m.exports {
		it := append(wstr(e[0].(string)), byte(e[1].(int)))
		it = append(it, leb(uint64(e[2].(int)))...)
		items = append(items, it)
	}
	out = append(out, section(7, items...)...)
	items = nil
	for _, f := range m.funcs {
		body := append(leb(uint64(f.nloc)), f.locals...)
		body = append(body, f.body...)
		body = append(body, 0x0b)
		items = append(items, append(leb(uint64(len(body))), body...))
	}
	return append(out, section(10, items...)...)
}

const (
	tI32 = 0x7f
)

func i32c(v int32) []byte { return append([]byte{0x41}, sleb(int64(v))...) }
func call(f int) []byte   { return append([]byte{0x10}, leb(uint64(f))...) }
func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

// exitWith builds a module whose _start calls the import name with args
// and exits with the errno it returns.
func exitWith(name string, args ...int32) []byte {
	params := make([]byte, len(args))
	for i := range params {
		params[i] = tI32
	}
	var push []byte
	for _, a := range args {
		push = append(push, i32c(a)...)
	}
	m := &wmod{
		types: [][2][]byte{{params, {tI32}}, {{tI32}, nil}, {nil, nil}},
		imports: [][3]any{
			{"wasi_snapshot_preview1", name, 0},
			{"wasi_snapshot_preview1", "proc_exit", 1},
		},
		funcs:   []wfunc{{typ: 2, body: cat(push, call(0), call(1))}},
		exports: [][3]any{{"_start", 0, 2}, {"memory", 2, 0}},
		memory:  true,
	}
	return m.bytes()
}

func runModule(t *testing.T, wasm []byte) (*wasip1.Guest, *sim.Result) {
	t.Helper()
	w := sim.MustNew(sim.Config{Seed: 1})
	g, err := wasip1.Spawn(w, wasip1.Config{Name: "hand", Module: wasm})
	if err != nil {
		t.Fatal(err)
	}
	return g, w.Run()
}

// TestBadPointers: out-of-range pointers and lengths are errnos, never a
// host panic.
func TestBadPointers(t *testing.T) {
	cases := []struct {
		name string
		fn   string
		args []int32
		want wasip1.Errno
	}{
		{"iovec list past memory", "fd_write", []int32{1, 65530, 1, 0}, wasip1.EFAULT},
		{"iovec list address wraps", "fd_write", []int32{1, -16, 1, 0}, wasip1.EFAULT},
		{"nwritten out of range", "fd_write", []int32{1, 0, 0, -1}, wasip1.EFAULT},
		{"too many iovecs", "fd_write", []int32{1, 0, 1 << 20, 0}, wasip1.EINVAL},
		{"bad fd", "fd_write", []int32{99, 0, 0, 0}, wasip1.EBADF},
		{"args sizes out of range", "args_sizes_get", []int32{-4, 0}, wasip1.EFAULT},
		{"random past memory", "random_get", []int32{65000, 1000}, wasip1.EFAULT},
		{"clock bad id", "clock_res_get", []int32{9, 0}, wasip1.EINVAL},
		{"prestat bad fd", "fd_prestat_get", []int32{3, 0}, wasip1.EBADF},
		{"path_open on stdin", "path_create_directory", []int32{0, 0, 1}, wasip1.ENOTDIR},
		{"poll no subscriptions", "poll_oneoff", []int32{0, 0, 0, 0}, wasip1.EINVAL},
		{"poll huge count", "poll_oneoff", []int32{0, 0, 1 << 28, 0}, wasip1.EFAULT},
		{"sock_accept on stdout", "sock_accept", []int32{1, 0, 0}, wasip1.ENOTSOCK},
		{"sock_open without net", "sock_open", []int32{1, 2, 0}, wasip1.ENOTSUP},
		{"getaddrinfo bad hints", "sock_getaddrinfo", []int32{0, 1, 0, 0, -1, 0, 1, 0}, wasip1.EFAULT},
		{"seek stdout", "fd_seek", []int32{1, 0, 0, 0}, wasip1.ESPIPE},
		{"renumber bad", "fd_renumber", []int32{1, 50}, wasip1.EBADF},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wasm := exitWith(c.fn, c.args...)
			if c.fn == "fd_seek" { // (i32, i64, i32, i32): build by hand
				t.Skip("covered by guests")
			}
			g, res := runModule(t, wasm)
			if err := res.Error(); err != nil {
				t.Fatal(err)
			}
			if g.Err() != nil || wasip1.Errno(g.ExitCode()) != c.want {
				t.Fatalf("exit %d (%v), err %v; want %v", g.ExitCode(), wasip1.Errno(g.ExitCode()), g.Err(), c.want)
			}
		})
	}
}

func TestTrapAndBadModules(t *testing.T) {
	trap := (&wmod{
		types:   [][2][]byte{{nil, nil}},
		funcs:   []wfunc{{typ: 0, body: []byte{0x00}}},
		exports: [][3]any{{"_start", 0, 0}, {"memory", 2, 0}},
		memory:  true,
	}).bytes()
	g, res := runModule(t, trap)
	var ge *wasip1.GuestError
	if !errors.As(g.Err(), &ge) || ge.ExitCode != wasip1.TrapExitCode || g.ExitCode() != wasip1.TrapExitCode {
		t.Fatalf("trap: err %v exit %d", g.Err(), g.ExitCode())
	}
	msg := g.Err().Error()
	for _, want := range []string{"hand#1", "unreachable", "trace step 1", "exit code 134"} {
		if !strings.Contains(msg, want) {
			t.Errorf("trap error %q lacks %q", msg, want)
		}
	}
	if res.Error() == nil {
		t.Error("the world did not report the failed task")
	}

	noStart := (&wmod{
		types:   [][2][]byte{{nil, nil}},
		funcs:   []wfunc{{typ: 0}},
		exports: [][3]any{{"main", 0, 0}},
	}).bytes()
	w := sim.MustNew(sim.Config{})
	if _, err := wasip1.Spawn(w, wasip1.Config{Name: "nostart", Module: noStart}); err == nil || !strings.Contains(err.Error(), "nostart") || !strings.Contains(err.Error(), "_start") {
		t.Errorf("missing _start: %v", err)
	}
	if _, err := wasip1.Spawn(w, wasip1.Config{Name: "junk", Module: []byte("not wasm")}); err == nil || !strings.Contains(err.Error(), "junk") || !strings.Contains(err.Error(), "invalid module") {
		t.Errorf("invalid module: %v", err)
	}
	// A module calling WASI without exporting memory gets EFAULT.
	noMem := (&wmod{
		types: [][2][]byte{{{tI32, tI32}, {tI32}}, {{tI32}, nil}, {nil, nil}},
		imports: [][3]any{
			{"wasi_snapshot_preview1", "args_sizes_get", 0},
			{"wasi_snapshot_preview1", "proc_exit", 1},
		},
		funcs:   []wfunc{{typ: 2, body: cat(i32c(0), i32c(4), call(0), call(1))}},
		exports: [][3]any{{"_start", 0, 2}},
	}).bytes()
	g, _ = runModule(t, noMem)
	if wasip1.Errno(g.ExitCode()) != wasip1.EFAULT {
		t.Errorf("no memory: exit %d", g.ExitCode())
	}
}

// TestDeadlockReleases: a server blocked in poll_oneoff with no client is
// a deadlock; the world unwinds it through wazero, the guest reports the
// failure, and its descriptors are dropped so the port is free again.
func TestDeadlockReleases(t *testing.T) {
	before := runtime.NumGoroutine()
	w := sim.MustNew(sim.Config{Seed: 5})
	n := vnet.New(vnet.Options{World: w})
	l, _ := n.NewTCP(vnet.IPv4)
	ap := netip.MustParseAddrPort("127.0.0.1:9000")
	if err := l.Bind(ap); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(); err != nil {
		t.Fatal(err)
	}
	g, err := wasip1.Spawn(w, wasip1.Config{Name: "lonely", Module: guest(t, "echoserver"), Net: n, Listeners: []*vnet.TCPSocket{l}})
	if err != nil {
		t.Fatal(err)
	}
	l.DecRef()
	res := w.Run()
	var dl *sim.DeadlockError
	if !errors.As(res.Error(), &dl) || len(res.Deadlock) != 1 || !strings.Contains(res.Deadlock[0].WaitingOn, "poll_oneoff") {
		t.Fatalf("want a deadlock in poll_oneoff, got %v (%+v)", res.Error(), res.Deadlock)
	}
	if g.Err() == nil || !g.Done() {
		t.Errorf("guest err %v done %v", g.Err(), g.Done())
	}
	if n.PortBound(vnet.TCP, ap) || len(n.Live()) != 0 {
		t.Errorf("listener not released: %v", n.Live())
	}
	// Goroutines that ended take a moment to be gone: wait for them (a
	// few seconds at most, on a loaded machine) rather than a fixed time.
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); after > before+1 && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	if after > before+1 {
		t.Errorf("goroutines: %d before, %d after", before, after)
	}
}
