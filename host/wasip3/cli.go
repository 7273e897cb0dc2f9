package wasip3

import (
	"time"

	"github.com/wasisim/wasisim/host"
	"github.com/wasisim/wasisim/host/component"
)

// environment converts get-environment's value.
func environment(env [][2]string) value {
	out := make([]value, len(env))
	for i, kv := range env {
		out[i] = []value{kv[0], kv[1]}
	}
	return out
}

// Environment is the wasi:cli/environment of a guest: the program name,
// then its arguments; its environment; its initial directory.
func (cfg Config) Environment() host.Environment {
	return host.Environment{Args: append([]string{cfg.Name}, cfg.Args...), Env: cfg.Env, InitialCwd: cfg.InitialCwd}
}

// exitStatus is the exit code of exit(status: result).
func exitStatus(v value) uint32 {
	if vv, ok := v.(component.VariantValue); ok && vv.Case != 0 {
		return 1
	}
	return 0
}

func (b *binder) cli() {
	cwd := func(c *component.Call, _ []value) (value, error) {
		d, ok, err := c.Instance().InitialCwd()
		if err != nil || !ok {
			return component.None(), err
		}
		return component.Some(d), nil
	}
	for _, env := range []string{ifEnv, ifEnv02} {
		b.fn(env, "get-environment", func(c *component.Call, _ []value) (value, error) {
			e, err := c.Instance().Environment()
			return environment(e), err
		})
		b.fn(env, "get-arguments", func(c *component.Call, _ []value) (value, error) {
			args, err := c.Instance().Arguments()
			out := make([]value, len(args))
			for i, a := range args {
				out[i] = a
			}
			return out, err
		})
		b.fn(env, "get-initial-cwd", cwd)
		b.fn(env, "initial-cwd", cwd)
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
	// Stdio is never a terminal in the simulation: the host says none.
	term := func(get func(*host.Instance) (host.Handle, bool, error)) fnImpl {
		return func(c *component.Call, _ []value) (value, error) {
			h, ok, err := get(c.Instance())
			if err != nil || !ok {
				return component.None(), err
			}
			return component.Some(uint32(h)), nil
		}
	}
	for _, t := range []struct {
		iface, name string
		get         func(*host.Instance) (host.Handle, bool, error)
	}{
		{ifTermStdin, "get-terminal-stdin", (*host.Instance).TerminalStdin},
		{ifTermStdout, "get-terminal-stdout", (*host.Instance).TerminalStdout},
		{ifTermStderr, "get-terminal-stderr", (*host.Instance).TerminalStderr},
		{ifTermStdin02, "get-terminal-stdin", (*host.Instance).TerminalStdin},
		{ifTermStdout02, "get-terminal-stdout", (*host.Instance).TerminalStdout},
		{ifTermStderr02, "get-terminal-stderr", (*host.Instance).TerminalStderr},
	} {
		b.fn(t.iface, t.name, term(t.get))
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
