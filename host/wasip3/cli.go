package wasip3

import (
	"time"

	"github.com/wasisim/wasisim/host/component"
)

// environment is get-environment's value.
func (b *binder) environment() value {
	out := make([]value, len(b.cfg.Env))
	for i, kv := range b.cfg.Env {
		out[i] = []value{kv[0], kv[1]}
	}
	return out
}

// arguments is get-arguments' value: the program name, then the args.
func (b *binder) arguments() value {
	out := []value{b.cfg.Name}
	for _, a := range b.cfg.Args {
		out = append(out, a)
	}
	return out
}

func (b *binder) initialCwd() value {
	if b.cfg.InitialCwd == "" {
		return component.None()
	}
	return component.Some(b.cfg.InitialCwd)
}

// exitStatus is the exit code of exit(status: result).
func exitStatus(v value) uint32 {
	if vv, ok := v.(component.VariantValue); ok && vv.Case != 0 {
		return 1
	}
	return 0
}

func (b *binder) cli() {
	for _, env := range []string{ifEnv, ifEnv02} {
		b.fn(env, "get-environment", func(*component.Call, []value) (value, error) { return b.environment(), nil })
		b.fn(env, "get-arguments", func(*component.Call, []value) (value, error) { return b.arguments(), nil })
		b.fn(env, "get-initial-cwd", func(*component.Call, []value) (value, error) { return b.initialCwd(), nil })
		b.fn(env, "initial-cwd", func(*component.Call, []value) (value, error) { return b.initialCwd(), nil })
	}
	for _, ex := range []string{ifExit, ifExit02} {
		b.fn(ex, "exit", func(_ *component.Call, a []value) (value, error) {
			return nil, &component.ExitError{Code: exitStatus(a[0])}
		})
		b.fn(ex, "exit-with-code", func(_ *component.Call, a []value) (value, error) {
			code, _ := a[0].(uint8)
			return nil, &component.ExitError{Code: uint32(code)}
		})
	}
	b.fn(ifStdin, "read-via-stream", func(c *component.Call, a []value) (value, error) {
		data, res, err := c.Instance().ReadStdin()
		if err != nil {
			return nil, err
		}
		return []value{uint32(data), uint32(res)}, nil
	})
	b.blocking(ifStdout, "write-via-stream", func(c *component.Call, a []value) (value, error) {
		f, err := c.Instance().WriteStdout(hd(a[0]))
		return writeResult(c, f, err)
	})
	b.blocking(ifStderr, "write-via-stream", func(c *component.Call, a []value) (value, error) {
		f, err := c.Instance().WriteStderr(hd(a[0]))
		return writeResult(c, f, err)
	})
	// Stdio is never a terminal in the simulation.
	for _, t := range []struct{ iface, name string }{
		{ifTermStdin, "get-terminal-stdin"}, {ifTermStdout, "get-terminal-stdout"}, {ifTermStderr, "get-terminal-stderr"},
		{ifTermStdin02, "get-terminal-stdin"}, {ifTermStdout02, "get-terminal-stdout"}, {ifTermStderr02, "get-terminal-stderr"},
	} {
		b.fn(t.iface, t.name, func(*component.Call, []value) (value, error) { return component.None(), nil })
	}
}

func (b *binder) clocks() {
	b.fn(ifMonotonic, "now", func(c *component.Call, _ []value) (value, error) {
		return uint64(c.Task().World().Now()), nil
	})
	b.fn(ifMonotonic, "get-resolution", func(*component.Call, []value) (value, error) { return uint64(1), nil })
	sleep := func(c *component.Call, d time.Duration) (value, error) {
		w := c.Task().World()
		if d <= 0 {
			w.Yield()
			return nil, nil
		}
		q := w.NewWaitQueue("wait-for of " + c.Instance().Name())
		if st := c.Subtask(); st != nil {
			st.OnCancel(func() { q.Broadcast() })
		}
		timedOut, err := q.WaitTimeout("", d)
		if err != nil {
			return nil, err
		}
		if !timedOut {
			return nil, component.ErrCancelled
		}
		return nil, nil
	}
	b.blocking(ifMonotonic, "wait-for", func(c *component.Call, a []value) (value, error) {
		d, _ := a[0].(uint64)
		return sleep(c, time.Duration(min(d, uint64(maxSleep))))
	})
	b.blocking(ifMonotonic, "wait-until", func(c *component.Call, a []value) (value, error) {
		when, _ := a[0].(uint64)
		now := uint64(c.Task().World().Now())
		if when <= now {
			return sleep(c, 0)
		}
		return sleep(c, time.Duration(min(when-now, uint64(maxSleep))))
	})
	b.fn(ifSystem, "now", func(c *component.Call, _ []value) (value, error) {
		t, err := resultTypeOf(c)
		if err != nil {
			return nil, err
		}
		return instant(t, c.Task().World().WallNow())
	})
	b.fn(ifSystem, "get-resolution", func(*component.Call, []value) (value, error) { return uint64(1), nil })
	b.fn(ifTimezone, "iana-id", func(*component.Call, []value) (value, error) { return component.Some("UTC"), nil })
	b.fn(ifTimezone, "utc-offset", func(*component.Call, []value) (value, error) { return component.Some(int64(0)), nil })
	b.fn(ifTimezone, "to-debug-string", func(*component.Call, []value) (value, error) { return "UTC", nil })
}

// maxSleep bounds a guest's sleep, so virtual time cannot overflow.
const maxSleep = 100 * 365 * 24 * time.Hour

// maxRandomBytes bounds one request for random bytes: WASI lets a host
// return fewer than asked.
const maxRandomBytes = 1 << 20

func (b *binder) random() {
	bytes := func(c *component.Call, a []value) (value, error) {
		n, _ := a[0].(uint64)
		buf := make([]byte, min(n, maxRandomBytes))
		r := c.Task().World().Rand()
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		return buf, nil
	}
	u64 := func(c *component.Call, _ []value) (value, error) { return c.Task().World().Rand().Uint64(), nil }
	for _, iface := range []string{ifRandom, ifInsecure} {
		name := "get-random-bytes"
		nameU := "get-random-u64"
		if iface == ifInsecure {
			name, nameU = "get-insecure-random-bytes", "get-insecure-random-u64"
		}
		b.fn(iface, name, bytes)
		b.fn(iface, nameU, u64)
	}
	var seed []value
	b.fn(ifSeed, "get-insecure-seed", func(c *component.Call, _ []value) (value, error) {
		if seed == nil {
			r := c.Task().World().Rand()
			seed = []value{r.Uint64(), r.Uint64()}
		}
		return seed, nil
	})
}
