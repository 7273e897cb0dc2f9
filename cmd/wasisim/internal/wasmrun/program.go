package wasmrun

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"

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
	LiveStdin bool  `json:"live_stdin,omitempty"`
	MaxSteps  int64 `json:"max_steps,omitempty"`
	// Net is the bridge and the network policy; With the other guests.
	Net  *NetSpec    `json:"net,omitempty"`
	With []GuestSpec `json:"with,omitempty"`
	// Expect is set for explored runs: what the first schedule showed.
	Expect *Expect `json:"expect,omitempty"`
}

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

// Program is a loaded wasm run: the binary, compiled, and the trees of
// its --dir mounts, read once.
type Program struct {
	Spec Spec
	wasm []byte
	comp *component.Component
	mod  []byte // a core module's bytes, compiled by wasip1's engine
	dirs []tree
	with []*Program // the other guests (--with)
	live bool       // the bridge talks to the machine (run; not a replay)
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
// it, filling in the spec's kind and hashes. If spec.SHA256 is already
// set (a replay), a binary or tree with another hash is refused.
func Load(spec Spec) (*Program, error) {
	wasm, err := os.ReadFile(spec.Path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(wasm)
	got := hex.EncodeToString(sum[:])
	if spec.SHA256 != "" && spec.SHA256 != got {
		return nil, fmt.Errorf("%s has sha256 %s, not the %s the trace was recorded with: pass the original binary", spec.Path, got[:16], spec.SHA256[:min(16, len(spec.SHA256))])
	}
	p := &Program{wasm: wasm}
	switch {
	case component.IsComponent(wasm):
		spec.Kind = "component"
		if p.comp, err = component.DefaultEngine().Compile(wasm); err != nil {
			return nil, err
		}
		if err := wasip3.Supported(p.comp); err != nil {
			return nil, err
		}
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
	for i, d := range spec.Dirs {
		t, err := readTree(d.Host)
		if err != nil {
			return nil, fmt.Errorf("--dir %s: %w", d.Host, err)
		}
		h := t.hash()
		if d.SHA256 != "" && d.SHA256 != h {
			return nil, fmt.Errorf("--dir %s changed since the trace was recorded", d.Host)
		}
		spec.Dirs[i].SHA256 = h
		p.dirs = append(p.dirs, t)
	}
	p.Spec = spec
	if err := p.loadWith(); err != nil {
		return nil, err
	}
	return p, nil
}

// readTree reads a host directory: directories, regular files and
// symbolic links, in lexical order.
func readTree(dir string) (tree, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	var t tree
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			t = append(t, treeEntry{rel: rel, kind: 'l', data: []byte(target)})
		case d.IsDir():
			t = append(t, treeEntry{rel: rel, kind: 'd'})
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			t = append(t, treeEntry{rel: rel, kind: 'f', data: b})
		}
		return nil
	})
	sort.SliceStable(t, func(i, j int) bool { return t[i].rel < t[j].rel })
	return t, err
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
		fsys := vfs.New(vfs.Options{World: w})
		n := vnet.New(vnet.Options{World: w})
		root := fsys.Root(vfs.Read | vfs.MutateDirectory)
		defer func() { _ = root.DecRef() }()
		for i, t := range p.dirs {
			if err := copyTree(root, "dir"+strconv.Itoa(i), t); err != nil {
				return fmt.Errorf("--dir %s: %w", p.Spec.Dirs[i].Host, err)
			}
		}
		g := &Guest{FS: fsys}
		name := filepath.Base(p.Spec.Path)
		if p.comp != nil {
			opt := host.Options{FS: fsys, Net: n, Stdout: io.Stdout, Stderr: io.Stderr, Preopens: []host.Preopen{}, Network: p.policy()}
			if io.Stdin != nil {
				opt.StdinReader = io.Stdin
			}
			for i, d := range p.Spec.Dirs {
				opt.Preopens = append(opt.Preopens, host.Preopen{Path: d.Guest, Dir: "dir" + strconv.Itoa(i)})
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
			g.Task, g.exitCode, g.err = cg.Task(), cg.ExitCode, cg.Err
		} else {
			var in []byte
			if io.Stdin != nil {
				b, err := readAllStdin(io.Stdin)
				if err != nil {
					return err
				}
				in = b
			}
			cfg := wasip1.Config{Name: name, Module: p.mod, Args: p.Spec.Args, Env: p.Spec.Env,
				Stdin: in, Stdout: io.Stdout, Stderr: io.Stderr, FS: fsys, Net: n}
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

// readAllStdin reads a preview-1 guest's stdin, which it gets whole.
func readAllStdin(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("stdin: %w", err)
	}
	return b, nil
}

// Expect is what every explored run of a program must show outside:
// what the first schedule showed. A run that exits with another code or
// writes other stdout or stderr fails.
type Expect struct {
	ExitCode uint32 `json:"exit_code"`
	Stdout   string `json:"stdout_sha256"`
	Stderr   string `json:"stderr_sha256"`
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:12])
}

// Baseline runs the program once with cfg (its seed and strategy) and
// records what it showed as Spec.Expect, so explored runs can be checked
// against it. It returns the run's result.
func (p *Program) Baseline(cfg sim.Config) (*sim.Result, error) {
	p.Spec.Expect = nil
	var out, errb bytes.Buffer
	var g *Guest
	base := p.Config()
	cfg.Scenario, cfg.Config, cfg.EmbedConfig, cfg.MaxSteps = base.Scenario, base.Config, base.EmbedConfig, base.MaxSteps
	res, _, err := sim.RunOnce(cfg, p.Scenario(Stdio{Stdout: &out, Stderr: &errb}, func(x *Guest) { g = x }))
	if err != nil {
		return nil, err
	}
	p.Spec.Expect = &Expect{ExitCode: g.ExitCode(), Stdout: digest(out.Bytes()), Stderr: digest(errb.Bytes())}
	return res, nil
}

// Explored is the scenario of an explored run: stdout and stderr are
// captured, stdin is empty, and when Spec.Expect is set a check task
// fails the run if the guest ended otherwise than the first schedule.
func (p *Program) Explored() sim.Scenario {
	return func(w *sim.World) error {
		var out, errb bytes.Buffer
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
			case digest(out.Bytes()) != exp.Stdout:
				return fmt.Errorf("stdout differs from the first schedule's: %s", quoteTail(out.Bytes()))
			case digest(errb.Bytes()) != exp.Stderr:
				return fmt.Errorf("stderr differs from the first schedule's: %s", quoteTail(errb.Bytes()))
			}
			return nil
		})
		return nil
	}
}

// quoteTail quotes the end of an output for a one-line message.
func quoteTail(b []byte) string {
	const max = 120
	if len(b) > max {
		return "…" + strconv.Quote(string(b[len(b)-max:]))
	}
	return strconv.Quote(string(b))
}
