//go:build wasip1

// Command manyfiles is the file-heavy benchmark guest: it creates N files
// (argument 1, default 1000), writes each, reads each back, lists the
// directory and removes them.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	n := 1000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	dir := "/bench"
	if err := os.Mkdir(dir, 0o755); err != nil {
		fmt.Println("mkdir:", err)
		os.Exit(1)
	}
	data := make([]byte, 256)
	for i := range data {
		data[i] = byte(i)
	}
	for i := 0; i < n; i++ {
		if err := os.WriteFile(fmt.Sprintf("%s/f%04d", dir, i), data, 0o644); err != nil {
			fmt.Println("write:", err)
			os.Exit(1)
		}
	}
	total := 0
	for i := 0; i < n; i++ {
		b, err := os.ReadFile(fmt.Sprintf("%s/f%04d", dir, i))
		if err != nil {
			fmt.Println("read:", err)
			os.Exit(1)
		}
		total += len(b)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		fmt.Println("readdir:", err)
		os.Exit(1)
	}
	for _, e := range ents {
		if err := os.Remove(dir + "/" + e.Name()); err != nil {
			fmt.Println("remove:", err)
			os.Exit(1)
		}
	}
	fmt.Println("files", n, "bytes", total, "listed", len(ents))
}
