package hdf5

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// FuzzRead reads arbitrary bytes in default and strict mode. The reader
// must not panic, must refuse with an *Error, must not allocate far more
// than the input's size, and a tree it reads must, if the writer takes
// it, write and read back (strictly) the same. The seeds are in
// testdata/fuzz/FuzzRead (regenerate them with HDF5_FUZZ_SEEDS=1 go test
// -run TestWriteFuzzSeeds).
func FuzzRead(f *testing.F) {
	f.Fuzz(fuzzBody)
}

// fuzzBody is FuzzRead's check of one input.
func fuzzBody(t *testing.T, data []byte) {
	for _, strict := range []bool{false, true} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		file, err := readBytes(data, strict)
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 100*uint64(len(data))+4<<20 {
			t.Fatalf("reading %d bytes allocated %d", len(data), grew)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error without *Error: %v", err)
			}
			continue
		}
		var buf bytes.Buffer
		if err := file.Write(&buf); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind != Invalid {
				t.Fatalf("writing a tree read: %v", err)
			}
			continue
		}
		back, err := readBytes(buf.Bytes(), true)
		if err != nil {
			t.Fatalf("reading a tree rewritten: %v", err)
		}
		if d := diffTrees("/", file.Root, back.Root); d != "" {
			t.Fatalf("tree rewritten differs: %s", d)
		}
	}
}

// TestWriteFuzzSeeds writes FuzzRead's seed corpus when HDF5_FUZZ_SEEDS is
// set: the smallest Keras fixtures, the corruption tests' base file, a
// few of its refused edits, and it truncated.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("HDF5_FUZZ_SEEDS") == "" {
		t.Skip("set HDF5_FUZZ_SEEDS=1 to rewrite testdata/fuzz/FuzzRead")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{}
	for _, fx := range fixtures(t) {
		if fx.name == "l2norm_unit.h5" || fx.name == "mlp.weights.h5" {
			seeds["keras_"+fx.name] = fx.data
		}
	}
	base := corruptBase(t)
	seeds["base"] = base
	seeds["base_truncated"] = base[:len(base)/2]
	seeds["empty_root"] = writeBytes(t, NewFile())
	l := locate(base)
	picked := map[string]bool{"chunked": true, "OHDR": true, "soft link": true, "vlen sequence": true,
		"continuation cycle": true, "B-tree level 1": true}
	for _, c := range refusals(l) {
		if picked[c.name] {
			b := append([]byte{}, base...)
			c.edit(b, l)
			seeds["base_"+c.name] = b
		}
	}
	for name, data := range seeds {
		file := filepath.Join(dir, "seed_"+strings.NewReplacer(" ", "_", "-", "_").Replace(name))
		if err := os.WriteFile(file, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
