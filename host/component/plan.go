package component

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Component is a compiled component: decoded, checked for what wasisim
// supports, its core modules compiled with their imports wired as the
// component says, and the host functions of its canonical definitions
// compiled. It is immutable; instantiate it any number of times, in any
// number of worlds at once. It belongs to the Engine that compiled it,
// which keeps it (compiling the same bytes again returns it) and releases
// it on Close; it has no Close of its own.
type Component struct {
	eng  *Engine
	hash [32]byte
	body *Body
	// plans holds the linking plan of the outer body and of every nested
	// component body.
	plans map[*Body]*bodyPlan
}

// Hash is the SHA-256 of the component's bytes: it names the component
// in traces, so a trace is replayed only against the same component.
func (c *Component) Hash() string { return hex.EncodeToString(c.hash[:]) }

// Body is the decoded component.
func (c *Component) Body() *Body { return c.body }

// coreOrigin is where a core item really lives: an export of a core
// instance made by instantiating a module (inst ≥ 0), or a function of
// the host module (inst == hostOrigin).
type coreOrigin struct {
	inst int
	name string
}

const hostOrigin = -1

// hostModuleName and instModuleName are the module names the rewritten
// imports use; the import resolver maps them to module instances.
const hostModuleName = "h"

func instModuleName(i int) string { return "i" + strconv.Itoa(i) }

// bodyPlan is what a body's instantiation needs, computed once.
type bodyPlan struct {
	body *Body
	// modules holds, per core instance index that instantiates a module,
	// the module compiled with its imports renamed to their origins.
	modules map[int]wazero.CompiledModule
	// hostFuncs lists the canonical definitions (lowers and built-ins)
	// the host module implements, hostSigs their signatures; hostIndex
	// maps a core func index to its position there.
	hostFuncs []Def
	hostSigs  []hostSig
	hostIndex map[int]int
	hostMod   wazero.CompiledModule
	// funcNames names the functions of each imported instance,
	// "instance#function", by export index.
	funcNames map[*ImportDef][]string
}

// hostSig is what calling a host function needs that depends only on
// types, computed once per plan rather than per call.
type hostSig struct {
	// params and results are the core signature.
	params, results []api.ValueType
	// types are the component types of a lower's parameters, or of
	// task.return's result; results those of a lower's result (none or
	// one).
	types, rtypes []*Type
	// nargs is the number of core parameters that carry the arguments
	// (a lower's out pointer excluded).
	nargs int
	// outParam says a synchronous lower's result is written through its
	// last parameter, a pointer.
	outParam bool
	// resource is "interface#name" of the imported resource a
	// resource.drop drops: how the Linker names it.
	resource string
}

// Compile decodes and compiles a component binary. Compiling bytes the
// Engine compiled before returns the same *Component (or the same error)
// without compiling anything again; the Engine keeps it until Close.
// Compile does not keep wasm: the caller may reuse it.
func (e *Engine) Compile(wasm []byte) (*Component, error) {
	if !IsComponent(wasm) {
		if IsCoreModule(wasm) {
			return nil, errors.New("this is a core WebAssembly module, not a component")
		}
		return nil, errors.New("not a WebAssembly component (bad preamble)")
	}
	key := maphash.Bytes(e.seed, wasm)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrEngineClosed
	}
	for _, cc := range e.comps[key] {
		if bytes.Equal(cc.wasm, wasm) {
			e.mu.Unlock()
			<-cc.done // compiled, or being compiled by another goroutine
			return cc.c, cc.err
		}
	}
	// Until it is compiled, a compile that panicked leaves an error.
	cc := &compiledComponent{done: make(chan struct{}), wasm: bytes.Clone(wasm), err: errCompileUnfinished}
	e.comps[key] = append(e.comps[key], cc)
	e.mu.Unlock()
	defer close(cc.done)
	cc.c, cc.err = e.compile(cc.wasm, sha256.Sum256(cc.wasm))
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed && cc.c != nil {
		// Close ran while this compiled and did not see its host modules.
		cc.c.releaseHostModules()
		cc.c, cc.err = nil, ErrEngineClosed
	}
	if errors.Is(cc.err, ErrEngineClosed) {
		// Closed meanwhile: nothing to keep.
		e.mu.Lock()
		e.comps[key] = slices.DeleteFunc(e.comps[key], func(x *compiledComponent) bool { return x == cc })
		e.mu.Unlock()
	}
	return cc.c, cc.err
}

