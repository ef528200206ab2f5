package train

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train/hdf5"
)

// Keras 3's weights layout (a .weights.h5 file, and model.weights.h5 inside
// a .keras file): the model's name on /vars, and each layer under
// layers/<key>, key being its class in snake case with a counter in the
// model's layer order (dense, dense_1, …); the layer's real name is the
// name attribute of its vars group, and its weights are float32 datasets at
// the paths layers.WeightPaths gives (vars/0, cell/vars/1, …).

// kerasKey is Keras's snake-case name of a class (keras's to_snake_case):
// Dense → dense, Conv2D → conv2d, GlobalMaxPooling1D →
// global_max_pooling1d, InputLayer → input_layer.
func kerasKey(class string) string {
	s := nonWord.ReplaceAllString(class, "")
	s = capWord.ReplaceAllString(s, "${1}_${2}")
	return strings.ToLower(lowerUpper.ReplaceAllString(s, "${1}_${2}"))
}

var (
	nonWord    = regexp.MustCompile(`\W+`)
	capWord    = regexp.MustCompile(`(.)([A-Z][a-z]+)`)
	lowerUpper = regexp.MustCompile(`([a-z])([A-Z])`)
)

// kerasLayerKeys pairs every layer Keras lists in model.layers (the
// model's layers in order, without the ops Keras writes as layers, such as
// NotEqual) with its group key.
func (m *Model) kerasLayerKeys() ([]graph.Layer, []string) {
	count := map[string]int{}
	var ls []graph.Layer
	var keys []string
	for _, l := range m.net.Layers() {
		if _, op := l.(*layers.NotEqual); op {
			continue
		}
		k := kerasKey(l.Class())
		if _, ok := l.(*graph.InputLayer); ok {
			k = "input_layer"
		}
		if n := count[k]; n > 0 {
			count[k] = n + 1
			k += "_" + strconv.Itoa(n)
		} else {
			count[k] = 1
		}
		ls, keys = append(ls, l), append(keys, k)
	}
	return ls, keys
}

// kerasWeightsTree is the model's weights in Keras 3's layout.
func (m *Model) kerasWeightsTree() (*hdf5.File, error) {
	f := hdf5.NewFile()
	f.Root.CreateGroup("vars").SetAttr("name", m.name)
	lg := f.Root.CreateGroup("layers")
	ls, keys := m.kerasLayerKeys()
	for i, l := range ls {
		g := lg.CreateGroup(keys[i])
		g.CreateGroup("vars").SetAttr("name", l.Name())
		paths := layers.WeightPaths(l)
		ws := l.Weights()
		if len(paths) != len(ws) {
			return nil, errors.Errorf("layer %s: %d weights but %d weight paths", l.Name(), len(ws), len(paths))
		}
		for j, w := range ws {
			parent, name := splitLast(paths[j])
			ensureGroup(g, parent).CreateDataset(name, w.Shape(), float32Values(w))
		}
	}
	return f, nil
}

// splitLast splits "a/b/c" into "a/b" and "c".
func splitLast(path string) (string, string) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return "", path
	}
	return path[:i], path[i+1:]
}

// ensureGroup returns the group at path below g, creating the missing ones
// (a vars group gets the name attribute Keras gives it).
func ensureGroup(g *hdf5.Group, path string) *hdf5.Group {
	for _, part := range strings.Split(path, "/") {
		if part == "" {
			continue
		}
		next := g.Group(part)
		if next == nil {
			next = g.CreateGroup(part)
		}
		g = next
	}
	return g
}

// float32Values is a weight's values as float32 (Keras's files hold
// float32 weights).
func float32Values(w *graph.Weight) []float32 {
	if d, ok := w.Value().Data().([]float32); ok {
		return append([]float32(nil), d...)
	}
	vs := w.Float64s()
	out := make([]float32, len(vs))
	for i, v := range vs {
		out[i] = float32(v)
	}
	return out
}

// kerasWeightsFrom reads the model's weights out of a Keras 3 weights tree,
// as SetWeights takes them; nothing is set here. A missing group or
// dataset, or a shape that is not the weight's, is an error naming both.
func (m *Model) kerasWeightsFrom(f *hdf5.File) ([]*tensor.Dense, error) {
	lg := f.Group("layers")
	if lg == nil {
		return nil, errors.New("no layers group: not a Keras 3 weights file")
	}
	ls, keys := m.kerasLayerKeys()
	var out []*tensor.Dense
	for i, l := range ls {
		paths := layers.WeightPaths(l)
		for j, w := range l.Weights() {
			d := lg.Dataset(keys[i] + "/" + paths[j])
			if d == nil {
				return nil, errors.Errorf("layer %s (%s): no dataset layers/%s/%s for weight %s", l.Name(), l.Class(), keys[i], paths[j], w.Name())
			}
			if !slices.Equal(d.Shape, w.Shape()) {
				return nil, errors.Errorf("weight %s: layers/%s/%s has shape %v, the weight %v", w.Name(), keys[i], paths[j], d.Shape, []int(w.Shape()))
			}
			out = append(out, datasetTensor(d))
		}
	}
	return out, nil
}

// datasetTensor is a dataset's values as a tensor of its own dtype.
func datasetTensor(d *hdf5.Dataset) *tensor.Dense {
	shape := append([]int(nil), d.Shape...)
	if d.Float64 != nil {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), d.Float64...)))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), d.Float32...)))
}
