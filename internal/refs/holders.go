package refs

import "slices"

// Holder names who holds a reference, for reports. Holders are values
// formatted only when a report is made, so that taking a reference builds
// no string.
type Holder interface {
	String() string
}

// Shared is one object and the holders of its references: every
// reference a holder takes goes through Acquire (or Adopt, for the
// creator's), and every one given back through Ref.Release, so the list
// is exact and a leak report names every holder. The object itself is
// released by its own last DecRef.
type Shared[H Holder] struct {
	obj     Object
	name    string
	holders []*Ref[H] // in acquisition order
}

// Ref is one reference held by one holder. Release gives it back once;
// later calls do nothing.
type Ref[H Holder] struct {
	s        *Shared[H]
	holder   H
	released bool
}

// Adopt starts tracking obj under name, taking over the reference its
// creator gave (it takes none) on behalf of by.
func Adopt[H Holder](obj Object, name string, by H) *Shared[H] {
	s := &Shared[H]{obj: obj, name: name}
	s.holders = []*Ref[H]{{s: s, holder: by}}
	return s
}

// Object is the object the holders hold.
func (s *Shared[H]) Object() Object { return s.obj }

// Name names the object in reports.
func (s *Shared[H]) Name() string { return s.name }

// First is the reference Adopt took over.
func (s *Shared[H]) First() *Ref[H] { return s.holders[0] }

// Acquire takes a new reference (IncRef) for by. On a released object
// IncRef is a misuse, recorded by the object; the Ref returned then holds
// nothing and its Release does nothing.
func (s *Shared[H]) Acquire(by H) *Ref[H] {
	r := &Ref[H]{s: s, holder: by}
	if err := s.obj.IncRef(); err != nil {
		r.released = true
		return r
	}
	s.holders = append(s.holders, r)
	return r
}

// Held reports whether any holder still holds a reference.
func (s *Shared[H]) Held() bool { return len(s.holders) > 0 }

// HeldOnlyBy reports whether every holder still holding a reference
// satisfies keep (false when none holds one).
func (s *Shared[H]) HeldOnlyBy(keep func(H) bool) bool {
	return len(s.holders) > 0 && !slices.ContainsFunc(s.holders, func(r *Ref[H]) bool { return !keep(r.holder) })
}

// Holders names the holders still holding a reference, in acquisition
// order.
func (s *Shared[H]) Holders() []string {
	out := make([]string, len(s.holders))
	for i, r := range s.holders {
		out[i] = r.holder.String()
	}
	return out
}

// ReleaseAll gives back every reference at once, as a host without shared
// ownership would on closing the object; each Ref's later Release does
// nothing.
func (s *Shared[H]) ReleaseAll() {
	for len(s.holders) > 0 {
		s.holders[0].Release()
	}
}

// Shared is the object record the reference belongs to.
func (r *Ref[H]) Shared() *Shared[H] { return r.s }

// Holder is who holds the reference.
func (r *Ref[H]) Holder() H { return r.holder }

// Release gives the reference back (DecRef) once; the last one anywhere
// releases the object. Later calls, and a nil Ref, do nothing, so every
// holder may call it from every path that ends it. A DecRef misuse is
// recorded by the object.
func (r *Ref[H]) Release() {
	if r == nil || r.released {
		return
	}
	r.released = true
	s := r.s
	if i := slices.Index(s.holders, r); i >= 0 {
		s.holders = slices.Delete(s.holders, i, i+1)
	}
	_ = s.obj.DecRef() // a misuse is recorded and reported by the object's owner
}
