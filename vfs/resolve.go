package vfs

import "strings"

// Path resolution is the security boundary of the file system. It follows
// the WASI path-resolution rules (wasi-filesystem path-resolution.md, the
// same model as cap-std): a path is resolved component by component
// against a stack of directories whose bottom is the base directory. ".."
// pops the stack and fails with ErrNotPermitted if that would pop the base,
// even when a later component would come back inside ("a/../../a"). A
// symbolic link is expanded in place, relative to the directory holding
// it, so a link can never reach above the base either; an absolute target
// or a leading "/" is ErrNotPermitted. The checks happen at access time, on
// the tree as it is then: creating a symlink to "/etc" succeeds, following
// it fails.

// lookup is the result of resolving a path.
type lookup struct {
	dir   *inode // the directory holding the last component
	name  string // the last component; "." or ".." if the path ends in one
	node  *inode // what the path names; nil if the last component does not exist
	slash bool   // the path ends in a slash: it must name a directory
	// createSlash: resolveCreate met a last component with a slash.
	createSlash bool
}

// resolveLocked resolves p relative to base. follow says whether a symbolic link
// in the last component is followed; links elsewhere, and a last component
// followed by a slash, are always followed. A missing last component is not
// an error: the result has node == nil and names the directory it would be
// created in.
//
// Preconditions: f.mu is held.
func (f *FS) resolveLocked(base *inode, p string, follow bool) (lookup, error) {
	return f.resolvePathLocked(base, p, follow, false, false)
}

// resolveCreateLocked is resolveLocked for open-at with create: a last component
// followed by a slash — in the path or in the target of a symlink it
// follows — is not looked up: lookup.createSlash reports it, and the open
// fails with is-directory, as Linux's O_CREAT does.
//
// Preconditions: f.mu is held.
func (f *FS) resolveCreateLocked(base *inode, p string, follow bool) (lookup, error) {
	return f.resolvePathLocked(base, p, follow, false, true)
}

// resolveEntryLocked resolves p for an operation on the directory entry itself
// (mkdir, rmdir, unlink, rename, link, symlink, and open with create): the
// last component is never followed, even with a trailing slash, and a
// trailing slash after a non-directory is reported (lookup.slash) for the
// caller to refuse, as Linux does ("rmdir l/" on a symlink is ENOTDIR; it
// does not remove the link's target).
//
// A trailing slash after a symlink still counts for the sandbox: if
// following the link would leave the base, the path is ErrNotPermitted
// (as in Wasmtime), whatever the operation.
//
// Preconditions: f.mu is held.
func (f *FS) resolveEntryLocked(base *inode, p string) (lookup, error) {
	lk, err := f.resolvePathLocked(base, p, false, true, false)
	if err == nil && lk.slash && lk.node != nil && lk.node.typ == TypeSymbolicLink {
		if _, ferr := f.resolvePathLocked(base, p, true, false, false); ferr == ErrNotPermitted {
			return lookup{}, ErrNotPermitted
		}
	}
	return lk, err
}

// resolvePathLocked is the walk behind the resolve functions.
//
// Preconditions: f.mu is held.
func (f *FS) resolvePathLocked(base *inode, p string, follow, entry, create bool) (lookup, error) {
	if p == "" {
		return lookup{}, ErrNoEntry
	}
	if len(p) > MaxPathLen {
		return lookup{}, ErrNameTooLong
	}
	if strings.IndexByte(p, 0) >= 0 {
		return lookup{}, ErrInvalid // no host path holds a NUL (see SymlinkAt)
	}
	if p[0] == '/' {
		return lookup{}, ErrNotPermitted
	}
	if base.typ != TypeDirectory {
		return lookup{}, ErrNotDirectory
	}
	var buf [16]*inode
	stack := append(buf[:0], base)
	hops := 0
	s := p
	for {
		i := 0
		for i < len(s) && s[i] == '/' {
			i++
		}
		s = s[i:]
		comp, rest := s, ""
		for j := 0; j < len(s); j++ {
			if s[j] == '/' {
				comp, rest = s[:j], s[j:]
				break
			}
		}
		last := onlySlashes(rest)
		slash := last && rest != ""
		top := stack[len(stack)-1]
		if len(comp) > MaxNameLen {
			return lookup{}, ErrNameTooLong
		}
		switch comp {
		case "":
			// Only reachable when a symlink target expanded to slashes,
			// which is an absolute path; a leading slash was refused above.
			return lookup{}, ErrNotPermitted
		case ".":
			if last {
				return lookup{dir: top, name: ".", node: top, slash: slash}, nil
			}
			s = rest
			continue
		case "..":
			if len(stack) == 1 {
				return lookup{}, ErrNotPermitted
			}
			stack = stack[:len(stack)-1]
			if last {
				t := stack[len(stack)-1]
				return lookup{dir: t, name: "..", node: t, slash: slash}, nil
			}
			s = rest
			continue
		}
		if create && slash {
			return lookup{dir: top, name: comp, slash: true, createSlash: true}, nil
		}
		child := top.lookup(comp)
		if child == nil {
			if last {
				return lookup{dir: top, name: comp, slash: slash}, nil
			}
			return lookup{}, ErrNoEntry
		}
		switch child.typ {
		case TypeSymbolicLink:
			if last && (entry || !follow && !slash) {
				return lookup{dir: top, name: comp, node: child, slash: slash}, nil
			}
			hops++
			if hops > MaxSymlinkHops {
				return lookup{}, ErrLoop
			}
			target := string(child.bytes())
			if target == "" {
				return lookup{}, ErrNoEntry
			}
			if target[0] == '/' {
				return lookup{}, ErrNotPermitted
			}
			if len(target)+len(rest) > MaxPathLen {
				return lookup{}, ErrNameTooLong
			}
			s = target + rest
		case TypeDirectory:
			if last {
				return lookup{dir: top, name: comp, node: child, slash: slash}, nil
			}
			stack = append(stack, child)
			s = rest
		default:
			if last && (entry || !slash) {
				return lookup{dir: top, name: comp, node: child, slash: slash}, nil
			}
			return lookup{}, ErrNotDirectory
		}
	}
}

func onlySlashes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '/' {
			return false
		}
	}
	return true
}
