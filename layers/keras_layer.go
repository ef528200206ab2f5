package layers

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
)

// This file turns layers into Keras's serialized form and back, as
// keras.layers.serialize and deserialize do: a layer is
//
//	{"module": "keras.layers", "class_name": "Dense", "config": {...},
//	 "registered_name": null}
//
// whose config holds the keys of the layer's configuration struct (their
// json tags), Keras's standard keys (name, trainable, dtype), and nested
// objects for initializers, regularizers and wrapped layers. Every layer
// registers its class with registerLayer in its own file; a program adds
// classes of its own with Register.

// KerasObject is one object in Keras's serialized form: a layer, an
// initializer, a regularizer, a dtype policy.
type KerasObject struct {
	// Module is the Python module of the class ("keras.layers"); Keras 2
	// files omit it.
	Module string `json:"module,omitempty"`
	// ClassName is the class ("Dense"), or for a registered custom object
	// its class.
	ClassName string `json:"class_name"`
	// Config is the object's configuration.
	Config json.RawMessage `json:"config"`
	// RegisteredName is the name a custom object is registered under
	// ("package>Name"), null for Keras's own classes.
	RegisteredName *string `json:"registered_name"`
}

// layerCodec turns one class's configuration into a layer and back.
type layerCodec struct {
	// decode builds a layer from its Keras configuration keys.
	decode func(keys map[string]json.RawMessage, ctx *decodeContext) (graph.Layer, error)
	// encode returns the layer's configuration struct (its Config()), or
	// its Keras keys ready made (a map[string]any).
	encode func(l graph.Layer) (any, bool)
}

var codecs = struct {
	sync.RWMutex
	byClass map[string]layerCodec
}{byClass: map[string]layerCodec{}}

// registerLayer makes a layer class serializable: defaults gives Keras's
// default configuration, build the layer from a configuration (the
// class's NewXFromConfig), config its configuration (its Config method).
func registerLayer[C any, L graph.Layer](class string, defaults func() C, build func(C) L, config func(L) C) {
	setCodec(class, layerCodec{
		decode: func(keys map[string]json.RawMessage, ctx *decodeContext) (graph.Layer, error) {
			cfg := defaults()
			if err := decodeConfig(reflect.ValueOf(&cfg).Elem(), keys, ctx); err != nil {
				return nil, err
			}
			return build(cfg), nil
		},
		encode: func(l graph.Layer) (any, bool) {
			t, ok := l.(L)
			if !ok {
				return nil, false
			}
			return config(t), true
		},
	})
}

// Register makes a layer class of the program's own known to
// DeserializeLayer (and so to the model loaders), as Keras's custom
// objects: name is the class name or the registered name ("package>Name")
// the files carry, and build makes the layer from the configuration's JSON.
// Registering a name twice replaces the first. A registered layer that
// implements ConfigGetter can also be saved: SerializeLayer writes its
// GetConfig under its Class, with name as the registered name.
func Register(name string, build func(config json.RawMessage) (graph.Layer, error)) {
	class := name
	if i := strings.LastIndex(name, ">"); i >= 0 {
		class = name[i+1:]
	}
	customNames.Lock()
	customNames.byClass[class] = name
	customNames.Unlock()
	setCodec(name, layerCodec{decode: func(keys map[string]json.RawMessage, _ *decodeContext) (graph.Layer, error) {
		raw, err := json.Marshal(keys)
		if err != nil {
			return nil, err
		}
		return build(raw)
	}})
}

// ConfigGetter is implemented by a program's own layers that can be saved,
// as Keras's get_config: the configuration keys build (given to Register)
// reads back. SerializeLayer adds name, trainable and dtype.
type ConfigGetter interface {
	GetConfig() map[string]any
}

// customNames maps the class of each layer given to Register to the name
// it was registered under.
var customNames = struct {
	sync.Mutex
	byClass map[string]string
}{byClass: map[string]string{}}

// serializeCustom is SerializeLayer for a registered layer of the
// program's own.
func serializeCustom(l graph.Layer, cg ConfigGetter, dtype string) (KerasObject, error) {
	customNames.Lock()
	reg, ok := customNames.byClass[l.Class()]
	customNames.Unlock()
	if !ok {
		return KerasObject{}, errors.Errorf("layer %s: class %s is not registered: register it with layers.Register so that a loading program can rebuild it", l.Name(), l.Class())
	}
	keys := maps.Clone(cg.GetConfig())
	if keys == nil {
		keys = map[string]any{}
	}
	keys["name"] = l.Name()
	return layerObject(l, keys, dtype, "", &reg)
}

// layerObject adds Keras's standard keys trainable and dtype to a layer's
// configuration keys and wraps them as a serialized layer.
func layerObject(l graph.Layer, keys map[string]any, dtype, module string, registered *string) (KerasObject, error) {
	keys["trainable"] = graph.IsTrainable(l)
	keys["dtype"] = dtypePolicy(dtype)
	raw, err := MarshalJSON(keys)
	if err != nil {
		return KerasObject{}, errors.Wrapf(err, "layer %s (%s)", l.Name(), l.Class())
	}
	return KerasObject{Module: module, ClassName: l.Class(), Config: raw, RegisteredName: registered}, nil
}

func setCodec(class string, c layerCodec) {
	codecs.Lock()
	defer codecs.Unlock()
	codecs.byClass[class] = c
}

func codecOf(class string) (layerCodec, bool) {
	codecs.RLock()
	defer codecs.RUnlock()
	c, ok := codecs.byClass[class]
	return c, ok
}

