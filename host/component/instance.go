package component

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/sim"
)

// Instance is a component instantiated in a world: its core module
// instances on wazero, and its handles in a host.Instance, the same
// handle table, streams, futures and traps a Go guest uses.
type Instance struct {
	comp *Component
	root *compInst
	r    *run
}

// run is the state all component instances of one instantiation share.
type run struct {
	eng    *Engine
	w      *sim.World
	h      *host.Host
	linker *Linker
	name   string
	// panicked is a panic that unwound through wazero (the world ending
	// while a host call blocked): it is raised again once the wasm call
	// returns, so the world sees it.
	panicked any
	// tasks is the stack of Component Model tasks running on each world
	// task (a callback, a lifted call, a realloc nest inside).
	tasks map[*sim.Task][]*cmTask
	insts []*compInst
	next  int // for naming nested instances
	setup func(*host.Instance)
	// stopped is set once a guest ran out of fuel or was stopped.
	stopped *StopError
	// mctx is the context of the run's wasm calls; mems the memories
	// its core instances were given; viewsLeft says the host may hold a
	// view of one beyond its copies in flight.
	mctx      context.Context
	mems      []*linearMemory
	viewsLeft bool
	// byModule finds the component instance of a core instance.
	byModule map[api.Module]*compInst
	// onStack lists, per world task, the component instances its calls
	// are in, outermost first.
	onStack map[*sim.Task][]*compInst
}

// compInst is one component instance: the outer component or a nested
// one.
type compInst struct {
	r    *run
	plan *bodyPlan
	name string
	// hin is the instance's handle table.
	hin *host.Instance
	// coreInsts holds the core instances made by instantiating a module,
	// by core instance index; hostMod the instance of the host module.
	coreInsts []api.Module
	hostMod   api.Module
	// host is the state of each host function (plan.hostFuncs order).
	host []hostFuncState
	// The component-level index spaces, as far as evaluated.
	funcs      []*callee
	instances  []*instVal
	components []*Body
	exports    map[string]item
	// Component Model instance state.
	mayLeave bool // false while the runtime calls realloc or a destructor
	backpr   int
	backprQ  *sim.WaitQueue // tasks waiting to enter while backpr > 0
	// pending says where each pending read delivers, by end handle.
	pending map[host.Handle]*copyInfo
	// coreFuncs holds the core functions resolved so far, by origin: the
	// canonical options of many definitions name the same realloc.
	coreFuncs map[coreOrigin]*coreFunc
}

// item is a component-level value of an index space: a function, an
// instance, a type, a component.
type item struct {
	sort Sort
	fn   *callee
	inst *instVal
	body *Body
	typ  *TypeDef
}

// instVal is a component instance value: its named exports.
type instVal struct {
	name    string
	exports map[string]item
	// host is set for an imported instance bound to the Linker.
	host map[string]*HostFunc
}

// callee is a component function: one the host implements, or one a
// component instance lifted.
type callee struct {
	name string
	typ  *FuncType
	host *HostFunc
	lift *liftedFunc
}

// liftedFunc is a function made by `canon lift`.
type liftedFunc struct {
	ci   *compInst
	def  *LiftDef
	core *coreFunc
	opts resolvedOpts
	// cx lifts and lowers with opts; pts and rts are the parameter and
	// result types.
	cx       *LiftLowerContext
	pts, rts []*Type
}

// resolvedOpts are canonical options resolved to the instance's core
// items.
type resolvedOpts struct {
	enc        StringEncoding
	mem        api.Memory
	realloc    *coreFunc
	postReturn *coreFunc
	callback   *coreFunc
	async      bool
}

// hostFuncState is what a host function of the host module calls.
type hostFuncState struct {
	def  Def
	sig  *hostSig
	opts resolvedOpts
	// cx lifts and lowers with opts.
	cx *LiftLowerContext
	// target is the function a lower calls.
	target *callee
	ready  bool
}

// coreFunc is an exported core function. wazero's api.Function must not
// be called re-entrantly or from two coroutines at once, so each use
// takes one from a pool.
type coreFunc struct {
	mod  api.Module
	name string
	idle []api.Function
}

func (f *coreFunc) get() api.Function {
	if n := len(f.idle); n > 0 {
		fn := f.idle[n-1]
		f.idle = f.idle[:n-1]
		return fn
	}
	return f.mod.ExportedFunction(f.name)
}

