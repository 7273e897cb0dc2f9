package host

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// runGuest runs guest once per seed in 1..seeds and fails on any failure.
func runGuest(t *testing.T, opt Options, seeds uint64, guest func(h *Host, in *Instance) error) {
	t.Helper()
	for seed := uint64(1); seed <= seeds; seed++ {
		res, _, err := sim.RunOnce(sim.Config{Seed: seed}, func(w *sim.World) error {
			h, err := New(w, opt)
			if err != nil {
				return err
			}
			in := h.NewInstance("guest")
			w.Go("guest", func(*sim.Task) error { return guest(h, in) })
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed() {
			t.Fatalf("seed %d: %v", seed, res.Error())
		}
	}
}

func TestStdio(t *testing.T) {
	runGuest(t, Options{Stdin: []byte("hello, stdin"), Chunk: 5}, 10, func(h *Host, in *Instance) error {
		// A first reader takes a few bytes and drops the stream early; the
		// next reader goes on where it stopped.
		s, f, _ := in.ReadStdin()
		got, _, err := in.Read(s, 3)
		if err != nil || string(got) != "hel" {
			return fmt.Errorf("first read %q %v", got, err)
		}
		must(in.Drop(s))
		if res, _ := in.Await(f); res != nil {
			return fmt.Errorf("stdin future after an early drop: %v", res)
		}
		must(in.Drop(f))
		s, f, _ = in.ReadStdin()
		rest, _ := in.ReadAll(s, 100)
		if string(rest) != "lo, stdin" {
			return fmt.Errorf("second reader got %q", rest)
		}
		if res, _ := in.Await(f); res != nil {
			return res
		}
		for _, out := range []struct {
			write func(Handle) (Handle, error)
			get   func() []byte
			text  string
		}{{in.WriteStdout, h.Stdout, "to stdout"}, {in.WriteStderr, h.Stderr, "to stderr"}} {
			r, w, _ := in.NewStream()
			fut, err := out.write(r)
			if err != nil {
				return err
			}
			in.WriteAll(w, []byte(out.text))
			must(in.Drop(w))
			if res, _ := in.Await(fut); res != nil {
				return res
			}
			if string(out.get()) != out.text {
				return fmt.Errorf("got %q, want %q", out.get(), out.text)
			}
		}
		return in.DropAll()
	})
}

func TestReadDirectoryAndErrorFutures(t *testing.T) {
	runGuest(t, Options{Chunk: 2}, 10, func(h *Host, in *Instance) error {
		pre, _ := in.Preopens()
		root := pre[0].Handle
		for _, name := range []string{"c", "a", "b"} {
			fd, _ := in.OpenAt(root, 0, name, vfs.OpenCreate, vfs.Write)
			must(in.Drop(fd))
		}
		must(in.CreateDirectoryAt(root, "d"))
		s, f, _ := in.ReadDirectory(root)
		var names []string
		for {
			ents, res, err := in.ReadDirEntries(s, 2)
			if err != nil {
				return err
			}
			for _, e := range ents {
				names = append(names, e.Name)
			}
			if res.Status == Dropped {
				break
			}
		}
		if !slices.Equal(names, []string{"a", "b", "c", "d"}) {
			return fmt.Errorf("read-directory gave %v", names)
		}
		if res, _ := in.Await(f); res != nil {
			return res
		}
		// A directory read as a file: empty stream, future err(is-directory).
		d, _ := in.OpenAt(root, 0, "d", vfs.OpenDirectory, vfs.Read)
		ds, df, _ := in.ReadViaStream(d, 0)
		if b, _ := in.ReadAll(ds, 10); len(b) != 0 {
			return fmt.Errorf("read-via-stream of a directory gave %q", b)
		}
		if res, _ := in.Await(df); !errors.Is(res, vfs.ErrIsDirectory) {
			return fmt.Errorf("read-via-stream of a directory: %v", res)
		}
		// Writing to a read-only descriptor: an already-resolved err future,
		// and the writer sees DROPPED with no progress.
		a, _ := in.OpenAt(root, 0, "a", 0, vfs.Read)
		r, w, _ := in.NewStream()
		wf, _ := in.WriteViaStream(a, r, 0)
		if cr, _ := in.Write(w, []byte("x")); cr.Status != Dropped || cr.Progress != 0 {
			return fmt.Errorf("write into a refused write-via-stream: %v", cr)
		}
		if res, _ := in.Await(wf); !errors.Is(res, vfs.ErrBadDescriptor) {
			return fmt.Errorf("write-via-stream on a read-only descriptor: %v", res)
		}
		// read-directory on a file: err(not-directory).
		fs, ff, _ := in.ReadDirectory(a)
		in.ReadDirEntries(fs, 1)
		if res, _ := in.Await(ff); !errors.Is(res, vfs.ErrNotDirectory) {
			return fmt.Errorf("read-directory of a file: %v", res)
		}
		return in.DropAll()
	})
}

func TestUDPAndNameLookup(t *testing.T) {
	runGuest(t, Options{}, 10, func(h *Host, in *Instance) error {
		addrs, err := in.ResolveAddresses("localhost")
		if err != nil || !slices.Contains(addrs, netip.MustParseAddr("127.0.0.1")) {
			return fmt.Errorf("resolve localhost: %v %v", addrs, err)
		}
		if _, err := in.ResolveAddresses("127.0.0.1:80"); !errors.Is(err, vnet.ErrInvalidArgument) {
			return fmt.Errorf("resolve a malformed name: %v", err)
		}
		srv, _ := in.NewUDPSocket(vnet.IPv4)
		at := netip.MustParseAddrPort("127.0.0.1:5353")
		if err := in.UDPBind(srv, at); err != nil {
			return err
		}
		cli, _ := in.NewUDPSocket(vnet.IPv4)
		if err := in.UDPSend(cli, []byte("ping"), &at); err != nil {
			return err
		}
		data, from, err := in.UDPReceive(srv)
		if err != nil || string(data) != "ping" || from.Addr() != netip.MustParseAddr("127.0.0.1") {
			return fmt.Errorf("receive: %q from %v, %v", data, from, err)
		}
		if err := in.UDPSend(cli, make([]byte, 65536), &at); !errors.Is(err, vnet.ErrDatagramTooLarge) {
			return fmt.Errorf("65536-byte datagram: %v", err)
		}
		must(in.Drop(srv))
		if h.Net().PortBound(vnet.UDP, at) {
			return errors.New("UDP port still bound after the last reference")
		}
		return in.DropAll()
	})
}
