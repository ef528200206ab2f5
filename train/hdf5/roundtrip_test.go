package hdf5

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"strings"
	"testing"
)

// nameRunes are the characters random names are made of: ASCII, Latin,
// CJK, an emoji, spaces and punctuation HDF5 allows in names.
var nameRunes = []rune("abcxyz_019-. ÀéüßЖ日本語🙂")

// randName returns a random link or attribute name, sometimes long enough
// to outgrow a local heap's initial 88 bytes.
func randName(rng *rand.Rand) string {
	n := 1 + rng.Intn(12)
	if rng.Intn(8) == 0 {
		n = 60 + rng.Intn(80)
	}
	r := make([]rune, n)
	for i := range r {
		r[i] = nameRunes[rng.Intn(len(nameRunes))]
	}
	if s := string(r); s != "." {
		return s
	}
	return "dot"
}

// randFloat32 returns a random float32, special values included.
func randFloat32(rng *rand.Rand) float32 {
	switch rng.Intn(12) {
	case 0:
		return float32(math.NaN())
	case 1:
		return float32(math.Inf(-1))
	case 2:
		return float32(math.Copysign(0, -1))
	case 3:
		return math.Float32frombits(rng.Uint32() & 0x807fffff) // subnormal
	}
	return float32(rng.NormFloat64())
}

// randAttrs returns up to 3 attributes of every written kind.
func randAttrs(rng *rand.Rand) []Attr {
	var attrs []Attr
	seen := map[string]bool{}
	for i := rng.Intn(4); i > 0; i-- {
		a := Attr{Name: randName(rng)}
		if seen[a.Name] {
			continue
		}
		seen[a.Name] = true
		switch rng.Intn(4) {
		case 0:
			a.Value = randName(rng)
		case 1:
			a.Value = ""
		case 2:
			v := []string{}
			for j := rng.Intn(5); j > 0; j-- {
				v = append(v, []string{"", "x", randName(rng)}[rng.Intn(3)])
			}
			a.Value = v
		case 3:
			a.Value = []float64{}
		}
		if rng.Intn(3) == 0 && validString(fmt.Sprint(a.Value), ASCII) {
			a.Charset = ASCII
		}
		attrs = append(attrs, a)
	}
	return attrs
}

// randGroup fills g with at least least random members (fewer if names
// collide) down to depth levels.
func randGroup(rng *rand.Rand, g *Group, least, depth int) {
	g.Attrs = randAttrs(rng)
	seen := map[string]bool{}
	for i := least + rng.Intn(7); i > 0; i-- {
		name := randName(rng)
		if seen[name] {
			continue
		}
		seen[name] = true
		if depth > 0 && rng.Intn(2) == 0 {
			randGroup(rng, g.CreateGroup(name), 0, depth-1)
			continue
		}
		shape := make([]int, rng.Intn(5))
		n := 1
		for j := range shape {
			shape[j] = rng.Intn(5)
			n *= shape[j]
		}
		vals := make([]float32, n)
		for j := range vals {
			vals[j] = randFloat32(rng)
		}
		g.CreateDataset(name, shape, vals)
	}
}

// randomFile returns a random tree; every fourth has a group of 300
// members.
func randomFile(seed int64) *File {
	rng := rand.New(rand.NewSource(seed))
	f := NewFile()
	randGroup(rng, f.Root, 3, 4)
	if seed%4 == 0 {
		many := f.Root.CreateGroup("many members")
		for i := 0; i < 300; i++ {
			name := fmt.Sprintf("m%03d", (i*7919)%300)
			if i%3 == 0 {
				many.CreateGroup(name)
			} else {
				many.CreateDataset(name, []int{1}, []float32{float32(i)})
			}
		}
	}
	return f
}

// TestRoundTripRandom writes random trees and reads them back, in default
// and strict mode: the same trees, bit for bit.
func TestRoundTripRandom(t *testing.T) {
	for seed := int64(1); seed <= 24; seed++ {
		f := randomFile(seed)
		data := writeBytes(t, f)
		for _, strict := range []bool{false, true} {
			back, err := readBytes(data, strict)
			if err != nil {
				t.Fatalf("seed %d strict=%v: %v", seed, strict, err)
			}
			if d := diffTrees("/", f.Root, back.Root); d != "" {
				t.Fatalf("seed %d strict=%v: %s", seed, strict, d)
			}
		}
	}
}

// btreeLevels counts the B-tree nodes of each level in a file whose
// datasets hold no bytes that could look like a node.
func btreeLevels(data []byte) map[int]int {
	levels := map[int]int{}
	for i := 0; ; i++ {
		j := bytes.Index(data[i:], []byte("TREE\x00"))
		if j < 0 {
			return levels
		}
		i += j
		levels[int(data[i+5])]++
	}
}

// TestManyMembers checks the B-tree split: groups of n members need
// ceil(n/8) symbol-table nodes under as many levels of 32-child nodes as
// that takes.
func TestManyMembers(t *testing.T) {
	cases := []struct {
		n      int
		levels map[int]int // B-tree nodes per level, that group's and the root's
	}{
		{0, map[int]int{0: 2}},
		{8, map[int]int{0: 2}},
		{9, map[int]int{0: 2}},
		{256, map[int]int{0: 2}},               // 32 symbol-table nodes: one full node
		{257, map[int]int{0: 3, 1: 1}},         // 33: two level-0 nodes under a root
		{300, map[int]int{0: 3, 1: 1}},         // 38
		{8193, map[int]int{0: 34, 1: 2, 2: 1}}, // 1025: two level-1 nodes
	}
	for _, c := range cases {
		f := NewFile()
		g := f.Root.CreateGroup("g")
		for i := 0; i < c.n; i++ {
			g.CreateDataset(fmt.Sprintf("d%05d", (i*7919)%c.n), nil, []float32{0})
		}
		data := writeBytes(t, f)
		if got := btreeLevels(data); fmt.Sprint(got) != fmt.Sprint(c.levels) {
			t.Errorf("%d members: B-tree nodes per level %v, want %v", c.n, got, c.levels)
		}
		back, err := readBytes(data, true)
		if err != nil {
			t.Fatalf("%d members: %v", c.n, err)
		}
		if d := diffTrees("/", f.Root, back.Root); d != "" {
			t.Fatalf("%d members: %s", c.n, d)
		}
	}
}

