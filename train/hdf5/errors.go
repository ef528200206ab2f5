package hdf5

import (
	"fmt"

	"github.com/pkg/errors"
)

// ErrorKind says why a file was refused.
type ErrorKind int

const (
	// Corrupt: the file breaks the HDF5 format (truncated, a bad
	// signature, a size or address that does not fit, a cycle, ...).
	Corrupt ErrorKind = iota
	// Unsupported: the file is valid HDF5 but uses a feature outside the
	// subset this package implements.
	Unsupported
	// NotKeras: strict mode only; the file is inside the subset but is not
	// laid out the way Keras (h5py on the HDF5 library) lays it out.
	NotKeras
	// Invalid: a tree given to the writer cannot be written.
	Invalid
)

// String names the kind as it appears in error messages.
func (k ErrorKind) String() string {
	return enumName(int(k), "ErrorKind", "corrupt file", "unsupported feature", "not as Keras writes it", "cannot write")
}

// enumName is names[v], or type(v) for a value without a name.
func enumName(v int, typ string, names ...string) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}

// Error is the error the reader and the writer return for a file or a tree
// they refuse. Retrieve it with errors.As (the package wraps it with a stack
// trace from github.com/pkg/errors).
type Error struct {
	Kind ErrorKind
	// Path is the object path where the problem was met ("/" for the root
	// group, "/layers/dense/vars/0" for a dataset), empty for problems of
	// the file as a whole (its superblock, its size).
	Path string
	// Offset is the file offset where the problem was met, or -1.
	Offset int64
	// Msg says what was expected and what was found; for Unsupported it
	// names the feature.
	Msg string
}

// Error formats the error as "hdf5: PATH: KIND: MSG (at offset N)".
func (e *Error) Error() string {
	s := "hdf5: "
	if e.Path != "" {
		s += e.Path + ": "
	}
	s += e.Kind.String() + ": " + e.Msg
	if e.Offset >= 0 {
		s += fmt.Sprintf(" (at offset %d)", e.Offset)
	}
	return s
}

// newError builds an *Error wrapped with a stack trace.
func newError(kind ErrorKind, path string, off int64, format string, args ...any) error {
	return errors.WithStack(&Error{Kind: kind, Path: path, Offset: off, Msg: fmt.Sprintf(format, args...)})
}

// corrupt reports a violation of the HDF5 format at file offset off.
func corrupt(path string, off int64, format string, args ...any) error {
	return newError(Corrupt, path, off, format, args...)
}

// unsupported reports an HDF5 feature outside the package's subset.
func unsupported(path string, off int64, format string, args ...any) error {
	return newError(Unsupported, path, off, format, args...)
}

// invalid reports a tree the writer refuses.
func invalid(path string, format string, args ...any) error {
	return newError(Invalid, path, -1, format, args...)
}
