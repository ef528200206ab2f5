package train

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/losses"
	"github.com/kerago/kerago/train/optimizers"
)

// Model is a network of layers from inputs to outputs, with what Compile
// adds: a loss per output, metrics and an optimizer.
//
// Concurrency: Predict, PredictAll, Evaluate, GetWeights and the Save
// methods may be called from any number of goroutines at once, also while
// Fit runs; each sees the weights of one completed training step (Fit and
// TrainOnBatch hold the weights exclusively during a step, and between
// steps readers proceed). Fit and TrainOnBatch are exclusive: a second one
// while one runs gets an error, as does Compile. SetWeights and the Load
// methods wait for running readers and steps.
type Model struct {
	// weightsMu guards the weights, the optimizer state and the random
	// sources: training steps and SetWeights write under it, readers
	// read under it.
	weightsMu sync.RWMutex
	// compileMu serializes compiling programs (it builds layers).
	compileMu sync.Mutex
	// training is set while Fit or TrainOnBatch runs.
	training atomic.Bool

	name string
	net  *graph.Network
	// inShapes are the shapes of net's inputs, copied once (inputShapes).
	inShapes     []graph.Shape
	inShapesOnce sync.Once
	dt           tensor.Dtype
	seed         uint64
	// programBytes bounds each program cache (ProgramCacheBytes).
	programBytes int64

	compiled bool
	// compiledTrainable is which weights were trainable at Compile.
	compiledTrainable []bool
	opt               optimizers.Optimizer
	losses            []losses.Loss
	metrics           []compiledMetric // in log order
	targets           []graph.Shape
	names             []string // log names: loss, per-output losses, metrics
	// lossWeights weigh the outputs' losses in the cost (nil: all 1).
	lossWeights []float64

	trainProgs   *programCache
	evalProgs    *programCache
	predictProgs *programCache
	dropoutRand  *rand.Rand
	shuffleRand  *rand.Rand
	// dropoutSrc and shuffleSrc are the two sources' states, saved with
	// the model so that training resumes exactly.
	dropoutSrc, shuffleSrc *rand.PCG
	// order is the sample order of the last epoch Fit shuffled: each epoch
	// shuffles the previous one, and a Fit on as many samples continues
	// from it, so that training split over several Fit calls (or resumed
	// from a saved model) shuffles as one uninterrupted run.
	order []int

	stop atomic.Bool
}

// ModelOption configures NewModel and Sequential.
type ModelOption func(*modelConfig)

type modelConfig struct {
	name         string
	dt           tensor.Dtype
	seed         uint64
	programBytes int64
}

// Name names the model (default "model").
func Name(name string) ModelOption { return func(c *modelConfig) { c.name = name } }

// Seed fixes initial weights, shuffling and dropout masks (default 1).
func Seed(seed uint64) ModelOption { return func(c *modelConfig) { c.seed = seed } }

// DType selects the float type of weights and computation: tensor.Float32
// (the default, as Keras's floatx) or tensor.Float64.
func DType(dt tensor.Dtype) ModelOption { return func(c *modelConfig) { c.dt = dt } }

// ProgramCacheBytes bounds the memory the model keeps in compiled programs
// it is not running, per mode (training, evaluation, prediction): beyond
// it, the least recently used are dropped and compiled again when next
// needed (default 256 MiB; the most recently used program is always kept).
// A program's size is its activations, gradients and buffers for one batch,
// estimated from its graph's shapes; weights are shared and not counted.
func ProgramCacheBytes(n int64) ModelOption {
	return func(c *modelConfig) { c.programBytes = n }
}