// TestH5pyManyMembers reads a file h5py made with 300 links inserted out
// of order (testdata/check_h5py.py --make-many): the HDF5 library's own
// B-tree split passes the strict checks (only the float64 attributes of
// /extra fail them), and an empty string is an empty heap object.
func TestH5pyManyMembers(t *testing.T) {
	_, err := ReadOptions{Strict: true}.Open("testdata/h5py_many.h5")
	if err == nil || !strings.Contains(err.Error(), `/extra attribute "scalar": not as Keras writes it: float64 attribute of shape []`) {
		t.Fatalf("strict: got %v", err)
	}
	f, err := Open("testdata/h5py_many.h5")
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile("testdata/h5py_many.h5"); btreeLevels(raw)[1] != 1 {
		t.Errorf("B-tree nodes per level %v, want one of level 1", btreeLevels(raw))
	}
	if v, _ := f.Group("extra").Attr("scalar"); v != 1.5 {
		t.Errorf("scalar = %#v", v)
	}
	if v, _ := f.Group("extra").Attr("vector"); fmt.Sprint(v) != "[1 -2.5]" {
		t.Errorf("vector = %#v", v)
	}
	f.Root.Groups = f.Root.Groups[1:] // without extra, the file is Keras-shaped
	if _, err := readBytes(writeBytes(t, f), true); err != nil {
		t.Fatal(err)
	}
	g := f.Group("many")
	if len(g.Datasets) != 300 || g.Datasets[0].Name != "m000" || g.Datasets[299].Name != "m299" {
		t.Fatalf("%d datasets", len(g.Datasets))
	}
	if d := g.Dataset("m002"); len(d.Shape) != 0 || d.Float32[0] != 58 {
		t.Errorf("m002 = %v %v, want the scalar 58", d.Shape, d.Float32)
	}
	if v, _ := f.Root.Attr("strs"); fmt.Sprint(v) != "[a  ü]" {
		t.Errorf("strs = %#v", v)
	}
	if v, ok := f.Root.Attr("empty"); !ok || v != "" {
		t.Errorf("empty = %#v", v)
	}
}

// TestWriteSamples writes sample files for check_h5py.py into the folder
// named by $HDF5_SAMPLES, each with a JSON file of what it holds; it is
// skipped without it.
func TestWriteSamples(t *testing.T) {
	dir := os.Getenv("HDF5_SAMPLES")
	if dir == "" {
		t.Skip("set HDF5_SAMPLES to a folder to write samples for check_h5py.py")
	}
	samples := map[string]*File{"random1": randomFile(1), "random4": randomFile(4), "random7": randomFile(7)}
	levels := NewFile() // a B-tree of level 2: 1025 symbol-table nodes
	g := levels.Root.CreateGroup("g")
	for i := 0; i < 8193; i++ {
		g.CreateDataset(fmt.Sprintf("d%05d", (i*7919)%8193), []int{1}, []float32{float32(i)})
	}
	samples["btree_level2"] = levels
	for _, fx := range fixtures(t) {
		if fx.name == "mlp.h5" || fx.name == "bigru_text.weights.h5" {
			f, err := readBytes(fx.data, false)
			if err != nil {
				t.Fatal(err)
			}
			samples["rewritten_"+fx.name[:len(fx.name)-3]] = f
		}
	}
	for name, f := range samples {
		if err := f.WriteFile(dir + "/" + name + ".h5"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/"+name+".json", sampleJSON(t, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sampleJSON describes a tree in the form check_h5py.py compares with.
func sampleJSON(t *testing.T, f *File) []byte {
	type dataset struct {
		Shape []int    `json:"shape"`
		Bits  []uint32 `json:"bits"`
	}
	out := struct {
		Objects  []string                             `json:"objects"`
		Attrs    map[string]map[string]map[string]any `json:"attrs"`
		Datasets map[string]dataset                   `json:"datasets"`
	}{Objects: []string{}, Attrs: map[string]map[string]map[string]any{}, Datasets: map[string]dataset{}}
	err := f.Root.Walk(func(path string, g *Group, d *Dataset) error {
		if path != "" {
			out.Objects = append(out.Objects, path)
		}
		if d != nil {
			out.Datasets[path] = dataset{Shape: d.Shape, Bits: datasetArray(d).bits}
			if out.Datasets[path].Bits == nil {
				out.Datasets[path] = dataset{Shape: d.Shape, Bits: []uint32{}}
			}
			return nil
		}
		attrs := map[string]map[string]any{}
		for _, a := range g.Attrs {
			switch v := a.Value.(type) {
			case string:
				attrs[a.Name] = map[string]any{"string": v}
			case []string:
				attrs[a.Name] = map[string]any{"strings": v}
			case []float64:
				attrs[a.Name] = map[string]any{"float64": v}
			}
		}
		key := path
		if key == "" {
			key = "/"
		}
		out.Attrs[key] = attrs
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}
