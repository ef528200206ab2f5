package losses

import (
	"maps"
	"slices"
	"strings"

	"github.com/pkg/errors"
)

// constructors maps every name Get accepts to its loss: the Keras function
// names, their short aliases and the Keras class names.
var constructors = map[string]func() Loss{
	"binary_crossentropy":             func() Loss { return BinaryCrossentropy() },
	"BinaryCrossentropy":              func() Loss { return BinaryCrossentropy() },
	"bce":                             func() Loss { return BinaryCrossentropy() },
	"categorical_crossentropy":        func() Loss { return CategoricalCrossentropy() },
	"CategoricalCrossentropy":         func() Loss { return CategoricalCrossentropy() },
	"sparse_categorical_crossentropy": func() Loss { return SparseCategoricalCrossentropy() },
	"SparseCategoricalCrossentropy":   func() Loss { return SparseCategoricalCrossentropy() },
	"mean_squared_error":              MeanSquaredError,
	"MeanSquaredError":                MeanSquaredError,
	"mse":                             MeanSquaredError,
	"MSE":                             MeanSquaredError,
	"mean_absolute_error":             MeanAbsoluteError,
	"MeanAbsoluteError":               MeanAbsoluteError,
	"mae":                             MeanAbsoluteError,
	"MAE":                             MeanAbsoluteError,
}

// metricLosses maps Keras metric names to the loss that usually goes with
// them, for the error Get gives when a metric is passed as a loss.
var metricLosses = map[string]string{
	"accuracy":                    "binary_crossentropy, categorical_crossentropy or sparse_categorical_crossentropy",
	"acc":                         "binary_crossentropy, categorical_crossentropy or sparse_categorical_crossentropy",
	"binary_accuracy":             "binary_crossentropy",
	"categorical_accuracy":        "categorical_crossentropy",
	"sparse_categorical_accuracy": "sparse_categorical_crossentropy",
	"top_k_categorical_accuracy":  "categorical_crossentropy",
}

// unimplemented are Keras losses kerago does not have.
var unimplemented = map[string]bool{
	"mean_absolute_percentage_error": true, "mape": true,
	"mean_squared_logarithmic_error": true, "msle": true,
	"hinge": true, "squared_hinge": true, "categorical_hinge": true,
	"logcosh": true, "log_cosh": true, "huber": true, "huber_loss": true,
	"kullback_leibler_divergence": true, "kld": true, "poisson": true,
	"cosine_similarity": true, "cosine_proximity": true,
}

// Names lists the loss names Get accepts, sorted.
func Names() []string { return slices.Sorted(maps.Keys(constructors)) }

// Get returns the loss Keras knows by name ("binary_crossentropy",
// "categorical_crossentropy", "sparse_categorical_crossentropy",
// "mse"/"mean_squared_error", "mae"/"mean_absolute_error", the class names
// such as "BinaryCrossentropy"), on probabilities. An unknown name is an
// error listing the valid names; a metric name is an error that says so and
// suggests the loss that goes with it.
func Get(name string) (Loss, error) {
	if c, ok := constructors[name]; ok {
		return c(), nil
	}
	if loss, ok := metricLosses[name]; ok {
		return nil, errors.Errorf("%q is a metric, not a loss: pass it as a metric, with a loss such as %s", name, loss)
	}
	valid := strings.Join(Names(), ", ")
	if unimplemented[name] {
		return nil, errors.Errorf("loss %q is not implemented in kerago; available losses: %s", name, valid)
	}
	return nil, errors.Errorf("unknown loss %q; valid names: %s", name, valid)
}
