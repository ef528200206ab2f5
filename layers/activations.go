package layers

import (
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// ActivationFunc applies an activation to a node, as Keras's activation
// functions apply to tensors.
type ActivationFunc func(x graph.Node) (graph.Node, error)

// elementwise turns a scalar function and its derivative into an activation
// emitted as one node (and one node for its gradient).
func elementwise(name string, f func(float64) float64, df func(x, y float64) float64) ActivationFunc {
	u := &ops.UnaryFunc{Name: name, F: f, DF: df}
	return u.Apply
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func softplus(x float64) float64 {
	// log(1+e^x) without overflow.
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

const (
	seluAlpha = 1.6732632423543772848170429916717
	seluScale = 1.0507009873554804934193349852946
)

// activations maps each Keras activation name to its function.
var activations = map[string]ActivationFunc{
	"linear": func(x graph.Node) (graph.Node, error) { return x, nil },
	"relu": (&ops.UnaryFunc{Name: "relu",
		F: func(x float64) float64 {
			if x > 0 {
				return x
			}
			return 0
		},
		DF: func(x, _ float64) float64 { return step(x) },
		// Branch-free: the sign of an activation is unpredictable, and a
		// mispredicted branch per element costs several times the loop.
		Map32: func(x, out []float32) {
			out = out[:len(x)]
			for i, v := range x {
				out[i] = math.Float32frombits(math.Float32bits(v) & -b2u32(v > 0))
			}
		},
		Grad32: func(x, _, g, out []float32) {
			out, g = out[:len(x)], g[:len(x)]
			for i, v := range x {
				out[i] = math.Float32frombits(math.Float32bits(g[i]) & -b2u32(v > 0))
			}
		}}).Apply,
	"relu6": elementwise("relu6",
		func(x float64) float64 { return math.Min(math.Max(x, 0), 6) },
		func(x, _ float64) float64 {
			if x > 0 && x < 6 {
				return 1
			}
			return 0
		}),
	"sigmoid": (&ops.UnaryFunc{Name: "sigmoid", F: sigmoid,
		DF: func(_, y float64) float64 { return y * (1 - y) },
		Grad32: func(_, y, g, out []float32) {
			for i, v := range y {
				out[i] = g[i] * v * (1 - v)
			}
		}}).Apply,
	// hard_sigmoid is Keras 2's piecewise-linear sigmoid, clip(0.2x+0.5, 0, 1),
	// the recurrent activation of Keras 2.2 GRUs and LSTMs.
	"hard_sigmoid": elementwise("hard_sigmoid",
		func(x float64) float64 { return math.Min(math.Max(0.2*x+0.5, 0), 1) },
		func(x, _ float64) float64 {
			if x > -2.5 && x < 2.5 {
				return 0.2
			}
			return 0
		}),
	"tanh": (&ops.UnaryFunc{Name: "tanh", F: math.Tanh,
		DF: func(_, y float64) float64 { return 1 - y*y },
		Grad32: func(_, y, g, out []float32) {
			for i, v := range y {
				out[i] = g[i] * (1 - v*v)
			}
		}}).Apply,
	"softmax": ops.SoftmaxLast,
	"elu": elementwise("elu",
		func(x float64) float64 {
			if x > 0 {
				return x
			}
			return math.Expm1(x)
		},
		func(x, y float64) float64 {
			if x > 0 {
				return 1
			}
			return y + 1
		}),
	"selu": elementwise("selu",
		func(x float64) float64 {
			if x > 0 {
				return seluScale * x
			}
			return seluScale * seluAlpha * math.Expm1(x)
		},
		func(x, y float64) float64 {
			if x > 0 {
				return seluScale
			}
			return y + seluScale*seluAlpha
		}),
	"softplus": elementwise("softplus", softplus,
		func(x, _ float64) float64 { return sigmoid(x) }),
	"softsign": elementwise("softsign",
		func(x float64) float64 { return x / (1 + math.Abs(x)) },
		func(x, _ float64) float64 { d := 1 + math.Abs(x); return 1 / (d * d) }),
	// leaky_relu uses Keras 3's default negative slope, 0.2.
	"leaky_relu": elementwise("leaky_relu(0.2)",
		func(x float64) float64 {
			if x > 0 {
				return x
			}
			return 0.2 * x
		},
		func(x, _ float64) float64 {
			if x > 0 {
				return 1
			}
			return 0.2
		}),
	// gelu is the exact form (Keras's approximate=False): x·Φ(x).
	"gelu": elementwise("gelu",
		func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) },
		func(x, _ float64) float64 {
			return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
		}),
	"swish": elementwise("swish",
		func(x float64) float64 { return x * sigmoid(x) },
		func(x, _ float64) float64 { s := sigmoid(x); return s * (1 + x*(1-s)) }),
	"exponential": elementwise("exponential", math.Exp,
		func(_, y float64) float64 { return y }),
}

func step(x float64) float64 {
	if x > 0 {
		return 1
	}
	return 0
}

func init() {
	activations["silu"] = activations["swish"]
}

// Activation returns the activation with the given Keras name ("" means
// linear), or an error listing the valid names.
func Activation(name string) (ActivationFunc, error) {
	if name == "" {
		name = "linear"
	}
	if f, ok := activations[name]; ok {
		return f, nil
	}
	return nil, errors.Errorf("unknown activation %q; valid activations: %s", name, strings.Join(ActivationNames(), ", "))
}

// ActivationNames lists the known activation names, sorted.
func ActivationNames() []string { return slices.Sorted(maps.Keys(activations)) }

// b2u32 is 1 for true and 0 for false, compiled without a branch.
func b2u32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// fusedAct returns the ops.Act that Dense and the convolutions apply in
// their output pass for the activation name, and whether there is one
// ("", "linear" and "relu"); other activations are separate nodes.
func fusedAct(name string) (ops.Act, bool) {
	switch name {
	case "", "linear":
		return ops.ActLinear, true
	case "relu":
		return ops.ActReLU, true
	}
	return ops.ActLinear, false
}
