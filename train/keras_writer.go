package train

import (
	"encoding/json"
	"strconv"

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
	w := &configWriter{dtype: dtype, refs: map[*graph.Tensor][3]any{}, entries: map[graph.Layer]*kerasLayer{},
		calls: map[graph.Layer]int{}, maskOf: map[*graph.Tensor]maskSource{}, notEquals: map[*graph.Tensor]*graph.Tensor{}, names: map[string]bool{}}
	for _, l := range m.net.Layers() {
		w.names[l.Name()] = true
	}
	for _, c := range m.net.LayerCalls() {
		e, fresh, err := w.entry(c)
		if err != nil {
			return nil, err
		}
		if fresh {
			w.list = append(w.list, e)
		}
	}
	list := w.list
	cfg := map[string]any{
		"name":          m.name,
		"trainable":     true,
		"layers":        list,
		"input_layers":  w.endpoints(m.net.Inputs()),
		"output_layers": w.endpoints(m.net.Outputs()),
	}
	raw, err := layers.MarshalJSON(cfg)
	if err != nil {
		return nil, errors.Wrap(err, "KerasConfig")
	}
	reg := "Functional"
	return layers.MarshalJSON(kerasModel{KerasObject: layers.KerasObject{Module: "keras.src.models.functional",
		ClassName: "Functional", Config: raw, RegisteredName: &reg}, BuildConfig: json.RawMessage(`{"input_shape": null}`)})
}

// configWriter builds the layer entries of a functional configuration.
type configWriter struct {
	dtype   string
	refs    map[*graph.Tensor][3]any // tensor → [layer, node, index]
	entries map[graph.Layer]*kerasLayer
	calls   map[graph.Layer]int
	list    []*kerasLayer
	// maskOf is where the mask a tensor carries comes from; names are the
	// layer names taken, for the NotEqual ops added for masks.
	maskOf    map[*graph.Tensor]maskSource
	notEquals map[*graph.Tensor]*graph.Tensor // tokens → the NotEqual written for them
	names     map[string]bool
}

// maskSource is where a tensor's Keras mask comes from: an explicit mask
// tensor, or the input of an Embedding(mask_zero) whose NotEqual(input, 0)
// op is written when a layer first needs it (as Keras records it).
type maskSource struct {
	tensor *graph.Tensor // the mask itself
	tokens *graph.Tensor // else the Embedding's input
}

// maskTakers are the Keras classes whose call takes a mask argument: Keras
// records the mask of a masked input as their mask keyword, and without it
// would not apply it.
var maskTakers = map[string]bool{"SimpleRNN": true, "GRU": true, "LSTM": true, "Bidirectional": true,
	"TimeDistributed": true, "GlobalAveragePooling1D": true}

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
	w.trackMasks(c)
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

// batchShape is a shape with the batch axis first, as None, and Unknown
// axes as None too.
func batchShape(s graph.Shape) []*int {
	out := []*int{nil}
	for _, d := range s {
		if d == graph.Unknown {
			out = append(out, nil)
			continue
		}
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
	mask := c.Mask
	if mask == nil && maskTakers[c.Layer.Class()] && len(c.Inputs) > 0 {
		mask = w.maskTensor(c.Inputs[0])
	}
	if mask != nil {
		r, err := w.tensorRef(mask)
		if err != nil {
			return nil, err
		}
		r["config"].(map[string]any)["dtype"] = "bool"
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

// trackMasks records where the masks of a call's outputs come from: an
// Embedding(mask_zero) makes one from its input, an explicit mask passes
// on, and a masked output otherwise carries its first input's mask.
func (w *configWriter) trackMasks(c graph.LayerCall) {
	for _, t := range c.Outputs {
		switch {
		case !t.Masked():
		case isMaskingEmbedding(c.Layer):
			w.maskOf[t] = maskSource{tokens: c.Inputs[0]}
		case c.Mask != nil:
			w.maskOf[t] = maskSource{tensor: c.Mask}
		case len(c.Inputs) > 0:
			w.maskOf[t] = w.maskOf[c.Inputs[0]]
		}
	}
}

func isMaskingEmbedding(l graph.Layer) bool {
	e, ok := l.(*layers.Embedding)
	return ok && e.MaskZero()
}

// maskTensor is the mask tensor of t (nil without one), writing the
// NotEqual(tokens, 0) op of an Embedding's mask the first time it is
// needed.
func (w *configWriter) maskTensor(t *graph.Tensor) *graph.Tensor {
	src, ok := w.maskOf[t]
	if !ok {
		return nil
	}
	if src.tensor != nil {
		return src.tensor
	}
	if m, ok := w.notEquals[src.tokens]; ok {
		return m
	}
	name := "not_equal"
	for i := 1; w.names[name]; i++ {
		name = "not_equal_" + strconv.Itoa(i)
	}
	w.names[name] = true
	ne := layers.NewNotEqual(0, layers.WithName(name))
	m := ne.Apply(src.tokens)
	e, err := w.layerEntry(ne)
	if err == nil {
		var n json.RawMessage
		if n, err = w.inboundNode(graph.LayerCall{Layer: ne, Inputs: []*graph.Tensor{src.tokens}}); err == nil {
			e.InboundNodes, err = json.Marshal([]json.RawMessage{n})
		}
	}
	if err != nil {
		return nil // cannot happen: the tokens are written already
	}
	w.refs[m] = [3]any{name, 0, 0}
	w.notEquals[src.tokens] = m
	w.list = append(w.list, e)
	return m
}
