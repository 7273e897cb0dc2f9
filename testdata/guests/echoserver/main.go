//go:build wasip1

// Command echoserver accepts connections on a preopened listening socket
// (fd given as argument 1, default 3), echoes each connection's bytes
// until EOF, and exits after argument 2 connections (default 1). It uses
// Go's net package (net.FileListener), so accept, reads and writes are
// non-blocking calls driven by poll_oneoff.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
)

func main() {
	fd, conns := 3, 1
	if len(os.Args) > 1 {
		fd, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		conns, _ = strconv.Atoi(os.Args[2])
	}
	l, err := net.FileListener(os.NewFile(uintptr(fd), "listener"))
	if err != nil {
		fmt.Println("listener:", err)
		os.Exit(1)
	}
	for i := 0; i < conns; i++ {
		c, err := l.Accept()
		if err != nil {
			fmt.Println("accept:", err)
			os.Exit(1)
		}
		n, err := io.Copy(c, c)
		if err != nil {
			fmt.Println("copy:", err)
		}
		c.Close()
		fmt.Println("echoed", n, "bytes")
	}
	l.Close()
}
