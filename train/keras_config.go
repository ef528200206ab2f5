package train

import (
	"encoding/json"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
)

// Keras's model configurations, both ways: what model.to_json() writes,
// what a .keras file holds in config.json, and the model_config attribute
// of a legacy .h5 file. Two classes: Sequential (a list of layers) and
// Functional (layers with the inbound nodes that say what each was applied
// to). Two dialects of inbound nodes: Keras 3's, {"args": [...], "kwargs":
// {...}} with "__keras_tensor__" objects naming (layer, node, tensor), and
// Keras 2's, lists of [layer, node, tensor, kwargs].

// kerasModel is a serialized Keras model.
type kerasModel struct {
	layers.KerasObject
	BuildConfig   json.RawMessage `json:"build_config,omitempty"`
	CompileConfig json.RawMessage `json:"compile_config,omitempty"`
}

// kerasModelConfig is the config of a Sequential or Functional model.
type kerasModelConfig struct {
	Name         string          `json:"name"`
	Trainable    *bool           `json:"trainable,omitempty"`
	Layers       []kerasLayer    `json:"layers"`
	InputLayers  json.RawMessage `json:"input_layers,omitempty"`
	OutputLayers json.RawMessage `json:"output_layers,omitempty"`
	// BuildInputShape is a Sequential model's input shape when it has no
	// InputLayer.
	BuildInputShape json.RawMessage `json:"build_input_shape,omitempty"`
}

// kerasLayer is one layer of a model configuration.
type kerasLayer struct {
	layers.KerasObject
	Name         string          `json:"name,omitempty"`
	InboundNodes json.RawMessage `json:"inbound_nodes,omitempty"`
	BuildConfig  json.RawMessage `json:"build_config,omitempty"`
}

// ModelFromKerasConfig builds a model from Keras's serialized model (the
// JSON of model.to_json(), of a .keras file's config.json or of a legacy
// .h5 file's model_config): a Sequential or Functional model of the layers
// kerago has (layers.Classes, and those registered with layers.Register).
// Its weights are freshly initialised; load the file's weights next. An
// unknown class, a missing key, a configuration kerago cannot honour or an
// inconsistent graph is an error naming the layer.
func ModelFromKerasConfig(raw []byte, opts ...ModelOption) (m *Model, err error) {
	defer guard("ModelFromKerasConfig", &err)
	var km kerasModel
	if err := json.Unmarshal(raw, &km); err != nil {
		return nil, errors.Errorf("model configuration: not a Keras model: %v", err)
	}
	var cfg kerasModelConfig
	if err := json.Unmarshal(km.Config, &cfg); err != nil {
		return nil, errors.Errorf("model configuration of class %s: %v", km.ClassName, err)
	}
	var ins, outs []*graph.Tensor
	switch km.ClassName {
	case "Sequential":
		ins, outs, err = buildSequential(cfg)
	case "Functional", "Model":
		ins, outs, err = buildFunctional(cfg)
	default:
		return nil, errors.Errorf("model configuration: class %s is not supported (Sequential or Functional)", km.ClassName)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "model %s", cfg.Name)
	}
	return NewModel(ins, outs, append([]ModelOption{Name(cfg.Name)}, opts...)...)
}

// buildSequential applies the layers in order to the input: the first
// layer's InputLayer, else the build_input_shape, else the batch input
// shape Keras 2 keeps on the first layer.
func buildSequential(cfg kerasModelConfig) ([]*graph.Tensor, []*graph.Tensor, error) {
	list := cfg.Layers
	var in *graph.Tensor
	var err error
	switch {
	case len(list) > 0 && list[0].ClassName == "InputLayer":
		in, err = inputFromConfig(list[0])
		list = list[1:]
	case len(cfg.BuildInputShape) > 0 && string(cfg.BuildInputShape) != "null":
		in, err = inputOfShape("", cfg.BuildInputShape)
	case len(list) > 0:
		in, err = inputFromBatchShape(list[0])
	default:
		err = errors.New("a Sequential model with no layers")
	}
	if err != nil {
		return nil, nil, err
	}
	x := in
	for _, kl := range list {
		l, err := layers.DeserializeLayer(kl.KerasObject)
		if err != nil {
			return nil, nil, err
		}
		if x = graph.Apply1(l, x); x.Err() != nil {
			return nil, nil, x.Err()
		}
	}
	return []*graph.Tensor{in}, []*graph.Tensor{x}, nil
}

// inputFromConfig is a model input made from an InputLayer's
// configuration: its name and batch_shape (Keras 3) or batch_input_shape
// (Keras 2), the batch axis first; its dtype must be a number type.
func inputFromConfig(kl kerasLayer) (*graph.Tensor, error) {
	var c struct {
		Name            string          `json:"name"`
		BatchShape      json.RawMessage `json:"batch_shape"`
		BatchInputShape json.RawMessage `json:"batch_input_shape"`
		Dtype           string          `json:"dtype"`
		Sparse          bool            `json:"sparse"`
		Ragged          bool            `json:"ragged"`
	}
	if err := json.Unmarshal(kl.Config, &c); err != nil {
		return nil, errors.Errorf("input layer %s: %v", kl.Name, err)
	}
	if c.Sparse || c.Ragged {
		return nil, errors.Errorf("input layer %s: sparse and ragged inputs are not supported", c.Name)
	}
	switch c.Dtype {
	case "", "float32", "float64", "float16", "int32", "int64", "uint8", "int8", "int16", "bool":
	default:
		return nil, errors.Errorf("input layer %s: dtype %q is not supported", c.Name, c.Dtype)
	}
	shape := c.BatchShape
	if len(shape) == 0 || string(shape) == "null" {
		shape = c.BatchInputShape
	}
	return inputOfShape(c.Name, shape)
}

