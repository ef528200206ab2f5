package train

import (
	"encoding/json"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
)

// KerasConfig returns the model's configuration as Keras 3's
// model.to_json() writes it: a Functional model whose layers list, for each
// layer, its Keras configuration and the inbound nodes that say what it was
// applied to. Keras 3 rebuilds the model from it (keras.models.
// model_from_json), and so does ModelFromKerasConfig.
func (m *Model) KerasConfig() (b []byte, err error) {
	defer guard("KerasConfig", &err)
	dtype := "float32"
	if m.dt == tensor.Float64 {
		dtype = "float64"
	}
	w := &configWriter{dtype: dtype, refs: map[*graph.Tensor][3]any{}, entries: map[graph.Layer]*kerasLayer{}, calls: map[graph.Layer]int{}}
	var list []*kerasLayer
	for _, c := range m.net.LayerCalls() {
		e, fresh, err := w.entry(c)
		if err != nil {
			return nil, err
		}
		if fresh {
			list = append(list, e)
		}
	}
	cfg := map[string]any{
		"name":          m.name,
		"trainable":     true,
		"layers":        list,
		"input_layers":  w.endpoints(m.net.Inputs()),
		"output_layers": w.endpoints(m.net.Outputs()),
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, errors.Wrap(err, "KerasConfig")
	}
	reg := "Functional"
	return json.Marshal(kerasModel{Module: "keras.src.models.functional", ClassName: "Functional", Config: raw,
		RegisteredName: &reg, BuildConfig: json.RawMessage(`{"input_shape": null}`)})
}

// configWriter builds the layer entries of a functional configuration.
type configWriter struct {
	dtype   string
	refs    map[*graph.Tensor][3]any // tensor → [layer, node, index]
	entries map[graph.Layer]*kerasLayer
	calls   map[graph.Layer]int
}

// entry adds one layer call: to the layer's entry (made, and fresh, on its
// first call) as an inbound node, and its outputs to the tensors known.
func (w *configWriter) entry(c graph.LayerCall) (*kerasLayer, bool, error) {
	l := c.Layer
	e, seen := w.entries[l]
	if !seen {
		var err error
		if e, err = w.layerEntry(l); err != nil {
			return nil, false, err
		}
		w.entries[l] = e
	}
	node := w.calls[l]
	w.calls[l] = node + 1
	for i, t := range c.Outputs {
		w.refs[t] = [3]any{l.Name(), node, i}
	}
	if _, isInput := l.(*graph.InputLayer); isInput {
		return e, !seen, nil
	}
	n, err := w.inboundNode(c)
	if err != nil {
		return nil, false, errors.Wrapf(err, "layer %s", l.Name())
	}
	var nodes []json.RawMessage
	if len(e.InboundNodes) > 0 {
		json.Unmarshal(e.InboundNodes, &nodes) //nolint: written by this function
	}
	if e.InboundNodes, err = json.Marshal(append(nodes, n)); err != nil {
		return nil, false, err
	}
	return e, !seen, nil
}

// layerEntry is a layer's entry without inbound nodes: an InputLayer's
// configuration, the NotEqual op, or the layer's Keras serialization.
func (w *configWriter) layerEntry(l graph.Layer) (*kerasLayer, error) {
	e := &kerasLayer{Name: l.Name(), InboundNodes: json.RawMessage("[]")}
	switch v := l.(type) {
	case *graph.InputLayer:
		shape, _ := json.Marshal(batchShape(v.InputShape()))
		cfg, err := json.Marshal(map[string]any{"batch_shape": json.RawMessage(shape), "dtype": w.dtype,
			"sparse": false, "ragged": false, "name": l.Name(), "optional": false})
		e.KerasObject = layers.KerasObject{Module: "keras.layers", ClassName: "InputLayer", Config: cfg}
		return e, err
	case *layers.NotEqual:
		cfg, err := json.Marshal(map[string]string{"name": l.Name()})
		reg := "NotEqual"
		e.KerasObject = layers.KerasObject{Module: "keras.src.ops.numpy", ClassName: "NotEqual", Config: cfg, RegisteredName: &reg}
		return e, err
	}
	obj, err := layers.SerializeLayer(l, w.dtype)
	e.KerasObject = obj
	return e, err
}

// batchShape is a shape with the batch axis first, as None.
func batchShape(s graph.Shape) []*int {
	out := []*int{nil}
	for _, d := range s {
		out = append(out, &d)
	}
	return out
}

// tensorRef is Keras 3's reference to a tensor made earlier.
func (w *configWriter) tensorRef(t *graph.Tensor) (map[string]any, error) {
	hist, ok := w.refs[t]
	if !ok {
		return nil, errors.Errorf("tensor %s is used before it is made", t)
	}
	return map[string]any{"class_name": "__keras_tensor__", "config": map[string]any{
		"shape": batchShape(t.Shape()), "dtype": w.dtype, "keras_history": hist}}, nil
}

// inboundNode is one call's node: one tensor, or a list of them, as the
// first argument (NotEqual's value second); the explicit mask as the mask
// keyword.
func (w *configWriter) inboundNode(c graph.LayerCall) (json.RawMessage, error) {
	var refs []any
	for _, t := range c.Inputs {
		r, err := w.tensorRef(t)
		if err != nil {
			return nil, err
		}
		refs = append(refs, r)
	}
	args := []any{refs}
	if len(refs) == 1 {
		args = refs
	}
	if ne, ok := c.Layer.(*layers.NotEqual); ok {
		args = append(args, ne.Config().Value)
	}
	kwargs := map[string]any{}
	if c.Mask != nil {
		r, err := w.tensorRef(c.Mask)
		if err != nil {
			return nil, err
		}
		kwargs["mask"] = r
	}
	return json.Marshal(map[string]any{"args": args, "kwargs": kwargs})
}

// endpoints are input_layers or output_layers: [layer, node, index] for one
// tensor, a list of them for several, as Keras writes them.
func (w *configWriter) endpoints(ts []*graph.Tensor) any {
	out := make([][3]any, len(ts))
	for i, t := range ts {
		out[i] = w.refs[t]
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}