// NewModel creates a functional model from inputs to outputs, like Keras's
// Model(inputs, outputs): each may be one *graph.Tensor or a []*graph.Tensor.
// A shape error anywhere in the layers is reported here, naming the layer,
// the shapes it got and what it expected. Initial weights are drawn now.
func NewModel(inputs, outputs any, opts ...ModelOption) (m *Model, err error) {
	defer guard("NewModel", &err)
	ins, err := tensorList("inputs", inputs)
	if err != nil {
		return nil, err
	}
	outs, err := tensorList("outputs", outputs)
	if err != nil {
		return nil, err
	}
	c := modelConfig{name: "model", dt: tensor.Float32, seed: 1, programBytes: defaultProgramBytes}
	for _, o := range opts {
		o(&c)
	}
	if c.dt != tensor.Float32 && c.dt != tensor.Float64 {
		return nil, errors.Errorf("DType %v is not supported; use tensor.Float32 or tensor.Float64", c.dt)
	}
	if c.programBytes < 0 {
		return nil, errors.Errorf("ProgramCacheBytes(%d): the bound must be at least 0", c.programBytes)
	}
	net, err := graph.NewNetwork(ins, outs)
	if err != nil {
		return nil, err
	}
	if err := net.Initialise(c.dt, c.seed); err != nil {
		return nil, err
	}
	m = &Model{
		name: c.name, net: net, dt: c.dt, seed: c.seed, programBytes: c.programBytes,
		trainProgs:   newProgramCache(c.programBytes),
		evalProgs:    newProgramCache(c.programBytes),
		predictProgs: newProgramCache(c.programBytes),
		dropoutSrc:   rand.NewPCG(c.seed, 0xd40f),
		shuffleSrc:   rand.NewPCG(c.seed, 0x5ff1e),
	}
	m.dropoutRand, m.shuffleRand = rand.New(m.dropoutSrc), rand.New(m.shuffleSrc)
	return m, nil
}

// Sequential stacks layers on an input, like keras.Sequential([Input(...),
// layer, layer, ...]), and returns the model.
func Sequential(input *graph.Tensor, layers []graph.Layer, opts ...ModelOption) (*Model, error) {
	if input == nil {
		return nil, errors.New("Sequential needs an input: graph.Input(shape...)")
	}
	x := input
	for i, l := range layers {
		if l == nil {
			return nil, errors.Errorf("Sequential: layer %d is nil", i)
		}
		x = graph.Apply1(l, x)
	}
	opts = append([]ModelOption{Name("sequential")}, opts...)
	return NewModel(input, x, opts...)
}

func tensorList(what string, v any) ([]*graph.Tensor, error) {
	switch t := v.(type) {
	case *graph.Tensor:
		return []*graph.Tensor{t}, nil
	case []*graph.Tensor:
		return t, nil
	}
	return nil, errors.Errorf("%s must be a *graph.Tensor or []*graph.Tensor, got %T", what, v)
}

// Name is the model's name.
func (m *Model) Name() string { return m.name }

// Network is the model's layer DAG.
func (m *Model) Network() *graph.Network { return m.net }

// Layers are the model's layers (inputs included), in topological order.
func (m *Model) Layers() []graph.Layer { return m.net.Layers() }

// Weights are all the model's weights.
func (m *Model) Weights() []*graph.Weight { return m.net.Weights() }

// DType is the model's float type.
func (m *Model) DType() tensor.Dtype { return m.dt }

// Optimizer is the optimizer given to Compile (nil before).
func (m *Model) Optimizer() optimizers.Optimizer { return m.opt }

// MetricsNames are the names Evaluate and the logs use, Keras's
// metrics_names: "loss", one loss per output when there are several, then
// the metrics.
func (m *Model) MetricsNames() []string { return append([]string(nil), m.names...) }

// StopTraining asks Fit to stop after the current batch, as Keras's
// model.stop_training = True: the epoch's validation and OnEpochEnd still
// run, then Fit returns. Callbacks call it (EarlyStopping from OnEpochEnd,
// so that Fit stops after that epoch); any goroutine may.
func (m *Model) StopTraining() { m.stop.Store(true) }

// sampleOrder is the order Fit starts from for n samples: the last one
// shuffled when it has n samples, else 0…n-1.
func (m *Model) sampleOrder(n int) []int {
	if len(m.order) == n {
		return append([]int(nil), m.order...)
	}
	return indices(n)
}

// inputShapes returns the shapes of the model's inputs, copied from the
// network once: graph.Tensor.Shape copies at every call, and checking a
// Predict call's inputs would allocate for it.
func (m *Model) inputShapes() []graph.Shape {
	m.inShapesOnce.Do(func() {
		for _, in := range m.net.Inputs() {
			m.inShapes = append(m.inShapes, in.Shape())
		}
	})
	return m.inShapes
}
