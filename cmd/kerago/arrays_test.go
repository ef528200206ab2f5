package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// FuzzReadCSV: no CSV file makes readCSV panic; what it accepts holds
// whole samples of the asked shape, every value finite, and what it
// refuses is named by the file's path.
func FuzzReadCSV(f *testing.F) {
	f.Add("a,b,c,d\n1,2,3,4\n5,6,7,8\n")
	f.Add("1, 2, 3, 4\n")
	f.Add("1,2,3\n")
	f.Add("1,2,3,NaN\n")
	f.Add("\"1\",\"2\n\",3,4\n")
	f.Add("x,y,z,w\n")
	shape := graph.Shape{2, 2}
	path := filepath.Join(f.TempDir(), "f.csv")
	f.Fuzz(func(t *testing.T, data string) {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readCSV(path, shape)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("an error that does not name the file: %v", err)
			}
			return
		}
		if got.Shape()[0]*4 != got.DataSize() || !got.Shape()[1:].Eq(tensor.Shape{2, 2}) {
			t.Fatalf("shape %v with %d values", got.Shape(), got.DataSize())
		}
		for i, v := range got.Float64s() {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("value %d is %v", i, v)
			}
		}
	})
}
