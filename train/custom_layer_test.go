package train

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
)

// projection is a layer of a program's own: x·W with W of shape (features,
// units), no bias. It implements layers.ConfigGetter so that it can be
// saved, and is registered as "testpkg>Projection".
type projection struct {
	graph.Base
	units  int
	kernel *graph.Weight
}

func newProjection(name string, units int) *projection {
	return &projection{Base: graph.NewBase("Projection", name), units: units}
}

func (p *projection) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 || len(in[0]) != 1 {
		return nil, errors.Errorf("expects one (None, features) input, got %v", in)
	}
	if p.kernel == nil {
		p.kernel = p.AddWeight("kernel", graph.Shape{in[0][0], p.units}, layers.GlorotUniform(), nil, true)
	}
	return []graph.Shape{{p.units}}, nil
}

func (p *projection) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	w, err := ctx.Weight(p.kernel)
	if err != nil {
		return nil, err
	}
	y, err := G.Mul(in[0], w)
	return []graph.Node{y}, err
}

func (p *projection) GetConfig() map[string]any { return map[string]any{"units": p.units} }

func registerProjection() {
	layers.Register("testpkg>Projection", func(raw json.RawMessage) (graph.Layer, error) {
		var cfg struct {
			Name  string `json:"name"`
			Units int    `json:"units"`
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, err
		}
		if cfg.Units <= 0 {
			return nil, errors.Errorf("units must be positive, got %d", cfg.Units)
		}
		return newProjection(cfg.Name, cfg.Units), nil
	})
}

// TestCustomLayerSaveLoad saves a model with a layer of the program's own
// and loads it back through the registration: the same configuration and
// predictions; the file names the class by its registered name, and a
// layer that cannot say its configuration is an error naming what to add.
func TestCustomLayerSaveLoad(t *testing.T) {
	registerProjection()
	in := graph.Input(4)
	x := layers.NewDense(3, layers.WithActivation("relu")).Apply(in)
	out := graph.Apply1(newProjection("proj", 2), x)
	m, err := NewModel(in, out, Seed(3))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "custom.keras")
	if err := m.SaveModel(path); err != nil {
		t.Fatal(err)
	}
	cfg, err := m.KerasConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), `"registered_name":"testpkg>Projection"`) || !strings.Contains(string(cfg), `"units":2`) {
		t.Errorf("the configuration does not name the registered class and its units:\n%s", cfg)
	}
	back, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Layers()[2]; got.Class() != "Projection" || got.Name() != "proj" {
		t.Errorf("loaded layer %s (%s), want proj (Projection)", got.Name(), got.Class())
	}
	xs := tensor.New(tensor.WithShape(2, 4), tensor.WithBacking([]float32{1, 2, 3, 4, -1, 0.5, 2, 0}))
	want, err := m.Predict(xs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := back.Predict(xs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Data(), want.Data()) {
		t.Errorf("loaded model predicts %v, saved one %v", got.Data(), want.Data())
	}

	in2 := graph.Input(4)
	plain := &unsavable{Base: graph.NewBase("Unsavable", "")}
	m2, err := NewModel(in2, graph.Apply1(plain, in2))
	if err != nil {
		t.Fatal(err)
	}
	err = m2.SaveModel(filepath.Join(t.TempDir(), "bad.keras"))
	if err == nil || !strings.Contains(err.Error(), "GetConfig method and layers.Register") {
		t.Errorf("saving a layer without GetConfig: got %v", err)
	}
}

// unsavable is a layer with no configuration to save.
type unsavable struct{ graph.Base }

func (u *unsavable) Build(in []graph.Shape) ([]graph.Shape, error) { return in, nil }
func (u *unsavable) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) {
	return in, nil
}