func (f *coreFunc) put(fn api.Function) { f.idle = append(f.idle, fn) }

// call calls the function with a fresh api.Function if it is in use.
func (f *coreFunc) call(ctx context.Context, args ...uint64) ([]uint64, error) {
	fn := f.get()
	if fn == nil {
		return nil, fmt.Errorf("core function %q is not exported", f.name)
	}
	defer f.put(fn)
	return fn.Call(ctx, args...)
}

// Config says how to instantiate a component.
type Config struct {
	// Name names the instance (its host.Instance, its tasks, traces).
	Name string
	// Linker binds the imports.
	Linker *Linker
	// Setup, if set, is called with each host.Instance the component
	// makes (the outer one first), before any of the component's code
	// runs: a host gives it its environment there.
	Setup func(*host.Instance)
}

// Instantiate instantiates the component in the running task's world:
// its core modules are instantiated (running their start functions) and
// its imports bound to the Linker, with h as the handle table's host. It
// must run in a task of h's world.
func (c *Component) Instantiate(h *host.Host, cfg Config) (*Instance, error) {
	w := h.World()
	if w.Current() == nil {
		return nil, sim.ErrNotInTask
	}
	if cfg.Linker == nil {
		cfg.Linker = NewLinker()
	}
	if cfg.Name == "" {
		cfg.Name = "component"
	}
	r := &run{eng: c.eng, w: w, h: h, linker: cfg.Linker, name: cfg.Name, tasks: map[*sim.Task][]*cmTask{}, setup: cfg.Setup,
		onStack: map[*sim.Task][]*compInst{}}
	r.mctx = r.newRunContext()
	root, err := r.instantiate(c, c.body, cfg.Name, nil)
	inst := &Instance{comp: c, root: root, r: r}
	if err != nil {
		r.raise()
		return inst, err
	}
	return inst, nil
}

// Host is the instance's handle table.
func (i *Instance) Host() *host.Instance { return i.root.hin }

// Close releases the instance's core module instances. Its handles stay
// in the host.Instance (DropAll drops them).
func (i *Instance) Close() {
	reuse := i.r.memoryUnreachable()
	for _, m := range i.r.mems {
		m.reuse = reuse
	}
	for _, ci := range i.r.insts {
		ci.close()
	}
}

func (ci *compInst) close() {
	ctx := context.Background()
	for _, m := range ci.coreInsts {
		if m != nil {
			ci.r.eng.forget(m)
			_ = m.Close(ctx)
		}
	}
	if ci.hostMod != nil {
		_ = ci.hostMod.Close(ctx)
	}
}

// raise re-raises a panic that unwound through wazero.
func (r *run) raise() {
	if p := r.panicked; p != nil {
		r.panicked = nil
		panic(p)
	}
}

// instantiate evaluates a body's definitions in order.
func (r *run) instantiate(c *Component, b *Body, name string, args map[string]item) (*compInst, error) {
	p := c.plans[b]
	ci := &compInst{r: r, plan: p, name: name, mayLeave: true, exports: map[string]item{}}
	ci.hin = r.h.NewInstance(name)
	if r.setup != nil {
		r.setup(ci.hin)
	}
	r.insts = append(r.insts, ci)
	ctx := r.ctx()
	if p.hostMod != nil {
		m, err := r.eng.rt.InstantiateModule(ctx, p.hostMod, r.eng.modCfg)
		if err != nil {
			return ci, fmt.Errorf("%s: host functions: %w", name, err)
		}
		ci.hostMod = m
		ci.host = make([]hostFuncState, len(p.hostFuncs))
	}
	ci.coreInsts = make([]api.Module, len(b.Spaces[CoreSortOf(CoreInstance)]))
	counts := map[Sort]int{}
	for _, d := range b.Defs {
		idx := counts[d.Sort()]
		counts[d.Sort()]++
		if err := ci.eval(c, d, idx, args); err != nil {
			return ci, fmt.Errorf("%s: %w", name, err)
		}
	}
	return ci, nil
}

// ctx is the context every wasm call and instantiation of the run uses:
// it allocates linear memories (see memory.go).
func (r *run) ctx() context.Context { return r.mctx }

