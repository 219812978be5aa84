package ingest

import (
	"io/fs"
	"os"
	"path/filepath"
)

// listDir returns what replaces the directory dir in the list of inputs:
// its entries in name order, each directory to be listed in turn when it is
// reached. It follows symbolic links, to files and to directories alike, but
// lists each directory once per Replay, however it is reached: a link back
// to an ancestor (a loop) or to a directory already read adds nothing.
// Entries that are neither files nor directories — named pipes, sockets,
// devices — are left out, so that a stray FIFO in an archive cannot block a
// replay; given by name on the command line they are read like any file. A
// link that cannot be followed (dangling, a loop of links) is kept, so that
// opening it reports the error.
func (r *Replay) listDir(dir string) ([]string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return nil, err
	}
	if r.listed == nil {
		r.listed = make(map[string]bool)
	}
	if r.listed[real] {
		return nil, nil
	}
	r.listed[real] = true
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(entries))
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		mode := e.Type()
		if mode&fs.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil {
				paths = append(paths, p) // reported when opened
				continue
			}
			mode = fi.Mode().Type()
		}
		if mode.IsRegular() || mode.IsDir() {
			paths = append(paths, p)
		}
	}
	return paths, nil
}

// unwrapPath returns the error inside a *fs.PathError, whose path an
// InputError names already.
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
