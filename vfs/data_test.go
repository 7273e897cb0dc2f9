package vfs

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestChunkedData checks the chunked file storage against a flat byte
// slice under random writes (gaps, overwrites, appends across chunk
// boundaries) and truncations.
func TestChunkedData(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 8 {
		_, r := newTestFS(t, Options{})
		d, err := r.OpenAt(0, "f", OpenCreate, Read|Write)
		must(t, err)
		var model []byte
		for op := range 200 {
			span := int64(3*chunkSize + 100)
			switch rng.IntN(5) {
			case 0:
				size := rng.Int64N(span)
				must(t, d.SetSize(size))
				if size < int64(len(model)) {
					model = model[:size]
				} else {
					model = append(model, make([]byte, size-int64(len(model)))...)
				}
			default:
				off := rng.Int64N(span)
				p := make([]byte, rng.IntN(2*chunkSize))
				for i := range p {
					p[i] = byte(rng.IntN(255) + 1)
				}
				if _, err := d.WriteAt(p, off); err != nil {
					t.Fatal(err)
				}
				if end := off + int64(len(p)); end > int64(len(model)) {
					model = append(model, make([]byte, end-int64(len(model)))...)
				}
				copy(model[off:], p)
			}
			got := make([]byte, len(model)+10)
			k, err := d.ReadAt(got, 0)
			must(t, err)
			if !bytes.Equal(got[:k], model) {
				t.Fatalf("round %d op %d: contents differ (len %d, want %d)", round, op, k, len(model))
			}
			if st, _ := d.Stat(); st.Size != uint64(len(model)) {
				t.Fatalf("size %d, want %d", st.Size, len(model))
			}
			if u := r.FS().Usage(); u.Bytes > int64(len(model)) {
				t.Fatalf("usage %d bytes > size %d", u.Bytes, len(model))
			}
		}
		d.DecRef()
	}
}
