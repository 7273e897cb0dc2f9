//go:build wasip1

// Command hello prints its arguments and environment, reads stdin, and
// exits with the code given by -exit (for the exit-code test).
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
)

func main() {
	fmt.Println("hello from", os.Args[0])
	for _, a := range os.Args[1:] {
		fmt.Println("arg", a)
	}
	fmt.Println("env GREETING =", os.Getenv("GREETING"))
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stdin:", err)
		os.Exit(3)
	}
	fmt.Printf("stdin %q\n", in)
	fmt.Fprintln(os.Stderr, "to stderr")
	if code := os.Getenv("EXIT"); code != "" {
		n, _ := strconv.Atoi(code)
		os.Exit(n)
	}
}
