// Package wasmrun is `wasisim run` for WASI preview-1 core modules: a
// command line shaped like wasmtime's that runs one module (package
// host/wasip1) in a fresh world, on a virtual file system filled from host
// directories and written back after the run, and a loopback network:
//
//	run [--dir HOST[::GUEST]]… [--env K[=V]]… [--listen ADDR]… [--seed N]
//	    [--trace FILE] [--dir-write-back] [--max-steps N] MODULE [ARGS…]
//
// --dir copies the host directory into the world's vfs before the run and
// preopens it under GUEST (default: HOST as written); --dir-write-back
// mirrors each such tree back to its host directory after the run
// (creating, overwriting and deleting host files). --env K without a value
// passes the host's K. --listen ADDR preopens a listening TCP socket on
// the world's loopback network after the directories (fd 3+len(dirs)…).
// --seed seeds the world (default 0); --trace writes the run's trace.
//
// The network (net.go): --publish HOSTADDR=GUESTADDR lets clients on the
// machine connect to a guest listener (port * on both sides: every port a
// guest listens on), --forward HOSTADDR=GUESTADDR lets guests reach a
// loopback server of the machine; what crosses is recorded in the trace,
// so the run replays without the machine. Without them nothing leaves
// the simulation. -S KEY=VALUE sets the component guests' network policy
// (tcp, udp, bind, listen, connect, allow-ip-name-lookup: y or n;
// max-handles: a count). --with 'FILE [ARGS…]' runs another guest (a
// component or a module) in the same world, on the same file system and
// network; the run's exit code is the main guest's.
package wasmrun

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
)

// dirMap is one --dir HOST::GUEST option.
type dirMap struct {
	host, guest string
}

// options is a parsed command line (see the package doc).
type options struct {
	dirs      []dirMap
	env       []string
	listen    []string
	seed      uint64
	trace     string
	writeBack bool
	maxSteps  int64
	module    string
	args      []string
	net       NetFlags
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// flagSet declares the flags of the command line; parse fills o from it,
// and IsModuleRun asks it which flags take a value.
func flagSet(o *options, dirs, env, listen *multiFlag) *flag.FlagSet {
	fl := flag.NewFlagSet("wasisim run", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	fl.Var(dirs, "dir", "HOST[::GUEST] directory to copy into the world and preopen")
	fl.Var(env, "env", "K=V environment variable (K alone inherits)")
	fl.Var(listen, "listen", "ADDR to preopen a listening TCP socket on")
	fl.Uint64Var(&o.seed, "seed", 0, "world seed")
	fl.StringVar(&o.trace, "trace", "", "write the trace to FILE")
	fl.BoolVar(&o.writeBack, "dir-write-back", false, "copy --dir trees back to the host after the run")
	fl.Int64Var(&o.maxSteps, "max-steps", 0, "scheduling step limit (0: sim default)")
	o.net.Register(fl, true)
	return fl
}

// IsModuleRun reports whether the first operand of run's arguments is a
// WebAssembly binary (by its magic number; a missing file named *.wasm
// too, so that the error says so), so that the command runs it here
// rather than as a scenario. Flags before it are skipped, with the value that follows those
// of this command line that take one (unless written --flag=value).
func IsModuleRun(args []string) bool {
	fl := flagSet(&options{}, new(multiFlag), new(multiFlag), new(multiFlag))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if f := fl.Lookup(strings.TrimPrefix(a[1:], "-")); f != nil && !isBoolFlag(f) {
				i++
			}
			continue
		}
		return IsWasm(a) || strings.HasSuffix(a, ".wasm")
	}
	return false
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// parse parses a command line (with or without a leading "run").
func parse(args []string) (*options, error) {
	if len(args) > 0 && args[0] == "run" {
		args = args[1:]
	}
	var dirs, env, listen multiFlag
	o := &options{}
	fl := flagSet(o, &dirs, &env, &listen)
	if err := fl.Parse(args); err != nil {
		return nil, err
	}
	for _, d := range dirs {
		host, guest, ok := strings.Cut(d, "::")
		if !ok {
			guest = host
		}
		if host == "" || guest == "" {
			return nil, fmt.Errorf("--dir %q: want HOST or HOST::GUEST", d)
		}
		o.dirs = append(o.dirs, dirMap{host: host, guest: guest})
	}
	for _, kv := range env {
		if !strings.Contains(kv, "=") {
			kv = kv + "=" + os.Getenv(kv)
		}
		o.env = append(o.env, kv)
	}
	o.listen = listen
	rest := fl.Args()
	if len(rest) == 0 {
		return nil, errors.New("no module given")
	}
	o.module, o.args = rest[0], rest[1:]
	return o, nil
}

// Main runs a command line (see the package doc; with or without a
// leading "run") and returns the process exit code: the guest's exit code;
// 2 for a usage error or a binary that cannot be loaded (unreadable,
// malformed, using what wasisim does not support); 1 when the run fails
// (deadlock, step limit) with the guest exiting 0; 134 (as Wasmtime) for
// a trap. The guest's stdout and stderr go to stdout and stderr as it
// writes them. A component reads stdin (may be nil) only when it reads
// it; a preview-1 module gets it whole at the start.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "wasisim run: %v\nusage: wasisim run [--dir HOST::GUEST] [--env K=V] [--listen ADDR] [--seed N] [--trace FILE] [--dir-write-back] [--publish HOST=GUEST] [--forward HOST=GUEST] [-S KEY=VALUE] [--with 'FILE ARGS'] MODULE [ARGS...]\n", err)
		return 2
	}
	code, err := o.run(stdin, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "wasisim run: %v\n", err)
	}
	return code
}

