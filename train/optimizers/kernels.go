package optimizers

import "math"

// rule is an optimizer's update rule: what a Keras 3 optimizer subclass adds
// to the base optimizer. It names the options it takes besides the base's,
// declares the state it keeps per weight (Keras's build) and makes one
// weight's step (Keras's update_step). Everything else — option checks,
// clipping, the learning rate and its decay, the iteration count, the
// finiteness checks and the state's allocation — is the base's (base.go).
type rule struct {
	// options are the options the rule takes besides commonOptions.
	options optionBit
	// slots lists the state slices the rule keeps per weight under s, in
	// the order its step receives them. A slot that s does not use reaches
	// the step as nil.
	slots func(s *settings) []slot
	// stepSize turns the learning rate of step t (from 1) into the factor
	// the step multiplies by (Adam folds its bias correction into it). Nil
	// means the learning rate itself.
	stepSize func(s *settings, lr float64, t int) float64
	// scalars is the rule's state that belongs to the optimizer rather than
	// to a weight (Nadam's product of momentum factors), under Keras's
	// names, starting at init; nil for most rules.
	scalars []slot
	// prepare, when not nil, fills k.c with the constants of step t (from
	// 1) from the scalar state cur, and writes the scalar state the step
	// leaves into next; the base keeps next only when the whole step
	// succeeds.
	prepare func(s *settings, k *kernel, t int, cur, next []float64)
	// check, when not nil, reports the configuration problems that only
	// this rule has (each naming the option and its value), or "".
	check func(s *settings) string
	// step32 and step64 update one weight w in place from its gradient g
	// and its state st (one slice per slot, each of w's size).
	step32 stepFunc[float32]
	step64 stepFunc[float64]
}

// slot is one per-weight state slice of a rule, under its Keras name
// ("momentum", "velocity", …); used is false when the configuration does not
// need it, and then no memory is allocated for it. init is the value every
// element starts at (0 but for Adagrad's accumulator).
type slot struct {
	name string
	used bool
	init float64
}

// stepFunc is a rule's step on a weight of element type T.
type stepFunc[T float] func(s *settings, k *kernel, w, g []T, st [][]T)

// kernel holds the scalars of one weight's step that the base computes: the
// step size lr (the learning rate after decay, or the rule's stepSize of
// it), the norm-clipping factor scale and the value-clipping bound clip
// (+Inf when off), and c, constants of the step that a rule's prepare
// computes (Nadam's momentum-cache factors).
//
// Each step is one loop over the weight's elements: the gradient element
// is scaled, clipped, folded into the state and applied in place. The loops
// are generic over the weight's float type and compute in that type (float32
// as Keras does), from scalars computed in float64 and rounded once.
type kernel struct {
	lr, scale, clip float64
	c               [5]float64
}

// float is the element type of a weight.
type float interface{ ~float32 | ~float64 }

// scaleClip applies norm clipping (the factor sc) and then value clipping
// (the bound cl) to one gradient element.
func scaleClip[T float](g, sc, cl T) T {
	g *= sc
	if g > cl {
		return cl
	}
	if g < -cl {
		return -cl
	}
	return g
}

func sqrt[T float](x T) T { return T(math.Sqrt(float64(x))) }