// Classes lists the layer classes DeserializeLayer knows, sorted.
func Classes() []string {
	codecs.RLock()
	defer codecs.RUnlock()
	return slices.Sorted(maps.Keys(codecs.byClass))
}

// SerializeLayer returns l in Keras's serialized form, with the dtype
// policy of dtype ("float32" or "float64"). A layer class kerago cannot
// serialize is an error naming it.
func SerializeLayer(l graph.Layer, dtype string) (KerasObject, error) {
	c, ok := codecOf(l.Class())
	if cg, custom := l.(ConfigGetter); custom && (!ok || c.encode == nil) {
		return serializeCustom(l, cg, dtype)
	}
	if !ok || c.encode == nil {
		return KerasObject{}, errors.Errorf("layer %s: class %s cannot be serialized (a layer of your own needs a GetConfig method and layers.Register)", l.Name(), l.Class())
	}
	cfg, ok := c.encode(l)
	if !ok {
		return KerasObject{}, errors.Errorf("layer %s: class %s is not the registered type", l.Name(), l.Class())
	}
	var keys map[string]any
	var err error
	switch v := cfg.(type) {
	case map[string]any:
		keys = v
	case lambdaUnregistered:
		return KerasObject{}, errors.Errorf("layer %s (Lambda): its Go function has no registered name, so no file can refer to it: register it with layers.RegisterLambda and create the layer with WithRegisteredFunction (or NewRegisteredLambda)", v.name)
	default:
		keys, err = encodeConfig(reflect.ValueOf(cfg), dtype)
	}
	if err != nil {
		return KerasObject{}, errors.Wrapf(err, "layer %s (%s)", l.Name(), l.Class())
	}
	return layerObject(l, keys, dtype, "keras.layers", nil)
}

// dtypePolicy is Keras 3's serialized DTypePolicy of a dtype name.
func dtypePolicy(dtype string) KerasObject {
	cfg, _ := json.Marshal(map[string]string{"name": dtype})
	return KerasObject{Module: "keras", ClassName: "DTypePolicy", Config: cfg}
}

// DeserializeLayer builds a layer from Keras's serialized form (Keras 3,
// or Keras 2's, without module): by its registered name when it has one,
// else by its class. An unknown class, a missing required key, a key
// kerago does not implement, or a bad value is an error naming the layer,
// the class and the key.
func DeserializeLayer(obj KerasObject) (graph.Layer, error) {
	return deserializeLayer(obj, &decodeContext{})
}

// decodeContext carries what a nested decoding needs to know.
type decodeContext struct {
	// inWrapper is set for the layer a Bidirectional wraps: Keras sets
	// zero_output_for_mask there, which kerago's Bidirectional does itself.
	inWrapper bool
}

func deserializeLayer(obj KerasObject, ctx *decodeContext) (graph.Layer, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(obj.Config, &keys); err != nil {
		return nil, errors.Errorf("layer of class %s: config is not a JSON object: %v", obj.ClassName, err)
	}
	name := "?"
	if raw, ok := keys["name"]; ok {
		json.Unmarshal(raw, &name) //nolint: a bad name is reported by the decoder
	}
	class := obj.ClassName
	if obj.RegisteredName != nil && *obj.RegisteredName != "" {
		if _, ok := codecOf(*obj.RegisteredName); ok {
			class = *obj.RegisteredName
		}
	}
	c, ok := codecOf(class)
	if !ok {
		return nil, errors.Errorf("layer %s: unknown class %s (kerago knows %s; register a class of your own with layers.Register)",
			name, class, strings.Join(Classes(), ", "))
	}
	l, err := c.decode(keys, ctx)
	if err != nil {
		return nil, errors.Wrapf(err, "layer %s (%s)", name, class)
	}
	if string(bytes.TrimSpace(keys["trainable"])) == "false" {
		t, ok := l.(graph.Trainability)
		if !ok {
			return nil, errors.Errorf("layer %s (%s): trainable is false, but the layer cannot be frozen (it does not embed graph.Base)", name, class)
		}
		t.SetTrainable(false)
	}
	return l, nil
}

// WeightPaths are the paths of l's weights, in l.Weights() order, in Keras
// 3's weights files (model.weights.h5 and .weights.h5), relative to the
// layer's group: "vars/0", "vars/1", … for a layer's own variables; a
// recurrent layer's are its cell's ("cell/vars/0"); Bidirectional's are its
// two layers' ("forward_layer/cell/vars/0", …, then "backward_layer/…");
// TimeDistributed's are its inner layer's ("layer/vars/0").
func WeightPaths(l graph.Layer) []string {
	prefixed := func(prefix string, inner []string) []string {
		out := make([]string, len(inner))
		for i, p := range inner {
			out[i] = prefix + p
		}
		return out
	}
	switch v := l.(type) {
	case *Bidirectional:
		if v.Forward() == nil {
			return nil
		}
		return append(prefixed("forward_layer/", WeightPaths(v.Forward())), prefixed("backward_layer/", WeightPaths(v.Backward()))...)
	case *TimeDistributed:
		return prefixed("layer/", WeightPaths(v.Layer()))
	case RecurrentLayer:
		return prefixed("cell/", ownVars(len(l.Weights())))
	}
	return ownVars(len(l.Weights()))
}

// ownVars are "vars/0" … "vars/n-1".
func ownVars(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "vars/" + strconv.Itoa(i)
	}
	return out
}

// MarshalJSON is json.Marshal without HTML escaping, so that Keras's
// registered names ("package>name") are written as they are.
func MarshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
