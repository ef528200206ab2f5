package hdf5

import (
	"os"
	"path/filepath"

	"github.com/pkg/errors"
)

// WriteFile writes f to path (see Write) through a temporary file in the
// same directory, renamed into place once complete and synced, so that a
// failure never leaves a partial file at path. An existing file keeps its
// permissions (a new one gets 0644); when path is a symbolic link, the
// file it points to is replaced and the link kept.
func (f *File) WriteFile(path string) (err error) {
	target, err := resolveLinks(path)
	if err != nil {
		return errors.Wrap(err, "hdf5: WriteFile")
	}
	perm := os.FileMode(0o644)
	if st, err := os.Stat(target); err == nil {
		perm = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp*")
	if err != nil {
		return errors.Wrap(err, "hdf5: WriteFile")
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = f.Write(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(perm); err != nil {
		return errors.Wrap(err, "hdf5: WriteFile")
	}
	if err = tmp.Sync(); err != nil {
		return errors.Wrap(err, "hdf5: WriteFile")
	}
	if err = tmp.Close(); err != nil {
		return errors.Wrap(err, "hdf5: WriteFile")
	}
	if err = os.Rename(tmp.Name(), target); err != nil {
		return errors.Wrap(err, "hdf5: WriteFile")
	}
	return nil
}

// resolveLinks follows symbolic links from path to the file they end at,
// which need not exist yet.
func resolveLinks(path string) (string, error) {
	for i := 0; i < 40; i++ {
		st, err := os.Lstat(path)
		if os.IsNotExist(err) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if st.Mode()&os.ModeSymlink == 0 {
			return path, nil
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return "", errors.Errorf("too many levels of symbolic links at %s", path)
}
