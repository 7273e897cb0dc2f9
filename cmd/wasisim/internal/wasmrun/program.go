package wasmrun

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
	"github.com/wasisim/wasisim/host/wasip1"
	"github.com/wasisim/wasisim/host/wasip3"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
	"github.com/wasisim/wasisim/vnet/bridge"
)

// Spec is a wasm run as a trace records it (the header's configuration):
// which binary, by content hash, and everything the world was built
// from, so that replay, shrink and explore rebuild the same world.
type Spec struct {
	// Format marks the configuration as a wasm run (version 1).
	Format int `json:"wasisim_wasm"`
	// Kind is "component" or "module".
	Kind string `json:"kind"`
	// Path is where the binary was; SHA256 is its content hash: a replay
	// refuses a binary with another hash.
	Path   string   `json:"path"`
	SHA256 string   `json:"sha256"`
	Args   []string `json:"args,omitempty"`
	Env    []string `json:"env,omitempty"`
	// Dirs are the --dir mounts, with the hash of the tree copied in.
	Dirs   []DirSpec `json:"dirs,omitempty"`
	Listen []string  `json:"listen,omitempty"`
	// LiveStdin says the run read its stdin live; the trace holds what
	// it read.
	LiveStdin bool `json:"live_stdin,omitempty"`
	// Stdin is a file the guest's stdin is read from, whole, in every
	// run (an exploration's schedules all see it; a replay checks its
	// hash).
	Stdin    *FileSpec `json:"stdin,omitempty"`
	MaxSteps int64     `json:"max_steps,omitempty"`
	// Net is the bridge and the network policy; With the other guests.
	Net  *NetSpec    `json:"net,omitempty"`
	With []GuestSpec `json:"with,omitempty"`
	// Fuel is the budget of each guest module (0: unmetered);
	// MemoryPages caps its linear memory, in 64 KiB pages (0: 4 GiB);
	// FSBytes and FSInodes bound the world's file system (0: no bound).
	// They shape the run, so a replay uses the recorded ones.
	Fuel        uint64 `json:"fuel,omitempty"`
	MemoryPages uint32 `json:"memory_pages,omitempty"`
	FSBytes     int64  `json:"fs_bytes,omitempty"`
	FSInodes    int64  `json:"fs_inodes,omitempty"`
	// Expect is set for explored runs: what the first schedule showed.
	Expect *Expect `json:"expect,omitempty"`
}

// FileSpec is a host file a Spec uses, by content hash.
type FileSpec struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// MaxStdinFile bounds a Spec's Stdin file, which every run holds in
// memory.
const MaxStdinFile = 64 << 20

// DirSpec is one --dir mount of a Spec.
type DirSpec struct {
	Host   string `json:"host"`
	Guest  string `json:"guest"`
	SHA256 string `json:"sha256"`
}

