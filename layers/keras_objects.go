package layers

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
)

// Initializers and regularizers in Keras's serialized form. Seeds are
// written as null and ignored when read: kerago draws initial weights from
// the model's seed, and a loaded model has its weights already.

// varianceScalingNames are the Keras classes that are VarianceScaling with
// fixed arguments.
var varianceScalingNames = map[string]VarianceScaling{
	"GlorotUniform": {1, "fan_avg", "uniform"},
	"GlorotNormal":  {1, "fan_avg", "truncated_normal"},
	"HeUniform":     {2, "fan_in", "uniform"},
	"HeNormal":      {2, "fan_in", "truncated_normal"},
	"LecunUniform":  {1, "fan_in", "uniform"},
	"LecunNormal":   {1, "fan_in", "truncated_normal"},
}

// object is a Keras object of module keras.<module> with the given config.
func object(module, class string, config any) (KerasObject, error) {
	raw, err := json.Marshal(config)
	if err != nil {
		return KerasObject{}, err
	}
	return KerasObject{Module: "keras." + module, ClassName: class, Config: raw}, nil
}

// serializeInitializer is init's Keras form.
func serializeInitializer(init graph.Initializer) (KerasObject, error) {
	seed := map[string]any{"seed": nil}
	switch v := init.(type) {
	case VarianceScaling:
		for class, vs := range varianceScalingNames {
			if vs == v {
				return object("initializers", class, seed)
			}
		}
		return object("initializers", "VarianceScaling", map[string]any{"scale": v.Scale, "mode": v.Mode, "distribution": v.Distribution, "seed": nil})
	case ConstantInit:
		switch v.Value {
		case 0:
			return object("initializers", "Zeros", map[string]any{})
		case 1:
			return object("initializers", "Ones", map[string]any{})
		}
		return object("initializers", "Constant", map[string]any{"value": v.Value})
	case RandomUniformInit:
		return object("initializers", "RandomUniform", map[string]any{"minval": v.Min, "maxval": v.Max, "seed": nil})
	case RandomNormalInit:
		class := "RandomNormal"
		if v.Truncated {
			class = "TruncatedNormal"
		}
		return object("initializers", class, map[string]any{"mean": v.Mean, "stddev": v.Stddev, "seed": nil})
	case OrthogonalInit:
		return object("initializers", "Orthogonal", map[string]any{"gain": v.Gain, "seed": nil})
	}
	return KerasObject{}, errors.Errorf("initializer %T has no Keras form", init)
}

// initializerArgs are the arguments a serialized initializer may carry.
type initializerArgs struct {
	Seed         any      `json:"seed"`
	Scale        *float64 `json:"scale"`
	Mode         *string  `json:"mode"`
	Distribution *string  `json:"distribution"`
	Value        *float64 `json:"value"`
	Minval       *float64 `json:"minval"`
	Maxval       *float64 `json:"maxval"`
	Mean         *float64 `json:"mean"`
	Stddev       *float64 `json:"stddev"`
	Gain         *float64 `json:"gain"`
	// InputAxes and OutputAxes are Keras 3.16's fan axes of
	// VarianceScaling; only their default (null) is supported.
	InputAxes  any `json:"input_axes"`
	OutputAxes any `json:"output_axes"`
}

// or is *p, or def when p is nil.
func or[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// deserializeInitializer reads an initializer: null, a Keras name
// ("glorot_uniform"), or an object.
func deserializeInitializer(raw json.RawMessage) (graph.Initializer, error) {
	class, cfg, err := kerasClass(raw)
	if err != nil || class == "" {
		return nil, err
	}
	if _, ok := initializers[class]; ok && len(cfg) == 0 {
		return Initializer(class)
	}
	var a initializerArgs
	if len(cfg) > 0 {
		dec := json.NewDecoder(bytes.NewReader(cfg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			return nil, errors.Errorf("initializer %s: %v", class, err)
		}
	}
	if a.InputAxes != nil || a.OutputAxes != nil {
		return nil, errors.Errorf("initializer %s: input_axes and output_axes are not supported", class)
	}
	if vs, ok := varianceScalingNames[class]; ok {
		return vs, nil
	}
	switch class {
	case "VarianceScaling":
		return VarianceScaling{or(a.Scale, 1), or(a.Mode, "fan_in"), or(a.Distribution, "truncated_normal")}, nil
	case "Zeros":
		return Zeros(), nil
	case "Ones":
		return Ones(), nil
	case "Constant":
		return Constant(or(a.Value, 0)), nil
	case "RandomUniform":
		return RandomUniform(or(a.Minval, -0.05), or(a.Maxval, 0.05)), nil
	case "RandomNormal":
		return RandomNormal(or(a.Mean, 0), or(a.Stddev, 0.05)), nil
	case "TruncatedNormal":
		return TruncatedNormal(or(a.Mean, 0), or(a.Stddev, 0.05)), nil
	case "Orthogonal":
		return OrthogonalInit{or(a.Gain, 1)}, nil
	}
	return nil, errors.Errorf("unknown initializer %s", class)
}

// serializeRegularizer is r's Keras form.
func serializeRegularizer(r graph.Regularizer) (KerasObject, error) {
	v, ok := r.(L1L2Regularizer)
	if !ok {
		return KerasObject{}, errors.Errorf("regularizer %T has no Keras form", r)
	}
	switch {
	case v.L2 == 0:
		return object("regularizers", "L1", map[string]any{"l1": v.L1})
	case v.L1 == 0:
		return object("regularizers", "L2", map[string]any{"l2": v.L2})
	}
	return object("regularizers", "L1L2", map[string]any{"l1": v.L1, "l2": v.L2})
}

// deserializeRegularizer reads a regularizer: null, a Keras name ("l2",
// with Keras's default factor 0.01) or an object.
func deserializeRegularizer(raw json.RawMessage) (graph.Regularizer, error) {
	class, cfg, err := kerasClass(raw)
	if err != nil || class == "" {
		return nil, err
	}
	var a struct {
		L1 *float64 `json:"l1"`
		L2 *float64 `json:"l2"`
	}
	if len(cfg) > 0 {
		dec := json.NewDecoder(bytes.NewReader(cfg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			return nil, errors.Errorf("regularizer %s: %v", class, err)
		}
	}
	switch strings.ToLower(strings.ReplaceAll(class, "_", "")) {
	case "l1":
		return L1(or(a.L1, 0.01)), nil
	case "l2":
		return L2(or(a.L2, 0.01)), nil
	case "l1l2":
		return L1L2(or(a.L1, 0), or(a.L2, 0)), nil
	}
	return nil, errors.Errorf("unknown regularizer %s (L1, L2 or L1L2)", class)
}

// kerasClass reads a serialized object: null gives "", a string is a name
// (Keras's "glorot_uniform", written as it is or in CamelCase), an object
// its class and config.
func kerasClass(raw json.RawMessage) (class string, cfg json.RawMessage, err error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return "", nil, nil
	}
	var name string
	if json.Unmarshal(raw, &name) == nil {
		return snakeName(name), nil, nil
	}
	var obj KerasObject
	if err := json.Unmarshal(raw, &obj); err != nil || obj.ClassName == "" {
		return "", nil, errors.Errorf("not a Keras object: %s", raw)
	}
	if string(bytes.TrimSpace(obj.Config)) == "null" {
		obj.Config = nil
	}
	return obj.ClassName, obj.Config, nil
}

var camel = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// snakeName is a Keras name in snake case ("GlorotUniform" and
// "glorot_uniform" are one initializer).
func snakeName(s string) string {
	return strings.ToLower(camel.ReplaceAllString(s, "${1}_${2}"))
}
