package goid

import (
	"iter"
	"testing"
)

func TestGet(t *testing.T) {
	me := Get()
	if me == 0 {
		t.Fatal("Get returned 0")
	}
	if again := Get(); again != me {
		t.Fatalf("Get changed within a goroutine: %#x then %#x", me, again)
	}
	other := make(chan uintptr)
	go func() { other <- Get() }()
	if o := <-other; o == me || o == 0 {
		t.Fatalf("another goroutine got %#x; this one is %#x", o, me)
	}
	// A coroutine (what sim runs tasks as) is a goroutine of its own,
	// the same one at every resumption.
	var inside []uintptr
	next, stop := iter.Pull(func(yield func(struct{}) bool) {
		for range 3 {
			inside = append(inside, Get())
			if !yield(struct{}{}) {
				return
			}
		}
	})
	defer stop()
	for range 3 {
		next()
	}
	if inside[0] == me || inside[1] != inside[0] || inside[2] != inside[0] {
		t.Fatalf("coroutine identities %#x, caller %#x", inside, me)
	}
}

func BenchmarkGet(b *testing.B) {
	for b.Loop() {
		Get()
	}
}
