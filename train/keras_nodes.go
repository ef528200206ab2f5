package train

import (
	"bytes"
	"encoding/json"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
)

// kerasTensor is Keras 3's reference to a tensor in inbound nodes.
type kerasTensor struct {
	ClassName string `json:"class_name"`
	Config    struct {
		Shape        []*int          `json:"shape"`
		Dtype        string          `json:"dtype"`
		KerasHistory json.RawMessage `json:"keras_history"`
	} `json:"config"`
}

// inboundNodes reads a layer's inbound nodes in either dialect.
func inboundNodes(layer string, raw json.RawMessage) ([]pendingNode, error) {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.Errorf("layer %s: inbound_nodes is not a list", layer)
	}
	nodes := make([]pendingNode, 0, len(list))
	for i, n := range list {
		var p pendingNode
		var err error
		if bytes.HasPrefix(bytes.TrimSpace(n), []byte("{")) {
			p, err = keras3Node(n)
		} else {
			p, err = keras2Node(n)
		}
		if err != nil {
			return nil, errors.Wrapf(err, "layer %s: inbound node %d", layer, i)
		}
		p.layer = layer
		nodes = append(nodes, p)
	}
	return nodes, nil
}

// keras3Node reads {"args": [...], "kwargs": {...}}: the first argument is a
// tensor or a list of tensors; the keyword arguments may hold the mask.
func keras3Node(raw json.RawMessage) (pendingNode, error) {
	var n struct {
		Args   []json.RawMessage          `json:"args"`
		Kwargs map[string]json.RawMessage `json:"kwargs"`
	}
	if err := json.Unmarshal(raw, &n); err != nil || len(n.Args) == 0 {
		return pendingNode{}, errors.Errorf("not a node with arguments: %s", raw)
	}
	p := pendingNode{}
	var list []json.RawMessage
	if json.Unmarshal(n.Args[0], &list) == nil {
		p.args = append(list, n.Args[1:]...)
	} else {
		p.args = n.Args
	}
	for k, v := range n.Kwargs {
		switch k {
		case "mask":
			if string(bytes.TrimSpace(v)) != "null" {
				p.mask = v
			}
		case "training":
		default:
			return pendingNode{}, errors.Errorf("keyword argument %q is not supported", k)
		}
	}
	return p, nil
}

// keras2Node reads [[layer, node, tensor, kwargs], ...]: the history of each
// input, as a Keras 3 tensor reference.
func keras2Node(raw json.RawMessage) (pendingNode, error) {
	var inputs [][]json.RawMessage
	if err := json.Unmarshal(raw, &inputs); err != nil || len(inputs) == 0 {
		return pendingNode{}, errors.Errorf("not a list of inputs: %s", raw)
	}
	var p pendingNode
	for _, in := range inputs {
		if len(in) < 3 {
			return pendingNode{}, errors.Errorf("input %s is not [layer, node, tensor, kwargs]", raw)
		}
		hist, err := json.Marshal([]json.RawMessage{in[0], in[1], in[2]})
		if err != nil {
			return pendingNode{}, err
		}
		ref, err := json.Marshal(map[string]any{"class_name": "__keras_tensor__", "config": map[string]any{"keras_history": json.RawMessage(hist)}})
		if err != nil {
			return pendingNode{}, err
		}
		p.args = append(p.args, ref)
		if len(in) > 3 {
			var kw map[string]json.RawMessage
			if json.Unmarshal(in[3], &kw) == nil && kw["mask"] != nil && string(kw["mask"]) != "null" {
				return pendingNode{}, errors.New("a mask keyword in Keras 2 inbound nodes is not supported")
			}
		}
	}
	return p, nil
}

// refOf reads a tensor reference; ok is false for an argument that is not
// a tensor (a number).
func refOf(raw json.RawMessage) (tensorRef, bool, error) {
	var kt kerasTensor
	if json.Unmarshal(raw, &kt) != nil || kt.ClassName != "__keras_tensor__" {
		return tensorRef{}, false, nil
	}
	var hist []json.RawMessage
	if err := json.Unmarshal(kt.Config.KerasHistory, &hist); err != nil || len(hist) != 3 {
		return tensorRef{}, false, errors.Errorf("keras_history %s is not [layer, node, tensor]", kt.Config.KerasHistory)
	}
	var r tensorRef
	if json.Unmarshal(hist[0], &r.layer) != nil || json.Unmarshal(hist[1], &r.node) != nil || json.Unmarshal(hist[2], &r.tensor) != nil {
		return tensorRef{}, false, errors.Errorf("keras_history %s is not [layer, node, tensor]", kt.Config.KerasHistory)
	}
	return r, true, nil
}

// resolve is the tensor a reference names; nil while it is not made yet.
func (f *functional) resolve(raw json.RawMessage) (*graph.Tensor, error) {
	r, ok, err := refOf(raw)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.Errorf("argument %s is not a tensor", raw)
	}
	if _, known := f.layers[r.layer]; !known {
		return nil, errors.Errorf("input from layer %s, which the configuration does not have", r.layer)
	}
	return f.tensors[r], nil
}

// apply applies one inbound node when every tensor it needs exists, and
// records the outputs; done is false when a tensor is still missing.
func (f *functional) apply(p pendingNode) (done bool, err error) {
	in := make([]*graph.Tensor, len(p.args))
	for i, a := range p.args {
		if in[i], err = f.resolve(a); err != nil || in[i] == nil {
			return false, err
		}
	}
	var mask *graph.Tensor
	if p.mask != nil {
		if mask, err = f.resolve(p.mask); err != nil || mask == nil {
			return false, err
		}
	}
	l := f.layers[p.layer]
	var out []*graph.Tensor
	if mask != nil {
		out = graph.ApplyMasked(l, mask, in...)
	} else {
		out = graph.Apply(l, in...)
	}
	if out[0].Err() != nil {
		return false, out[0].Err()
	}
	node := f.calls[p.layer]
	f.calls[p.layer] = node + 1
	for i, t := range out {
		f.tensors[tensorRef{p.layer, node, i}] = t
	}
	return true, nil
}

// endpoints reads input_layers or output_layers: one [layer, node, tensor]
// or a list of them.
func (f *functional) endpoints(what string, raw json.RawMessage) ([]*graph.Tensor, error) {
	var many [][]json.RawMessage
	if err := json.Unmarshal(raw, &many); err != nil {
		var one []json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, errors.Errorf("%s %s is not [layer, node, tensor] or a list of them", what, raw)
		}
		many = [][]json.RawMessage{one}
	}
	var out []*graph.Tensor
	for _, e := range many {
		hist, _ := json.Marshal(e)
		ref, _ := json.Marshal(map[string]any{"class_name": "__keras_tensor__", "config": map[string]any{"keras_history": json.RawMessage(hist)}})
		t, err := f.resolve(ref)
		if err != nil {
			return nil, errors.Wrap(err, what)
		}
		if t == nil {
			return nil, errors.Errorf("%s: %s is never produced", what, hist)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, errors.Errorf("%s is empty", what)
	}
	return out, nil
}