// run executes the options in a fresh world; see Main for the exit code.
// The returned error describes a setup or run failure (already reflected
// in the code).
func (o *options) run(stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	spec := Spec{Path: o.module, Args: o.args, Env: o.env, Listen: o.listen, MaxSteps: o.maxSteps, LiveStdin: stdin != nil}
	for _, d := range o.dirs {
		spec.Dirs = append(spec.Dirs, DirSpec{Host: d.host, Guest: d.guest})
	}
	if err := o.net.Apply(&spec); err != nil {
		return 2, err
	}
	p, err := Load(spec)
	if err != nil {
		return 2, err
	}
	p.live = true
	cfg := p.Config()
	cfg.Seed, cfg.Trace = o.seed, o.trace != ""
	w, err := sim.New(cfg)
	if err != nil {
		return 1, err
	}
	var g *Guest
	if err := p.Scenario(Stdio{Stdin: stdin, Stdout: stdout, Stderr: stderr}, func(x *Guest) { g = x })(w); err != nil {
		return 1, err
	}
	res := w.Run()
	g.shutdownBridge()
	if o.trace != "" {
		if err := w.Trace().WriteFile(o.trace); err != nil {
			return 1, err
		}
	}
	if o.writeBack {
		root := g.FS.Root(vfs.Read | vfs.MutateDirectory)
		defer func() { _ = root.DecRef() }()
		for i, d := range o.dirs {
			if err := copyOut(root, "dir"+strconv.Itoa(i), d.host); err != nil {
				return 1, fmt.Errorf("write back %s: %w", d.host, err)
			}
		}
	}
	code := int(g.ExitCode())
	if err := g.Err(); err != nil {
		return code, err
	}
	if err := res.Error(); err != nil {
		if code == 0 {
			code = 1
		}
		return code, err
	}
	return code, nil
}

func listenOn(n *vnet.Net, addr string) (*vnet.TCPSocket, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		host, port, ok := strings.Cut(addr, ":")
		if !ok || host != "" && host != "localhost" {
			return nil, err
		}
		p, perr := strconv.ParseUint(port, 10, 16)
		if perr != nil {
			return nil, err
		}
		ap = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(p))
	}
	fam := vnet.IPv4
	if ap.Addr().Is6() {
		fam = vnet.IPv6
	}
	s, err := n.NewTCP(fam)
	if err != nil {
		return nil, err
	}
	if err := s.Bind(ap); err != nil {
		_ = s.DecRef()
		return nil, err
	}
	if err := s.Listen(); err != nil {
		_ = s.DecRef()
		return nil, err
	}
	return s, nil
}

// maxCopyOut bounds the size of one file copyOut writes back (a vfs file
// may be sparse up to vfs.MaxFileSize).
const maxCopyOut = 1 << 30

// copyOut mirrors the vfs directory vpath (relative to base) onto hostDir:
// it writes every directory, file and symbolic link of the tree and
// removes host entries the tree no longer has.
func copyOut(base *vfs.OFD, vpath, hostDir string) error {
	if err := os.MkdirAll(hostDir, 0o755); err != nil {
		return err
	}
	d, err := base.OpenAt(0, vpath, vfs.OpenDirectory, vfs.Read)
	if err != nil {
		return err
	}
	defer func() { _ = d.DecRef() }()
	ents, err := d.ReadDirectory()
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, e := range ents {
		keep[e.Name] = true
		src, dst := path.Join(vpath, e.Name), filepath.Join(hostDir, e.Name)
		if st, err := os.Lstat(dst); err == nil {
			isDir := st.IsDir()
			if isDir != (e.Type == vfs.TypeDirectory) || st.Mode()&fs.ModeSymlink != 0 {
				if err := os.RemoveAll(dst); err != nil {
					return err
				}
			}
		}
		switch e.Type {
		case vfs.TypeDirectory:
			if err := copyOut(base, src, dst); err != nil {
				return err
			}
		case vfs.TypeSymbolicLink:
			t, err := base.ReadlinkAt(src)
			if err != nil {
				return err
			}
			if err := os.Symlink(t, dst); err != nil {
				return err
			}
		case vfs.TypeRegularFile:
			f, err := base.OpenAt(0, src, 0, vfs.Read)
			if err != nil {
				return err
			}
			st, err := f.Stat()
			if err != nil {
				_ = f.DecRef()
				return err
			}
			if st.Size > maxCopyOut {
				_ = f.DecRef()
				return fmt.Errorf("%s: %d bytes is too large to write back", src, st.Size)
			}
			b := make([]byte, st.Size)
			_, err = f.ReadAt(b, 0)
			_ = f.DecRef()
			if err != nil {
				return err
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				return err
			}
		}
	}
	hostEnts, err := os.ReadDir(hostDir)
	if err != nil {
		return err
	}
	for _, he := range hostEnts {
		if !keep[he.Name()] {
			if err := os.RemoveAll(filepath.Join(hostDir, he.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}
