package wasmrun

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/wasip1"
	"github.com/wasisim/wasisim/host/wasip3"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
	"github.com/wasisim/wasisim/vnet"
	"github.com/wasisim/wasisim/vnet/bridge"
)

// This file is the network side of a wasm run: the bridge to the
// machine's network (--publish, --forward), the guests' network policy
// (-S), and the other guests that share the world (--with).

// NetSpec is the network configuration of a run as a trace records it.
type NetSpec struct {
	// Publish and Forward are bridge mappings (bridge.ParseMapping).
	Publish []string `json:"publish,omitempty"`
	Forward []string `json:"forward,omitempty"`
	// Policy are the -S settings, KEY=VALUE.
	Policy []string `json:"policy,omitempty"`
}

// GuestSpec is one more guest of a run (--with): a binary, by content
// hash, and its arguments.
type GuestSpec struct {
	Path   string   `json:"path"`
	SHA256 string   `json:"sha256"`
	Args   []string `json:"args,omitempty"`
}

// NetFlags are the command-line flags of this file.
type NetFlags struct {
	publish, forward, policy, with multiFlag
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// Register declares the flags: -S and --with always, --publish and
// --forward when bridging is possible (run; not explore, whose runs have
// no machine to talk to).
func (nf *NetFlags) Register(fl *flag.FlagSet, bridging bool) {
	fl.Var(&nf.policy, "S", "KEY=VALUE[,…] network policy of component guests: tcp, udp, bind, listen, connect, allow-ip-name-lookup (y or n), max-handles (a count)")
	fl.Var(&nf.with, "with", "'FILE [ARGS…]' another guest in the same world, alongside the main one (repeatable)")
	if bridging {
		fl.Var(&nf.publish, "publish", "HOSTADDR=GUESTADDR lets machine clients connect to a guest listener (port * on both sides: every port a guest listens on)")
		fl.Var(&nf.forward, "forward", "HOSTADDR=GUESTADDR lets guests reach a loopback server of the machine at GUESTADDR")
	}
}

// Apply checks the flags and records them in spec.
func (nf *NetFlags) Apply(spec *Spec) error {
	ns := &NetSpec{Publish: nf.publish, Forward: nf.forward}
	for _, p := range nf.policy {
		ns.Policy = append(ns.Policy, strings.Split(p, ",")...)
	}
	if _, _, err := ns.parse(); err != nil {
		return err
	}
	if len(ns.Publish)+len(ns.Forward)+len(ns.Policy) > 0 {
		spec.Net = ns
	}
	for _, w := range nf.with {
		f := strings.Fields(w)
		if len(f) == 0 {
			return errors.New("--with needs a binary")
		}
		spec.With = append(spec.With, GuestSpec{Path: f[0], Args: f[1:]})
	}
	return nil
}

// parse reads the mappings and the policy.
func (ns *NetSpec) parse() (bridge.Options, host.NetworkPolicy, error) {
	var opt bridge.Options
	var pol host.NetworkPolicy
	if ns == nil {
		return opt, pol, nil
	}
	for _, s := range ns.Publish {
		m, err := bridge.ParseMapping(s)
		if err != nil {
			return opt, pol, fmt.Errorf("--publish %w", err)
		}
		opt.Publish = append(opt.Publish, m)
	}
	for _, s := range ns.Forward {
		m, err := bridge.ParseMapping(s)
		if err != nil {
			return opt, pol, fmt.Errorf("--forward %w", err)
		}
		if m.AnyPort || !m.Host.Addr().IsLoopback() {
			return opt, pol, fmt.Errorf("--forward %s: name one port of a loopback address of the machine", s)
		}
		opt.Forward = append(opt.Forward, m)
	}
	for _, kv := range ns.Policy {
		if err := setPolicy(&pol, kv); err != nil {
			return opt, pol, fmt.Errorf("-S %s: %w", kv, err)
		}
	}
	return opt, pol, nil
}

// setPolicy applies one -S KEY=VALUE (a bare KEY is KEY=y).
func setPolicy(p *host.NetworkPolicy, kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok {
		v = "y"
	}
	if k == "max-handles" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("want a count")
		}
		p.MaxHandles = n
		return nil
	}
	var allow bool
	switch v {
	case "y", "yes", "true", "1":
		allow = true
	case "n", "no", "false", "0":
	default:
		return errors.New("want y or n")
	}
	deny := map[string]*bool{"tcp": &p.DenyTCP, "udp": &p.DenyUDP, "bind": &p.DenyBind, "listen": &p.DenyListen,
		"connect": &p.DenyConnect, "allow-ip-name-lookup": &p.DenyNameLookup}[k]
	if deny == nil {
		return errors.New("unknown key (tcp, udp, bind, listen, connect, allow-ip-name-lookup, max-handles)")
	}
	*deny = !allow
	return nil
}

