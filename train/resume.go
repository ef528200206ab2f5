package train

import (
	"encoding/json"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/losses"
	"github.com/kerago/kerago/metrics"
	"github.com/kerago/kerago/train/optimizers"
)

// A .keras file kerago writes carries, beside what Keras reads, one more
// entry, kerago.json: what training needs to resume exactly — the model's
// dtype and seed, the compile configuration (optimizer, losses, metrics),
// the optimizer's state (iterations and slots, in full precision) and the
// states of the shuffling and dropout sources. Keras ignores the entry;
// LoadModel restores it, so that Fit continued on the loaded model (with
// InitialEpoch) gives bit for bit the weights of one uninterrupted run.

// keragoEntry is the zip entry holding kerago's own state.
const keragoEntry = "kerago.json"

// savedState is kerago.json.
type savedState struct {
	Format  int               `json:"format"`
	DType   string            `json:"dtype"`
	Seed    uint64            `json:"seed"`
	Compile *savedCompile     `json:"compile,omitempty"`
	Random  map[string][]byte `json:"random"`
	// Order is the sample order of the last shuffled epoch (see
	// Model.sampleOrder).
	Order []int `json:"order,omitempty"`
}

// savedCompile is what Compile was given, and the optimizer's state.
type savedCompile struct {
	Optimizer optimizers.SavedConfig `json:"optimizer"`
	Losses    []savedLoss            `json:"losses"`
	// Metrics are metric names for every output, as files of earlier
	// kerago versions hold them (read, not written).
	Metrics       []string         `json:"metrics,omitempty"`
	OutputMetrics []savedMetric    `json:"output_metrics,omitempty"`
	LossWeights   []float64        `json:"loss_weights,omitempty"`
	State         optimizers.State `json:"optimizer_state"`
}

// savedMetric is a compiled metric: its output, whether it is weighted,
// and the name it was given by or else its constructor and options.
type savedMetric struct {
	Output   string          `json:"output"`
	Weighted bool            `json:"weighted,omitempty"`
	Name     string          `json:"name,omitempty"`
	Config   *metrics.Config `json:"config,omitempty"`
}

// savedLoss is a loss by its Keras name.
type savedLoss struct {
	Name       string `json:"name"`
	FromLogits bool   `json:"from_logits,omitempty"`
}

// keragoState returns the model's kerago.json.
func (m *Model) keragoState() ([]byte, error) {
	st := savedState{Format: 1, DType: m.dt.String(), Seed: m.seed, Random: map[string][]byte{}, Order: m.order}
	for name, src := range map[string]*rand.PCG{"dropout": m.dropoutSrc, "shuffle": m.shuffleSrc} {
		b, err := src.MarshalBinary()
		if err != nil {
			return nil, err
		}
		st.Random[name] = b
	}
	if m.compiled {
		c, err := m.savedCompile()
		if err != nil {
			return nil, err
		}
		st.Compile = c
	}
	return json.Marshal(st)
}

// savedCompile describes the model's compilation; an optimizer or a loss
// kerago cannot rebuild by name is an error naming it.
func (m *Model) savedCompile() (*savedCompile, error) {
	oc, err := optimizers.Save(m.opt)
	if err != nil {
		return nil, err
	}
	state, err := optimizers.SaveState(m.opt, m.Weights())
	if err != nil {
		return nil, err
	}
	c := &savedCompile{Optimizer: oc, LossWeights: m.lossWeights, State: state}
	for _, cm := range m.metrics {
		sm := savedMetric{Output: m.outputName(cm.output), Weighted: cm.weighted, Name: cm.spec}
		if sm.Name == "" {
			cf, ok := cm.Metric.(interface{ Config() metrics.Config })
			if !ok {
				return nil, errors.Errorf("metric %s cannot be saved: it has no Config method (give metrics by name or use the metrics package's constructors)", cm.Name())
			}
			cfg := cf.Config()
			if _, err := metrics.FromConfig(cfg); err != nil {
				return nil, errors.Wrapf(err, "metric %s cannot be saved", cm.Name())
			}
			sm.Config = &cfg
		}
		c.OutputMetrics = append(c.OutputMetrics, sm)
	}
	for _, l := range m.losses {
		sl := savedLoss{Name: l.Name()}
		if fl, ok := l.(interface{ FromLogits() bool }); ok {
			sl.FromLogits = fl.FromLogits()
		}
		if _, err := rebuildLoss(sl); err != nil {
			return nil, errors.Wrapf(err, "loss %s cannot be saved", l.Name())
		}
		c.Losses = append(c.Losses, sl)
	}
	return c, nil
}

