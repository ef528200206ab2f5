package train

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/pkg/errors"
	"github.com/sbinet/npyio/npy"
)

// CSVOptions describe a CSV file for FromCSV.
type CSVOptions struct {
	// BatchSize is the number of rows per batch (default 32).
	BatchSize int
	// Label is the column of the target (0-based; negative counts from
	// the end: -1, the default, is the last column). NoLabel reads every
	// column as an input (for Predict).
	Label   int
	NoLabel bool
	// Comma is the field separator (default ',').
	Comma rune
}

// FromCSV is a Dataset of the rows of a CSV file, read lazily BatchSize
// rows at a time: every column but the label is an input value (float64,
// per-sample shape (columns-1,)), the label column the target. A first row
// with no numeric cell is a header and is skipped. Each pass reads the file
// from its start. Errors name the file, line and column.
func FromCSV(path string, opts CSVOptions) *Dataset {
	if opts.BatchSize == 0 {
		opts.BatchSize = 32
	}
	if opts.Label == 0 && !opts.NoLabel {
		opts.Label = -1
	}
	if opts.Comma == 0 {
		opts.Comma = ','
	}
	return &Dataset{name: "FromCSV " + path, open: func() (batchSource, error) {
		if opts.BatchSize < 0 {
			return nil, errors.Errorf("batch size must be positive, got %d", opts.BatchSize)
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		r := csv.NewReader(bufio.NewReader(f))
		r.Comma, r.FieldsPerRecord, r.TrimLeadingSpace, r.ReuseRecord = opts.Comma, -1, true, true
		return &csvSource{f: f, r: r, opts: opts}, nil
	}}
}

// csvSource reads a CSV file's rows in batches.
type csvSource struct {
	f      *os.File
	r      *csv.Reader
	opts   CSVOptions
	cols   int
	rows   int
	header bool
}

func (s *csvSource) next() (*dataset, error) {
	var xs, ys []float64
	n := 0
	for n < s.opts.BatchSize {
		rec, err := s.r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := s.r.FieldPos(0)
		if s.rows == 0 && !s.header && csvHeader(rec) {
			s.header = true
			continue
		}
		if s.cols == 0 {
			s.cols = len(rec)
			if !s.opts.NoLabel && s.cols < 2 {
				return nil, errors.Errorf("line %d has %d column; want the inputs and a label", line, s.cols)
			}
		}
		if len(rec) != s.cols {
			return nil, errors.Errorf("line %d has %d columns, the first row %d", line, len(rec), s.cols)
		}
		label := -1
		if !s.opts.NoLabel {
			if label = s.opts.Label; label < 0 {
				label += s.cols
			}
			if label < 0 || label >= s.cols {
				return nil, errors.Errorf("label column %d is outside the %d columns", s.opts.Label, s.cols)
			}
		}
		for col, cell := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(cell), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, errors.Errorf("line %d, column %d: %q is not a finite number", line, col+1, cell)
			}
			if col == label {
				ys = append(ys, v)
			} else {
				xs = append(xs, v)
			}
		}
		n++
		s.rows++
	}
	if n == 0 {
		return nil, io.EOF
	}
	width := len(xs) / n
	d := &dataset{n: n, xs: []*array{{n: n, shape: []int{width}, data: xs, finite: true}}}
	if !s.opts.NoLabel {
		d.ys = []*array{{n: n, shape: []int{1}, data: ys, finite: true}}
	}
	return d, nil
}

func (s *csvSource) close() { s.f.Close() }

// csvHeader reports whether no cell of rec is a number.
func csvHeader(rec []string) bool {
	for _, cell := range rec {
		if _, err := strconv.ParseFloat(strings.TrimSpace(cell), 64); err == nil {
			return false
		}
	}
	return true
}

// FromNPY is a Dataset of the NPY arrays in xPath and yPath (yPath empty:
// inputs only, for Predict), C order, read lazily batchSize samples at a
// time: axis 0 is the samples, and both files must hold as many. float32
// files stay float32; integer files become float64 (see ReadNPY). Each pass
// reads the files from their start.
func FromNPY(xPath, yPath string, batchSize int) *Dataset {
	return &Dataset{name: "FromNPY " + xPath, open: func() (batchSource, error) {
		if batchSize <= 0 {
			return nil, errors.Errorf("batch size must be positive, got %d", batchSize)
		}
		x, err := openNPYRows(xPath)
		if err != nil {
			return nil, err
		}
		s := &npySource{x: x, batch: batchSize}
		if yPath != "" {
			if s.y, err = openNPYRows(yPath); err != nil {
				x.close()
				return nil, err
			}
			if s.y.rows != x.rows {
				s.close()
				return nil, errors.Errorf("%s holds %d samples, %s %d", xPath, x.rows, yPath, s.y.rows)
			}
		}
		return s, nil
	}}
}

