package train

import (
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// CSVLogger writes each epoch's logs to a CSV file as the epoch ends, as
// Keras's CSVLogger: a header "epoch" then the first epoch's log names
// sorted (with their "val_" forms added when that epoch logged none, as
// Keras does), one row per epoch (0-based), "NA" for a value an epoch did
// not log. Values are written as Keras writes them (Python's str() of a
// float), as History.CSV writes them; lines end in "\n" (Python's csv
// module, which Keras uses, ends them in "\r\n"). Separator
// defaults to ","; with Append an existing file is continued (and gets no
// second header), else it is replaced.
//
// The file is rewritten whole, atomically, at each epoch end (train/atomic.go):
// after a crash it holds the rows of the completed epochs, never half a row.
// A write that fails stops Fit with the error (see Failer).
type CSVLogger struct {
	BaseCallback
	Filename  string
	Separator string
	Append    bool

	content []byte
	keys    []string
	header  bool
	err     error
}

// CheckParams refuses an empty Filename, a directory, and a Separator that
// is empty after defaulting or holds a quote or a line break.
func (c *CSVLogger) CheckParams(Params) error {
	if c.Filename == "" {
		return errors.New("CSVLogger: no Filename given")
	}
	if st, err := os.Stat(c.Filename); err == nil && st.IsDir() {
		return errors.Errorf("CSVLogger: Filename %s is a directory", c.Filename)
	}
	if strings.ContainsAny(c.Separator, "\"\r\n") {
		return errors.Errorf("CSVLogger: Separator %q must not hold a quote or a line break", c.Separator)
	}
	return nil
}

// OnTrainBegin reads the file to continue (Append) or starts an empty one.
func (c *CSVLogger) OnTrainBegin(*Model, Params) {
	c.content, c.keys, c.header, c.err = nil, nil, true, nil
	if !c.Append {
		return
	}
	b, err := os.ReadFile(c.Filename)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		c.err = errors.Wrap(err, "CSVLogger")
	default:
		c.content = b
		first, _, _ := strings.Cut(string(b), "\n")
		c.header = first == ""
		if len(b) > 0 && b[len(b)-1] != '\n' {
			c.content = append(c.content, '\n')
		}
	}
}

// OnEpochEnd appends the epoch's row and rewrites the file.
func (c *CSVLogger) OnEpochEnd(epoch int, logs Logs) {
	if c.err != nil {
		return
	}
	sep := orDefault(c.Separator, ",")
	if c.keys == nil {
		c.keys = slices.Sorted(slices.Values(logs.Names))
		if !slices.ContainsFunc(c.keys, func(k string) bool { return strings.HasPrefix(k, "val_") }) {
			for _, k := range slices.Clone(c.keys) {
				c.keys = append(c.keys, "val_"+k)
			}
		}
		if c.header {
			c.content = append(c.content, strings.Join(append([]string{"epoch"}, c.keys...), sep)+"\n"...)
		}
	}
	row := []string{strconv.Itoa(epoch)}
	for _, k := range c.keys {
		if v, ok := logs.Get(k); ok {
			row = append(row, csvValue(v))
		} else {
			row = append(row, "NA")
		}
	}
	c.content = append(c.content, strings.Join(row, sep)+"\n"...)
	c.err = errors.Wrap(writeAtomic(c.Filename, func(w io.Writer) error { _, err := w.Write(c.content); return err }), "CSVLogger")
}

// Err is the error of the last write, if it failed.
func (c *CSVLogger) Err() error { return c.err }
