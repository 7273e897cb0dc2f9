// Command wasisim runs, explores, replays, shrinks and shows runs of .wsim
// scenarios on wasisim's deterministic world. Run "wasisim help" for the
// commands; with no arguments it runs the demo.
package main

import (
	"io"
	"os"

	"github.com/wasisim/wasisim/cmd/wasisim/internal/cli"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is the whole command with its streams, so tests can run it in-process.
func run(args []string, stdout, stderr io.Writer) int { return cli.Main(args, stdout, stderr) }
