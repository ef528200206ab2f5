package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/train"
)

// Arrays on the command line are NPY files (numpy.save: float32, float64 or
// integers, C order) or CSV files, chosen by extension. Either way the first
// axis is the samples. A CSV file holds one sample per row, its values
// flattened in C order; a first row with no numeric cell is a header and is
// skipped, and every other cell must be a finite number.

// arrayExt is path's array format, ".npy" or ".csv", or an error naming
// what names the path ("--input", "--output").
func arrayExt(what, path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".npy", ".csv":
		return ext, nil
	}
	return "", errors.Errorf("%s %s: the extension names no array format (.npy or .csv)", what, path)
}

// readInput reads path as the values of the model input in, checking the
// shape of its samples, their number (at least one) and that every value
// is finite.
func readInput(path string, in *graph.Tensor) (*tensor.Dense, error) {
	ext, err := arrayExt("--input", path)
	if err != nil {
		return nil, err
	}
	name, want := in.Layer().Name(), in.Shape()
	var t *tensor.Dense
	if ext == ".csv" {
		t, err = readCSV(path, want)
	} else if t, err = train.ReadNPY(path); err == nil {
		err = checkSampleShape(t.Shape(), want)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "input %q", name)
	}
	if t.Shape()[0] == 0 {
		return nil, errors.Errorf("input %q: %s holds no samples", name, path)
	}
	if i, ok := allFinite(t); !ok {
		s := want.Size()
		return nil, errors.Errorf("input %q: %s: sample %d, value %d is not a finite number", name, path, i/s, i%s)
	}
	return t, nil
}

// checkSampleShape checks that an array of shape got holds samples of
// shape want, naming the dims that differ.
func checkSampleShape(got tensor.Shape, want graph.Shape) error {
	if len(got) != len(want)+1 {
		return errors.Errorf("shape %v: samples of %d dims, the model input takes samples of shape %v (first axis the samples)",
			[]int(got), len(got)-1, []int(want))
	}
	var diff []string
	for i, d := range want {
		if got[i+1] != d {
			diff = append(diff, fmt.Sprintf("dim %d is %d, want %d", i+1, got[i+1], d))
		}
	}
	if diff != nil {
		return errors.Errorf("shape %v, the model input takes %v: %s", []int(got), want.WithBatch(got[0]), strings.Join(diff, "; "))
	}
	return nil
}

// allFinite reports whether every value of t is finite, and else the index
// of the first that is not.
func allFinite(t *tensor.Dense) (int, bool) {
	switch d := t.Data().(type) {
	case []float32:
		for i, v := range d {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return i, false
			}
		}
	case []float64:
		for i, v := range d {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return i, false
			}
		}
	}
	return 0, true
}

// readCSV reads a CSV file of samples of the given shape, one per row.
func readCSV(path string, shape graph.Shape) (*tensor.Dense, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	size := shape.Size()
	var data []float64
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errors.Wrap(err, path)
		}
		if first && isHeader(rec) {
			continue
		}
		line, _ := r.FieldPos(0)
		if len(rec) != size {
			return nil, errors.Errorf("%s: line %d has %d values, the model input takes %d per sample (shape %v flattened)", path, line, len(rec), size, []int(shape))
		}
		for col, cell := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(cell), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, errors.Errorf("%s: line %d, column %d: %q is not a finite number", path, line, col+1, cell)
			}
			data = append(data, v)
		}
	}
	n := len(data) / max(size, 1)
	return tensor.New(tensor.WithShape(shape.WithBatch(n)...), tensor.WithBacking(data)), nil
}

// isHeader reports whether no cell of rec is a number.
func isHeader(rec []string) bool {
	for _, cell := range rec {
		if _, err := strconv.ParseFloat(strings.TrimSpace(cell), 64); err == nil {
			return false
		}
	}
	return true
}

// writeOutput writes t to path, .npy or .csv, atomically.
func writeOutput(path string, t *tensor.Dense) error {
	if strings.EqualFold(filepath.Ext(path), ".npy") {
		return train.WriteNPY(path, t)
	}
	return errors.Wrap(train.WriteAtomic(path, func(w io.Writer) error { return writeCSV(w, t) }), path)
}

// writeCSV writes t as CSV, one sample per row, its values flattened and
// printed in the shortest form that reads back exactly.
func writeCSV(w io.Writer, t *tensor.Dense) error {
	n := t.Shape()[0]
	size := t.Shape().TotalSize() / max(n, 1)
	bits := 64
	vals, ok := t.Data().([]float64)
	if !ok {
		bits = 32
		vals = make([]float64, t.Shape().TotalSize())
		for i, v := range t.Data().([]float32) {
			vals[i] = float64(v)
		}
	}
	buf := make([]byte, 0, 32*size)
	for i := range n {
		buf = buf[:0]
		for j, v := range vals[i*size : (i+1)*size] {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendFloat(buf, v, 'g', -1, bits)
		}
		if _, err := w.Write(append(buf, '\n')); err != nil {
			return err
		}
	}
	return nil
}
