package train

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sbinet/npyio/npy"
	"gorgonia.org/tensor"
)

// TestWriteNPYReadByNpyio: what WriteNPY writes (its own header and raw
// little-endian values) reads back through npyio, the library, with the
// shape and values written, float32 and float64, 1-D and 3-D; the data
// start at a multiple of 64 bytes, as numpy.save aligns them.
func TestWriteNPYReadByNpyio(t *testing.T) {
	dir := t.TempDir()
	for _, x := range []*tensor.Dense{
		tensor.New(tensor.WithShape(2, 3, 4), tensor.WithBacking(func() []float32 {
			v := make([]float32, 24)
			for i := range v {
				v[i] = float32(i) - 3.5
			}
			return v
		}())),
		tensor.New(tensor.WithShape(5), tensor.WithBacking([]float64{1e-300, -2, 3.25, 4, 5e300})),
	} {
		path := filepath.Join(dir, "x.npy")
		if err := WriteNPY(path, x); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if hdr := 10 + int(raw[8]) + int(raw[9])<<8; hdr%64 != 0 || raw[hdr-1] != '\n' {
			t.Fatalf("header of %d bytes", hdr)
		}
		f, _ := os.Open(path)
		r, err := npy.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Header.Descr.Shape, []int(x.Shape())) {
			t.Fatalf("npyio reads shape %v, want %v", r.Header.Descr.Shape, x.Shape())
		}
		switch x.Dtype() {
		case tensor.Float32:
			var got []float32
			if err := r.Read(&got); err != nil || !slices.Equal(got, x.Float32s()) {
				t.Fatalf("npyio reads %v (%v)", got, err)
			}
		default:
			var got []float64
			if err := r.Read(&got); err != nil || !slices.Equal(got, x.Float64s()) {
				t.Fatalf("npyio reads %v (%v)", got, err)
			}
		}
		f.Close()
	}
}
