package train

import (
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"gorgonia.org/tensor"
)

// drain reads pass p of ds to its end: the first input's values (as
// float64) and the targets of each batch.
func drain(t *testing.T, ds *Dataset, p uint64) (xs, ys [][]float64, err error) {
	t.Helper()
	src, err := ds.pass(context.Background(), p)
	if err != nil {
		return nil, nil, err
	}
	defer src.close()
	for {
		d, err := src.next()
		if err == io.EOF {
			return xs, ys, nil
		}
		if err != nil {
			return xs, ys, err
		}
		var x, y []float64
		for i := range d.n * d.xs[0].rowSize() {
			x = append(x, d.xs[0].value(i))
		}
		if len(d.ys) > 0 {
			for i := range d.n * d.ys[0].rowSize() {
				y = append(y, d.ys[0].value(i))
			}
		}
		xs, ys = append(xs, x), append(ys, y)
	}
}

// counting is a FromFunc Dataset of n samples (x = i, y = 10·i) in batches
// of size.
func counting(n, size int) *Dataset {
	return FromFunc(func() func() (Batch, error) {
		at := 0
		return func() (Batch, error) {
			if at >= n {
				return Batch{}, io.EOF
			}
			var x, y []float64
			for ; at < n && len(x) < size; at++ {
				x, y = append(x, float64(at)), append(y, float64(10*at))
			}
			return Batch{X: x, Y: y}, nil
		}
	})
}

func flat(b [][]float64) []float64 { return slices.Concat(b...) }

