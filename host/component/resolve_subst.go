package component

import "slices"

// Resource identity.
//
// A resource type is identified by its *ResourceType. Component and
// instance types are templates: a `(sub resource)` declared inside one
// is a placeholder that each use of the type replaces with a fresh
// resource (an import of an instance type), with an argument's resource
// (the imports of an instantiated component) or with a fresh one per
// instantiation (the exports of an imported component type). resSubst
// makes those replacements: it copies the parts of a type that mention a
// replaced resource and shares every other part, so types that do not
// mention one keep their pointers.

// resSubst replaces resources in types. Results are memoized per
// substitution, so shared parts stay shared and the work is linear in the
// size of the type.
type resSubst struct {
	d     *decState
	res   map[*ResourceType]*ResourceType
	types map[*Type]*Type
	funcs map[*FuncType]*FuncType
	insts map[*InstanceType]*InstanceType
	comps map[*ComponentType]*ComponentType
}

func (d *decState) newSubst() *resSubst {
	return &resSubst{d: d, res: map[*ResourceType]*ResourceType{}}
}

func (s *resSubst) resource(r *ResourceType) *ResourceType {
	if n, ok := s.res[r]; ok {
		return n
	}
	return r
}

func (s *resSubst) resources(rs []*ResourceType) []*ResourceType {
	out := make([]*ResourceType, len(rs))
	for i, r := range rs {
		out[i] = s.resource(r)
	}
	return out
}

func (s *resSubst) typ(t *Type) *Type {
	if t == nil || t.Kind <= ErrorContext {
		return t
	}
	info := s.d.tinfo[t]
	if !info.res {
		return t
	}
	if n, ok := s.types[t]; ok {
		return n
	}
	if s.types == nil {
		s.types = map[*Type]*Type{}
	}
	s.d.charge(1 + len(t.Fields) + len(t.Cases))
	n := *t
	changed := false
	switch t.Kind {
	case Own, Borrow:
		n.Resource = s.resource(t.Resource)
		changed = n.Resource != t.Resource
	case List, Option, Stream, Future:
		n.Elem = s.typ(t.Elem)
		changed = n.Elem != t.Elem
	case Map:
		n.Key, n.Elem = s.typ(t.Key), s.typ(t.Elem)
		changed = n.Key != t.Key || n.Elem != t.Elem
	case Result:
		n.Ok, n.Err = s.typ(t.Ok), s.typ(t.Err)
		changed = n.Ok != t.Ok || n.Err != t.Err
	case Record, Tuple:
		for i, f := range t.Fields {
			if nt := s.typ(f.Type); nt != f.Type {
				if !changed {
					n.Fields = slices.Clone(t.Fields)
					changed = true
				}
				n.Fields[i].Type = nt
			}
		}
	case Variant:
		for i, c := range t.Cases {
			if nt := s.typ(c.Type); nt != c.Type {
				if !changed {
					n.Cases = slices.Clone(t.Cases)
					changed = true
				}
				n.Cases[i].Type = nt
			}
		}
	}
	out := t
	if changed {
		out = &n
		s.d.tinfo[out] = info
	}
	s.types[t] = out
	return out
}

func (s *resSubst) fn(f *FuncType) *FuncType {
	if f == nil {
		return nil
	}
	if n, ok := s.funcs[f]; ok {
		return n
	}
	if s.funcs == nil {
		s.funcs = map[*FuncType]*FuncType{}
	}
	s.d.charge(1 + len(f.Params))
	var params []Param
	for i, p := range f.Params {
		if nt := s.typ(p.Type); nt != p.Type {
			if params == nil {
				params = slices.Clone(f.Params)
			}
			params[i].Type = nt
		}
	}
	result := s.typ(f.Result)
	out := f
	if params != nil || result != f.Result {
		if params == nil {
			params = f.Params
		}
		out = &FuncType{Params: params, Result: result, Async: f.Async}
		s.d.depth[out] = s.d.depth[f]
	}
	s.funcs[f] = out
	return out
}

func (s *resSubst) decls(ds []ExternDecl) []ExternDecl {
	var out []ExternDecl
	for i, e := range ds {
		if ne := s.ext(e.Type); ne != e.Type {
			if out == nil {
				out = slices.Clone(ds)
			}
			out[i].Type = ne
		}
	}
	return out
}

func (s *resSubst) inst(it *InstanceType) *InstanceType {
	if it == nil {
		return nil
	}
	if n, ok := s.insts[it]; ok {
		return n
	}
	if s.insts == nil {
		s.insts = map[*InstanceType]*InstanceType{}
	}
	s.d.charge(1 + len(it.Exports))
	out := it
	if exports := s.decls(it.Exports); exports != nil {
		out = &InstanceType{Exports: exports}
		s.d.depth[out] = s.d.depth[it]
		if b := s.d.itBound[it]; len(b) > 0 {
			s.d.itBound[out] = s.resources(b)
		}
	}
	s.insts[it] = out
	return out
}

func (s *resSubst) comp(ct *ComponentType) *ComponentType {
	if ct == nil {
		return nil
	}
	if n, ok := s.comps[ct]; ok {
		return n
	}
	if s.comps == nil {
		s.comps = map[*ComponentType]*ComponentType{}
	}
	s.d.charge(1 + len(ct.Imports) + len(ct.Exports))
	out := ct
	imports, exports := s.decls(ct.Imports), s.decls(ct.Exports)
	if imports != nil || exports != nil {
		if imports == nil {
			imports = ct.Imports
		}
		if exports == nil {
			exports = ct.Exports
		}
		out = &ComponentType{Imports: imports, Exports: exports}
		s.d.depth[out] = s.d.depth[ct]
		b := s.d.ctBound[ct]
		s.d.ctBound[out] = resCompBound{imports: s.resources(b.imports), exports: s.resources(b.exports)}
	}
	s.comps[ct] = out
	return out
}

