package host_test

import (
	"fmt"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/sim"
	"github.com/wasisim/wasisim/vfs"
)

// A guest drops its descriptor while write-via-stream is still consuming
// its stream. Under p3 every byte lands; under p3-async-write the drop traps.
func Example_dropDuringWrite() {
	for _, v := range []host.Variant{host.P3, host.P3AsyncWrite} {
		w := sim.MustNew(sim.Config{Seed: 1})
		h, _ := host.New(w, host.Options{Variant: v})
		in := h.NewInstance("guest")
		w.Go("guest", func(*sim.Task) error {
			pre, _ := in.Preopens()
			fd, _ := in.OpenAt(pre[0].Handle, 0, "log.txt", vfs.OpenCreate, vfs.Write)
			r, wr, _ := in.NewStream()
			fut, _ := in.WriteViaStream(fd, r, 0)
			if err := in.Drop(fd); err != nil {
				fmt.Printf("%s: %v\n", v, err)
				return nil
			}
			in.WriteAll(wr, []byte("hello, world"))
			in.Drop(wr)
			res, _ := in.Await(fut)
			in.Drop(fut)
			st, _ := in.StatAt(pre[0].Handle, 0, "log.txt")
			fmt.Printf("%s: write result %v, file size %d\n", v, res, st.Size)
			return nil
		})
		w.Run()
	}
	// Output:
	// p3: write result <nil>, file size 12
	// p3-async-write: trap in guest: drop: drop of a lent handle of handle 2 (descriptor lent to 1 call(s) in progress)
}
