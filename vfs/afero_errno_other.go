//go:build !unix

package vfs

import "io/fs"

// osError converts a vfs error for the afero adapter: os.IsNotExist and
// os.IsExist only recognise errnos or the io/fs sentinels themselves, so
// the codes they test become those sentinels; others stay ErrorCodes.
func osError(err error) error {
	switch err {
	case ErrNoEntry:
		return fs.ErrNotExist
	case ErrExist:
		return fs.ErrExist
	case ErrAccess, ErrNotPermitted:
		return fs.ErrPermission
	}
	return err
}
