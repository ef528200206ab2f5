package graph

import (
	"fmt"
	"sort"

	"github.com/pkg/errors"
)

// InputSpec is Keras's InputSpec: what a layer requires of one input. Ranks
// count the batch axis, as Keras does (a (None, 28, 28, 1) input has
// ndim=4), and a zero field sets no requirement. A layer declares its specs
// with Base.SetInputSpec; Apply (through Build) checks them before it calls
// the layer's Build, so Build never sees an input of the wrong rank.
type InputSpec struct {
	// NDim is the exact rank (Keras's ndim).
	NDim int
	// MinNDim is the smallest rank (Keras's min_ndim).
	MinNDim int
	// MaxNDim is the largest rank (Keras's max_ndim).
	MaxNDim int
	// Axes fixes the size of some axes (Keras's axes): axis → size, the
	// batch axis counting as 0 (and never checked: its size is not known
	// before a program runs) and negative axes counting from the end. A
	// layer sets it when it is built, to the sizes its weights depend on.
	Axes map[int]int
	// Layout names the axes a rank error expects, e.g. "batch, time,
	// features": the error reads "expected ndim=3 (batch, time, features),
	// found ndim=2".
	Layout string
	// RankHints holds, for some wrong ranks (batch axis counted), a sentence
	// the rank error ends with, e.g. how to add a missing channel axis.
	RankHints map[int]string
}

// Check returns an error saying how the input shape s (batch axis excluded)
// breaks the spec, in Keras's words, or nil if it does not.
func (sp InputSpec) Check(s Shape) error {
	ndim := len(s) + 1
	layout := ""
	if sp.Layout != "" {
		layout = " (" + sp.Layout + ")"
	}
	var msg string
	switch {
	case sp.NDim != 0 && ndim != sp.NDim:
		msg = fmt.Sprintf("expected ndim=%d%s, found ndim=%d", sp.NDim, layout, ndim)
	case sp.MinNDim != 0 && ndim < sp.MinNDim:
		msg = fmt.Sprintf("expected min_ndim=%d%s, found ndim=%d", sp.MinNDim, layout, ndim)
	case sp.MaxNDim != 0 && ndim > sp.MaxNDim:
		msg = fmt.Sprintf("expected max_ndim=%d%s, found ndim=%d", sp.MaxNDim, layout, ndim)
	default:
		return sp.checkAxes(s)
	}
	if hint := sp.RankHints[ndim]; hint != "" {
		msg += "; " + hint
	}
	return errors.New(msg)
}

// checkAxes checks the fixed axis sizes, in axis order so that the error is
// always the same one. An axis the input does not have is a mismatch too.
func (sp InputSpec) checkAxes(s Shape) error {
	axes := make([]int, 0, len(sp.Axes))
	for a := range sp.Axes {
		axes = append(axes, a)
	}
	sort.Ints(axes)
	for _, a := range axes {
		i := a - 1 // index into s, which has no batch axis: -1 is the batch
		if a < 0 {
			i = len(s) + a
		}
		if i == -1 || (i >= 0 && i < len(s) && SameDim(s[i], sp.Axes[a])) {
			continue
		}
		return errors.Errorf("expected axis %d of input shape to have value %d but got shape %s", a, sp.Axes[a], s)
	}
	return nil
}

// checkInputSpecs checks input i against spec i; inputs past the specs are
// not checked. Errors about an input other than the first name it.
func checkInputSpecs(specs []InputSpec, in []Shape) error {
	for i, sp := range specs {
		if i >= len(in) {
			break
		}
		if err := sp.Check(in[i]); err != nil {
			if i > 0 {
				return errors.Wrapf(err, "input %d", i)
			}
			return err
		}
	}
	return nil
}