// loadWith loads the other guests of a spec (their hashes checked and
// filled in) and checks the network configuration.
// They have the main guest's compute and memory limits.
func (p *Program) loadWith(opt LoadOptions) error {
	if _, _, err := p.Spec.Net.parse(); err != nil {
		return err
	}
	for i, gs := range p.Spec.With {
		q, err := Load(Spec{Path: gs.Path, Args: gs.Args, SHA256: gs.SHA256, Fuel: p.Spec.Fuel, MemoryPages: p.Spec.MemoryPages}, opt)
		if err != nil {
			return fmt.Errorf("--with %s: %w", gs.Path, err)
		}
		p.Spec.With[i].SHA256 = q.Spec.SHA256
		p.with = append(p.with, q)
	}
	return nil
}

// policy is the network policy of the run's component guests.
func (p *Program) policy() host.NetworkPolicy {
	_, pol, _ := p.Spec.Net.parse()
	return pol
}

// preopens are the host preopens of the run's --dir mounts.
func (p *Program) preopens() []host.Preopen {
	pre := []host.Preopen{}
	for i, d := range p.Spec.Dirs {
		pre = append(pre, host.Preopen{Path: d.Guest, Dir: "dir" + strconv.Itoa(i)})
	}
	return pre
}

// startNet starts the other guests (each in a host of its own on the
// world's file system and network, sharing stdio) and the bridge, which
// closes when every guest is done. main is the main guest's task.
func (p *Program) startNet(w *sim.World, fsys *vfs.FS, n *vnet.Net, stdio Stdio, main *sim.Task) (*bridge.Bridge, error) {
	tasks := []*sim.Task{main}
	for _, q := range p.with {
		name := q.Spec.Path[strings.LastIndexAny(q.Spec.Path, `/\`)+1:]
		if q.comp != nil {
			h, err := host.New(w, host.Options{FS: fsys, Net: n, Stdout: stdio.Stdout, Stderr: stdio.Stderr, Preopens: p.preopens(), Network: p.policy()})
			if err != nil {
				return nil, err
			}
			tasks = append(tasks, wasip3.Spawn(h, q.comp, wasip3.Config{Name: name, Args: q.Spec.Args}).Task())
			continue
		}
		cfg := wasip1.Config{Name: name, Module: q.mod, Args: q.Spec.Args, Stdout: stdio.Stdout, Stderr: stdio.Stderr, FS: fsys, Net: n, Engine: q.p1eng}
		for i, d := range p.Spec.Dirs {
			cfg.Dirs = append(cfg.Dirs, wasip1.Preopen{GuestPath: d.Guest, Path: "dir" + strconv.Itoa(i)})
		}
		mg, err := wasip1.Spawn(w, cfg)
		if err != nil {
			return nil, fmt.Errorf("--with %s: %w", q.Spec.Path, err)
		}
		tasks = append(tasks, mg.Task())
	}
	opt, _, _ := p.Spec.Net.parse()
	if len(opt.Publish)+len(opt.Forward) == 0 {
		return nil, nil
	}
	opt.Live, opt.Log = p.live, stdio.Stderr
	b, err := bridge.New(n, opt)
	if err != nil {
		return nil, err
	}
	b.CloseAfter(tasks...)
	return b, nil
}

// bridgeDrain is how long a run waits, after the world ended, for the
// machine peers to take what guests sent them.
const bridgeDrain = 5 * time.Second

// shutdownBridge delivers what guests sent to machine peers and closes
// the bridge's machine sockets.
func (g *Guest) shutdownBridge() {
	if g.bridge != nil {
		g.bridge.Shutdown(bridgeDrain)
	}
}
