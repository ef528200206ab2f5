package train_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/train"
)

// TestNPYFiles writes float32 and float64 arrays with WriteNPY and reads
// them back, reads an int32 file as float64, and refuses damaged files.
func TestNPYFiles(t *testing.T) {
	dir := t.TempDir()
	for _, backing := range []any{[]float32{1, 2.5, -3, 4, 5, 6}, []float64{1, 2.5, -3, 4, 5, 6}} {
		src := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(backing))
		path := filepath.Join(dir, "a.npy")
		if err := train.WriteNPY(path, src); err != nil {
			t.Fatal(err)
		}
		got, err := train.ReadNPY(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.Dtype() != src.Dtype() || !got.Shape().Eq(src.Shape()) || !reflect.DeepEqual(got.Data(), src.Data()) {
			t.Fatalf("read back %v %v %v, wrote %v", got.Dtype(), got.Shape(), got.Data(), src.Data())
		}
	}
	var ints []byte
	for _, v := range []int32{7, -1, 0, 42} {
		ints = binary.LittleEndian.AppendUint32(ints, uint32(v))
	}
	cases := []struct {
		name string
		file []byte
		err  string
	}{
		{"int32", npyArray(1, npyDict("<i4", "False", "2, 2"), ints), ""},
		{"short", npyArray(1, npyDict("<i4", "False", "2, 3"), ints), "shape [2 3] needs 24 bytes of data, the file holds 16"},
		{"bool", npyArray(1, npyDict("|b1", "False", "4,"), ints[:4]), `dtype "|b1" is not supported`},
		{"fortran", npyArray(1, npyDict("<f4", "True", "2, 2"), f4(4)), "Fortran order"},
		{"not npy", []byte("1,2,3\n"), "truncated NPY header"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name+".npy")
		if err := os.WriteFile(path, c.file, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := train.ReadNPY(path)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || got.Dtype() != tensor.Float64 || !slices.Equal(got.Float64s(), []float64{7, -1, 0, 42}) {
			t.Errorf("%s: %v %v", c.name, got, err)
		}
	}
}
