package train

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
)

// atomicFile is a file written under a temporary name and renamed into
// place on commit, so that a failure never leaves a half-written file at
// the destination.
type atomicFile struct {
	*os.File
	path string
}

func createAtomic(path string) (*atomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o644); err != nil {
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
