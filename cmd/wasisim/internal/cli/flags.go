package cli

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// Defaults of the limits of a wasm run. A guest is hostile until shown
// otherwise: each limit stops one way it could exhaust the machine.
const (
	// DefaultFuel is the work a guest module may do: one unit per
	// function call and loop iteration, about one to ten seconds of
	// computing here, depending on the loop.
	DefaultFuel = 1_000_000_000
	// DefaultMaxMemory caps each linear memory of a guest.
	DefaultMaxMemory = 512 << 20
	// DefaultMaxFSBytes and DefaultMaxFSInodes bound the world's file
	// system: the --dir trees copied in and what the guest writes.
	DefaultMaxFSBytes  = 1 << 30
	DefaultMaxFSInodes = 1_000_000
)

// sizeFlag is a size in bytes, written as a number with an optional
// unit: 65536, 64KiB, 512MiB, 1GiB (KB, MB and GB are the same units).
type sizeFlag int64

func (s *sizeFlag) String() string { return formatSize(int64(*s)) }

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

var sizeUnits = []struct {
	suffix string
	shift  uint
}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"KB", 10}, {"MB", 20}, {"GB", 30}, {"TB", 40}, {"K", 10}, {"M", 20}, {"G", 30}, {"T", 40}, {"B", 0}}

func parseSize(v string) (int64, error) {
	num, shift := strings.TrimSpace(v), uint(0)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, shift = strings.TrimSpace(n), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("want a size such as 65536, 64KiB, 512MiB or 1GiB")
	}
	return n << shift, nil
}

func formatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// writeBackFlag is --dir-write-back: a boolean flag that also takes
// "always".
type writeBackFlag string

func (w *writeBackFlag) String() string   { return string(*w) }
func (w *writeBackFlag) IsBoolFlag() bool { return true }

func (w *writeBackFlag) Set(v string) error {
	switch v {
	case "true", "1", "success":
		*w = "success"
	case "false", "0", "":
		*w = ""
	case "always":
		*w = "always"
	default:
		return fmt.Errorf("want --dir-write-back (after a successful run) or --dir-write-back=always")
	}
	return nil
}

// limitFlags are the limits of a wasm run, shared by run and explore.
type limitFlags struct {
	maxSteps   int64
	fuel       uint64
	maxMemory  sizeFlag
	maxFSBytes sizeFlag
	maxFSNodes int64
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	l.maxMemory, l.maxFSBytes = DefaultMaxMemory, DefaultMaxFSBytes
	fs.Int64Var(&l.maxSteps, "max-steps", 0, "wasm: scheduling steps a run may take, host calls included (0: 1000000)")
	fs.Uint64Var(&l.fuel, "fuel", DefaultFuel, "wasm: work a guest may do, one unit per function call and loop iteration; a guest that spends it all stops, at the same point in every run (exit 124; 0: no limit)")
	fs.Var(&l.maxMemory, "max-memory", "wasm: cap of each linear memory of the guest; memory.grow fails past it")
	fs.Var(&l.maxFSBytes, "max-fs-bytes", "wasm: bytes the world's file system may hold, --dir trees included (0: no limit)")
	fs.Int64Var(&l.maxFSNodes, "max-fs-inodes", DefaultMaxFSInodes, "wasm: files, directories and links the world's file system may hold (0: no limit)")
}

// check validates the limits.
func (l *limitFlags) check() error {
	if l.maxSteps < 0 || l.maxFSNodes < 0 {
		return usagef("--max-steps and --max-fs-inodes must not be negative")
	}
	if l.maxMemory < 1<<16 || l.maxMemory > 1<<32 {
		return usagef("--max-memory %s: want from 64KiB to 4GiB", formatSize(int64(l.maxMemory)))
	}
	return nil
}

// pages is the memory cap in 64 KiB pages.
func (l *limitFlags) pages() uint32 { return uint32(l.maxMemory >> 16) }