// eval evaluates one definition, the idx-th of its sort.
func (ci *compInst) eval(c *Component, d Def, idx int, args map[string]item) error {
	b := ci.plan.body
	switch d := d.(type) {
	case *ImportDef:
		it, err := ci.importItem(d, args)
		if err != nil {
			return err
		}
		ci.add(it)
	case *CoreInstanceDef:
		if d.Module < 0 {
			return nil // a bundle: its items are resolved through plan origins
		}
		return ci.instantiateCore(idx)
	case *AliasDef:
		it, err := ci.alias(d)
		if err != nil {
			return err
		}
		if it != nil {
			ci.add(*it)
		}
	case *TypeDef:
		ci.add(item{sort: SortType, typ: d})
	case *LiftDef:
		lf, err := ci.newLift(d)
		if err != nil {
			return err
		}
		ci.add(item{sort: SortFunc, fn: &callee{name: ci.name + " lifted func " + strconv.Itoa(len(ci.funcs)), typ: d.Type, lift: lf}})
	case *LowerDef, *BuiltinDef:
		return ci.defineHostFunc(b, d, idx)
	case *ComponentDef:
		ci.add(item{sort: SortComponent, body: d.Body})
	case *InstanceDef:
		iv, err := ci.instance(c, d)
		if err != nil {
			return err
		}
		ci.add(item{sort: SortInstance, inst: iv})
	case *ExportDef:
		it, err := ci.itemAt(d.Of, d.Index)
		if err != nil {
			return err
		}
		ci.exports[d.Name] = it
		ci.add(it)
	}
	return nil
}

// add appends an item to its component-level index space.
func (ci *compInst) add(it item) {
	switch it.sort {
	case SortFunc:
		ci.funcs = append(ci.funcs, it.fn)
	case SortInstance:
		ci.instances = append(ci.instances, it.inst)
	case SortComponent:
		ci.components = append(ci.components, it.body)
	}
}

// itemAt returns item idx of a component-level sort.
func (ci *compInst) itemAt(s Sort, idx int) (item, error) {
	switch s {
	case SortFunc:
		if idx >= 0 && idx < len(ci.funcs) {
			return item{sort: s, fn: ci.funcs[idx]}, nil
		}
	case SortInstance:
		if idx >= 0 && idx < len(ci.instances) {
			return item{sort: s, inst: ci.instances[idx]}, nil
		}
	case SortComponent:
		if idx >= 0 && idx < len(ci.components) {
			return item{sort: s, body: ci.components[idx]}, nil
		}
	case SortType:
		space := ci.plan.body.Spaces[SortType]
		if idx >= 0 && idx < len(space) {
			td, _ := space[idx].(*TypeDef)
			return item{sort: s, typ: td}, nil
		}
	default:
		return item{}, &UnsupportedError{Construct: "an export or argument of sort " + s.String()}
	}
	return item{}, fmt.Errorf("%s index %d out of range", s, idx)
}

// importItem binds an import: from the instantiating component's
// arguments, or, for the outer component, from the Linker.
func (ci *compInst) importItem(d *ImportDef, args map[string]item) (item, error) {
	if args != nil {
		it, ok := args[d.Name]
		if !ok {
			return item{}, fmt.Errorf("import %q is not given", d.Name)
		}
		return it, nil
	}
	l := ci.r.linker
	switch d.Type.Kind {
	case ExternInstance:
		funcs, _, ok := l.instance(d.Name)
		iv := &instVal{name: d.Name, exports: map[string]item{}, host: funcs}
		if d.Type.Instance != nil {
			names := ci.plan.funcNames[d]
			for i, e := range d.Type.Instance.Exports {
				if e.Type.Kind != ExternFunc {
					continue
				}
				hf := funcs[e.Name]
				if !ok || hf == nil {
					// Unimplemented functions trap when called, so a
					// component that never calls them still runs.
					hf = missingFunc(d.Name, e.Name)
				}
				iv.exports[e.Name] = item{sort: SortFunc, fn: &callee{name: names[i], typ: e.Type.Func, host: hf}}
			}
		}
		return item{sort: SortInstance, inst: iv}, nil
	case ExternFunc:
		funcs, _, _ := l.instance("")
		hf := funcs[d.Name]
		if hf == nil {
			hf = missingFunc("", d.Name)
		}
		return item{sort: SortFunc, fn: &callee{name: d.Name, typ: d.Type.Func, host: hf}}, nil
	case ExternTypeBound:
		return item{sort: SortType, typ: &TypeDef{Value: d.Type.Value, Resource: d.Type.Resource}}, nil
	}
	return item{}, &UnsupportedError{Construct: "an import of kind " + strconv.Itoa(int(d.Type.Kind))}
}

