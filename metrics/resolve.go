package metrics

import (
	"maps"
	"slices"
	"strings"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
)

// classes maps Keras's metric class names to their constructors: what
// FromConfig rebuilds.
var classes = map[string]func(...Option) Metric{
	"BinaryAccuracy":                BinaryAccuracy,
	"CategoricalAccuracy":           CategoricalAccuracy,
	"SparseCategoricalAccuracy":     SparseCategoricalAccuracy,
	"TopKCategoricalAccuracy":       TopKCategoricalAccuracy,
	"SparseTopKCategoricalAccuracy": SparseTopKCategoricalAccuracy,
	"MeanSquaredError":              MeanSquaredError,
	"MeanAbsoluteError":             MeanAbsoluteError,
	"MeanAbsolutePercentageError":   MeanAbsolutePercentageError,
	"MeanSquaredLogarithmicError":   MeanSquaredLogarithmicError,
	"RootMeanSquaredError":          RootMeanSquaredError,
	"BinaryCrossentropy":            BinaryCrossentropy,
	"CategoricalCrossentropy":       CategoricalCrossentropy,
	"SparseCategoricalCrossentropy": SparseCategoricalCrossentropy,
	"AUC":                           AUC,
	"Precision":                     Precision,
	"Recall":                        Recall,
	"F1Score":                       F1Score,
}

// aliases maps Keras's other metric names (function names, their short
// forms and the snake_case class names) to class names.
var aliases = map[string]string{
	"binary_accuracy":                   "BinaryAccuracy",
	"categorical_accuracy":              "CategoricalAccuracy",
	"sparse_categorical_accuracy":       "SparseCategoricalAccuracy",
	"top_k_categorical_accuracy":        "TopKCategoricalAccuracy",
	"sparse_top_k_categorical_accuracy": "SparseTopKCategoricalAccuracy",
	"mean_squared_error":                "MeanSquaredError",
	"mse":                               "MeanSquaredError",
	"MSE":                               "MeanSquaredError",
	"mean_absolute_error":               "MeanAbsoluteError",
	"mae":                               "MeanAbsoluteError",
	"MAE":                               "MeanAbsoluteError",
	"mean_absolute_percentage_error":    "MeanAbsolutePercentageError",
	"mape":                              "MeanAbsolutePercentageError",
	"MAPE":                              "MeanAbsolutePercentageError",
	"mean_squared_logarithmic_error":    "MeanSquaredLogarithmicError",
	"msle":                              "MeanSquaredLogarithmicError",
	"MSLE":                              "MeanSquaredLogarithmicError",
	"root_mean_squared_error":           "RootMeanSquaredError",
	"binary_crossentropy":               "BinaryCrossentropy",
	"categorical_crossentropy":          "CategoricalCrossentropy",
	"sparse_categorical_crossentropy":   "SparseCategoricalCrossentropy",
	"auc":                               "AUC",
	"precision":                         "Precision",
	"recall":                            "Recall",
	"f1_score":                          "F1Score",
}

// Names lists the metric names Resolve accepts, sorted.
func Names() []string {
	out := []string{"acc", "accuracy"}
	out = append(out, slices.Collect(maps.Keys(classes))...)
	out = append(out, slices.Collect(maps.Keys(aliases))...)
	slices.Sort(out)
	return out
}

// Resolve returns the metric a Keras user means by name for a model output
// of the given shape (batch axis excluded) trained with the loss lossName.
// "accuracy" and "acc" resolve as Keras does: binary accuracy when the
// output's last axis is 1 or the loss is binary_crossentropy, sparse
// categorical accuracy when the loss is sparse_categorical_crossentropy,
// categorical accuracy otherwise. Every other Keras name (function names
// such as "mse" or "top_k_categorical_accuracy", class names such as
// "AUC", their snake_case forms such as "auc") resolves to its metric with
// default options. As in Keras, the metric logs under the name given.
// Unknown names are errors listing the valid ones.
func Resolve(name, lossName string, output graph.Shape) (Metric, error) {
	if name == "accuracy" || name == "acc" {
		if len(output) == 0 {
			return nil, errors.Errorf("metric %q needs an output with a last (class) axis, got shape %v", name, output)
		}
		switch {
		case output[len(output)-1] == 1 || isLoss(lossName, "binary_crossentropy", "BinaryCrossentropy", "bce"):
			return BinaryAccuracy(Named(name)), nil
		case isLoss(lossName, "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"):
			return SparseCategoricalAccuracy(Named(name)), nil
		}
		return CategoricalAccuracy(Named(name)), nil
	}
	class := name
	if a, ok := aliases[name]; ok {
		class = a
	}
	if c, ok := classes[class]; ok {
		return c(Named(name)), nil
	}
	return nil, errors.Errorf("unknown metric %q; valid names: %s", name, strings.Join(Names(), ", "))
}

// FromConfig makes the metric c describes (see Config): the inverse of a
// metric's Config method.
func FromConfig(c Config) (Metric, error) {
	ctor, ok := classes[c.Class]
	if !ok {
		return nil, errors.Errorf("unknown metric class %q; valid classes: %s", c.Class, strings.Join(slices.Sorted(maps.Keys(classes)), ", "))
	}
	var opts []Option
	if c.Name != "" {
		opts = append(opts, Named(c.Name))
	}
	if c.FromLogits {
		opts = append(opts, FromLogits())
	}
	if c.K != 0 {
		opts = append(opts, K(c.K))
	}
	if c.Thresholds != nil {
		opts = append(opts, Thresholds(c.Thresholds...))
	}
	if c.TopK != 0 {
		opts = append(opts, TopK(c.TopK))
	}
	if c.ClassID != nil {
		opts = append(opts, ClassID(*c.ClassID))
	}
	if c.NumThresholds != 0 {
		opts = append(opts, NumThresholds(c.NumThresholds))
	}
	if c.Curve != "" {
		opts = append(opts, Curve(c.Curve))
	}
	if c.Average != "" {
		opts = append(opts, Average(c.Average))
	}
	if c.Threshold != nil {
		opts = append(opts, Threshold(*c.Threshold))
	}
	m := ctor(opts...)
	if bad, ok := m.(*invalid); ok {
		return nil, bad.err
	}
	return m, nil
}

func isLoss(name string, aliases ...string) bool { return slices.Contains(aliases, name) }
