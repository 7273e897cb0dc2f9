package host

import "slices"

// Environment is what wasi:cli/environment tells a guest.
type Environment struct {
	// Args is get-arguments: the program name, then the arguments.
	Args []string
	// Env is get-environment, as KEY, VALUE pairs in order.
	Env [][2]string
	// InitialCwd is get-initial-cwd ("" for none).
	InitialCwd string
}

// SetEnvironment sets what the instance's wasi:cli/environment calls
// return (a copy of e is kept). An instance starts with an empty
// environment.
func (in *Instance) SetEnvironment(e Environment) {
	in.env = Environment{Args: slices.Clone(e.Args), Env: slices.Clone(e.Env), InitialCwd: e.InitialCwd}
}

// Environment is wasi:cli/environment.get-environment.
func (in *Instance) Environment() ([][2]string, error) {
	if err := in.plainCall("environment.get-environment"); err != nil {
		return nil, err
	}
	return slices.Clone(in.env.Env), nil
}

// Arguments is wasi:cli/environment.get-arguments.
func (in *Instance) Arguments() ([]string, error) {
	if err := in.plainCall("environment.get-arguments"); err != nil {
		return nil, err
	}
	return slices.Clone(in.env.Args), nil
}

// InitialCwd is wasi:cli/environment.get-initial-cwd; ok is false for
// none.
func (in *Instance) InitialCwd() (cwd string, ok bool, err error) {
	if err := in.plainCall("environment.get-initial-cwd"); err != nil {
		return "", false, err
	}
	return in.env.InitialCwd, in.env.InitialCwd != "", nil
}

// TerminalStdin is wasi:cli/terminal-stdin.get-terminal-stdin. Stdio is
// never a terminal in the simulation, so ok is always false (no
// terminal-input handle is made).
func (in *Instance) TerminalStdin() (h Handle, ok bool, err error) {
	return 0, false, in.plainCall("terminal-stdin.get-terminal-stdin")
}

// TerminalStdout is wasi:cli/terminal-stdout.get-terminal-stdout; ok is
// always false, as for TerminalStdin.
func (in *Instance) TerminalStdout() (h Handle, ok bool, err error) {
	return 0, false, in.plainCall("terminal-stdout.get-terminal-stdout")
}

// TerminalStderr is wasi:cli/terminal-stderr.get-terminal-stderr; ok is
// always false, as for TerminalStdin.
func (in *Instance) TerminalStderr() (h Handle, ok bool, err error) {
	return 0, false, in.plainCall("terminal-stderr.get-terminal-stderr")
}

// plainCall starts a call that has no self: a scheduling point, then a
// trapped instance's calls fail.
func (in *Instance) plainCall(call string) error {
	in.h.w.Yield()
	return in.check(call)
}