// rebuildLoss is the loss a savedLoss names.
func rebuildLoss(sl savedLoss) (losses.Loss, error) {
	if !sl.FromLogits {
		return losses.Get(sl.Name)
	}
	switch sl.Name {
	case "binary_crossentropy":
		return losses.BinaryCrossentropy(losses.FromLogits()), nil
	case "categorical_crossentropy":
		return losses.CategoricalCrossentropy(losses.FromLogits()), nil
	case "sparse_categorical_crossentropy":
		return losses.SparseCategoricalCrossentropy(losses.FromLogits()), nil
	}
	return nil, errors.Errorf("loss %s takes no logits", sl.Name)
}

// parseState reads kerago.json.
func parseState(raw []byte) (*savedState, error) {
	var st savedState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, errors.Errorf("%s: %v", keragoEntry, err)
	}
	if st.Format != 1 {
		return nil, errors.Errorf("%s: format %d is not known (1)", keragoEntry, st.Format)
	}
	return &st, nil
}

// modelOptions are the options the state implies, before the caller's.
func (st *savedState) modelOptions() []ModelOption {
	opts := []ModelOption{Seed(st.Seed)}
	switch st.DType {
	case tensor.Float64.String():
		opts = append(opts, DType(tensor.Float64))
	case tensor.Float32.String():
		opts = append(opts, DType(tensor.Float32))
	}
	return opts
}

// restore compiles the model as it was and restores the optimizer's and the
// random sources' states. The model's weights must be loaded already.
func (st *savedState) restore(m *Model) error {
	for name, src := range map[string]*rand.PCG{"dropout": m.dropoutSrc, "shuffle": m.shuffleSrc} {
		if b, ok := st.Random[name]; ok {
			if err := src.UnmarshalBinary(b); err != nil {
				return errors.Errorf("%s: %s random state: %v", keragoEntry, name, err)
			}
		}
	}
	if err := checkOrder(st.Order); err != nil {
		return err
	}
	m.order = append([]int(nil), st.Order...)
	c := st.Compile
	if c == nil {
		return nil
	}
	opt, err := optimizers.Load(c.Optimizer)
	if err != nil {
		return errors.Wrap(err, keragoEntry)
	}
	var ls []any
	for _, sl := range c.Losses {
		l, err := rebuildLoss(sl)
		if err != nil {
			return errors.Wrap(err, keragoEntry)
		}
		ls = append(ls, l)
	}
	ms, err := c.metricArgs()
	if err != nil {
		return errors.Wrap(err, keragoEntry)
	}
	if err := m.Compile(opt, ls, ms...); err != nil {
		return errors.Wrap(err, keragoEntry)
	}
	return errors.Wrap(optimizers.LoadState(opt, m.Weights(), c.State), keragoEntry)
}

// checkOrder checks that a saved sample order is a permutation.
func checkOrder(order []int) error {
	seen := make([]bool, len(order))
	for _, i := range order {
		if i < 0 || i >= len(order) || seen[i] {
			return errors.Errorf("%s: the saved sample order is not a permutation", keragoEntry)
		}
		seen[i] = true
	}
	return nil
}

// metricArgs are Compile's metric arguments that rebuild the saved metrics
// (in their order, which is the logs').
func (c *savedCompile) metricArgs() ([]any, error) {
	var ms []any
	for _, name := range c.Metrics {
		ms = append(ms, name)
	}
	plain, weighted := map[string][]any{}, map[string][]any{}
	for _, sm := range c.OutputMetrics {
		var spec any = sm.Name
		if sm.Name == "" {
			if sm.Config == nil {
				return nil, errors.Errorf("a metric of output %s has neither a name nor a config", sm.Output)
			}
			me, err := metrics.FromConfig(*sm.Config)
			if err != nil {
				return nil, err
			}
			spec = me
		}
		if sm.Weighted {
			weighted[sm.Output] = append(weighted[sm.Output], spec)
		} else {
			plain[sm.Output] = append(plain[sm.Output], spec)
		}
	}
	if len(plain) > 0 {
		ms = append(ms, plain)
	}
	if len(weighted) > 0 {
		ms = append(ms, WeightedMetrics(weighted))
	}
	if c.LossWeights != nil {
		ms = append(ms, LossWeights(c.LossWeights))
	}
	return ms, nil
}
