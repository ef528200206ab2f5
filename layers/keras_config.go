package layers

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
)

// The generic part of the Keras codec: a configuration struct's fields are
// its json-tagged fields (embedded structs flattened, as encoding/json
// does); initializers, regularizers and wrapped layers are Keras objects,
// everything else plain JSON. A field tagged `keras:"required"` must be in
// a configuration read from a file (Keras's positional arguments); one
// tagged `keras:"kerago"` is a kerago setting that Keras files do not carry.

var (
	initializerType = reflect.TypeFor[graph.Initializer]()
	regularizerType = reflect.TypeFor[graph.Regularizer]()
	layerType       = reflect.TypeFor[graph.Layer]()
	intsType        = reflect.TypeFor[[]int]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// configField is one field of a configuration struct.
type configField struct {
	key      string
	value    reflect.Value
	required bool
	// keragoOnly marks a setting Keras does not have (`keras:"kerago"`):
	// it is read when present but never written, since Keras refuses
	// configuration keys it does not know.
	keragoOnly bool
}

// configFields lists v's fields (v a struct value; addressable when the
// fields are to be set), embedded structs flattened.
func configFields(v reflect.Value) []configField {
	var out []configField
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, configFields(v.Field(i))...)
			continue
		}
		key, _, _ := strings.Cut(tag, ",")
		if !f.IsExported() || key == "" || key == "-" {
			continue
		}
		kt := f.Tag.Get("keras")
		out = append(out, configField{key: key, value: v.Field(i), required: kt == "required", keragoOnly: kt == "kerago"})
	}
	return out
}

// encodeConfig returns the Keras keys of configuration cfg.
func encodeConfig(cfg reflect.Value, dtype string) (map[string]any, error) {
	keys := map[string]any{}
	for _, f := range configFields(cfg) {
		if f.keragoOnly {
			continue
		}
		v, err := encodeValue(f.value, dtype)
		if err != nil {
			return nil, errors.Wrapf(err, "key %s", f.key)
		}
		keys[f.key] = v
	}
	return keys, nil
}

// encodeValue is one field's JSON value.
func encodeValue(v reflect.Value, dtype string) (any, error) {
	switch v.Type() {
	case initializerType:
		if v.IsNil() {
			return nil, nil
		}
		return serializeInitializer(v.Interface().(graph.Initializer))
	case regularizerType:
		if v.IsNil() {
			return nil, nil
		}
		return serializeRegularizer(v.Interface().(graph.Regularizer))
	case layerType:
		if v.IsNil() {
			return nil, nil
		}
		return SerializeLayer(v.Interface().(graph.Layer), dtype)
	}
	return v.Interface(), nil
}