// npyRows reads an NPY file's rows (samples) in order.
type npyRows struct {
	path      string
	f         *os.File
	r         *npy.Reader
	h         *npyHeader
	full      *fullReader
	rows, row int
	rowSize   int
}

// openNPYRows opens path and checks its header (C order, at least one axis,
// the data's size against the file's).
func openNPYRows(path string) (*npyRows, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	br := bufio.NewReader(f)
	h, err := readNPYHeader(br, uint64(st.Size()))
	if err == nil && (h.fortran && len(h.shape) > 1 || len(h.shape) == 0) {
		err = errors.New("want a C-order array with the samples on axis 0")
	}
	if err == nil && uint64(st.Size())-uint64(len(h.raw)) != h.size*h.item {
		err = errors.Errorf("shape %v needs %d bytes of data, the file holds %d", h.shape, h.size*h.item, uint64(st.Size())-uint64(len(h.raw)))
	}
	if err != nil {
		f.Close()
		return nil, errors.Wrap(err, path)
	}
	full := &fullReader{r: br}
	rowSize := 1
	for _, d := range h.shape[1:] {
		rowSize *= d
	}
	rows := &npyRows{path: path, f: f, h: h, full: full, rows: h.shape[0], rowSize: rowSize}
	if rawFloats(h.descr) {
		return rows, nil
	}
	if rows.r, err = npy.NewReader(io.MultiReader(bytes.NewReader(h.raw), full)); err != nil {
		f.Close()
		return nil, errors.Wrapf(err, "%s: bad NPY header", path)
	}
	return rows, nil
}

// littleEndian reports whether this machine stores numbers little-endian,
// as NPY's '<f4' and '<f8' are.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// rawFloats reports whether values of NPY dtype descr are read straight
// into a float slice's memory (little-endian floats on a little-endian
// machine) rather than decoded value by value through npyio.
func rawFloats(descr string) bool { return littleEndian && (descr == "<f4" || descr == "<f8") }

// readRaw reads n values of T straight into their memory (see rawFloats).
func readRaw[T float32 | float64](r io.Reader, n int) ([]T, error) {
	v := make([]T, n)
	if n == 0 {
		return v, nil
	}
	_, err := io.ReadFull(r, unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), n*int(unsafe.Sizeof(v[0]))))
	return v, err
}

// read reads the next n rows as an array.
func (r *npyRows) read(n int) (*array, error) {
	var v any
	var err error
	switch {
	case r.h.descr == "<f4" && r.r == nil:
		v, err = readRaw[float32](r.full, n*r.rowSize)
	case r.h.descr == "<f8" && r.r == nil:
		v, err = readRaw[float64](r.full, n*r.rowSize)
	default:
		v, err = npyDTypes[r.h.descr].read(r.r, uint64(n*r.rowSize))
	}
	if r.full.err != nil {
		return nil, errors.Wrapf(r.full.err, "%s: truncated or corrupt data", r.path)
	}
	if err != nil {
		return nil, errors.Wrap(err, r.path)
	}
	r.row += n
	a := &array{n: n, shape: append([]int(nil), r.h.shape[1:]...)}
	if len(a.shape) == 0 {
		a.shape = []int{1}
	}
	switch v := v.(type) {
	case []float32:
		a.f32 = v
	case []float64:
		a.data = v
	}
	return a, nil
}

func (r *npyRows) close() { r.f.Close() }

// npySource reads the rows of one or two NPY files in batches.
type npySource struct {
	x, y  *npyRows
	batch int
}

func (s *npySource) next() (*dataset, error) {
	n := min(s.batch, s.x.rows-s.x.row)
	if n == 0 {
		return nil, io.EOF
	}
	x, err := s.x.read(n)
	if err != nil {
		return nil, err
	}
	d := &dataset{n: n, xs: []*array{x}}
	if s.y != nil {
		y, err := s.y.read(n)
		if err != nil {
			return nil, err
		}
		d.ys = []*array{y}
	}
	return d, nil
}

func (s *npySource) close() {
	s.x.close()
	if s.y != nil {
		s.y.close()
	}
}