func (s *resSubst) ext(et ExternType) ExternType {
	et.Func = s.fn(et.Func)
	et.Instance = s.inst(et.Instance)
	et.Component = s.comp(et.Component)
	et.Value = s.typ(et.Value)
	if et.Resource != nil {
		et.Resource = s.resource(et.Resource)
	}
	return et
}

// freshInstance instantiates an instance type template for a declaration
// named declName (an import, or an import or export inside a component
// or instance type): every resource the template declares is replaced by
// a fresh one, named after the template's and, if it has no interface
// yet, after the declaration. It returns the instance type and the fresh
// resources.
func (d *decState) freshInstance(it *InstanceType, declName string) (*InstanceType, []*ResourceType) {
	bound := d.itBound[it]
	if len(bound) == 0 {
		return it, nil
	}
	s := d.newSubst()
	fresh := make([]*ResourceType, len(bound))
	for i, r := range bound {
		f := &ResourceType{Name: r.Name, Interface: r.Interface}
		if f.Interface == "" {
			f.Interface = declName
		}
		fresh[i] = f
		s.res[r] = f
	}
	return s.inst(it), fresh
}

// bindExtern turns the raw extern type of an import or export declaration
// into the item's type: a `(sub resource)` becomes a fresh resource and
// an instance type's own resources become fresh ones; both are appended
// to *bound, the resources the enclosing scope binds.
func (d *decState) bindExtern(name string, raw ExternType, sub bool, bound *[]*ResourceType) ExternType {
	if sub {
		r := &ResourceType{Name: name}
		*bound = append(*bound, r)
		return ExternType{Kind: ExternTypeBound, Resource: r}
	}
	if raw.Kind == ExternInstance {
		it, fresh := d.freshInstance(raw.Instance, name)
		*bound = append(*bound, fresh...)
		raw.Instance = it
	}
	return raw
}

// match walks an import's type and the type of the item given for it
// side by side and records in s, for each resource the import binds,
// the argument's resource at the same place. It checks that the kinds
// agree and that an instance argument has every export the import
// declares (what the linker relies on), not full subtyping.
func (d *decState) match(s *resSubst, bound map[*ResourceType]bool, imp, arg ExternType, argName string, at int) {
	d.charge(1)
	if imp.Kind != arg.Kind {
		d.failAt(at, "%q is given a %s where a %s is expected", argName, resExternKindName(arg.Kind), resExternKindName(imp.Kind))
	}
	switch imp.Kind {
	case ExternTypeBound:
		if imp.Resource == nil {
			return
		}
		if arg.Resource == nil {
			d.failAt(at, "%q is given a %s where a resource type is expected", argName, resTypeDefKind(resTypeDefOf(arg)))
		}
		if bound[imp.Resource] {
			if _, done := s.res[imp.Resource]; !done {
				s.res[imp.Resource] = arg.Resource
			}
		}
	case ExternInstance:
		if imp.Instance == nil || arg.Instance == nil {
			return
		}
		for _, e := range imp.Instance.Exports {
			ae, ok := d.lookupExport(arg.Instance, e.Name)
			if !ok {
				d.failAt(at, "the instance given for %q has no export %q", argName, e.Name)
			}
			d.match(s, bound, e.Type, ae.Type, argName, at)
		}
	}
}

// instantiate is the type of an instance of the component type ct made
// with the given arguments (by name): ct's exports with the resources
// its imports bind replaced by the arguments' ones, and the resources
// its exports declare replaced by fresh ones.
func (d *decState) instantiate(ct *ComponentType, args map[string]ExternType, at int) *InstanceType {
	b := d.ctBound[ct]
	s := d.newSubst()
	var bound map[*ResourceType]bool
	if len(b.imports) > 0 {
		bound = make(map[*ResourceType]bool, len(b.imports))
		for _, r := range b.imports {
			bound[r] = true
		}
	}
	for _, imp := range ct.Imports {
		arg, ok := args[imp.Name]
		if !ok {
			d.failAt(at, "no argument for the component's import %q", imp.Name)
		}
		d.match(s, bound, imp.Type, arg, imp.Name, at)
	}
	for _, r := range b.exports {
		s.res[r] = &ResourceType{Name: r.Name, Interface: r.Interface}
	}
	exports := make([]ExternDecl, len(ct.Exports))
	for i, e := range ct.Exports {
		exports[i] = ExternDecl{Name: e.Name, Type: s.ext(e.Type)}
	}
	it := &InstanceType{Exports: exports}
	d.setDepth(it, at)
	return it
}

// ascribe checks an export's type ascription against the exported item's
// type and returns the export's type. An ascribed instance type is a
// template: its resources are matched to the item's.
func (d *decState) ascribe(asc ExternType, sub bool, item ExternType, name string, at int) ExternType {
	if asc.Kind != item.Kind {
		d.failAt(at, "export %q is ascribed a %s type but exports a %s", name, resExternKindName(asc.Kind), resExternKindName(item.Kind))
	}
	switch asc.Kind {
	case ExternTypeBound:
		if sub {
			if item.Resource == nil {
				d.failAt(at, "export %q is ascribed (sub resource) but exports a %s", name, resTypeDefKind(resTypeDefOf(item)))
			}
			return item
		}
	case ExternInstance:
		s := d.newSubst()
		bound := map[*ResourceType]bool{}
		for _, r := range d.itBound[asc.Instance] {
			bound[r] = true
		}
		d.match(s, bound, asc, item, name, at)
		asc.Instance = s.inst(asc.Instance)
	}
	return asc
}
