package metrics

import (
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// Threshold is the binary accuracy threshold: a prediction strictly greater
// than it is class 1 (so exactly 0.5 is class 0, as in every Keras version).
const Threshold = 0.5

// accuracy is one of the three accuracy metrics, under the name it logs.
type accuracy struct {
	name string
	row  *ops.RowFunc
}

var (
	binaryRow = &ops.RowFunc{Name: "binary_accuracy", F: func(y, p []float64) float64 {
		hits := 0
		for j, pj := range p {
			class := 0.0
			if pj > Threshold {
				class = 1
			}
			if y[j] == class {
				hits++
			}
		}
		return float64(hits) / float64(len(p))
	}}
	categoricalRow = &ops.RowFunc{Name: "categorical_accuracy", F: func(y, p []float64) float64 {
		return hit(argmax(y) == argmax(p))
	}}
	sparseRow = &ops.RowFunc{Name: "sparse_categorical_accuracy", Sparse: true, F: func(y, p []float64) float64 {
		return hit(int(y[0]) == argmax(p))
	}}
)

// BinaryAccuracy is Keras's binary_accuracy: the fraction of elements of the
// last axis where (y_pred > 0.5) equals y_true, averaged per sample.
// y_true has the output's shape and holds 0s and 1s.
func BinaryAccuracy() Metric { return &accuracy{name: "binary_accuracy", row: binaryRow} }

// CategoricalAccuracy is Keras's categorical_accuracy: 1 where
// argmax(y_true) == argmax(y_pred) over the last axis, else 0 (ties go to
// the first index). y_true has the output's shape (one-hot).
func CategoricalAccuracy() Metric {
	return &accuracy{name: "categorical_accuracy", row: categoricalRow}
}

// SparseCategoricalAccuracy is Keras's sparse_categorical_accuracy: 1 where
// the class index y_true equals argmax(y_pred) over the last axis, else 0.
// y_true has the output's shape without its last axis and holds integer
// class indices (an index outside [0, classes) is an error at run time).
func SparseCategoricalAccuracy() Metric {
	return &accuracy{name: "sparse_categorical_accuracy", row: sparseRow}
}

// Name implements Metric.
func (m *accuracy) Name() string { return m.name }

// PerSample implements Metric. The node is not differentiable: it lets the
// loss's gradient be taken in the same graph and contributes nothing to it.
func (m *accuracy) PerSample(ctx *graph.Context, yTrue, yPred graph.Node) (graph.Node, error) {
	if yTrue == nil || yPred == nil {
		return nil, errors.Errorf("%s: y_true and y_pred must not be nil", m.name)
	}
	out, err := m.row.Apply(yTrue, yPred)
	if err != nil {
		return nil, errors.Wrapf(err, "metric %s", m.name)
	}
	return out, nil
}

func hit(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// argmax is the index of the first maximum of v.
func argmax(v []float64) int {
	best := 0
	for j, x := range v {
		if x > v[best] {
			best = j
		}
	}
	return best
}

// explicit maps the accuracy names (Keras function and class names) to
// their metric.
var explicit = map[string]func() Metric{
	"binary_accuracy":             BinaryAccuracy,
	"BinaryAccuracy":              BinaryAccuracy,
	"categorical_accuracy":        CategoricalAccuracy,
	"CategoricalAccuracy":         CategoricalAccuracy,
	"sparse_categorical_accuracy": SparseCategoricalAccuracy,
	"SparseCategoricalAccuracy":   SparseCategoricalAccuracy,
}

// lossNames are Keras loss names, refused as metrics with a clear message.
var lossNames = map[string]bool{
	"binary_crossentropy": true, "categorical_crossentropy": true, "sparse_categorical_crossentropy": true,
	"mse": true, "mean_squared_error": true, "mae": true, "mean_absolute_error": true,
	"bce": true, "MSE": true, "MAE": true, "BinaryCrossentropy": true, "CategoricalCrossentropy": true,
	"SparseCategoricalCrossentropy": true, "MeanSquaredError": true, "MeanAbsoluteError": true,
}

// Names lists the metric names Resolve accepts, sorted.
func Names() []string {
	out := []string{"acc", "accuracy"}
	for n := range explicit {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Resolve returns the metric a Keras user means by name for a model output
// of the given shape (batch axis excluded) trained with the loss lossName.
// "accuracy" and "acc" resolve as Keras does: binary accuracy when the
// output's last axis is 1 or the loss is binary_crossentropy, sparse
// categorical accuracy when the loss is sparse_categorical_crossentropy,
// categorical accuracy otherwise; the metric keeps the name given, which is
// what logs show. The explicit names resolve directly. Unknown names and loss
// names are errors.
func Resolve(name, lossName string, output graph.Shape) (Metric, error) {
	if c, ok := explicit[name]; ok {
		return c(), nil
	}
	if name == "accuracy" || name == "acc" {
		if len(output) == 0 {
			return nil, errors.Errorf("metric %q needs an output with a last (class) axis, got shape %v", name, output)
		}
		var m *accuracy
		switch {
		case output[len(output)-1] == 1 || isLoss(lossName, "binary_crossentropy", "BinaryCrossentropy", "bce"):
			m = BinaryAccuracy().(*accuracy)
		case isLoss(lossName, "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"):
			m = SparseCategoricalAccuracy().(*accuracy)
		default:
			m = CategoricalAccuracy().(*accuracy)
		}
		m.name = name
		return m, nil
	}
	valid := strings.Join(Names(), ", ")
	if lossNames[name] {
		return nil, errors.Errorf("%q is a loss, not a metric (the loss is logged as \"loss\" already); valid metric names: %s", name, valid)
	}
	return nil, errors.Errorf("unknown metric %q; valid names: %s", name, valid)
}

func isLoss(name string, aliases ...string) bool {
	for _, a := range aliases {
		if name == a {
			return true
		}
	}
	return false
}
