package kerago

import (
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/pkg/errors"
)

// MNIST returns the embedded MNIST subset: the first 6000 training and the
// first 1000 test images of the canonical files, 28×28 grey values 0–255
// (Shape (28, 28, 1)), labels 0–9.
func MNIST() (train, test *Dataset, err error) {
	return readMNIST(embedded("mnist"), "MNIST", digitClasses)
}

// FashionMNIST returns the embedded Fashion-MNIST subset (Zalando's
// clothing images, MIT licence): the first 6000 training and the first
// 1000 test images of the canonical files, 28×28 grey values 0–255 (Shape
// (28, 28, 1)), labels 0–9 naming FashionClasses.
func FashionMNIST() (train, test *Dataset, err error) {
	return readMNIST(embedded("fashion_mnist"), "Fashion-MNIST", FashionClasses)
}

// FashionClasses are Fashion-MNIST's class names, by label.
var FashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// digitClasses are MNIST's class names, by label.
var digitClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// embedded opens the files of the embedded dataset folder dir.
func embedded(dir string) func(string) (io.ReadCloser, error) {
	return func(name string) (io.ReadCloser, error) {
		return datasets.Open("testdata/datasets/" + dir + "/" + name)
	}
}

// LoadMNIST reads MNIST's four IDX files (train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
// each optionally gzip-compressed with a .gz suffix) from dir.
func LoadMNIST(dir string) (train, test *Dataset, err error) {
	open := func(name string) (io.ReadCloser, error) {
		f, err := os.Open(filepath.Join(dir, name))
		if err == nil {
			return f, nil
		}
		return os.Open(filepath.Join(dir, name[:len(name)-3]))
	}
	return readMNIST(open, "MNIST", digitClasses)
}

// readMNIST reads the four IDX files of an MNIST-format set (what names
// it in errors, classes its labels 0–9) through open.
func readMNIST(open func(string) (io.ReadCloser, error), what string, classes []string) (train, test *Dataset, err error) {
	load := func(images, labels string) (*Dataset, error) {
		x, shape, err := readIDX(open, images)
		if err != nil {
			return nil, err
		}
		y, _, err := readIDX(open, labels)
		if err != nil {
			return nil, err
		}
		if len(shape) != 3 || len(y) != shape[0] {
			return nil, errors.Errorf("%s: %s has shape %v but %s has %d labels", what, images, shape, labels, len(y))
		}
		for i, l := range y {
			if l > 9 {
				return nil, errors.Errorf("%s: %s: label %d of sample %d is not a class 0-9", what, labels, l, i)
			}
		}
		d := &Dataset{Shape: []int{shape[1], shape[2], 1}, Classes: classes}
		size := shape[1] * shape[2]
		for i := 0; i < shape[0]; i++ {
			row := make([]float64, size)
			for j := range row {
				row[j] = float64(x[i*size+j])
			}
			d.X = append(d.X, row)
			d.Y = append(d.Y, int(y[i]))
		}
		return d, nil
	}
	if train, err = load("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"); err != nil {
		return nil, nil, err
	}
	if test, err = load("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// WordsLanguage returns 20000 lower-case words labelled with their language
// (en, es, nl, pl), already shuffled (the first 80 % are the training part).
// Each row holds a word's letters as indices into Alphabet plus one (0 is
// padding), right-padded to the longest word (12 letters).
func WordsLanguage() (*Dataset, error) {
	raw, err := datasets.ReadFile("testdata/datasets/words_language/words_language.csv")
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		return nil, errors.Wrap(err, "words_language")
	}
	rows = rows[1:]
	letters := map[rune]bool{}
	langs := map[string]bool{}
	maxLen := 0
	for _, r := range rows {
		n := 0
		for _, c := range r[0] {
			letters[c] = true
			n++
		}
		maxLen = max(maxLen, n)
		langs[r[1]] = true
	}
	d := &Dataset{}
	for c := range letters {
		d.Alphabet = append(d.Alphabet, c)
	}
	sort.Slice(d.Alphabet, func(i, j int) bool { return d.Alphabet[i] < d.Alphabet[j] })
	for l := range langs {
		d.Classes = append(d.Classes, l)
	}
	sort.Strings(d.Classes)
	index := map[rune]int{}
	for i, c := range d.Alphabet {
		index[c] = i + 1
	}
	class := map[string]int{}
	for i, l := range d.Classes {
		class[l] = i
	}
	for _, r := range rows {
		row := make([]float64, maxLen)
		i := 0
		for _, c := range r[0] {
			row[i] = float64(index[c])
			i++
		}
		d.X = append(d.X, row)
		d.Y = append(d.Y, class[r[1]])
	}
	return d, nil
}