// missingFunc is the implementation of an import the Linker does not
// provide: calling it traps with a message naming it.
func missingFunc(iface, name string) *HostFunc {
	what := name
	if iface != "" {
		what = iface + "#" + name
	}
	return &HostFunc{Call: func(*Call, []Value) (Value, error) {
		return nil, trapf("%s is not provided by wasisim", what)
	}}
}

// alias resolves an alias; core export aliases need nothing at run time
// (the plan resolved them), so they return nil.
func (ci *compInst) alias(d *AliasDef) (*item, error) {
	switch d.Kind {
	case AliasCoreExport:
		return nil, nil
	case AliasExport:
		if d.Instance < 0 || d.Instance >= len(ci.instances) {
			return nil, fmt.Errorf("instance index %d out of range", d.Instance)
		}
		iv := ci.instances[d.Instance]
		it, ok := iv.exports[d.Name]
		if !ok {
			if d.Of == SortType {
				return &item{sort: SortType}, nil
			}
			return nil, fmt.Errorf("instance %s has no export %q", iv.name, d.Name)
		}
		return &it, nil
	case AliasOuter:
		switch d.Of {
		case SortComponent:
			if cd, ok := d.Outer.Spaces[SortComponent][d.Index].(*ComponentDef); ok {
				return &item{sort: SortComponent, body: cd.Body}, nil
			}
			return nil, &UnsupportedError{Construct: "an outer alias of an imported component"}
		case SortType:
			td, _ := d.Outer.Spaces[SortType][d.Index].(*TypeDef)
			return &item{sort: SortType, typ: td}, nil
		}
		return nil, nil // core modules and core types: resolved by the plan
	}
	return nil, fmt.Errorf("alias kind %d", d.Kind)
}

// instantiateCore instantiates core instance idx: its module, compiled
// with imports renamed to origins, resolved here to this instance's
// core module instances and host module.
func (ci *compInst) instantiateCore(idx int) error {
	cm := ci.plan.modules[idx]
	resolver := func(name string) api.Module {
		if name == hostModuleName {
			return ci.hostMod
		}
		if len(name) > 1 && name[0] == 'i' {
			if j, err := strconv.Atoi(name[1:]); err == nil && j >= 0 && j < idx {
				return ci.coreInsts[j]
			}
		}
		return nil
	}
	ctx := experimental.WithImportResolver(ci.r.ctx(), resolver)
	m, err := ci.r.eng.rt.InstantiateModule(ctx, cm, ci.r.eng.modCfg)
	if ci.r.panicked != nil {
		return errUnwound
	}
	if err != nil {
		return fmt.Errorf("instantiating core instance %d: %w", idx, err)
	}
	ci.coreInsts[idx] = m
	// wazero hands a host function the module instance it was called
	// from; register it so the call finds its component instance.
	if ci.r.byModule == nil {
		ci.r.byModule = map[api.Module]*compInst{}
	}
	ci.r.byModule[m] = ci
	return nil
}

// runKey is the context key of the run a wasm call belongs to.
type runKey struct{}

// instOf is the component instance whose core instance mod is.
func (r *run) instOf(mod api.Module) *compInst {
	if r == nil {
		return nil
	}
	if len(r.insts) == 1 {
		return r.insts[0] // the only one: no nested components
	}
	return r.byModule[mod]
}

// errUnwound ends an instantiation the world unwound; the panic is raised
// again by the caller.
var errUnwound = errors.New("component: unwound")

// coreFuncOf resolves a core function index to a callable export.
func (ci *compInst) coreFuncOf(idx int) (*coreFunc, error) {
	o, err := ci.plan.originOf(CoreFunc, idx, 0)
	if err != nil {
		return nil, err
	}
	if f := ci.coreFuncs[o]; f != nil {
		return f, nil
	}
	var f *coreFunc
	if o.inst == hostOrigin {
		f = &coreFunc{mod: ci.hostMod, name: o.name}
	} else {
		m := ci.coreInsts[o.inst]
		if m == nil {
			return nil, fmt.Errorf("core instance %d is not instantiated yet", o.inst)
		}
		fn := m.ExportedFunction(o.name)
		if fn == nil {
			return nil, fmt.Errorf("core instance %d exports no function %q", o.inst, o.name)
		}
		f = &coreFunc{mod: m, name: o.name, idle: []api.Function{fn}}
	}
	if ci.coreFuncs == nil {
		ci.coreFuncs = map[coreOrigin]*coreFunc{}
	}
	ci.coreFuncs[o] = f
	return f, nil
}

