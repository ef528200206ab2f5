package graph

import (
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// Node is a node of a Gorgonia expression graph.
type Node = *G.Node

// Layer is what every kerago layer implements, as a Keras layer class does:
// Build is Keras's build plus compute_output_shape, Emit is its call.
type Layer interface {
	// Name is the layer's unique name (dense, dense_1, …).
	Name() string
	// Class is the Keras class name (Dense, Dropout, …).
	Class() string
	// Build checks the input shapes (Apply has already checked them against
	// the layer's input specs, if it declares any), creates the layer's
	// weights the first time it is called, and returns the output shapes.
	// It is called at each Apply; a layer applied twice shares its weights
	// and must get inputs compatible with the first ones.
	Build(in []Shape) ([]Shape, error)
	// Emit adds the layer's computation to ctx's graph: one node per output,
	// for inputs whose shapes include the batch axis.
	Emit(ctx *Context, in []Node) ([]Node, error)
	// Weights are the layer's weights, trainable first, in Keras order.
	Weights() []*Weight
}

// Base carries what every layer has: a name, a class, weights, its input
// specs, whether it is built, and the error its configuration raised. Layers
// embed it.
type Base struct {
	name    string
	class   string
	weights []*Weight
	specs   []InputSpec
	built   bool
	err     error
	frozen  bool
}

// NewBase names a layer of the given class; an empty name picks the Keras
// default: the class in snake case plus a counter (dense, dense_1, …).
func NewBase(class, name string) Base {
	if name == "" {
		name = uniqueName(snakeCase(class))
	}
	return Base{name: name, class: class}
}

// Name is the layer's name.
func (b *Base) Name() string { return b.name }

// Class is the layer's Keras class name.
func (b *Base) Class() string { return b.class }

// Weights are the weights added with AddWeight, in order.
func (b *Base) Weights() []*Weight { return b.weights }

// Built reports whether the layer has been built: whether a Build through
// Apply (or the package function Build) has succeeded, weights or not.
func (b *Base) Built() bool { return b.built }

func (b *Base) markBuilt() { b.built = true }

// Trainable reports whether the layer's weights are trained, Keras's
// layer.trainable (true unless SetTrainable(false)).
func (b *Base) Trainable() bool { return !b.frozen }

// SetTrainable freezes (false) or unfreezes the layer's weights, Keras's
// layer.trainable = …: a frozen layer's weights get no gradient, no
// optimizer update and no regularization penalty, and BatchNormalization
// runs in inference mode. Weights created later follow the setting. As
// in Keras, Compile again for a model's training to see a change.
// Wrappers (Bidirectional, TimeDistributed) pass it on to the layers they
// wrap.
func (b *Base) SetTrainable(trainable bool) {
	b.frozen = !trainable
	for _, w := range b.weights {
		w.frozen = b.frozen
	}
}

// Trainability is what a layer embedding Base has: Keras's trainable.
type Trainability interface {
	Trainable() bool
	SetTrainable(bool)
}

// IsTrainable reports whether l is trainable: true for a layer that does
// not embed Base.
func IsTrainable(l Layer) bool {
	t, ok := l.(Trainability)
	return !ok || t.Trainable()
}

// Fail records err (if it is the first non-nil one) as the layer's
// configuration error: a constructor calls it for an invalid argument, and
// every Apply of the layer then returns that error.
func (b *Base) Fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// Err is the first error given to Fail, or nil.
func (b *Base) Err() error { return b.err }

// SetInputSpec declares the layer's input specs, spec i for input i
// (Keras's input_spec); inputs past the last spec are not checked. A layer
// calls it in its constructor and again in Build once its weights fix some
// axis sizes.
func (b *Base) SetInputSpec(specs ...InputSpec) { b.specs = specs }

// InputSpec returns the specs given to SetInputSpec.
func (b *Base) InputSpec() []InputSpec { return b.specs }

// AddWeight creates a weight named "<layer>/<name>" and appends it to the
// layer's weights. reg may be nil.
func (b *Base) AddWeight(name string, shape Shape, init Initializer, reg Regularizer, trainable bool) *Weight {
	w := &Weight{name: b.name + "/" + name, shape: shape.Clone(), init: init, reg: reg, trainable: trainable, frozen: b.frozen}
	b.weights = append(b.weights, w)
	return w
}

var names = struct {
	sync.Mutex
	count map[string]int
}{count: map[string]int{}}

func uniqueName(prefix string) string {
	names.Lock()
	defer names.Unlock()
	n := names.count[prefix]
	names.count[prefix] = n + 1
	if n == 0 {
		return prefix
	}
	return fmt.Sprintf("%s_%d", prefix, n)
}

// snakeCase turns a Keras class name into its default layer-name prefix:
// Dense → dense, BatchNormalization → batch_normalization, Conv2D → conv2d,
// InputLayer → input.
func snakeCase(class string) string {
	if class == "InputLayer" {
		return "input"
	}
	var b strings.Builder
	rs := []rune(class)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && !unicode.IsDigit(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Apply applies layer l to the input tensors, Keras's layer(inputs): it
// checks the inputs against the layer's input specs, calls its Build to
// infer the output shapes (marking it built), and records the DAG edge. Errors
// (from the inputs, from Build, or a panic inside Build) are carried by the
// returned tensors, naming the layer and the shapes it got.
func Apply(l Layer, in ...*Tensor) []*Tensor {
	return applyMasked(l, nil, in)
}

// ApplyMasked is Apply with an explicit mask for the first input, Keras's
// layer(x, mask=m): m, a (time steps) tensor of 1s and 0s whose batch and
// time axes are x's, replaces the mask x carries, if any.
func ApplyMasked(l Layer, mask *Tensor, in ...*Tensor) []*Tensor {
	if mask == nil {
		return []*Tensor{{layer: l, inputs: in, err: errors.Errorf("layer %s (%s): ApplyMasked with a nil mask", l.Name(), l.Class())}}
	}
	return applyMasked(l, mask, in)
}

func applyMasked(l Layer, mask *Tensor, in []*Tensor) []*Tensor {
	fail := func(err error) []*Tensor { return []*Tensor{{layer: l, inputs: in, err: err}} }
	if len(in) == 0 {
		return fail(errors.Errorf("layer %s (%s): applied to no input", l.Name(), l.Class()))
	}
	shapes := make([]Shape, len(in))
	for i, t := range in {
		if t == nil {
			return fail(errors.Errorf("layer %s (%s): input %d is nil", l.Name(), l.Class(), i))
		}
		if t.err != nil {
			return fail(t.err)
		}
		shapes[i] = t.shape
	}
	if err := checkMask(mask, shapes[0]); err != nil {
		return fail(errors.Errorf("layer %s (%s): %v", l.Name(), l.Class(), err))
	}
	out, err := safeBuild(l, shapes)
	if err != nil {
		return fail(errors.Errorf("layer %s (%s): %v (input shape %s)", l.Name(), l.Class(), err, shapesString(shapes)))
	}
	masked, err := outputMasked(l, in, mask != nil, len(out))
	if err != nil {
		return fail(errors.Errorf("layer %s (%s): %v", l.Name(), l.Class(), err))
	}
	c := &call{layer: l, inputs: in, mask: mask}
	for i, s := range out {
		c.outputs = append(c.outputs, &Tensor{shape: s.Clone(), layer: l, inputs: in, index: i, call: c, masked: masked[i]})
	}
	return c.outputs
}

// Apply1 is Apply for layers with one output.
func Apply1(l Layer, in ...*Tensor) *Tensor {
	out := Apply(l, in...)
	if len(out) != 1 && out[0].err == nil {
		return &Tensor{layer: l, inputs: in, err: errors.Errorf("layer %s (%s) has %d outputs; use Apply", l.Name(), l.Class(), len(out))}
	}
	return out[0]
}

func safeBuild(l Layer, in []Shape) (out []Shape, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("panic while building: %v", r)
		}
	}()
	return Build(l, in)
}

// Build is what Apply does to infer a layer's output shapes, for wrappers
// that build an inner layer themselves (TimeDistributed, Bidirectional): it
// returns the layer's configuration error (Base.Err) if any, checks the
// input shapes against its input specs (Base.InputSpec), calls its Build, and
// marks it built when Build succeeds.
func Build(l Layer, in []Shape) ([]Shape, error) {
	if e, ok := l.(interface{ Err() error }); ok && e.Err() != nil {
		return nil, e.Err()
	}
	if s, ok := l.(interface{ InputSpec() []InputSpec }); ok {
		if err := checkInputSpecs(s.InputSpec(), in); err != nil {
			return nil, err
		}
	}
	out, err := l.Build(in)
	if err != nil {
		return nil, err
	}
	for _, w := range l.Weights() {
		if !w.shape.Known() {
			dims := strings.ReplaceAll(fmt.Sprint([]int(w.shape)), "-1", "None")
			return nil, errors.Errorf("weight %s would have shape %s: an input axis it depends on is None (graph.Unknown); that axis needs a size", w.name, dims)
		}
	}
	if b, ok := l.(interface{ markBuilt() }); ok {
		b.markBuilt()
	}
	return out, nil
}
