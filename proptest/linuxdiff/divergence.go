package linuxdiff

import "strings"

// Divergence is one deliberate difference between Linux and WASI as
// wasisim models it: something WASI specifies differently, or a choice
// wasisim documents where WASI leaves room. The harness refers to a row by
// its ID wherever it maps the difference, and counts how often each row
// was needed.
type Divergence struct {
	ID      string // short name used by the harness, e.g. "F1"
	Area    string // "files" or "sockets"
	Case    string // the situation
	Linux   string // what the kernel does
	WASI    string // what WASI / wasisim does, and where that is specified
	Mapping string // what the harness does about it
}

// Divergences is the one table of deliberate differences. README.md
// carries the same table (TestREADMETable keeps them equal); any
// difference not covered by a row fails the tests.
var Divergences = []Divergence{
	{"F1", "files", "a path that leaves the base directory: `..` above the base (even temporarily, `a/../../a`), an absolute path or symlink target, a symlink that resolves outside (also the last one, when an operation on the entry itself — mkdir, rmdir, unlink, rename, link, symlink — names it with a trailing slash, as Wasmtime does; Linux then acts on the link)",
		"resolves it (the harness detects it with openat2 RESOLVE_BENEATH, which fails with EXDEV)",
		"`not-permitted`, checked at access time (vfs doc: WASI path resolution)",
		"vfs must answer `not-permitted`; the kernel call is not made (the base is itself inside a private directory, so nothing outside the test can be touched)"},
	{"F2", "files", "read-directory", "getdents lists `.` and `..`, in hash order",
		"omitted; wasisim returns entries sorted by name (vfs doc)",
		"`.` and `..` are dropped from the kernel listing and both listings are sorted"},
	{"F3", "files", "a base descriptor without `mutate-directory` used to change the tree",
		"has no per-descriptor capability: the change happens",
		"`read-only` (vfs doc); link-at from such a base is `not-permitted`, as in Wasmtime (the new name would be a writable path to a file its holder may only read)",
		"vfs must answer `read-only` (`not-permitted` for link-at from it); the kernel call is not made"},
	{"F4", "files", "open-at with `directory` and `create`, `exclusive` or `truncate`",
		"EINVAL only with O_CREAT; O_EXCL is ignored without O_CREAT; O_TRUNC gives EISDIR/ENOTDIR/ENOENT",
		"`invalid` (vfs OpenAt doc)",
		"vfs must answer `invalid`, whatever the kernel says (a descriptor the kernel opened is closed)"},
	{"F5", "files", "open-at access mode",
		"O_RDONLY/O_WRONLY/O_RDWR exactly as given",
		"`create` and `truncate` imply write, empty flags mean read, write does not imply read (vfs OpenAt doc)",
		"the kernel is opened with the access mode vfs will have (input mapping, never a result difference)"},
	{"F6", "files", "append",
		"O_APPEND is a property of the open file description (and makes pwrite append too, pwrite(2) BUGS)",
		"no append flag; append-via-stream appends per call",
		"append is write(2) with O_APPEND set by fcntl for that one call; an fd the sequence opened with O_APPEND maps every pwrite to vfs Append"},
	{"F7", "files", "write or append on a directory descriptor",
		"EBADF (a directory can only be opened read-only)",
		"`is-directory` (vfs doc: reading or writing a directory is is-directory)",
		"kernel EBADF is accepted for vfs `is-directory` on a directory"},
	{"F8", "files", "set-size (ftruncate) on a descriptor without write, or on a directory",
		"EINVAL",
		"`bad-descriptor` without write, `is-directory` on a directory (vfs doc, as for writes)",
		"kernel EINVAL is accepted for those two vfs codes in exactly those two cases"},
	{"F9", "files", "a non-blocking flock upgrade (shared to exclusive) that conflicts",
		"EWOULDBLOCK and the shared lock is gone (flock(2): conversion is not atomic)",
		"`would-block` and the shared lock is kept (vfs lock.go, documented)",
		"after the failure the harness re-takes LOCK_SH|LOCK_NB on the kernel descriptor (which must succeed) so both hold a shared lock again"},
	{"F10", "files", "POSIX record locks (fcntl F_SETLK, lockf)",
		"exist, owned by the process",
		"no lock API in WASI 0.3; wasisim models only flock-style locks owned by the open file description",
		"not generated; only flock is compared"},
	{"F11", "files", "metadata that is file-system specific: a directory's size, timestamps, inode numbers",
		"ext4 reports 4096-byte directories; real clocks; real inode numbers",
		"vfs directories have size 0; timestamps come from the world's clock; inodes are numbered from 1",
		"not compared; hard links are compared as the partition of names into inodes"},
	{"F12", "files", "rename-at whose old or new last component is `.` or `..`",
		"EBUSY, checked before anything else",
		"`invalid` (vfs RenameAt doc), after the checks for a missing source and the like",
		"kernel EBUSY is accepted for any vfs error in that case"},
	{"S1", "sockets", "a method called in a state WASI forbids (bind twice, listen twice or after connect, connect on a listener or after a failed connect, accept/send/receive/shutdown unconnected)",
		"EINVAL, EISCONN, EPIPE or ENOTCONN, or success (listen twice; connect again after ECONNREFUSED)",
		"`invalid-state`, nothing changes; a failed connect leaves the socket closed (vnet doc)",
		"the harness tracks the WASI state; vnet must answer `invalid-state` and the kernel call is not made"},
	{"S2", "sockets", "connect to the unspecified address (0.0.0.0, ::) or to port 0",
		"connects to the local host / fails later",
		"`invalid-argument` (WASI tcp-socket connect)",
		"vnet must answer `invalid-argument`; the kernel call is not made"},
	{"S3", "sockets", "address reuse and address families",
		"SO_REUSEADDR and IPV6_V6ONLY are off by default",
		"implicit SO_REUSEADDR (bind is not blocked by a recently closed socket); IPv6 sockets are v6-only (vnet doc)",
		"every kernel socket gets SO_REUSEADDR and (IPv6) IPV6_V6ONLY before its first use (input mapping)"},
	{"S4", "sockets", "shutdown of the receive side",
		"SHUT_RD: buffered and later data still arrive and can be read; closing with that data unread sends RST; once both halves are shut down, data that arrives is answered with RST (the sender's next send fails)",
		"unread and later bytes are discarded and reads end; the peer's writes keep succeeding, unless writing was shut down too: then, as in Linux, the first data that arrives resets the connection (dropping the receive stream; vnet doc)",
		"after SHUT_RD the harness drains the kernel socket instead of reading it, and vnet must report end of stream"},
	{"S5", "sockets", "a write to a connection whose peer has closed",
		"the first send succeeds (the peer answers with RST); later ones fail",
		"`connection-broken` at once (vnet doc)",
		"kernel success, EPIPE or ECONNRESET is accepted for vnet `connection-broken`; afterwards the kernel socket counts as reset"},
	{"S6", "sockets", "errors after a reset",
		"ECONNRESET is reported once (the pending socket error); later sends get EPIPE and receives end of file",
		"`connection-reset` is sticky (vnet doc)",
		"once the kernel reported ECONNRESET, EPIPE and end of file are accepted for vnet `connection-reset`"},
	{"S7", "sockets", "connect from a bound socket to its own address and port",
		"succeeds: TCP simultaneous open connects the socket to itself (even when a socket listens there)",
		"`connection-refused`: nobody is listening there (vnet doc)",
		"vnet must answer `connection-refused`; the kernel's answer is not compared and the socket counts as closed (S1). With a listener on that port Linux still connects the socket to itself while vnet connects it to the listener; the generator does not draw that case, as the harness could not mirror the two accept queues"},
	{"S8", "sockets", "connect from an explicitly bound address:port whose connection to the same remote was closed less than a second ago",
		"EADDRNOTAVAIL: the 4-tuple is in TIME_WAIT (tcp_tw_reuse lets loopback reuse it after 1 s)",
		"no TIME_WAIT (vnet doc: a released socket never blocks a new bind)",
		"kernel EADDRNOTAVAIL is accepted when no open connection has that 4-tuple (that would be bug SB1); if vnet connected, the sequence ends there, since the kernel cannot follow"},
}

// DivergenceByID returns the row with the given ID.
func DivergenceByID(id string) (Divergence, bool) {
	for _, d := range Divergences {
		if d.ID == id {
			return d, true
		}
	}
	return Divergence{}, false
}

// MarkdownTable renders Divergences as the markdown table README.md holds.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| ID | area | case | Linux | WASI / wasisim | harness |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, d := range Divergences {
		cells := []string{d.ID, d.Area, d.Case, d.Linux, d.WASI, d.Mapping}
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}
