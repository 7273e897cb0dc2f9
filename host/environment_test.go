package host

import (
	"fmt"
	"slices"
	"testing"
)

// wasi:cli/environment and terminal-* on the Go API: what SetEnvironment
// gave, copied; never a terminal.
func TestEnvironmentAndTerminals(t *testing.T) {
	runGuest(t, Options{}, 3, func(h *Host, in *Instance) error {
		if env, err := in.Environment(); len(env) != 0 || err != nil {
			return fmt.Errorf("fresh instance's environment: %v %v", env, err)
		}
		if _, ok, _ := in.InitialCwd(); ok {
			return fmt.Errorf("fresh instance has an initial cwd")
		}
		args := []string{"prog", "a b", ""}
		env := [][2]string{{"K", "v"}, {"EMPTY", ""}}
		in.SetEnvironment(Environment{Args: args, Env: env, InitialCwd: "/work"})
		args[0], env[0][1] = "changed", "changed" // SetEnvironment kept a copy
		got, err := in.Arguments()
		if err != nil || !slices.Equal(got, []string{"prog", "a b", ""}) {
			return fmt.Errorf("arguments %q %v", got, err)
		}
		got[0] = "mine" // and so does each getter's result
		if again, _ := in.Arguments(); again[0] != "prog" {
			return fmt.Errorf("a caller changed the instance's arguments: %q", again)
		}
		if e, _ := in.Environment(); !slices.Equal(e, [][2]string{{"K", "v"}, {"EMPTY", ""}}) {
			return fmt.Errorf("environment %q", e)
		}
		if d, ok, _ := in.InitialCwd(); d != "/work" || !ok {
			return fmt.Errorf("initial cwd %q %v", d, ok)
		}
		for _, term := range []func() (Handle, bool, error){in.TerminalStdin, in.TerminalStdout, in.TerminalStderr} {
			if h, ok, err := term(); h != 0 || ok || err != nil {
				return fmt.Errorf("a terminal: %v %v %v", h, ok, err)
			}
		}
		in.Close()
		if _, err := in.Environment(); err == nil {
			return fmt.Errorf("a closed instance read its environment")
		}
		return nil
	})
}
