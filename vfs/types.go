package vfs

import (
	"strconv"
	"strings"
	"time"
)

// DescType is the WIT descriptor-type enum.
type DescType uint8

// The descriptor-type cases, in WIT order.
const (
	TypeUnknown         DescType = iota // unknown
	TypeBlockDevice                     // block-device
	TypeCharacterDevice                 // character-device
	TypeDirectory                       // directory
	TypeFIFO                            // fifo
	TypeSymbolicLink                    // symbolic-link
	TypeRegularFile                     // regular-file
	TypeSocket                          // socket
)

var typeNames = [...]string{"unknown", "block-device", "character-device", "directory", "fifo", "symbolic-link", "regular-file", "socket"}

// String is the WIT name of the type.
func (t DescType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "descriptor-type(" + itoa(uint64(t)) + ")"
}

// DescFlags is the WIT descriptor-flags set: the access mode of an OFD.
type DescFlags uint8

// The descriptor-flags bits, in WIT order.
const (
	Read               DescFlags = 1 << iota // read
	Write                                    // write
	FileIntegritySync                        // file-integrity-sync
	DataIntegritySync                        // data-integrity-sync
	RequestedWriteSync                       // requested-write-sync
	MutateDirectory                          // mutate-directory
)

var descFlagNames = [...]string{"read", "write", "file-integrity-sync", "data-integrity-sync", "requested-write-sync", "mutate-directory"}

// String lists the set flags in WIT notation, e.g. "read|write".
func (f DescFlags) String() string { return flagString(uint8(f), descFlagNames[:]) }

// PathFlags is the WIT path-flags set.
type PathFlags uint8

// SymlinkFollow makes a path operation follow a symbolic link in the last
// component of the path. Links in earlier components are always followed.
const SymlinkFollow PathFlags = 1

// String is "symlink-follow" or "".
func (f PathFlags) String() string { return flagString(uint8(f), []string{"symlink-follow"}) }

// OpenFlags is the WIT open-flags set.
type OpenFlags uint8

// The open-flags bits, in WIT order.
const (
	OpenCreate    OpenFlags = 1 << iota // create
	OpenDirectory                       // directory
	OpenExclusive                       // exclusive
	OpenTruncate                        // truncate
)

// String lists the set flags, e.g. "create|exclusive".
func (f OpenFlags) String() string {
	return flagString(uint8(f), []string{"create", "directory", "exclusive", "truncate"})
}

func flagString(v uint8, names []string) string {
	var parts []string
	for i, n := range names {
		if v&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if rest := v &^ (1<<len(names) - 1); rest != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(rest), 16))
	}
	return strings.Join(parts, "|")
}

// Advice is the WIT advice enum.
type Advice uint8

// The advice cases, in WIT order.
const (
	AdviceNormal Advice = iota
	AdviceSequential
	AdviceRandom
	AdviceWillNeed
	AdviceDontNeed
	AdviceNoReuse
)

// TimestampKind says what a NewTimestamp does.
type TimestampKind uint8

// The new-timestamp variant cases.
const (
	NoChange  TimestampKind = iota // leave the timestamp alone
	Now                            // set it to the clock's current time
	Timestamp                      // set it to NewTimestamp.Time
)

// NewTimestamp is the WIT new-timestamp variant used by SetTimes.
type NewTimestamp struct {
	Kind TimestampKind
	Time time.Time // used when Kind == Timestamp
}

// Stat is the WIT descriptor-stat record plus the inode and device numbers
// (which WASI exposes only through metadata-hash and is-same-object).
type Stat struct {
	Type      DescType
	LinkCount uint64
	Size      uint64
	Atime     time.Time
	Mtime     time.Time
	Ctime     time.Time
	Inode     uint64
	Device    uint64
}

// DirEntry is one entry of a directory listing.
type DirEntry struct {
	Name string
	Type DescType
}

// MetadataHash is the WIT metadata-hash-value record.
type MetadataHash struct {
	Lower, Upper uint64
}

// LockKind is the mode of an advisory lock.
type LockKind uint8

// Lock modes. LockNone is what an OFD without a lock holds.
const (
	LockNone LockKind = iota
	LockShared
	LockExclusive
)

// String is "none", "shared" or "exclusive".
func (k LockKind) String() string {
	switch k {
	case LockNone:
		return "none"
	case LockShared:
		return "shared"
	case LockExclusive:
		return "exclusive"
	}
	return "lock-kind(" + itoa(uint64(k)) + ")"
}

// Usage is the memory an FS accounts for: bytes of file and symlink data
// held in memory (the zero-filled tail of a file grown with SetSize is not
// held) and the number of live inodes (linked, or unlinked but open).
type Usage struct {
	Bytes  int64
	Inodes int64
}

// Clock supplies timestamps.
type Clock interface {
	Now() time.Time
}

// Limits.
const (
	// MaxNameLen is the longest path component, in bytes.
	MaxNameLen = 255
	// MaxPathLen is the longest path, in bytes.
	MaxPathLen = 4096
	// MaxSymlinkHops is how many symbolic links one resolution may follow.
	MaxSymlinkHops = 40
	// MaxFileSize is the largest logical file size (1 TiB). SetSize may
	// grow a file up to it without allocating; writing past it fails with
	// ErrFileTooLarge.
	MaxFileSize = 1 << 40
	// DefaultMaxFileBytes is the default for Options.MaxFileBytes.
	DefaultMaxFileBytes = 1 << 28
)
