package hdf5

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// TestWriteRefuses checks that the writer refuses trees it cannot write
// faithfully, naming the object, and writes nothing for them.
func TestWriteRefuses(t *testing.T) {
	cycle := NewFile()
	a := cycle.Root.CreateGroup("a")
	a.Groups = append(a.Groups, a)
	shared := NewFile()
	s := shared.Root.CreateGroup("s")
	shared.Root.CreateGroup("t").Groups = []*Group{s}
	cases := []struct {
		name string
		f    *File
		path string
		want string
	}{
		{"nil root", &File{}, "/", "no root group"},
		{"empty name", tree(func(g *Group) { g.CreateGroup("") }), "/", `invalid link name ""`},
		{"dot", tree(func(g *Group) { g.CreateGroup(".") }), "/.", `invalid link name "."`},
		{"slash", tree(func(g *Group) { g.CreateDataset("a/b", nil, []float32{1}) }), "/a/b", `invalid link name "a/b"`},
		{"NUL name", tree(func(g *Group) { g.CreateGroup("a\x00") }), "/a\x00", "holding '/' or NUL"},
		{"duplicate", tree(func(g *Group) { g.CreateGroup("x"); g.CreateDataset("x", nil, []float32{1}) }), "/x", `two members of / are called "x"`},
		{"shape", tree(func(g *Group) { g.CreateDataset("d", []int{2, 2}, []float32{1}) }), "/d", "holds 1 values, want 4"},
		{"negative dim", tree(func(g *Group) { g.CreateDataset("d", []int{-1}, nil) }), "/d", "outside [0, 2^31)"},
		{"rank 33", tree(func(g *Group) { g.CreateDataset("d", make([]int, 33), nil) }), "/d", "rank 33"},
		{"float64 dataset", tree(func(g *Group) { g.Datasets = append(g.Datasets, &Dataset{Name: "d", Float64: []float64{1}}) }), "/d", "float64 dataset"},
		{"nil group", tree(func(g *Group) { g.Groups = append(g.Groups, nil) }), "/", "nil"},
		{"attr type", tree(func(g *Group) { g.SetAttr("a", 3) }), `/ attribute "a"`, "value of type int"},
		{"attr float64", tree(func(g *Group) { g.SetAttr("a", []float64{1}) }), `/ attribute "a"`, "non-empty float64 attribute"},
		{"attr scalar float64", tree(func(g *Group) { g.SetAttr("a", 1.5) }), `/ attribute "a"`, "scalar float64 attribute"},
		{"attr name", tree(func(g *Group) { g.SetAttr("", "x") }), `/ attribute ""`, "invalid attribute name"},
		{"attr twice", tree(func(g *Group) { g.Attrs = []Attr{{Name: "a", Value: "x"}, {Name: "a", Value: "y"}} }), `/ attribute "a"`, "two attributes of one name"},
		{"NUL string", tree(func(g *Group) { g.SetAttr("a", "x\x00y") }), `/ attribute "a"`, "string holding NUL"},
		{"ASCII", tree(func(g *Group) { g.Attrs = []Attr{{Name: "a", Value: "é", Charset: ASCII}} }), `/ attribute "a"`, `string "é" is not valid ASCII`},
		{"UTF-8", tree(func(g *Group) { g.SetAttr("a", []string{"\xff"}) }), `/ attribute "a"`, "is not valid UTF-8"},
		{"charset", tree(func(g *Group) { g.Attrs = []Attr{{Name: "a", Value: "x", Charset: 9}} }), `/ attribute "a"`, "unknown charset 9"},
		{"huge attribute", tree(func(g *Group) { g.SetAttr("a", make([]string, 5000)) }), `/ attribute "a"`, "more than an object header message holds"},
		{"too many strings", tree(func(g *Group) {
			for i := 1; i <= 17; i++ {
				g.SetAttr(strings.Repeat("n", i), make([]string, 4000))
			}
		}), `/ attribute "` + strings.Repeat("n", 17) + `"`, "more than 65535 strings"},
		{"cycle", cycle, "/a/a", "appears twice"},
		{"shared group", shared, "/t/s", "appears twice"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		err := c.f.Write(&buf)
		var e *Error
		if !errors.As(err, &e) || e.Kind != Invalid || e.Path != c.path || !strings.Contains(e.Msg, c.want) {
			t.Errorf("%s: got %v (path %q), want path %q and %q", c.name, err, pathOf(e), c.path, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: %d bytes written", c.name, buf.Len())
		}
	}
}

func pathOf(e *Error) string {
	if e == nil {
		return ""
	}
	return e.Path
}

// tree returns a file whose root fill sets up.
func tree(fill func(g *Group)) *File {
	f := NewFile()
	fill(f.Root)
	return f
}

// TestWriteFile checks the atomic write: permissions kept, symbolic links
// followed, nothing left behind, and an invalid tree leaving the old file.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	f := tree(func(g *Group) { g.CreateDataset("x", []int{2}, []float32{1, 2}) })
	path := filepath.Join(dir, "m.weights.h5")
	if err := f.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", st.Mode().Perm())
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.h5")
	if err := os.Symlink("m.weights.h5", link); err != nil {
		t.Fatal(err)
	}
	f.Root.Dataset("x").Float32[0] = 5
	if err := f.WriteFile(link); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after rewrite, want 0600 kept", st.Mode().Perm())
	}
	back, err := Open(path)
	if err != nil || back.Dataset("x").Float32[0] != 5 {
		t.Fatalf("target not rewritten: %v", err)
	}
	bad := tree(func(g *Group) { g.SetAttr("a", 1) })
	if err := bad.WriteFile(path); err == nil {
		t.Fatal("invalid tree written")
	}
	if back, err := Open(path); err != nil || back.Dataset("x").Float32[0] != 5 {
		t.Errorf("a failed write damaged the file: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// TestOpenMissing checks that Open's errors name the file.
func TestOpenMissing(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "none.h5"))
	if err == nil || !strings.Contains(err.Error(), "none.h5") {
		t.Errorf("got %v", err)
	}
	if _, err := Read(bytes.NewReader(nil), -1); err == nil {
		t.Error("negative size read")
	}
	if f, err := Read(bytes.NewReader(corruptBase(t)), int64(len(corruptBase(t)))); err != nil || f.Dataset("g/e") == nil {
		t.Errorf("Read: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.h5")
	os.WriteFile(bad, []byte("not hdf5"), 0o644)
	if _, err := Open(bad); err == nil || !strings.Contains(err.Error(), "bad.h5: hdf5: ") {
		t.Errorf("got %v", err)
	}
}

// TestLookups checks the path lookups and Walk.
func TestLookups(t *testing.T) {
	f := NewFile()
	v := f.Root.CreateGroup("layers").CreateGroup("dense").CreateGroup("vars")
	v.SetAttr("name", "hidden")
	v.SetAttr("name", "renamed")
	v.CreateDataset("0", []int{1}, []float32{3})
	switch {
	case f.Group("layers/dense/vars") != v, f.Group("/layers/./dense/vars/") != v, f.Group("") != f.Root:
		t.Error("Group lookups")
	case f.Dataset("layers/dense/vars/0") != v.Datasets[0], v.Dataset("0") != v.Datasets[0]:
		t.Error("Dataset lookups")
	case f.Group("layers/none") != nil, f.Dataset("layers/dense/vars/1") != nil, f.Dataset("") != nil, f.Dataset("x/0") != nil:
		t.Error("missing objects found")
	case len(v.Attrs) != 1:
		t.Errorf("SetAttr appended: %v", v.Attrs)
	}
	if a, ok := v.Attr("name"); !ok || a != "renamed" {
		t.Errorf("Attr = %v", a)
	}
	if _, ok := v.Attr("none"); ok {
		t.Error("missing attribute found")
	}
	var paths []string
	stop := errors.New("stop")
	err := f.Root.Walk(func(path string, g *Group, d *Dataset) error {
		paths = append(paths, path)
		if d != nil {
			return stop
		}
		return nil
	})
	if err != stop || strings.Join(paths, ",") != ",layers,layers/dense,layers/dense/vars,layers/dense/vars/0" {
		t.Errorf("Walk: %v %v", paths, err)
	}
}
