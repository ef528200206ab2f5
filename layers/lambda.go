package layers

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// LambdaFunc is the function of a Lambda layer with any number of inputs:
// it gets the emission context (for ctx.Training(), ctx.Scalar, ctx.DType)
// and one node per input, each with the batch axis first, and returns the
// output node, also with the batch axis first. It must add its nodes to the
// inputs' graph and may not create weights. Functions of package
// graph/backend are its usual building blocks.
type LambdaFunc func(ctx *graph.Context, in []graph.Node) (graph.Node, error)

// Lambda is Keras's Lambda layer: it wraps a Go function of nodes as a
// layer, as Keras wraps a Python function. It has no weights, behaves the
// same in training and inference unless the function asks ctx.Training(),
// and is not serialisable beyond its name (a model file stores no code; the
// function is restored by building the model in Go again).
//
// Output shape: given with WithOutputShape (batch axis excluded) or
// WithOutputShapeFunc, or else inferred at Apply time by tracing the
// function once on placeholder inputs of batch size 2 in a throwaway graph,
// as TensorFlow's Keras does. A declared shape is checked against the
// trace, and again against the emitted node. The output's first axis must
// be the batch axis.
//
// Masks: the first input's mask is passed on when the output keeps the
// input's time axis (same rank ≥ 2 and same size on axis 1); otherwise the
// mask is dropped, as Keras's Lambda does without a mask argument.
type Lambda struct {
	graph.Base
	cfg       LambdaConfig
	keepsMask bool
	lastOut   tensor.Shape
}

// LambdaConfig is Lambda's configuration: Keras's Lambda arguments, but for
// the Go functions, which cannot be serialised (Keras stores Python code
// under "function" and "output_shape"; a Lambda is restored by building the
// model in Go again).
type LambdaConfig struct {
	LayerConfig
	// Function is the layer's function (required; Keras's function).
	Function LambdaFunc `json:"-"`
	// OutputShape declares the output shape without the batch axis
	// (Keras's output_shape as a tuple); nil declares none.
	OutputShape graph.Shape `json:"output_shape,omitempty"`
	// OutputShapeFunc declares the output shape as a function of the input
	// shapes (Keras's output_shape as a function); nil declares none.
	OutputShapeFunc func(in []graph.Shape) (graph.Shape, error) `json:"-"`
	// SingleInput is kerago's, not a Keras argument: the layer takes
	// exactly one input, as NewLambda's layers do.
	SingleInput bool `json:"-"`
	// FunctionName is the name Function is registered under with
	// RegisterLambda ("package>name", as Keras's registered functions), set
	// by WithRegisteredFunction; a model file stores this name (Keras's
	// "function") and its loader finds the function by it. "" is an
	// unregistered function, which cannot be saved.
	FunctionName string `json:"-"`
}

// DefaultLambdaConfig is Keras's default Lambda configuration (function
// unset, no declared output shape).
func DefaultLambdaConfig() LambdaConfig { return LambdaConfig{} }

// LambdaOption is an option of NewLambda and NewLambdaN: WithName,
// WithOutputShape or WithOutputShapeFunc.
type LambdaOption interface{ applyLambda(*LambdaConfig) }

func (o NameOption) applyLambda(c *LambdaConfig) { o.applyLayer(&c.LayerConfig) }

// lambdaOption is an option only Lambda takes.
type lambdaOption func(*LambdaConfig)

func (o lambdaOption) applyLambda(c *LambdaConfig) { o(c) }

// NewLambda creates a Lambda layer of one input from fn. Options: WithName,
// WithOutputShape, WithOutputShapeFunc. The article's example, which
// L2-normalizes each sample's feature vector:
//
//	x = layers.NewLambda(func(_ *graph.Context, x graph.Node) (graph.Node, error) {
//		return backend.L2Normalize(x, -1)
//	}).Apply(x)
func NewLambda(fn func(ctx *graph.Context, x graph.Node) (graph.Node, error), opts ...LambdaOption) *Lambda {
	cfg := configure(DefaultLambdaConfig(), opts, LambdaOption.applyLambda)
	if fn != nil {
		cfg.Function = func(ctx *graph.Context, in []graph.Node) (graph.Node, error) { return fn(ctx, in[0]) }
	}
	cfg.SingleInput = true
	return NewLambdaFromConfig(cfg)
}

// NewLambdaN creates a Lambda layer of any number of inputs (apply it with
// Apply(x1, x2, …)); fn gets the input nodes in order. Options as NewLambda.
func NewLambdaN(fn LambdaFunc, opts ...LambdaOption) *Lambda {
	cfg := configure(DefaultLambdaConfig(), opts, LambdaOption.applyLambda)
	cfg.Function = fn
	return NewLambdaFromConfig(cfg)
}

