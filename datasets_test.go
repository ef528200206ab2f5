package kerago

import (
	"math"
	"slices"
	"testing"
)

func TestEmbeddedDatasets(t *testing.T) {
	for _, c := range []struct {
		name              string
		load              func() (*Dataset, error)
		n, features, kmax int
	}{
		{"breast cancer", BreastCancer, 569, 30, 1},
		{"digits", Digits, 1797, 64, 9},
	} {
		d, err := c.load()
		if err != nil {
			t.Fatal(err)
		}
		if len(d.X) != c.n || len(d.Y) != c.n || len(d.X[0]) != c.features {
			t.Fatalf("%s: %d×%d, %d labels; want %d×%d", c.name, len(d.X), len(d.X[0]), len(d.Y), c.n, c.features)
		}
		seen := map[int]bool{}
		for _, y := range d.Y {
			if y < 0 || y > c.kmax {
				t.Fatalf("%s: label %d", c.name, y)
			}
			seen[y] = true
		}
		if len(seen) != c.kmax+1 || len(d.Classes) != c.kmax+1 {
			t.Fatalf("%s: %d distinct labels, %d class names", c.name, len(seen), len(d.Classes))
		}
	}
}

func TestSplitIsSeededAndComplete(t *testing.T) {
	d, _ := Digits()
	a1, b1 := d.Split(0.2, 5)
	a2, _ := d.Split(0.2, 5)
	a3, _ := d.Split(0.2, 6)
	if len(a1.X)+len(b1.X) != len(d.X) || len(b1.X) != 359 {
		t.Fatalf("split sizes %d + %d", len(a1.X), len(b1.X))
	}
	same, other := true, true
	for i := range a1.X {
		same = same && &a1.X[i][0] == &a2.X[i][0]
		other = other && &a1.X[i][0] == &a3.X[i][0]
	}
	if !same || other {
		t.Fatal("split is not fixed by its seed")
	}
}

func TestStandardize(t *testing.T) {
	tr := [][]float64{{1, 5}, {3, 5}, {5, 5}}
	te := [][]float64{{3, 6}}
	Standardize(tr, te)
	sd := math.Sqrt(8.0 / 3)
	want := [][]float64{{-2 / sd, 0}, {0, 0}, {2 / sd, 0}}
	for i := range tr {
		for j := range tr[i] {
			if math.Abs(tr[i][j]-want[i][j]) > 1e-12 {
				t.Fatalf("train %v, want %v", tr, want)
			}
		}
	}
	if te[0][0] != 0 || te[0][1] != 1 {
		t.Fatalf("test %v: standardised with train statistics, a constant feature only centred", te)
	}
}

// TestFashionMNISTSubset reads the embedded Fashion-MNIST files: sizes, the
// canonical first labels (9 0 0 3 0 …, test 9 2 1 1 6 …, as Python's gzip
// reads them), the class names and the pixel range.
func TestFashionMNISTSubset(t *testing.T) {
	tr, te, err := FashionMNIST()
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.X) != 6000 || len(te.X) != 1000 || len(tr.X[0]) != 784 || len(tr.Classes) != 10 || tr.Classes[9] != "Ankle boot" {
		t.Fatalf("sizes %d, %d, %d, classes %v", len(tr.X), len(te.X), len(tr.X[0]), tr.Classes)
	}
	if !slices.Equal(tr.Y[:10], []int{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}) || !slices.Equal(te.Y[:10], []int{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}) {
		t.Fatalf("first labels %v, %v", tr.Y[:10], te.Y[:10])
	}
	lo, hi := 255.0, 0.0
	for _, v := range tr.X[0] {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if lo != 0 || hi != 255 {
		t.Fatalf("pixel range [%v, %v]", lo, hi)
	}
}

func TestMNISTSubset(t *testing.T) {
	tr, te, err := MNIST()
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.X) != 6000 || len(te.X) != 1000 || len(tr.X[0]) != 784 {
		t.Fatalf("sizes %d, %d, %d", len(tr.X), len(te.X), len(tr.X[0]))
	}
	// The canonical first labels: 5 0 4 1 9 (train), 7 2 1 0 4 (test).
	for i, want := range []int{5, 0, 4, 1, 9} {
		if tr.Y[i] != want {
			t.Fatalf("train label %d = %d, want %d", i, tr.Y[i], want)
		}
	}
	for i, want := range []int{7, 2, 1, 0, 4} {
		if te.Y[i] != want {
			t.Fatalf("test label %d = %d, want %d", i, te.Y[i], want)
		}
	}
	hi := 0.0
	for _, v := range tr.X[0] {
		hi = math.Max(hi, v)
	}
	if hi != 255 {
		t.Fatalf("max pixel %v", hi)
	}
	if _, _, err := LoadMNIST(t.TempDir()); err == nil {
		t.Fatal("LoadMNIST of an empty directory succeeded")
	}
}

func TestWordsLanguage(t *testing.T) {
	d, err := WordsLanguage()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.X) != 20000 || len(d.X[0]) != 12 || len(d.Alphabet) != 47 {
		t.Fatalf("%d words of width %d, alphabet %d", len(d.X), len(d.X[0]), len(d.Alphabet))
	}
	if got := d.Classes; len(got) != 4 || got[0] != "en" || got[3] != "pl" {
		t.Fatalf("classes %v", got)
	}
	// "nieminowani" (pl) is the first word.
	word := ""
	for _, v := range d.X[0] {
		if v > 0 {
			word += string(d.Alphabet[int(v)-1])
		}
	}
	if word != "nieminowani" || d.Classes[d.Y[0]] != "pl" {
		t.Fatalf("first word %q (%s)", word, d.Classes[d.Y[0]])
	}
}