// TestDatasetArraysAndRebatch: FromArrays cuts batches in order (float32
// tensors sliced, not copied); Rebatch regroups a generator's batches of 3
// into batches of 4 in order, the last one partial; each pass starts over.
func TestDatasetArraysAndRebatch(t *testing.T) {
	data := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	x := tensor.New(tensor.WithShape(5, 2), tensor.WithBacking(data))
	src, err := FromArrays(x, []float64{0, 1, 2, 3, 4}, 2).pass(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for {
		d, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if &d.xs[0].f32[0] != &data[2*len(sizes)*2] {
			t.Fatalf("batch %d copies the float32 input", len(sizes))
		}
		sizes = append(sizes, d.n)
	}
	if !slices.Equal(sizes, []int{2, 2, 1}) {
		t.Fatalf("batch sizes %v", sizes)
	}
	ds := counting(10, 3).Rebatch(4)
	for p := range uint64(2) {
		xs, ys, err := drain(t, ds, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(xs) != 3 || len(xs[0]) != 4 || len(xs[2]) != 2 {
			t.Fatalf("pass %d: batches %v", p, xs)
		}
		if !slices.Equal(flat(xs), []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) || flat(ys)[9] != 90 {
			t.Fatalf("pass %d: %v %v", p, xs, ys)
		}
	}
}

// TestDatasetShuffle: a buffer as large as the data yields a permutation,
// the same for the same seed and pass, another for the next pass; x and y
// stay paired; a buffer of b samples moves no sample earlier than b-1
// places before... and the batches keep the source's size.
func TestDatasetShuffle(t *testing.T) {
	perm := func(ds *Dataset, p uint64) []float64 {
		xs, ys, err := drain(t, ds, p)
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range flat(xs) {
			if flat(ys)[i] != 10*x {
				t.Fatalf("sample %v lost its target: %v", x, flat(ys)[i])
			}
		}
		if len(xs[0]) != 4 {
			t.Fatalf("first batch of %d samples, want the source's 4", len(xs[0]))
		}
		return flat(xs)
	}
	full := counting(20, 4).Shuffle(20, 7)
	a, b, c := perm(full, 0), perm(full, 0), perm(full, 1)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Fatalf("seeded shuffles: %v %v %v", a, b, c)
	}
	sorted := slices.Sorted(slices.Values(a))
	for i, v := range sorted {
		if v != float64(i) {
			t.Fatalf("not a permutation: %v", a)
		}
	}
	if slices.IsSorted(a) {
		t.Fatal("a full buffer did not shuffle")
	}
	// With a buffer of 3, the sample out at position i came in at most at
	// position i+2 (the buffer held it then).
	for i, v := range perm(counting(20, 4).Shuffle(3, 1), 0) {
		if int(v) > i+2 {
			t.Fatalf("sample %v out at %d with a buffer of 3", v, i)
		}
	}
}

// TestDatasetPrefetch: prefetching yields the same batches; closing a pass
// early leaves no goroutine behind; a generator that panics on the
// prefetching goroutine ends the pass with an error naming the batch.
func TestDatasetPrefetch(t *testing.T) {
	want, _, _ := drain(t, counting(50, 5).Shuffle(10, 3), 0)
	got, _, err := drain(t, counting(50, 5).Shuffle(10, 3).Prefetch(2), 0)
	if err != nil || !slices.Equal(flat(got), flat(want)) {
		t.Fatalf("prefetched %v, %v; want %v", got, err, want)
	}
	before := runtime.NumGoroutine()
	for range 20 {
		src, err := counting(1000, 5).Prefetch(3).pass(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.next(); err != nil {
			t.Fatal(err)
		}
		src.close()
	}
	time.Sleep(10 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("%d goroutines after 20 closed passes, %d before", after, before)
	}
	k := 0
	panics := FromFunc(func() func() (Batch, error) {
		return func() (Batch, error) {
			if k++; k == 3 {
				panic("generator bug")
			}
			return Batch{X: []float64{1}, Y: []float64{1}}, nil
		}
	}).Prefetch(1)
	if _, _, err := drain(t, panics, 0); err == nil || !strings.Contains(err.Error(), "FromFunc: batch 3: panic: generator bug") {
		t.Fatalf("panicking generator: %v", err)
	}
}

// TestDatasetBadBatches: a generator's error, an empty batch, a batch whose
// shape differs from the first, arrays of different lengths, invalid
// settings: each is an error naming the Dataset and the batch.
func TestDatasetBadBatches(t *testing.T) {
	seq := func(batches ...Batch) iter.Seq2[Batch, error] {
		return func(yield func(Batch, error) bool) {
			for _, b := range batches {
				if !yield(b, nil) {
					return
				}
			}
			yield(Batch{}, fmt.Errorf("disk on fire"))
		}
	}
	two := [][]float64{{1, 2}, {3, 4}}
	cases := []struct {
		ds   *Dataset
		want string
	}{
		{FromIter(seq(Batch{X: two, Y: []float64{0, 1}})), "FromIter: batch 2: disk on fire"},
		{FromIter(seq(Batch{X: two}, Batch{X: [][]float64{{1, 2, 3}}})), "FromIter: batch 2: x has per-sample shape (3,), batch 1's had (2,)"},
		{FromIter(seq(Batch{X: two, Y: []float64{0}})), "FromIter: batch 1: the arrays hold different numbers of samples: 2 (x) and 1 (y)"},
		{FromIter(seq(Batch{X: [][]float64{}})), "FromIter: batch 1 has no samples"},
		{FromIter(seq(Batch{X: two}, Batch{X: two, Y: []float64{1, 2}})), "FromIter: batch 2 has 1 input, 1 target and 0 sample weight arrays, batch 1 had 1, 0 and 0"},
		{FromIter(seq(Batch{X: "pixels"})), "FromIter: batch 1: x has type string"},
		{FromIter(nil), "FromIter: the iterator is nil"},
		{FromFunc(nil), "FromFunc: the open function is nil"},
		{FromArrays(two, nil, 0), "FromArrays: batch size must be positive, got 0"},
		{counting(4, 2).Shuffle(-1, 0), "FromFunc: Shuffle buffer must not be negative, got -1"},
		{counting(4, 2).Prefetch(-2), "FromFunc: Prefetch must not be negative, got -2"},
		{nil, "the Dataset is nil"},
	}
	for _, c := range cases {
		if _, _, err := drain(t, c.ds, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error containing %q", err, c.want)
		}
	}
}

// TestDatasetFiles: FromCSV skips a header, takes the label column, reads
// BatchSize rows at a time and names line and column of a bad cell;
// FromNPY reads float32 files in batches as float32 and refuses files of
// different lengths and truncated data.
func TestDatasetFiles(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(csvPath, []byte("a;label;b\n1;0;2\n3;1;4\n5;0;6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	xs, ys, err := drain(t, FromCSV(csvPath, CSVOptions{BatchSize: 2, Label: 1, Comma: ';'}), 0)
	if err != nil || !slices.Equal(flat(xs), []float64{1, 2, 3, 4, 5, 6}) || !slices.Equal(flat(ys), []float64{0, 1, 0}) || len(xs) != 2 {
		t.Fatalf("CSV: %v %v %v", xs, ys, err)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("1,2,0\n3,x,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := drain(t, FromCSV(bad, CSVOptions{}), 0); err == nil || !strings.Contains(err.Error(), `FromCSV `+bad+`: batch 1: line 2, column 2: "x" is not a finite number`) {
		t.Fatalf("bad CSV: %v", err)
	}
	xPath, yPath, short := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy"), filepath.Join(dir, "short.npy")
	x := tensor.New(tensor.WithShape(5, 2, 3), tensor.WithBacking(make([]float32, 30)))
	for i := range x.Float32s() {
		x.Float32s()[i] = float32(i)
	}
	for _, w := range []struct {
		path string
		t    *tensor.Dense
	}{{xPath, x}, {yPath, tensor.New(tensor.WithShape(5), tensor.WithBacking([]float64{0, 1, 2, 3, 4}))}, {short, tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{0, 1, 2, 3}))}} {
		if err := WriteNPY(w.path, w.t); err != nil {
			t.Fatal(err)
		}
	}
	src, err := FromNPY(xPath, yPath, 2).pass(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []float32
	for {
		d, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil || d.xs[0].f32 == nil || !d.xs[0].shape.Equal([]int{2, 3}) {
			t.Fatalf("NPY batch: %v (float32 %v, shape %v)", err, d != nil && d.xs[0].f32 != nil, d)
		}
		got = append(got, d.xs[0].f32...)
	}
	src.close()
	if !slices.Equal(got, x.Float32s()) {
		t.Fatalf("NPY values %v", got)
	}
	if _, _, err := drain(t, FromNPY(xPath, short, 2), 0); err == nil || !strings.Contains(err.Error(), "holds 5 samples") {
		t.Fatalf("NPY lengths: %v", err)
	}
	raw, _ := os.ReadFile(xPath)
	if err := os.WriteFile(short, raw[:len(raw)-4], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := drain(t, FromNPY(short, "", 2), 0); err == nil || !strings.Contains(err.Error(), "needs 120 bytes of data, the file holds 116") {
		t.Fatalf("truncated NPY: %v", err)
	}
}

// FuzzDatasetFiles reads arbitrary bytes as a CSV file and as an NPY file
// through FromCSV and FromNPY, a whole pass in batches of 3: no panic, no
// allocation beyond what the file holds (the NPY header is checked against
// the file's size first), and an NPY pass that succeeds yields as many
// samples as its header says.
func FuzzDatasetFiles(f *testing.F) {
	f.Add([]byte("a,b,label\n1,2,0\n3,4,1\n"))
	dir := f.TempDir()
	for _, t := range []*tensor.Dense{ // NPY files as WriteNPY (numpy's format) writes them
		tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6, 7, 8})),
		tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{1, 2, 3})),
	} {
		seed := filepath.Join(dir, "seed.npy")
		if err := WriteNPY(seed, t); err != nil {
			f.Fatal(err)
		}
		raw, err := os.ReadFile(seed)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	csvPath, npyPath := filepath.Join(dir, "f.csv"), filepath.Join(dir, "f.npy")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(csvPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(npyPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, _ = drain(t, FromCSV(csvPath, CSVOptions{BatchSize: 3}), 0)
		xs, _, err := drain(t, FromNPY(npyPath, "", 3), 0)
		if err != nil {
			return
		}
		h, herr := openNPYRows(npyPath)
		if herr != nil {
			t.Fatalf("the pass succeeded, the header does not open: %v", herr)
		}
		h.close()
		rows := 0
		for _, b := range xs {
			rows += len(b) / max(h.rowSize, 1)
		}
		if h.rowSize > 0 && rows != h.rows {
			t.Fatalf("%d samples read, the header says %d", rows, h.rows)
		}
	})
}