// NewLambdaFromConfig creates a Lambda layer from its configuration.
func NewLambdaFromConfig(cfg LambdaConfig) *Lambda {
	l := &Lambda{Base: newBase("Lambda", &cfg.LayerConfig)}
	cfg.OutputShape = cfg.OutputShape.Clone()
	l.cfg = cfg
	switch {
	case cfg.Function == nil && cfg.FunctionName != "":
		known := "none is"
		if names := registeredNames(); len(names) > 0 {
			known = strings.Join(names, ", ") + " are"
		}
		l.Fail(errors.Errorf("no function is registered as %q (register it with layers.RegisterLambda; %s registered)", cfg.FunctionName, known))
	case cfg.Function == nil:
		l.Fail(errors.New("no function given"))
	}
	if cfg.OutputShape != nil && cfg.OutputShapeFunc != nil {
		l.Fail(errors.New("give WithOutputShape or WithOutputShapeFunc, not both"))
	}
	for _, d := range cfg.OutputShape {
		if d <= 0 {
			l.Fail(errors.Errorf("output shape %v: every dim must be positive (the batch axis is not part of it)", []int(cfg.OutputShape)))
			break
		}
	}
	return l
}

// Config returns the layer's configuration.
func (l *Lambda) Config() LambdaConfig {
	c := l.cfg
	c.OutputShape = c.OutputShape.Clone()
	return c
}

// WithOutputShape declares a Lambda's output shape without the batch axis
// (Keras's output_shape tuple). It is checked against the function's
// actual output.
func WithOutputShape(shape ...int) LambdaOption {
	return lambdaOption(func(c *LambdaConfig) { c.OutputShape = graph.Shape(shape).Clone() })
}

// WithOutputShapeFunc declares a Lambda's output shape as a function of its
// input shapes, all without the batch axis (Keras's output_shape function).
// It is checked against the function's actual output.
func WithOutputShapeFunc(f func(in []graph.Shape) (graph.Shape, error)) LambdaOption {
	return lambdaOption(func(c *LambdaConfig) { c.OutputShapeFunc = f })
}

// Apply applies the layer to its inputs (exactly one for NewLambda) and
// returns its output tensor.
func (l *Lambda) Apply(xs ...*graph.Tensor) *graph.Tensor { return graph.Apply1(l, xs...) }

// traceBatch is the batch size of the placeholder inputs of a trace.
const traceBatch = 2

// Build implements graph.Layer: it computes the declared output shape, if
// any, traces the function, and checks that the two agree.
func (l *Lambda) Build(in []graph.Shape) ([]graph.Shape, error) {
	if l.cfg.SingleInput && len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d (use NewLambdaN for several)", len(in))
	}
	declared, err := l.declared(in)
	if err != nil {
		return nil, err
	}
	traced, err := l.traceShapes(in)
	if err != nil {
		return nil, err
	}
	if declared != nil && !declared.Equal(traced) {
		return nil, errors.Errorf("the function returns shape %s, but the declared output shape is %s", traced, declared)
	}
	l.keepsMask = len(in[0]) >= 1 && len(traced) == len(in[0]) && traced[0] == in[0][0]
	return []graph.Shape{traced}, nil
}

// declared returns the output shape given by WithOutputShape or
// WithOutputShapeFunc, or nil.
func (l *Lambda) declared(in []graph.Shape) (s graph.Shape, err error) {
	switch {
	case l.cfg.OutputShape != nil:
		return l.cfg.OutputShape.Clone(), nil
	case l.cfg.OutputShapeFunc != nil:
		defer func() {
			if r := recover(); r != nil {
				s, err = nil, errors.Errorf("the output shape function panicked: %v", r)
			}
		}()
		cp := make([]graph.Shape, len(in))
		for i, s := range in {
			cp[i] = s.Clone()
		}
		s, err := l.cfg.OutputShapeFunc(cp)
		if err != nil {
			return nil, errors.Wrap(err, "the output shape function failed")
		}
		if s == nil {
			s = graph.Shape{}
		}
		for _, d := range s {
			if d <= 0 {
				return nil, errors.Errorf("the output shape function returned %v: every dim must be positive", []int(s))
			}
		}
		return s.Clone(), nil
	}
	return nil, nil
}

// call runs the function, turning a panic or a nil result into an error.
func (l *Lambda) call(ctx *graph.Context, in []graph.Node) (out graph.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, errors.Errorf("the function panicked: %v", r)
		}
	}()
	out, err = l.cfg.Function(ctx, in)
	if err != nil {
		return nil, errors.Wrap(err, "the function failed")
	}
	if out == nil {
		return nil, errors.New("the function returned no node (nil) and no error")
	}
	return out, nil
}

