package train

import (
	"bufio"
	"io"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
)

// atomicFile is a file written under a temporary name and renamed into
// place on commit, so that a failure never leaves a half-written file at
// the destination.
type atomicFile struct {
	*os.File
	path string
}

// createAtomic starts writing path. A symbolic link at path is followed
// (its target is replaced, the link kept); an existing file keeps its
// permission bits (a new one gets 0644). An empty path or a directory is
// an error saying so.
func createAtomic(path string) (*atomicFile, error) {
	if path == "" {
		return nil, errors.New("no file name given (the path is empty)")
	}
	mode := os.FileMode(0o644)
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() {
			return nil, errors.Errorf("%s is a directory, not a file name", path)
		}
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		// The temporary name means nothing to the caller: say what failed.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, errors.Errorf("cannot create %s in directory %s: %v", filepath.Base(path), filepath.Dir(path), err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &atomicFile{File: f, path: path}, nil
}

// commit flushes the file to disk and renames it into place.
func (f *atomicFile) commit() error {
	if err := f.Sync(); err != nil {
		f.abort()
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), f.path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// abort removes the temporary file.
func (f *atomicFile) abort() {
	f.Close()
	os.Remove(f.Name())
}

// writeAtomic writes path through write, buffered, under a temporary name
// that is renamed into place only once write and the flush succeed.
func writeAtomic(path string, write func(w io.Writer) error) error {
	f, err := createAtomic(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err = write(bw); err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.abort()
		return err
	}
	return f.commit()
}
