package optimizers

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/blas"
)

// A step is applied only when everything it writes is finite. Apply steps
// each weight in chunks of commitChunk elements: it copies the chunk of the
// weight and of its slots into a backup (allocated once per weight, as the
// slots are), steps the chunk while it is in cache, and checks what the
// step wrote. When a weight or a slot would hold NaN or ±Inf (an
// overflowing learning rate, say) every element stepped so far is copied
// back and Apply returns an error naming the weight and the index. Every
// rule is element-wise, so stepping a chunk is stepping those elements.

// commitChunk is the elements per chunk: the weight, the gradient, two
// slots and their backups stay in a 256 KiB cache.
const commitChunk = 4096

// stepChecked steps w by f in chunks, backing each chunk up into back
// (grown to w's and the slots' sizes) first. It returns how many elements
// it stepped and the first non-finite value written: its array (0 for w,
// j+1 for slot j) and index, or array -1.
func stepChecked[T float](f stepFunc[T], s *settings, k *kernel, wd float64, w, g []T, st [][]T, back *[][]T, view *[][]T) (n, bad, at int) {
	b := grow(back, len(st)+1, len(w))
	if len(*view) != len(st) {
		*view = make([][]T, len(st))
	}
	v := *view
	for a := 0; a < len(w); a += commitChunk {
		e := min(a+commitChunk, len(w))
		copy(b[0][a:e], w[a:e])
		for j, sl := range st {
			v[j] = nil
			if sl != nil {
				copy(b[j+1][a:e], sl[a:e])
				v[j] = sl[a:e]
			}
		}
		step(f, s, k, wd, w[a:e], g[a:e], v)
		if i := blas.FirstNonFinite(w[a:e]); i >= 0 {
			return e, 0, a + i
		}
		for j, sl := range v {
			if i := blas.FirstNonFinite(sl); i >= 0 {
				return e, j + 1, a + i
			}
		}
	}
	return len(w), -1, 0
}

// grow makes *back hold arrays slices of n elements.
func grow[T float](back *[][]T, arrays, n int) [][]T {
	if len(*back) != arrays {
		*back = make([][]T, arrays)
	}
	for j := range *back {
		if len((*back)[j]) != n {
			(*back)[j] = make([]T, n)
		}
	}
	return *back
}

// undo copies back the first n elements of w and its slots.
func undo[T float](w []T, st [][]T, back [][]T, n int) {
	copy(w[:n], back[0][:n])
	for j, sl := range st {
		if sl != nil {
			copy(sl[:n], back[j+1][:n])
		}
	}
}

// stepWeight steps one weight with the rule, checked; it records in
// st.done how many elements it stepped and returns the error for a non-finite result.
func (o *optimizer) stepWeight(w *graph.Weight, g *tensor.Dense, st *state, k *kernel, wd float64) error {
	val := w.Value()
	var bad, at int
	if val.Dtype() == tensor.Float64 {
		st.done, bad, at = stepChecked(o.rule.step64, &o.s, k, wd, val.Float64s(), g.Float64s(), st.s64, &st.back64, &st.view64)
	} else {
		st.done, bad, at = stepChecked(o.rule.step32, &o.s, k, wd, val.Float32s(), g.Float32s(), st.s32, &st.back32, &st.view32)
	}
	switch {
	case bad < 0:
		return nil
	case bad == 0:
		return errors.Errorf("optimizers: %s: the step would make %s[%d] %v (learning rate %g); no weight was changed", o.name, w.Name(), at, graph.Float64s(val)[at], o.stepLR())
	}
	return errors.Errorf("optimizers: %s: the step would make slot %d of %s non-finite at index %d; no weight was changed", o.name, bad-1, w.Name(), at)
}

// undoStep restores what stepWeight changed in w.
func (st *state) undoStep(w *graph.Weight) {
	val := w.Value()
	if val.Dtype() == tensor.Float64 {
		undo(val.Float64s(), st.s64, st.back64, st.done)
	} else {
		undo(val.Float32s(), st.s32, st.back32, st.done)
	}
	st.done = 0
}