// trace infers the output shape by emitting the function into a throwaway
// inference program with placeholder inputs of batch size traceBatch.
// traceShapes is trace for inputs that may have Unknown axes: it traces
// with every Unknown axis of size 2, then 3, and an output axis whose size
// differs between the two is Unknown.
func (l *Lambda) traceShapes(in []graph.Shape) (graph.Shape, error) {
	known := true
	for _, s := range in {
		known = known && s.Known()
	}
	if known {
		return l.trace(in)
	}
	var outs [2]graph.Shape
	for k, size := range []int{2, 3} {
		sub := make([]graph.Shape, len(in))
		for i, s := range in {
			sub[i] = s.Clone()
			for j, d := range sub[i] {
				if d == graph.Unknown {
					sub[i][j] = size
				}
			}
		}
		var err error
		if outs[k], err = l.trace(sub); err != nil {
			return nil, err
		}
	}
	if len(outs[0]) != len(outs[1]) {
		return nil, errors.Errorf("the function's output rank depends on the size of the input's None axes (%s, then %s)", outs[0], outs[1])
	}
	for j := range outs[0] {
		if outs[0][j] != outs[1][j] {
			outs[0][j] = graph.Unknown
		}
	}
	return outs[0], nil
}

func (l *Lambda) trace(in []graph.Shape) (graph.Shape, error) {
	inputs := make([]*graph.Tensor, len(in))
	for i, s := range in {
		inputs[i] = graph.NamedInput(fmt.Sprintf("%s/trace_input_%d", l.Name(), i), s...)
	}
	tl := &lambdaTrace{Base: graph.NewBase("LambdaTrace", l.Name()+"/trace"), l: l}
	out := graph.Apply1(tl, inputs...)
	net, err := graph.NewNetwork(inputs, []*graph.Tensor{out})
	if err != nil {
		return nil, err
	}
	if err := net.Initialise(tensor.Float32, 0); err != nil {
		return nil, err
	}
	_, err = graph.NewProgram(net, graph.ProgramSpec{Batch: traceBatch})
	if tl.err != nil {
		return nil, tl.err
	}
	if err != nil {
		return nil, errors.Wrap(err, "tracing the function")
	}
	s := tl.shape
	if len(s) == 0 || s[0] != traceBatch {
		return nil, errors.Errorf("the function returns shape %v for inputs of batch size %d: its first axis must be the batch axis", s, traceBatch)
	}
	return graph.Shape(s[1:]).Clone(), nil
}

// lambdaTrace emits a Lambda's function during a trace and records the
// output's shape; it outputs its first input, so the throwaway program
// compiles whatever the function returns.
type lambdaTrace struct {
	graph.Base
	l     *Lambda
	shape tensor.Shape
	err   error
}

func (t *lambdaTrace) Build(in []graph.Shape) ([]graph.Shape, error) {
	return []graph.Shape{in[0].Clone()}, nil
}

func (t *lambdaTrace) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	out, err := t.l.call(ctx, in)
	if err != nil {
		t.err = err
		return nil, err
	}
	t.shape = out.Shape().Clone()
	return []graph.Node{in[0]}, nil
}

// Emit implements graph.Layer: it calls the function and checks the
// output's shape against the declared one, if any.
func (l *Lambda) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	out, err := l.call(ctx, in)
	if err != nil {
		return nil, err
	}
	shapes := make([]graph.Shape, len(in))
	for i, n := range in {
		shapes[i] = graph.Shape(n.Shape()[1:]).Clone()
	}
	declared, err := l.declared(shapes)
	if err != nil {
		return nil, err
	}
	if declared != nil {
		want := declared.WithBatch(ctx.Batch())
		if !graph.Shape(out.Shape()).Equal(want) {
			return nil, errors.Errorf("the function returned shape %v, but the declared output shape is %s (%v with the batch)", out.Shape(), declared, want)
		}
	}
	l.lastOut = out.Shape().Clone()
	return []graph.Node{out}, nil
}

// OutputMasked implements graph.MaskLayer: the first input's mask goes on
// when the output keeps its time axis.
func (l *Lambda) OutputMasked(in []bool) []bool {
	return []bool{len(in) > 0 && in[0] && l.keepsMask}
}

// ComputeMask implements graph.MaskLayer.
func (l *Lambda) ComputeMask(_ *graph.Context, in []graph.Node, masks []graph.Node) ([]graph.Node, error) {
	if len(masks) == 0 || masks[0] == nil || len(in) == 0 {
		return []graph.Node{nil}, nil
	}
	// Emit ran just before for the same inputs: compare its output's shape.
	x, y := in[0].Shape(), l.lastOut
	if len(x) < 2 || len(y) != len(x) || y[1] != x[1] {
		return []graph.Node{nil}, nil
	}
	return []graph.Node{masks[0]}, nil
}
