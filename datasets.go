// Package kerago is Keras for Go on Gorgonia. The library lives in its
// packages — graph (symbolic tensors, programs), layers, losses, metrics,
// train (models, Fit, optimizers) — and the command-line demos in
// cmd/kerago.
//
// This root package holds the small real datasets the demos train on,
// embedded in the binary (as keras.datasets does, without downloads): see
// BreastCancer, Digits, MNIST and WordsLanguage.
package kerago

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/csv"
	"io"
	"math"
	"strconv"

	"github.com/pkg/errors"
)

//go:embed testdata/datasets
var datasets embed.FS

// Dataset is a table of samples with a class label each.
type Dataset struct {
	// X holds one row of values per sample.
	X [][]float64
	// Y holds each sample's class index.
	Y []int
	// Classes names the classes.
	Classes []string
	// Shape is the per-sample shape of an X row (for images (28, 28, 1));
	// nil means a flat row.
	Shape []int
	// Alphabet maps index i+1 of a text dataset's rows to its letter
	// (index 0 is padding).
	Alphabet []rune
}

// Slice returns samples [from, to) (sharing the rows).
func (d *Dataset) Slice(from, to int) *Dataset {
	out := *d
	out.X, out.Y = d.X[from:to], d.Y[from:to]
	return &out
}

// BreastCancer is the Wisconsin diagnostic breast-cancer set: 569 samples of
// 30 features; label 0 malignant, 1 benign.
func BreastCancer() (*Dataset, error) {
	d, err := loadCSV("testdata/datasets/breast_cancer/breast_cancer.csv", true)
	if err != nil {
		return nil, err
	}
	d.Classes = []string{"malignant", "benign"}
	return d, nil
}

// Digits is the 8×8 optical digits set: 1797 samples of 64 pixel values in
// [0, 16]; labels 0–9.
func Digits() (*Dataset, error) {
	d, err := loadCSV("testdata/datasets/digits/digits.csv.gz", true)
	if err != nil {
		return nil, err
	}
	d.Classes = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	return d, nil
}

// loadCSV reads an embedded CSV (gzip-compressed if the name ends in .gz)
// whose last column is an integer label.
func loadCSV(name string, header bool) (*Dataset, error) {
	raw, err := datasets.ReadFile(name)
	if err != nil {
		return nil, errors.Wrapf(err, "dataset %s", name)
	}
	var r io.Reader = bytes.NewReader(raw)
	if len(name) > 3 && name[len(name)-3:] == ".gz" {
		if r, err = gzip.NewReader(r); err != nil {
			return nil, errors.Wrapf(err, "dataset %s", name)
		}
	}
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, errors.Wrapf(err, "dataset %s", name)
	}
	if header && len(rows) > 0 {
		rows = rows[1:]
	}
	d := &Dataset{}
	for i, row := range rows {
		x := make([]float64, len(row)-1)
		for j := range x {
			if x[j], err = strconv.ParseFloat(row[j], 64); err != nil {
				return nil, errors.Errorf("dataset %s: row %d column %d: %v", name, i+1, j+1, err)
			}
		}
		label, err := strconv.Atoi(row[len(row)-1])
		if err != nil {
			return nil, errors.Errorf("dataset %s: row %d label: %v", name, i+1, err)
		}
		d.X = append(d.X, x)
		d.Y = append(d.Y, label)
	}
	return d, nil
}

// Split shuffles the samples with seed and returns the first (1-testFraction)
// as the training part and the rest as the test part.
func (d *Dataset) Split(testFraction float64, seed uint64) (train, test *Dataset) {
	idx := permutation(len(d.X), seed)
	cut := int(math.Round(float64(len(idx)) * (1 - testFraction)))
	pick := func(ids []int) *Dataset {
		out := &Dataset{Classes: d.Classes, Shape: d.Shape, Alphabet: d.Alphabet}
		for _, i := range ids {
			out.X = append(out.X, d.X[i])
			out.Y = append(out.Y, d.Y[i])
		}
		return out
	}
	return pick(idx[:cut]), pick(idx[cut:])
}

// Standardize rescales every feature of train and test to zero mean and unit
// variance using train's statistics (scikit-learn's StandardScaler), in
// place. Constant features are left centred.
func Standardize(train, test [][]float64) {
	if len(train) == 0 {
		return
	}
	f := len(train[0])
	mean, std := make([]float64, f), make([]float64, f)
	for _, row := range train {
		for j, v := range row {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(train))
	}
	for _, row := range train {
		for j, v := range row {
			std[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(len(train)))
		if std[j] == 0 {
			std[j] = 1
		}
	}
	for _, rows := range [][][]float64{train, test} {
		for _, row := range rows {
			for j := range row {
				row[j] = (row[j] - mean[j]) / std[j]
			}
		}
	}
}

// permutation is a deterministic Fisher–Yates shuffle of 0..n-1 driven by a
// SplitMix64 sequence, so a seed gives the same split on every platform.
func permutation(n int, seed uint64) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	s := seed
	next := func() uint64 {
		s += 0x9e3779b97f4a7c15
		z := s
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	for i := n - 1; i > 0; i-- {
		j := int(next() % uint64(i+1))
		idx[i], idx[j] = idx[j], idx[i]
	}
	return idx
}
