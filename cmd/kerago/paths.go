package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// checkOutputPath checks, before any work, a file a command will write
// (flag names it in errors): none (empty path) is fine; otherwise the path
// must end in one of exts (when any are given), must not be a directory,
// and its directory must exist.
func checkOutputPath(flag, path string, exts ...string) error {
	if path == "" {
		return nil
	}
	if len(exts) > 0 && !isExt(path, exts...) {
		return errors.Errorf("%s %s: want a %s file", flag, path, strings.Join(exts, " or "))
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return errors.Errorf("%s %s is a directory, not a file name", flag, path)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return errors.Errorf("%s %s: no directory %s to write it in", flag, path, filepath.Dir(path))
	}
	return nil
}

// checkDataDir checks --data, when given: an existing directory.
func checkDataDir(dir string) error {
	if dir == "" {
		return nil
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return errors.Errorf("--data %s: no such directory", dir)
	}
	return nil
}

// checkInputFile checks, before any work, a file a command will read (flag
// names it in errors): none (empty path) is fine; otherwise it must end in
// one of exts (when any are given) and be an existing file.
func checkInputFile(flag, path string, exts ...string) error {
	if path == "" {
		return nil
	}
	if len(exts) > 0 && !isExt(path, exts...) {
		return errors.Errorf("%s %s: want a %s file", flag, path, strings.Join(exts, " or "))
	}
	if st, err := os.Stat(path); err != nil || st.IsDir() {
		return errors.Errorf("%s %s: no such file", flag, path)
	}
	return nil
}
