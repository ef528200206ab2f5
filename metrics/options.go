package metrics

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
)

// Config is what a metric was made of: its constructor (Class, Keras's
// class name) and its options. It is what a .keras file kerago writes saves
// of each metric, and FromConfig makes the metric again.
type Config struct {
	Class         string    `json:"class"`
	Name          string    `json:"name,omitempty"`
	FromLogits    bool      `json:"from_logits,omitempty"`
	K             int       `json:"k,omitempty"`
	Thresholds    []float64 `json:"thresholds,omitempty"`
	TopK          int       `json:"top_k,omitempty"`
	ClassID       *int      `json:"class_id,omitempty"`
	NumThresholds int       `json:"num_thresholds,omitempty"`
	Curve         string    `json:"curve,omitempty"`
	Average       string    `json:"average,omitempty"`
	Threshold     *float64  `json:"threshold,omitempty"`
	// set names the options given, for the check that each applies.
	set []string
}

// Option is an option of a metric constructor. A constructor given an
// option it does not take, or a bad value, makes a metric that Compile
// refuses with an error naming the option.
type Option func(*Config)

func (c *Config) mark(n string) {
	if !slices.Contains(c.set, n) {
		c.set = append(c.set, n)
	}
}

// Named sets the name the metric logs under (default: Keras's).
func Named(name string) Option { return func(c *Config) { c.mark("Named"); c.Name = name } }

// FromLogits makes a cross-entropy metric take logits, not probabilities.
func FromLogits() Option { return func(c *Config) { c.mark("FromLogits"); c.FromLogits = true } }

// K is the number of top predictions a top-k accuracy looks at (default 5).
func K(k int) Option { return func(c *Config) { c.mark("K"); c.K = k } }

// Thresholds are Precision's and Recall's decision thresholds in [0, 1]
// (default 0.5; a prediction strictly above is positive; several give one
// value each), or AUC's thresholds inside (0, 1) instead of NumThresholds
// evenly spaced ones.
func Thresholds(t ...float64) Option {
	return func(c *Config) { c.mark("Thresholds"); c.Thresholds = append([]float64{}, t...) }
}

// TopK makes Precision and Recall count only each sample's k highest
// predictions as positive.
func TopK(k int) Option { return func(c *Config) { c.mark("TopK"); c.TopK = k } }

// ClassID makes Precision and Recall look at one class (one index of the
// last axis) only.
func ClassID(id int) Option { return func(c *Config) { c.mark("ClassID"); c.ClassID = &id } }

// NumThresholds is the number of AUC thresholds (default 200, more than 1).
func NumThresholds(n int) Option {
	return func(c *Config) { c.mark("NumThresholds"); c.NumThresholds = n }
}

// Curve is AUC's curve: "ROC" (default) or "PR".
func Curve(curve string) Option { return func(c *Config) { c.mark("Curve"); c.Curve = curve } }

// Average is F1Score's averaging over classes: "none" (Keras's None, the
// default: one score per class), "micro", "macro" or "weighted".
func Average(a string) Option { return func(c *Config) { c.mark("Average"); c.Average = a } }

// Threshold is F1Score's decision threshold in (0, 1]: a prediction
// strictly above it is positive (default: each sample's highest prediction
// is its positive class).
func Threshold(t float64) Option { return func(c *Config) { c.mark("Threshold"); c.Threshold = &t } }

// configure applies opts over the defaults def and refuses an option not
// among allowed.
func configure(def Config, opts []Option, allowed ...string) (Config, error) {
	c := def
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	for _, n := range c.set {
		if n != "Named" && !slices.Contains(allowed, n) {
			return c, errors.Errorf("metric %s does not take option %s (it takes: %s)", c.Class, n, strings.Join(append([]string{"Named"}, allowed...), ", "))
		}
	}
	if c.Name == "" {
		return c, errors.Errorf("metric %s: Named(\"\"): give a name", c.Class)
	}
	c.set = nil
	return c, nil
}

// invalid is a metric whose options were refused: Compile reports err.
type invalid struct {
	name string
	err  error
}

func (m *invalid) Name() string                                                   { return m.name }
func (m *invalid) Check(_, _ graph.Shape) error                                   { return m.err }
func (m *invalid) Result(_ []float64) float64                                     { return 0 }
func (m *invalid) Config() Config                                                 { return Config{Class: m.name} }
func (m *invalid) String() string                                                 { return fmt.Sprintf("invalid metric %s: %v", m.name, m.err) }
func (m *invalid) Stats(_ *graph.Context, _, _, _ graph.Node) (graph.Node, error) { return nil, m.err }