// memoryOf resolves a core memory index.
func (ci *compInst) memoryOf(idx int) (api.Memory, error) {
	o, err := ci.plan.originOf(CoreMemory, idx, 0)
	if err != nil {
		return nil, err
	}
	if o.inst == hostOrigin || ci.coreInsts[o.inst] == nil {
		return nil, fmt.Errorf("core memory %d has no instance", idx)
	}
	mem := ci.coreInsts[o.inst].ExportedMemory(o.name)
	if mem == nil {
		return nil, fmt.Errorf("core instance %d exports no memory %q", o.inst, o.name)
	}
	return mem, nil
}

// resolveOpts resolves canonical options.
func (ci *compInst) resolveOpts(o CanonOpts) (resolvedOpts, error) {
	ro := resolvedOpts{enc: o.Encoding, async: o.Async}
	var err error
	if o.Memory >= 0 {
		if ro.mem, err = ci.memoryOf(o.Memory); err != nil {
			return ro, err
		}
	}
	for _, f := range []struct {
		idx int
		dst **coreFunc
	}{{o.Realloc, &ro.realloc}, {o.PostReturn, &ro.postReturn}, {o.Callback, &ro.callback}} {
		if f.idx >= 0 {
			if *f.dst, err = ci.coreFuncOf(f.idx); err != nil {
				return ro, err
			}
		}
	}
	return ro, nil
}

func (ci *compInst) newLift(d *LiftDef) (*liftedFunc, error) {
	core, err := ci.coreFuncOf(d.CoreFunc)
	if err != nil {
		return nil, err
	}
	opts, err := ci.resolveOpts(d.Opts)
	if err != nil {
		return nil, err
	}
	lf := &liftedFunc{ci: ci, def: d, core: core, opts: opts, pts: paramTypes(d.Type), rts: resultTypes(d.Type)}
	lf.cx = ci.cx(&lf.opts)
	return lf, nil
}

// defineHostFunc makes host function k (core func idx) callable.
func (ci *compInst) defineHostFunc(b *Body, d Def, idx int) error {
	k, ok := ci.plan.hostIndex[idx]
	if !ok {
		return fmt.Errorf("core func %d has no host function", idx)
	}
	st := &ci.host[k]
	st.def = d
	st.sig = &ci.plan.hostSigs[k]
	var err error
	switch d := d.(type) {
	case *LowerDef:
		if d.Func < 0 || d.Func >= len(ci.funcs) {
			return fmt.Errorf("canon lower of func %d: out of range", d.Func)
		}
		st.target = ci.funcs[d.Func]
		st.opts, err = ci.resolveOpts(d.Opts)
	case *BuiltinDef:
		st.opts, err = ci.resolveOpts(d.Opts)
	}
	if err != nil {
		return err
	}
	st.cx = ci.cx(&st.opts)
	st.ready = true
	return nil
}

// instance evaluates an instance definition: a bundle of items, or the
// instantiation of a nested component.
func (ci *compInst) instance(c *Component, d *InstanceDef) (*instVal, error) {
	if d.Component < 0 {
		iv := &instVal{name: ci.name + " instance " + strconv.Itoa(len(ci.instances)), exports: map[string]item{}}
		for _, e := range d.Exports {
			it, err := ci.itemAt(e.Sort, e.Index)
			if err != nil {
				return nil, err
			}
			iv.exports[e.Name] = it
		}
		return iv, nil
	}
	if d.Component >= len(ci.components) {
		return nil, fmt.Errorf("component index %d out of range", d.Component)
	}
	body := ci.components[d.Component]
	if body == nil {
		return nil, &UnsupportedError{Construct: "instantiating an imported component"}
	}
	args := map[string]item{}
	for _, a := range d.Args {
		it, err := ci.itemAt(a.Sort, a.Index)
		if err != nil {
			return nil, err
		}
		args[a.Name] = it
	}
	ci.r.next++
	child, err := ci.r.instantiate(c, body, ci.name+"/"+strconv.Itoa(ci.r.next), args)
	if err != nil {
		return nil, err
	}
	return &instVal{name: child.name, exports: child.exports}, nil
}