var errCompileUnfinished = errors.New("component: the compilation of this component did not finish")

// compile decodes and plans a component, releasing what it compiled
// for it if it fails.
func (e *Engine) compile(wasm []byte, hash [32]byte) (*Component, error) {
	body, err := Decode(wasm)
	if err != nil {
		return nil, err
	}
	c := &Component{eng: e, hash: hash, body: body, plans: map[*Body]*bodyPlan{}}
	if err := c.plan(body); err != nil {
		c.releaseHostModules()
		return nil, err
	}
	return c, nil
}

// releaseHostModules releases the host modules compiled for c, which
// failed to compile or was compiled by an Engine closed meanwhile.
func (c *Component) releaseHostModules() {
	for _, p := range c.plans {
		if p.hostMod != nil {
			c.eng.releaseHostModule(p.hostMod)
			p.hostMod = nil
		}
	}
}

// plan makes the plan of a body and of the bodies nested in it.
func (c *Component) plan(b *Body) error {
	if _, ok := c.plans[b]; ok {
		return nil
	}
	p := &bodyPlan{body: b, modules: map[int]wazero.CompiledModule{}, hostIndex: map[int]int{}, funcNames: map[*ImportDef][]string{}}
	c.plans[b] = p
	if err := checkSupported(b); err != nil {
		return err
	}
	for i, d := range b.Spaces[CoreSortOf(CoreFunc)] {
		switch d.(type) {
		case *LowerDef, *BuiltinDef:
			sig, err := hostFuncSig(d)
			if err != nil {
				return err
			}
			p.hostIndex[i] = len(p.hostFuncs)
			p.hostFuncs = append(p.hostFuncs, d)
			p.hostSigs = append(p.hostSigs, sig)
		}
	}
	for _, d := range b.Defs {
		if im, ok := d.(*ImportDef); ok && im.Type.Kind == ExternInstance && im.Type.Instance != nil {
			names := make([]string, len(im.Type.Instance.Exports))
			for i, e := range im.Type.Instance.Exports {
				names[i] = im.Name + "#" + e.Name
			}
			p.funcNames[im] = names
		}
	}
	for i, d := range b.Spaces[CoreSortOf(CoreInstance)] {
		ci, ok := d.(*CoreInstanceDef)
		if !ok || ci.Module < 0 {
			continue
		}
		cm, err := c.compileInstance(p, i, ci)
		if err != nil {
			return err
		}
		p.modules[i] = cm
	}
	if len(p.hostFuncs) > 0 {
		hm, err := c.compileHostModule(p)
		if err != nil {
			return err
		}
		p.hostMod = hm
	}
	for _, d := range b.Spaces[SortComponent] {
		if cd, ok := d.(*ComponentDef); ok {
			if err := c.plan(cd.Body); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkSupported refuses, at load, what wasisim cannot run, naming it.
func checkSupported(b *Body) error {
	for _, d := range b.Defs {
		switch d := d.(type) {
		case *BuiltinDef:
			switch d.Op {
			case BuiltinThreadIndex, BuiltinThreadNewIndirect, BuiltinThreadSwitchTo, BuiltinThreadSuspend,
				BuiltinThreadResumeLater, BuiltinThreadYieldTo, BuiltinThreadSuspendThenResume,
				BuiltinThreadYieldThenResume, BuiltinThreadSuspendThenPromote, BuiltinThreadYieldThenPromote:
				return &UnsupportedError{Construct: "the " + d.Op.String() + " built-in (threads)"}
			}
			if d.Opts.Memory >= 0 || d.Opts.Realloc >= 0 {
				if err := checkOpts(b, d.Opts); err != nil {
					return err
				}
			}
		case *LiftDef:
			if err := checkOpts(b, d.Opts); err != nil {
				return err
			}
		case *LowerDef:
			if err := checkOpts(b, d.Opts); err != nil {
				return err
			}
		case *ImportDef:
			switch d.Type.Kind {
			case ExternCoreModule:
				return &UnsupportedError{Construct: "an imported core module (" + d.Name + ")"}
			case ExternValue:
				return &UnsupportedError{Construct: "an imported value (" + d.Name + ")"}
			case ExternComponent:
				if b.Parent == nil {
					return &UnsupportedError{Construct: "an imported component (" + d.Name + ")"}
				}
			}
		}
	}
	return nil
}

func checkOpts(b *Body, o CanonOpts) error {
	if o.Encoding != UTF8 && o.Encoding != UTF16 && o.Encoding != Latin1UTF16 {
		return &UnsupportedError{Construct: "string encoding " + o.Encoding.String()}
	}
	return nil
}

// originOf resolves item idx of a core sort to where it lives.
func (p *bodyPlan) originOf(sort CoreSort, idx int, depth int) (coreOrigin, error) {
	if depth > 100 {
		return coreOrigin{}, errors.New("core export aliases nest too deep")
	}
	space := p.body.Spaces[CoreSortOf(sort)]
	if idx < 0 || idx >= len(space) {
		return coreOrigin{}, fmt.Errorf("%s index %d out of range", sort, idx)
	}
	switch d := space[idx].(type) {
	case *LowerDef, *BuiltinDef:
		return coreOrigin{inst: hostOrigin, name: "f" + strconv.Itoa(p.hostIndex[idx])}, nil
	case *AliasDef:
		if d.Kind != AliasCoreExport {
			return coreOrigin{}, &UnsupportedError{Construct: "an outer alias of a " + sort.String()}
		}
		return p.exportOrigin(d.Instance, d.Name, sort, depth+1)
	}
	return coreOrigin{}, &UnsupportedError{Construct: fmt.Sprintf("a %s defined by %T", sort, space[idx])}
}

// exportOrigin resolves export name of core instance inst.
func (p *bodyPlan) exportOrigin(inst int, name string, sort CoreSort, depth int) (coreOrigin, error) {
	space := p.body.Spaces[CoreSortOf(CoreInstance)]
	if inst < 0 || inst >= len(space) {
		return coreOrigin{}, fmt.Errorf("core instance index %d out of range", inst)
	}
	ci, ok := space[inst].(*CoreInstanceDef)
	if !ok {
		return coreOrigin{}, &UnsupportedError{Construct: fmt.Sprintf("a core instance defined by %T", space[inst])}
	}
	if ci.Module >= 0 {
		return coreOrigin{inst: inst, name: name}, nil
	}
	for _, e := range ci.Exports {
		if e.Name == name {
			if e.Sort != sort {
				return coreOrigin{}, fmt.Errorf("core instance %d exports %q as a %s, not a %s", inst, name, e.Sort, sort)
			}
			return p.originOf(sort, e.Index, depth+1)
		}
	}
	return coreOrigin{}, fmt.Errorf("core instance %d has no export %q", inst, name)
}

// coreModuleOf finds the core module definition of a core module index,
// following outer aliases.
func coreModuleOf(b *Body, idx int) (*CoreModuleDef, error) {
	for depth := 0; depth < 100; depth++ {
		space := b.Spaces[CoreSortOf(CoreModule)]
		if idx < 0 || idx >= len(space) {
			return nil, fmt.Errorf("core module index %d out of range", idx)
		}
		switch d := space[idx].(type) {
		case *CoreModuleDef:
			return d, nil
		case *AliasDef:
			if d.Kind != AliasOuter || d.Outer == nil {
				return nil, &UnsupportedError{Construct: "a core module alias that is not an outer alias"}
			}
			b, idx = d.Outer, d.Index
			continue
		default:
			return nil, &UnsupportedError{Construct: fmt.Sprintf("a core module defined by %T", d)}
		}
	}
	return nil, errors.New("core module aliases nest too deep")
}

// compileInstance compiles the module a core instance instantiates, with
// each import renamed to the module instance (or host module) and export
// that really provides it.
func (c *Component) compileInstance(p *bodyPlan, idx int, ci *CoreInstanceDef) (wazero.CompiledModule, error) {
	md, err := coreModuleOf(p.body, ci.Module)
	if err != nil {
		return nil, err
	}
	imps, err := coreImports(md.Bytes)
	if err != nil {
		return nil, fmt.Errorf("core instance %d: %w", idx, err)
	}
	args := map[string]int{}
	for _, a := range ci.Args {
		args[a.Name] = a.Instance
	}
	for i, im := range imps {
		arg, ok := args[im.Module]
		if !ok {
			return nil, fmt.Errorf("core instance %d: the module imports %q %q, which no argument provides", idx, im.Module, im.Name)
		}
		if arg >= idx {
			return nil, fmt.Errorf("core instance %d: argument %q is core instance %d, not an earlier one", idx, im.Module, arg)
		}
		o, err := p.exportOrigin(arg, im.Name, im.Kind, 0)
		if err != nil {
			return nil, fmt.Errorf("core instance %d: import %q %q: %w", idx, im.Module, im.Name, err)
		}
		if o.inst == hostOrigin {
			imps[i].Module = hostModuleName
		} else {
			imps[i].Module = instModuleName(o.inst)
		}
		imps[i].Name = o.name
	}
	wasm := md.Bytes
	if len(imps) > 0 {
		if wasm, err = rewriteImports(md.Bytes, imps); err != nil {
			return nil, fmt.Errorf("core instance %d: %w", idx, err)
		}
	}
	cm, err := c.eng.compileCore(wasm)
	if err != nil {
		return nil, fmt.Errorf("core instance %d: %w", idx, err)
	}
	return cm, nil
}

// compileHostModule compiles the host functions of a body's canonical
// definitions, exported as "f0", "f1", …. Each finds the component
// instance it serves from the run its call's context carries and the
// module instance it is called from.
func (c *Component) compileHostModule(p *bodyPlan) (wazero.CompiledModule, error) {
	hb := c.eng.rt.NewHostModuleBuilder("wasisim-canon")
	for k, sig := range p.hostSigs {
		fn := api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			r, _ := ctx.Value(runKey{}).(*run)
			ci := r.instOf(mod)
			if ci == nil {
				panic("component: host function called through an unknown module instance")
			}
			ci.hostCall(ctx, k, stack)
		})
		hb.NewFunctionBuilder().WithGoModuleFunction(fn, sig.params, sig.results).Export("f" + strconv.Itoa(k))
	}
	hm, err := hb.Compile(context.Background())
	if err != nil {
		return nil, err
	}
	c.eng.mu.Lock()
	c.eng.hostModules++
	c.eng.mu.Unlock()
	return hm, nil
}

// releaseHostModule releases a host module compiled for a component
// the Engine does not keep.
func (e *Engine) releaseHostModule(hm wazero.CompiledModule) {
	e.mu.Lock()
	e.hostModules--
	e.mu.Unlock()
	_ = hm.Close(context.Background())
}

// hostFuncSig is the signature of a lowered function or a built-in.
func hostFuncSig(d Def) (hostSig, error) {
	var sig hostSig
	switch d := d.(type) {
	case *LowerDef:
		ft := FlattenFunc(d.Type, d.Opts, false)
		sig.params, sig.results = coreTypes(ft.Params), coreTypes(ft.Results)
		sig.types, sig.rtypes = paramTypes(d.Type), resultTypes(d.Type)
		sig.nargs = len(ft.Params)
		if d.Opts.Async {
			if len(sig.rtypes) > 0 {
				sig.nargs-- // the pointer the result is stored at
			}
		} else if abiFlatOver(sig.rtypes, MaxFlatResults) {
			sig.nargs--
			sig.outParam = true
		}
		return sig, nil
	case *BuiltinDef:
		if d.Op == BuiltinTaskReturn && d.Type != nil {
			sig.types = []*Type{d.Type}
		}
		if d.Op == BuiltinResourceDrop && d.Resource != nil {
			sig.resource = d.Resource.Interface + "#" + d.Resource.Name
		}
		var err error
		sig.params, sig.results, err = builtinSignature(d, sig.types)
		sig.nargs = len(sig.params)
		return sig, err
	}
	return sig, fmt.Errorf("no host function for %T", d)
}

// builtinSignature is the core signature of a built-in; ts are the types
// task.return takes.
func builtinSignature(d *BuiltinDef, ts []*Type) (params, results []api.ValueType, err error) {
	const i32, i64 = api.ValueTypeI32, api.ValueTypeI64
	switch d.Op {
	case BuiltinResourceNew, BuiltinResourceRep:
		return []api.ValueType{i32}, []api.ValueType{i32}, nil
	case BuiltinResourceDrop, BuiltinSubtaskDrop, BuiltinStreamDropReadable, BuiltinStreamDropWritable,
		BuiltinFutureDropReadable, BuiltinFutureDropWritable, BuiltinErrorContextDrop, BuiltinWaitableSetDrop:
		return []api.ValueType{i32}, nil, nil
	case BuiltinBackpressureInc, BuiltinBackpressureDec, BuiltinTaskCancel:
		return nil, nil, nil
	case BuiltinTaskReturn:
		if abiFlatOver(ts, MaxFlatParams) {
			return []api.ValueType{i32}, nil, nil
		}
		return coreTypes(flattenAll(ts)), nil, nil
	case BuiltinContextGet:
		return nil, []api.ValueType{coreValType(d.ContextType)}, nil
	case BuiltinContextSet:
		return []api.ValueType{coreValType(d.ContextType)}, nil, nil
	case BuiltinYield:
		return nil, []api.ValueType{i32}, nil
	case BuiltinSubtaskCancel, BuiltinStreamCancelRead, BuiltinStreamCancelWrite,
		BuiltinFutureCancelRead, BuiltinFutureCancelWrite:
		return []api.ValueType{i32}, []api.ValueType{i32}, nil
	case BuiltinStreamNew, BuiltinFutureNew:
		return nil, []api.ValueType{i64}, nil
	case BuiltinStreamRead, BuiltinStreamWrite:
		return []api.ValueType{i32, i32, i32}, []api.ValueType{i32}, nil
	case BuiltinFutureRead, BuiltinFutureWrite:
		return []api.ValueType{i32, i32}, []api.ValueType{i32}, nil
	case BuiltinErrorContextNew:
		return []api.ValueType{i32, i32}, []api.ValueType{i32}, nil
	case BuiltinErrorContextDebugMessage:
		return []api.ValueType{i32, i32}, nil, nil
	case BuiltinWaitableSetNew:
		return nil, []api.ValueType{i32}, nil
	case BuiltinWaitableSetWait, BuiltinWaitableSetPoll:
		return []api.ValueType{i32, i32}, []api.ValueType{i32}, nil
	case BuiltinWaitableJoin:
		return []api.ValueType{i32, i32}, nil, nil
	}
	return nil, nil, &UnsupportedError{Construct: "the " + d.Op.String() + " built-in"}
}

func coreValType(t CoreValType) api.ValueType {
	switch t {
	case CoreI64:
		return api.ValueTypeI64
	case CoreF32:
		return api.ValueTypeF32
	case CoreF64:
		return api.ValueTypeF64
	}
	return api.ValueTypeI32
}

func coreTypes(ts []CoreValType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = coreValType(t)
	}
	return out
}