// inputFromBatchShape is the input of a Keras 2 Sequential model, whose
// first layer carries batch_input_shape.
func inputFromBatchShape(kl kerasLayer) (*graph.Tensor, error) {
	var c struct {
		BatchInputShape json.RawMessage `json:"batch_input_shape"`
	}
	if err := json.Unmarshal(kl.Config, &c); err != nil || len(c.BatchInputShape) == 0 {
		return nil, errors.New("a Sequential model without an input shape (no InputLayer, build_input_shape or batch_input_shape)")
	}
	return inputOfShape("", c.BatchInputShape)
}

// inputOfShape is a model input of the given batch shape ([null, d, …]).
func inputOfShape(name string, raw json.RawMessage) (*graph.Tensor, error) {
	var dims []*int
	if err := json.Unmarshal(raw, &dims); err != nil || len(dims) < 1 {
		return nil, errors.Errorf("input %s: batch shape %s is not a list with the batch axis first", name, raw)
	}
	shape := make([]int, 0, len(dims)-1)
	for _, d := range dims[1:] {
		if d == nil {
			shape = append(shape, graph.Unknown)
			continue
		}
		shape = append(shape, *d)
	}
	t := graph.NamedInput(name, shape...)
	return t, t.Err()
}

// tensorRef names one tensor of a functional graph: the layer, its call
// (node) and the output.
type tensorRef struct {
	layer        string
	node, tensor int
}

// functional is a functional model being rebuilt: the layers by name and
// the tensors made so far.
type functional struct {
	layers  map[string]graph.Layer
	tensors map[tensorRef]*graph.Tensor
	calls   map[string]int // calls made of each layer
}

// buildFunctional rebuilds a functional model: its input layers, then every
// inbound node of every layer once the tensors it needs exist (Keras lists
// layers in an order where that takes few passes; shared layers may need
// more).
func buildFunctional(cfg kerasModelConfig) ([]*graph.Tensor, []*graph.Tensor, error) {
	f := &functional{layers: map[string]graph.Layer{}, tensors: map[tensorRef]*graph.Tensor{}, calls: map[string]int{}}
	var pending []pendingNode
	for _, kl := range cfg.Layers {
		nodes, err := f.addLayer(kl)
		if err != nil {
			return nil, nil, err
		}
		pending = append(pending, nodes...)
	}
	for len(pending) > 0 {
		var next []pendingNode
		for _, p := range pending {
			done, err := f.apply(p)
			if err != nil {
				return nil, nil, errors.Wrapf(err, "layer %s", p.layer)
			}
			if !done {
				next = append(next, p)
			}
		}
		if len(next) == len(pending) {
			return nil, nil, errors.Errorf("layer %s: its inputs are never produced (a cycle, or a layer missing from the configuration)", next[0].layer)
		}
		pending = next
	}
	ins, err := f.endpoints("input_layers", cfg.InputLayers)
	if err != nil {
		return nil, nil, err
	}
	outs, err := f.endpoints("output_layers", cfg.OutputLayers)
	return ins, outs, err
}

// pendingNode is one inbound node of a layer, not applied yet.
type pendingNode struct {
	layer string
	args  []json.RawMessage
	mask  json.RawMessage
}

// addLayer creates the layer (an InputLayer's tensor at once) and returns
// its inbound nodes.
func (f *functional) addLayer(kl kerasLayer) ([]pendingNode, error) {
	name := kl.Name
	if name == "" {
		var c struct{ Name string }
		json.Unmarshal(kl.Config, &c) //nolint: a missing name is reported below
		name = c.Name
	}
	if name == "" {
		return nil, errors.Errorf("a layer of class %s has no name", kl.ClassName)
	}
	if _, dup := f.layers[name]; dup {
		return nil, errors.Errorf("two layers are named %s", name)
	}
	if kl.ClassName == "InputLayer" {
		t, err := inputFromConfig(kl)
		if err != nil {
			return nil, err
		}
		f.layers[name] = t.Layer()
		f.tensors[tensorRef{name, 0, 0}] = t
		f.calls[name] = 1
		return nil, nil
	}
	nodes, err := inboundNodes(name, kl.InboundNodes)
	if err != nil {
		return nil, err
	}
	if kl.ClassName == "NotEqual" {
		if f.layers[name], err = notEqualLayer(name, nodes); err != nil {
			return nil, err
		}
		return nodes, nil
	}
	l, err := layers.DeserializeLayer(kl.KerasObject)
	if err != nil {
		return nil, err
	}
	f.layers[name] = l
	return nodes, nil
}

// notEqualLayer is the NotEqual op Keras writes for a mask: applied to a
// tensor and a number.
func notEqualLayer(name string, nodes []pendingNode) (graph.Layer, error) {
	if len(nodes) != 1 || len(nodes[0].args) != 2 {
		return nil, errors.Errorf("layer %s: NotEqual needs one call on a tensor and a number", name)
	}
	var v float64
	if err := json.Unmarshal(nodes[0].args[1], &v); err != nil {
		return nil, errors.Errorf("layer %s: NotEqual's second argument %s is not a number", name, nodes[0].args[1])
	}
	nodes[0].args = nodes[0].args[:1]
	return layers.NewNotEqual(v, layers.WithName(name)), nil
}
