package optimizers

import (
	"maps"
	"slices"
	"strings"

	"github.com/pkg/errors"
)

// constructors maps the Keras name of every optimizer (lower case) to its
// constructor. Adding an optimizer means one entry here and one file with
// its constructor and rule.
var constructors = map[string]func(...Option) Optimizer{
	"adadelta": Adadelta,
	"adagrad":  Adagrad,
	"adam":     Adam,
	"adamax":   Adamax,
	"adamw":    AdamW,
	"lion":     Lion,
	"nadam":    Nadam,
	"rmsprop":  RMSprop,
	"sgd":      SGD,
}

// Names lists the optimizer names New and Get accept, sorted.
func Names() []string { return slices.Sorted(maps.Keys(constructors)) }

// New returns the optimizer with Keras name name (any case, so Keras's class
// names such as "RMSprop" work too) configured by opts. An unknown name is
// an error listing the valid names.
func New(name string, opts ...Option) (Optimizer, error) {
	if c, ok := constructors[strings.ToLower(name)]; ok {
		return c(opts...), nil
	}
	return nil, errors.Errorf("optimizers: unknown optimizer %q (valid names: %s)", name, strings.Join(Names(), ", "))
}

// Get returns the optimizer with Keras name name (any case) and default
// settings: New without options.
func Get(name string) (Optimizer, error) { return New(name) }
