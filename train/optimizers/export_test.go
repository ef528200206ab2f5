package optimizers

import "github.com/kerago/kerago/graph"

// SlotNames returns the names of the state slots that o keeps for w, in the
// order its rule declares them, or nil if o has no state for w yet.
func SlotNames(o Optimizer, w *graph.Weight) []string {
	b := o.(*optimizer)
	st, ok := b.state[w]
	if !ok {
		return nil
	}
	var names []string
	for j, s := range b.rule.slots(&b.s) {
		if (st.s64 != nil && st.s64[j] != nil) || (st.s32 != nil && st.s32[j] != nil) {
			names = append(names, s.name)
		}
	}
	return names
}