// decodeConfig sets cfg's fields from the Keras keys. Keys that are not
// the configuration's must be Keras keys kerago accepts (kerasOnlyKeys)
// with a value it can honour.
func decodeConfig(cfg reflect.Value, keys map[string]json.RawMessage, ctx *decodeContext) error {
	used := map[string]bool{}
	for _, f := range configFields(cfg) {
		raw, ok := keys[f.key]
		if !ok {
			if f.required {
				return errors.Errorf("missing key %q", f.key)
			}
			continue
		}
		used[f.key] = true
		if err := decodeValue(f.value, raw, ctx); err != nil {
			return errors.Wrapf(err, "key %s", f.key)
		}
	}
	var unknown []string
	for k, raw := range keys {
		if used[k] {
			continue
		}
		check, ok := kerasOnlyKeys[k]
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		if err := check(raw, ctx); err != nil {
			return errors.Wrapf(err, "key %s", k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return errors.Errorf("configuration keys kerago does not implement: %s", strings.Join(unknown, ", "))
	}
	return nil
}

// decodeValue sets one field from its JSON value.
func decodeValue(v reflect.Value, raw json.RawMessage, ctx *decodeContext) error {
	switch {
	case reflect.PointerTo(v.Type()).Implements(unmarshalerType):
		return json.Unmarshal(raw, v.Addr().Interface())
	case v.Type() == initializerType:
		init, err := deserializeInitializer(raw)
		if err == nil {
			setInterface(v, init)
		}
		return err
	case v.Type() == regularizerType:
		reg, err := deserializeRegularizer(raw)
		if err == nil {
			setInterface(v, reg)
		}
		return err
	case v.Type() == layerType:
		var obj KerasObject
		if err := json.Unmarshal(raw, &obj); err != nil {
			return errors.Errorf("not a serialized layer: %v", err)
		}
		l, err := deserializeLayer(obj, &decodeContext{inWrapper: true})
		if err == nil {
			v.Set(reflect.ValueOf(l))
		}
		return err
	case v.Type().ConvertibleTo(intsType) && v.Kind() == reflect.Slice:
		ints, err := intOrInts(raw)
		if err == nil {
			v.Set(reflect.ValueOf(ints).Convert(v.Type()))
		}
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	return dec.Decode(v.Addr().Interface())
}

// setInterface sets an interface field, leaving it nil for a nil value.
func setInterface(v reflect.Value, x any) {
	if x == nil || (reflect.ValueOf(x).Kind() == reflect.Pointer && reflect.ValueOf(x).IsNil()) {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	v.Set(reflect.ValueOf(x))
}

// intOrInts reads a list of integers, one integer (Keras 2 writes a kernel
// size of 3 for (3,)), or null.
func intOrInts(raw json.RawMessage) ([]int, error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var one int
	if err := json.Unmarshal(raw, &one); err == nil {
		return []int{one}, nil
	}
	var many []int
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, errors.Errorf("want an integer or a list of integers, got %s", raw)
	}
	return many, nil
}

// kerasOnlyKeys are the Keras configuration keys that no kerago
// configuration holds, each with the check of the values kerago can honour
// (Keras's defaults, mostly): a file asking for more is refused rather than
// misread.
var kerasOnlyKeys = map[string]func(raw json.RawMessage, ctx *decodeContext) error{
	"trainable":             want("true", "false"), // applied by deserializeLayer
	"dtype":                 checkDtype,
	"activity_regularizer":  want("null"),
	"kernel_constraint":     want("null"),
	"bias_constraint":       want("null"),
	"recurrent_constraint":  want("null"),
	"embeddings_constraint": want("null"),
	"beta_constraint":       want("null"),
	"gamma_constraint":      want("null"),
	"quantization_config":   want("null"),
	"lora_rank":             want("null"),
	"data_format":           want(`"channels_last"`, "null"),
	"groups":                want("1"),
	"stateful":              want("false"),
	"time_major":            want("false"),
	"sparse":                want("false"),
	"synchronized":          want("false"),
	"renorm":                want("false"),
	"virtual_batch_size":    want("null"),
	"adjustment":            want("null"),
	"zero_output_for_mask":  checkZeroOutput,
	// Settings that change nothing kerago computes: seeds of initializers
	// and dropout (kerago draws from the model's seed; a loaded model has
	// its weights), Keras's choice of kernel, unrolling, Keras 2's
	// input_length and BatchNormalization's fused flag, and the batch input
	// shape Keras 2 keeps on a Sequential model's first layer (the model
	// loader reads it).
	"seed":              anyValue,
	"implementation":    anyValue,
	"unroll":            anyValue,
	"input_length":      anyValue,
	"fused":             anyValue,
	"renorm_clipping":   anyValue,
	"renorm_momentum":   anyValue,
	"batch_input_shape": anyValue,
	"batch_shape":       anyValue,
	"backward_layer":    anyValue,
}

// want accepts only the given JSON values.
func want(values ...string) func(json.RawMessage, *decodeContext) error {
	return func(raw json.RawMessage, _ *decodeContext) error {
		got := string(bytes.TrimSpace(raw))
		for _, v := range values {
			if got == v {
				return nil
			}
		}
		return errors.Errorf("kerago supports only %s, got %s", strings.Join(values, " or "), got)
	}
}

func anyValue(json.RawMessage, *decodeContext) error { return nil }

// checkZeroOutput accepts zero_output_for_mask false anywhere, and true in
// the layer a Bidirectional wraps (which zeroes masked steps itself).
func checkZeroOutput(raw json.RawMessage, ctx *decodeContext) error {
	if ctx.inWrapper {
		return want("true", "false")(raw, ctx)
	}
	return want("false")(raw, ctx)
}

// checkDtype accepts float32 and float64, as a name or a DTypePolicy.
func checkDtype(raw json.RawMessage, _ *decodeContext) error {
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		var obj KerasObject
		if err := json.Unmarshal(raw, &obj); err != nil {
			return errors.Errorf("not a dtype: %s", raw)
		}
		var cfg struct{ Name string }
		if err := json.Unmarshal(obj.Config, &cfg); err != nil || obj.ClassName != "DTypePolicy" {
			return errors.Errorf("dtype policy %s is not supported (float32 or float64)", raw)
		}
		name = cfg.Name
	}
	if name != "float32" && name != "float64" {
		return errors.Errorf("dtype %q is not supported (float32 or float64)", name)
	}
	return nil
}
