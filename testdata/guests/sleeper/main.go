//go:build wasip1

// Command sleeper reads the clocks, sleeps, and reads them again; on
// wasisim the times are virtual, so the output is exact.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	start := time.Now()
	fmt.Println("start", start.UTC().Format(time.RFC3339Nano))
	time.Sleep(1500 * time.Millisecond)
	fmt.Println("slept", time.Since(start))
	t := time.NewTimer(250 * time.Millisecond)
	<-t.C
	fmt.Println("timer", time.Since(start))
	fmt.Println("end", time.Now().UTC().Format(time.RFC3339Nano))
	os.Exit(0)
}
