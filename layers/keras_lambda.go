package layers

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
)

// Lambda layers in model files. A model file stores no Go code, and Keras
// stores Python bytecode for a Python lambda, which nothing but that Python
// can run; what both can share is a registered name. Keras writes a
// function registered with keras.saving.register_keras_serializable as
// {"class_name": "function", "config": "name", "registered_name":
// "package>name"}; kerago writes the same for a function registered with
// RegisterLambda, and finds a Lambda's function by that name when it reads
// a file.

var lambdas = struct {
	sync.RWMutex
	byName map[string]LambdaFunc
}{byName: map[string]LambdaFunc{}}

// RegisterLambda registers fn under name, Keras's registered name of the
// Python function it stands for ("package>name"; the part after '>' is
// accepted too when a file has no registered name). Registering a name
// again replaces the function.
func RegisterLambda(name string, fn LambdaFunc) {
	lambdas.Lock()
	defer lambdas.Unlock()
	lambdas.byName[name] = fn
}

// lambdaNamed returns the function registered under name, or under the part
// of name after '>'.
func lambdaNamed(name string) (LambdaFunc, bool) {
	lambdas.RLock()
	defer lambdas.RUnlock()
	if fn, ok := lambdas.byName[name]; ok {
		return fn, true
	}
	if i := strings.LastIndexByte(name, '>'); i >= 0 {
		fn, ok := lambdas.byName[name[i+1:]]
		return fn, ok
	}
	return nil, false
}

// WithRegisteredFunction names the Lambda's function by the name it was
// registered under with RegisterLambda, so that a model holding the layer
// can be saved and loaded again.
func WithRegisteredFunction(name string) LambdaOption {
	return lambdaOption(func(c *LambdaConfig) { c.FunctionName = name })
}

// NewRegisteredLambda creates a Lambda layer whose function is the one
// registered under name (see RegisterLambda). Options as NewLambdaN.
func NewRegisteredLambda(name string, opts ...LambdaOption) *Lambda {
	cfg := configure(DefaultLambdaConfig(), opts, LambdaOption.applyLambda)
	cfg.FunctionName = name
	cfg.Function, _ = lambdaNamed(name)
	return NewLambdaFromConfig(cfg)
}

// registeredNames lists the registered Lambda functions, sorted.
func registeredNames() []string {
	lambdas.RLock()
	defer lambdas.RUnlock()
	return slices.Sorted(maps.Keys(lambdas.byName))
}

// decodeLambda builds a Lambda from its Keras configuration.
func decodeLambda(keys map[string]json.RawMessage, ctx *decodeContext) (graph.Layer, error) {
	var name string
	if raw, ok := keys["name"]; ok {
		if err := json.Unmarshal(raw, &name); err != nil {
			return nil, errors.Errorf("key name: %v", err)
		}
	}
	fnName, err := lambdaFunctionName(keys["function"])
	if err != nil {
		return nil, err
	}
	var opts []LambdaOption
	opts = append(opts, WithName(name))
	if raw, ok := keys["output_shape"]; ok && string(bytes.TrimSpace(raw)) != "null" {
		shape, err := intOrInts(raw)
		if err != nil {
			return nil, errors.Errorf("key output_shape: only a tuple of sizes is supported, got %s", raw)
		}
		opts = append(opts, WithOutputShape(shape...))
	}
	for k, raw := range keys {
		switch k {
		case "name", "function", "output_shape":
		case "arguments":
			if s := string(bytes.TrimSpace(raw)); s != "{}" && s != "null" {
				return nil, errors.Errorf("key arguments: only no arguments is supported, got %s", raw)
			}
		case "mask":
			if string(bytes.TrimSpace(raw)) != "null" {
				return nil, errors.New("key mask: a Lambda mask is not supported")
			}
		default:
			check, ok := kerasOnlyKeys[k]
			if !ok {
				return nil, errors.Errorf("configuration keys kerago does not implement: %s", k)
			}
			if err := check(raw, ctx); err != nil {
				return nil, errors.Wrapf(err, "key %s", k)
			}
		}
	}
	fn, ok := lambdaNamed(fnName)
	if !ok {
		return nil, errors.Errorf("its function %q is not registered: register a Go function under that name with layers.RegisterLambda(%q, fn) before loading (registered: %s)",
			fnName, fnName, strings.Join(registeredNames(), ", "))
	}
	return NewLambdaN(fn, append(opts, WithRegisteredFunction(fnName))...), nil
}

// lambdaFunctionName reads Keras's "function": a registered function's
// name; Python bytecode is refused.
func lambdaFunctionName(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "", errors.New(`missing key "function"`)
	}
	var obj struct {
		ClassName      string          `json:"class_name"`
		Config         json.RawMessage `json:"config"`
		RegisteredName *string         `json:"registered_name"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", errors.Errorf("key function: %s is not a serialized function", raw)
	}
	if obj.ClassName == "__lambda__" {
		return "", errors.New("its function is a Python lambda stored as bytecode, which kerago cannot run: in Keras, use a named function registered with keras.saving.register_keras_serializable, and register a Go function under the same name with layers.RegisterLambda")
	}
	if obj.RegisteredName != nil && *obj.RegisteredName != "" && *obj.RegisteredName != "function" {
		return *obj.RegisteredName, nil
	}
	var name string
	if err := json.Unmarshal(obj.Config, &name); err != nil || name == "" {
		return "", errors.Errorf("key function: %s names no function", raw)
	}
	return name, nil
}

// encodeLambda is a Lambda's Keras configuration: its registered function
// by name, and its declared output shape.
func encodeLambda(l graph.Layer) (any, bool) {
	lam, ok := l.(*Lambda)
	if !ok {
		return nil, false
	}
	c := lam.Config()
	if c.FunctionName == "" {
		return lambdaUnregistered{l.Name()}, true
	}
	module, name := "kerago", c.FunctionName
	if i := strings.LastIndexByte(name, '>'); i >= 0 {
		module, name = name[:i], name[i+1:]
	}
	cfg := map[string]any{
		"name": l.Name(),
		"function": map[string]any{"module": module, "class_name": "function", "config": name,
			"registered_name": c.FunctionName},
		"arguments": map[string]any{},
	}
	if c.OutputShape != nil {
		cfg["output_shape"] = []int(c.OutputShape)
	}
	return cfg, true
}

// lambdaUnregistered stands for a Lambda whose function has no name.
type lambdaUnregistered struct{ name string }

func init() {
	setCodec("Lambda", layerCodec{decode: decodeLambda, encode: encodeLambda})
}
