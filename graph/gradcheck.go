package graph

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GradCheck describes a finite-difference gradient check: the network
// between Inputs and Outputs is compiled in float64, the analytic gradient of
// a scalar cost with respect to every trainable weight (and, with
// CheckInputs, every model input) is compared with central differences.
type GradCheck struct {
	Inputs, Outputs []*Tensor
	// Batch is the batch size of the feeds.
	Batch int
	// Feeds hold row-major values for every feed of the program: the model
	// inputs, then the head's placeholders.
	Feeds [][]float64
	// Head builds the cost. Nil uses Σ output ⊙ R over all outputs, with R a
	// fixed random tensor, so that every output element matters differently.
	Head Head
	// CheckInputs also checks the gradient with respect to the model inputs.
	CheckInputs bool
	// Seed fixes the initial weights, R and the random inputs (dropout masks,
	// drawn once and then held fixed).
	Seed uint64
	// Eps is the finite-difference step (default 1e-6).
	Eps float64
	// ATol and RTol bound |analytic - numeric| ≤ ATol + RTol·max(|a|,|n|)
	// (defaults 1e-6 and 1e-4).
	ATol, RTol float64
	// MaxPerTensor caps how many elements of each tensor are checked (evenly
	// spread; default 64).
	MaxPerTensor int
}

// Run performs the check and returns an error describing every element whose
// gradient disagrees (nil when all agree).
func (gc GradCheck) Run() error {
	if gc.Eps == 0 {
		gc.Eps = 1e-6
	}
	if gc.ATol == 0 {
		gc.ATol = 1e-6
	}
	if gc.RTol == 0 {
		gc.RTol = 1e-4
	}
	if gc.MaxPerTensor == 0 {
		gc.MaxPerTensor = 64
	}
	net, err := NewNetwork(gc.Inputs, gc.Outputs)
	if err != nil {
		return err
	}
	if err := net.Initialise(tensor.Float64, gc.Seed); err != nil {
		return err
	}
	head := gc.Head
	if head == nil {
		head = ProjectionHead(gc.Seed)
	}
	p, err := NewProgram(net, ProgramSpec{
		Training: true, Batch: gc.Batch, Head: head,
		Rand:           rand.New(rand.NewPCG(gc.Seed, 1)),
		InputGradients: gc.CheckInputs,
	})
	if err != nil {
		return err
	}
	feeds := p.Feeds()
	if len(gc.Feeds) != len(feeds) {
		return errors.Errorf("gradient check: %d feed values given, the program has %d feeds", len(gc.Feeds), len(feeds))
	}
	for i, f := range feeds {
		d := f.Data().([]float64)
		if len(gc.Feeds[i]) != len(d) {
			return errors.Errorf("gradient check: feed %d has %d values, shape %v needs %d", i, len(gc.Feeds[i]), f.Shape(), len(d))
		}
		copy(d, gc.Feeds[i])
	}
	if err := p.Run(true); err != nil {
		return err
	}
	type target struct {
		name     string
		values   []float64
		analytic []float64
	}
	var targets []target
	for i, w := range p.Params() {
		targets = append(targets, target{w.Name(), w.Value().Data().([]float64), append([]float64(nil), p.Gradients()[i].Data().([]float64)...)})
	}
	for i, g := range p.InputGradients() {
		targets = append(targets, target{fmt.Sprintf("input %d", i), feeds[i].Data().([]float64), append([]float64(nil), g.Data().([]float64)...)})
	}
	if len(targets) == 0 {
		return errors.New("gradient check: nothing to check (no trainable weight reaches the cost)")
	}
	var bad []string
	checked := 0
	for _, t := range targets {
		step := 1
		if len(t.values) > gc.MaxPerTensor {
			step = (len(t.values) + gc.MaxPerTensor - 1) / gc.MaxPerTensor
		}
		for j := 0; j < len(t.values); j += step {
			orig := t.values[j]
			t.values[j] = orig + gc.Eps
			if err := p.Run(false); err != nil {
				return err
			}
			plus := p.Cost()
			t.values[j] = orig - gc.Eps
			if err := p.Run(false); err != nil {
				return err
			}
			minus := p.Cost()
			t.values[j] = orig
			num := (plus - minus) / (2 * gc.Eps)
			a := t.analytic[j]
			checked++
			if math.IsNaN(a) || math.Abs(a-num) > gc.ATol+gc.RTol*math.Max(math.Abs(a), math.Abs(num)) {
				if len(bad) < 10 {
					bad = append(bad, fmt.Sprintf("%s[%d]: analytic %.9g, numeric %.9g", t.name, j, a, num))
				}
			}
		}
	}
	if len(bad) > 0 {
		return errors.Errorf("gradient check: %d of %d elements disagree, e.g.\n  %s", len(bad), checked, joinLines(bad))
	}
	return nil
}

func joinLines(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "\n  "
		}
		out += s
	}
	return out
}

// ProjectionHead returns a head whose cost is Σ_k Σ outputs_k ⊙ R_k, with
// R_k fixed random tensors drawn from seed: every output element weighs
// differently in the gradients, which a plain sum would not achieve.
func ProjectionHead(seed uint64) Head {
	return func(ctx *Context, outs []Node) (Node, []Node, error) {
		rng := rand.New(rand.NewPCG(seed, 2))
		var cost Node
		for _, o := range outs {
			vals := make([]float64, o.Shape().TotalSize())
			for i := range vals {
				vals[i] = rng.Float64()*2 - 1
			}
			r := ctx.Const(o.Shape(), vals)
			prod, err := G.HadamardProd(o, r)
			if err != nil {
				return nil, nil, err
			}
			s, err := G.Sum(prod)
			if err != nil {
				return nil, nil, err
			}
			if cost == nil {
				cost = s
			} else if cost, err = G.Add(cost, s); err != nil {
				return nil, nil, err
			}
		}
		return cost, nil, nil
	}
}