// ParseSpec reads a Spec from a trace header's configuration; ok is false
// when the configuration is not a wasm run's.
func ParseSpec(config string) (spec *Spec, ok bool, err error) {
	if len(config) == 0 || config[0] != '{' {
		return nil, false, nil
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal([]byte(config), &probe) != nil {
		return nil, false, nil
	}
	if _, ok := probe["wasisim_wasm"]; !ok {
		return nil, false, nil
	}
	spec = &Spec{}
	dec := json.NewDecoder(bytes.NewReader([]byte(config)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(spec); err != nil {
		return nil, true, fmt.Errorf("bad wasm run configuration: %v", err)
	}
	if spec.Format != 1 {
		return nil, true, fmt.Errorf("wasm run configuration version %d; this wasisim reads version 1", spec.Format)
	}
	return spec, true, nil
}

// Program is a loaded wasm run: the binary, compiled with the spec's
// limits, and the trees of its --dir mounts, read once.
type Program struct {
	Spec Spec
	wasm []byte
	comp *component.Component
	mod  []byte // a core module's bytes, compiled by wasip1's engine
	dirs []tree
	with []*Program // the other guests (--with)
	live bool       // the bridge talks to the machine (run; not a replay)
	// roots are the mounts' host directories, symbolic links resolved.
	roots []string
	// stdin is the Spec's Stdin file, read once.
	stdin []byte
	// ctx stops the runs when done (LoadOptions.Stop); the engines stop
	// the guests' code stopGrace later.
	ctx    context.Context
	ceng   *component.Engine
	p1eng  *wasip1.Engine
	closed chan struct{}
}

// stopGrace is how long a stopped run's guest may compute before its code
// is stopped too: a guest that calls the host meanwhile stops at that
// step, where its trace replays exactly; one that computes without
// calling it would never get there.
const stopGrace = 250 * time.Millisecond

// engineContext is the context the engines stop guests' code with: done
// stopGrace after ctx, with its cause.
func (p *Program) engineContext() context.Context {
	if p.ctx == nil {
		return nil
	}
	ectx, cancel := context.WithCancelCause(context.Background())
	go func() {
		select {
		case <-p.ctx.Done():
		case <-p.closed:
			cancel(nil)
			return
		}
		t := time.NewTimer(stopGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel(context.Cause(p.ctx))
		case <-p.closed:
			cancel(nil)
		}
	}()
	return ectx
}

// tree is a host directory as it was read: its entries in walk order.
type tree []treeEntry

type treeEntry struct {
	rel  string // slash-separated, relative to the mount
	kind byte   // 'd', 'f', 'l'
	data []byte // file contents, or a symlink's target
}

// hash is the content hash of a tree.
func (t tree) hash() string {
	h := sha256.New()
	for _, e := range t {
		fmt.Fprintf(h, "%c %q %d\n", e.kind, e.rel, len(e.data))
		h.Write(e.data)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// IsWasm reports whether the file at path is a WebAssembly binary (a core
// module or a component), by its magic number.
func IsWasm(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	_, err = io.ReadFull(f, b[:])
	return err == nil && string(b[:]) == "\x00asm"
}

// Load reads a wasm binary and the trees of spec's mounts and compiles
// it with the spec's limits, filling in the spec's kind and hashes. If
// spec.SHA256 is already set (a replay), a binary or tree with another
// hash is refused. Every mount is checked here, before anything runs: it
// must be a directory (a symbolic link to one is followed) whose tree fits
// the file system's bounds. Close the program when done.
func Load(spec Spec, opt LoadOptions) (*Program, error) {
	ctx := opt.Stop
	wasm, err := os.ReadFile(spec.Path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(wasm)
	got := hex.EncodeToString(sum[:])
	if spec.SHA256 != "" && spec.SHA256 != got {
		return nil, fmt.Errorf("%s has sha256 %s, not the %s the trace was recorded with: pass the original binary", spec.Path, got[:16], spec.SHA256[:min(16, len(spec.SHA256))])
	}
	p := &Program{wasm: wasm, ctx: ctx, closed: make(chan struct{})}
	switch {
	case component.IsComponent(wasm):
		spec.Kind = "component"
		if len(spec.Listen) > 0 {
			return nil, errors.New("--listen preopens sockets for preview-1 modules; a component makes its own")
		}
	case component.IsCoreModule(wasm):
		spec.Kind = "module"
		p.mod = wasm
	default:
		return nil, fmt.Errorf("%s is neither a WebAssembly core module nor a component", spec.Path)
	}
	spec.Format, spec.SHA256 = 1, got
	var total treeSize
	for i, d := range spec.Dirs {
		root, t, err := readTree(d.Host, spec.FSBytes, spec.FSInodes, &total)
		if err != nil {
			return nil, fmt.Errorf("--dir %s: %w", d.Host, err)
		}
		h := t.hash()
		if d.SHA256 != "" && d.SHA256 != h {
			return nil, fmt.Errorf("--dir %s changed since the trace was recorded", d.Host)
		}
		spec.Dirs[i].SHA256 = h
		p.dirs = append(p.dirs, t)
		p.roots = append(p.roots, root)
	}
	if spec.Stdin != nil {
		if spec.LiveStdin {
			return nil, errors.New("a run reads its stdin live or from a file, not both")
		}
		if p.stdin, err = readStdinFile(spec.Stdin); err != nil {
			return nil, err
		}
	}
	p.Spec = spec
	if err := p.compile(); err != nil {
		p.Close()
		return nil, err
	}
	p.live = opt.Live
	if err := p.loadWith(opt); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// LoadOptions are how a program is loaded, besides its Spec.
type LoadOptions struct {
	// Stop, if set, stops the program's runs when it is done (an
	// interrupt, a deadline: see Run): the guest's code at its next
	// function call or loop iteration, the world at its next step. Its
	// cause says why (ErrInterrupted, ErrTimeout).
	Stop context.Context
	// Live connects the runs' bridge (Spec.Net) to the machine's network:
	// a run, not a replay or an exploration, whose peers come from the
	// trace or do not exist.
	Live bool
}

// compile compiles the binary on an engine with the spec's limits.
func (p *Program) compile() error {
	ectx := p.engineContext()
	if p.mod != nil {
		cfg := wasip1.EngineConfig{Cache: compilationCache(), MemoryLimitPages: p.Spec.MemoryPages, Fuel: p.Spec.Fuel, Context: ectx}
		e, err := wasip1.NewEngineWithConfig(cfg)
		if err != nil {
			return err
		}
		p.p1eng = e
		_, err = e.Compile(p.mod)
		return err
	}
	p.ceng = component.NewEngine(component.EngineConfig{Cache: compilationCache(), MemoryLimitPages: p.Spec.MemoryPages, Fuel: p.Spec.Fuel, Context: ectx})
	comp, err := p.ceng.Compile(p.wasm)
	if err != nil {
		return err
	}
	p.comp = comp
	return wasip3.Supported(comp)
}

// Close releases the program's engine.
func (p *Program) Close() {
	select {
	case <-p.closed:
	default:
		close(p.closed)
	}
	if p.ceng != nil {
		_ = p.ceng.Close()
	}
	if p.p1eng != nil {
		_ = p.p1eng.Close()
	}
	for _, q := range p.with {
		q.Close()
	}
}

var (
	cacheOnce sync.Once
	cache     wazero.CompilationCache
)

// compilationCache is the process's compilation cache: on disk in
// $WASISIM_WAZERO_CACHE if it is set (as the default engines do), else in
// memory.
func compilationCache() wazero.CompilationCache {
	cacheOnce.Do(func() {
		if dir := os.Getenv(wasip1.CacheDirEnv); dir != "" {
			if c, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
				cache = c
				return
			}
		}
		cache = wazero.NewCompilationCache()
	})
	return cache
}

// readStdinFile reads a Spec's stdin file, filling in its hash, or
// checking it if it is set (a replay).
func readStdinFile(fs *FileSpec) ([]byte, error) {
	f, err := os.Open(fs.Path)
	if err != nil {
		return nil, fmt.Errorf("--stdin: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxStdinFile+1))
	if err != nil {
		return nil, fmt.Errorf("--stdin: %w", err)
	}
	if len(b) > MaxStdinFile {
		return nil, fmt.Errorf("--stdin %s: larger than %d MiB, the most a run holds in memory", fs.Path, MaxStdinFile>>20)
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	if fs.SHA256 != "" && fs.SHA256 != h {
		return nil, fmt.Errorf("--stdin %s changed since the trace was recorded", fs.Path)
	}
	fs.SHA256 = h
	return b, nil
}

// treeSize is what the mounts read so far hold.
type treeSize struct{ bytes, inodes int64 }

// readTree reads a host directory (following a symbolic link to it):
// directories, regular files and symbolic links, in lexical order. It
// returns the directory's real path. It stops with an error once the
// trees read so far (total) hold more than maxBytes bytes or maxInodes
// entries (0: no bound), so a huge directory is refused rather than read
// into memory.
func readTree(dir string, maxBytes, maxInodes int64, total *treeSize) (string, tree, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", nil, err
	}
	if root, err = filepath.Abs(root); err != nil {
		return "", nil, err
	}
	st, err := os.Stat(root)
	if err != nil {
		return "", nil, err
	}
	if !st.IsDir() {
		return "", nil, fmt.Errorf("%s is not a directory", dir)
	}
	var t tree
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		var e treeEntry
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			e = treeEntry{rel: rel, kind: 'l', data: []byte(target)}
		case d.IsDir():
			e = treeEntry{rel: rel, kind: 'd'}
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			if maxBytes > 0 && total.bytes+info.Size() > maxBytes {
				return fmt.Errorf("the mounts hold more than the file system's %d bytes (--max-fs-bytes)", maxBytes)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			e = treeEntry{rel: rel, kind: 'f', data: b}
		default:
			return nil // devices, sockets, pipes: not copied
		}
		total.bytes += int64(len(e.data))
		total.inodes++
		if maxBytes > 0 && total.bytes > maxBytes {
			return fmt.Errorf("the mounts hold more than the file system's %d bytes (--max-fs-bytes)", maxBytes)
		}
		if maxInodes > 0 && total.inodes >= maxInodes {
			return fmt.Errorf("the mounts hold more than the file system's %d files (--max-fs-inodes)", maxInodes)
		}
		t = append(t, e)
		return nil
	})
	sort.SliceStable(t, func(i, j int) bool { return t[i].rel < t[j].rel })
	return root, t, err
}

// copyTree copies a tree into the vfs directory vpath (relative to base).
func copyTree(base *vfs.OFD, vpath string, t tree) error {
	if err := base.CreateDirectoryAt(vpath); err != nil && !errors.Is(err, vfs.ErrExist) {
		return err
	}
	for _, e := range t {
		dst := path.Join(vpath, e.rel)
		switch e.kind {
		case 'd':
			if err := base.CreateDirectoryAt(dst); err != nil {
				return err
			}
		case 'l':
			if err := base.SymlinkAt(string(e.data), dst); err != nil {
				return err
			}
		case 'f':
			f, err := base.OpenAt(0, dst, vfs.OpenCreate|vfs.OpenTruncate, vfs.Write)
			if err != nil {
				return err
			}
			_, err = f.WriteAt(e.data, 0)
			if derr := f.DecRef(); err == nil {
				err = derr
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// Config is the world configuration that identifies the run in a trace.
func (p *Program) Config() sim.Config {
	b, _ := json.Marshal(p.Spec)
	return sim.Config{Scenario: p.Spec.Kind + " " + filepath.Base(p.Spec.Path), Config: b, EmbedConfig: true, MaxSteps: p.Spec.MaxSteps}
}

// Stdio is where a run's standard streams go.
type Stdio struct {
	// Stdin is read live when the guest reads it (nil: empty).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Guest is one run's guest, whatever its kind.
type Guest struct {
	Task     *sim.Task
	exitCode func() uint32
	err      func() error
	// FS is the world's file system, for writing --dir trees back.
	FS     *vfs.FS
	bridge *bridge.Bridge
}

// ExitCode is the guest's exit code once it ended.
func (g *Guest) ExitCode() uint32 { return g.exitCode() }

// Err is the guest's failure (a trap, an unwinding), nil if it exited.
func (g *Guest) Err() error { return g.err() }

// Scenario builds a world for the program: the file system with the
// mounts, the network with the listeners, the guest started. onGuest, if
// set, learns the guest of each world built.
func (p *Program) Scenario(io Stdio, onGuest func(*Guest)) sim.Scenario {
	return func(w *sim.World) error {
		fsys := vfs.New(vfs.Options{World: w, MaxBytes: p.Spec.FSBytes, MaxInodes: p.Spec.FSInodes})
		n := vnet.New(vnet.Options{World: w})
		root := fsys.Root(vfs.Read | vfs.MutateDirectory)
		defer func() { _ = root.DecRef() }()
		for i, t := range p.dirs {
			if err := copyTree(root, "dir"+strconv.Itoa(i), t); err != nil {
				return fmt.Errorf("--dir %s: %w", p.Spec.Dirs[i].Host, err)
			}
		}
		if p.Spec.LiveStdin && io.Stdin == nil {
			// A replay: what the guest read is in the trace, which
			// World.Input delivers without reading this.
			io.Stdin = eofReader{}
		}
		g := &Guest{FS: fsys}
		name := filepath.Base(p.Spec.Path)
		if p.comp != nil {
			opt := host.Options{FS: fsys, Net: n, Stdout: io.Stdout, Stderr: io.Stderr, Preopens: p.preopens(), Network: p.policy(), Stdin: p.stdin}
			if io.Stdin != nil {
				opt.StdinReader = io.Stdin
			}
			h, err := host.New(w, opt)
			if err != nil {
				return err
			}
			var env [][2]string
			for _, kv := range p.Spec.Env {
				k, v, _ := cut(kv)
				env = append(env, [2]string{k, v})
			}
			cg := wasip3.Spawn(h, p.comp, wasip3.Config{Name: name, Args: p.Spec.Args, Env: env})
			g.Task, g.exitCode = cg.Task(), cg.ExitCode
			g.err = func() error {
				err := cg.Err()
				var se *component.StopError
				if err != nil && !errors.As(err, &se) && cg.Instance() != nil && cg.Instance().Stopped() != nil {
					// The stop surfaced as another call's trap: say why.
					return fmt.Errorf("%w: %w", err, cg.Instance().Stopped())
				}
				return err
			}
		} else {
			cfg := wasip1.Config{Name: name, Module: p.mod, Args: p.Spec.Args, Env: p.Spec.Env,
				StdinReader: io.Stdin, Stdin: p.stdin, Stdout: io.Stdout, Stderr: io.Stderr, FS: fsys, Net: n, Engine: p.p1eng}
			for i, d := range p.Spec.Dirs {
				cfg.Dirs = append(cfg.Dirs, wasip1.Preopen{GuestPath: d.Guest, Path: "dir" + strconv.Itoa(i)})
			}
			for _, a := range p.Spec.Listen {
				s, err := listenOn(n, a)
				if err != nil {
					return fmt.Errorf("--listen %s: %w", a, err)
				}
				cfg.Listeners = append(cfg.Listeners, s)
			}
			mg, err := wasip1.Spawn(w, cfg)
			for _, s := range cfg.Listeners {
				_ = s.DecRef()
			}
			if err != nil {
				return err
			}
			g.Task, g.exitCode, g.err = mg.Task(), mg.ExitCode, mg.Err
		}
		var err error
		if g.bridge, err = p.startNet(w, fsys, n, io, g.Task); err != nil {
			return err
		}
		if onGuest != nil {
			onGuest(g)
		}
		return nil
	}
}

func cut(kv string) (string, string, bool) {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}

// eofReader is an empty stdin.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Expect is what every explored run of a program must show outside:
// what the first schedule showed. A run that exits with another code or
// writes other stdout or stderr fails.
type Expect struct {
	ExitCode uint32 `json:"exit_code"`
	Stdout   string `json:"stdout_sha256"`
	Stderr   string `json:"stderr_sha256"`
}

// digestWriter keeps what a run's output needs for comparing it with
// another's: its hash and its end, not the output itself.
type digestWriter struct {
	h    hash.Hash
	tail []byte
}

// tailLen is how much of an output's end a digestWriter keeps.
const tailLen = 120

func (d *digestWriter) Write(p []byte) (int, error) {
	if d.h == nil {
		d.h = sha256.New()
	}
	d.h.Write(p)
	if len(p) >= tailLen {
		d.tail = append(d.tail[:0], p[len(p)-tailLen:]...)
	} else {
		d.tail = append(d.tail, p...)
		if len(d.tail) > tailLen {
			d.tail = append(d.tail[:0], d.tail[len(d.tail)-tailLen:]...)
		}
	}
	return len(p), nil
}

func (d *digestWriter) digest() string {
	if d.h == nil {
		d.h = sha256.New()
	}
	return hex.EncodeToString(d.h.Sum(nil)[:12])
}

// Baseline runs the program once with cfg (its seed and strategy) and
// records what it showed as Spec.Expect, so explored runs can be checked
// against it. It returns the run's result.
func (p *Program) Baseline(cfg sim.Config) (*sim.Result, error) {
	p.Spec.Expect = nil
	var out, errb digestWriter
	var g *Guest
	base := p.Config()
	cfg.Scenario, cfg.Config, cfg.EmbedConfig, cfg.MaxSteps = base.Scenario, base.Config, base.EmbedConfig, base.MaxSteps
	res, _, err := sim.RunOnce(cfg, p.Scenario(Stdio{Stdout: &out, Stderr: &errb}, func(x *Guest) { g = x }))
	if err != nil {
		return nil, err
	}
	p.Spec.Expect = &Expect{ExitCode: g.ExitCode(), Stdout: out.digest(), Stderr: errb.digest()}
	return res, nil
}

// Explored is the scenario of an explored run: stdout and stderr are
// captured, stdin is empty, and when Spec.Expect is set a check task
// fails the run if the guest ended otherwise than the first schedule.
func (p *Program) Explored() sim.Scenario {
	return func(w *sim.World) error {
		var out, errb digestWriter
		var g *Guest
		if err := p.Scenario(Stdio{Stdout: &out, Stderr: &errb}, func(x *Guest) { g = x })(w); err != nil {
			return err
		}
		exp := p.Spec.Expect
		if exp == nil {
			return nil
		}
		w.Go("check", func(*sim.Task) error {
			if err := g.Task.Join(); err != nil {
				return nil // the guest's failure is the run's already
			}
			switch {
			case g.ExitCode() != exp.ExitCode:
				return fmt.Errorf("exit code %d, the first schedule's was %d", g.ExitCode(), exp.ExitCode)
			case out.digest() != exp.Stdout:
				return fmt.Errorf("stdout differs from the first schedule's: %s", quoteTail(out.tail))
			case errb.digest() != exp.Stderr:
				return fmt.Errorf("stderr differs from the first schedule's: %s", quoteTail(errb.tail))
			}
			return nil
		})
		return nil
	}
}

// quoteTail quotes the end of an output for a one-line message.
func quoteTail(b []byte) string {
	if len(b) >= tailLen {
		return "…" + strconv.Quote(string(b))
	}
	return strconv.Quote(string(b))
}
