package layers

import (
	"encoding/json"
	"testing"

	"github.com/kerago/kerago/graph"
)

// unitNormGolden is testdata/golden/unit_normalization.json, written by
// gen_unit_normalization.py (PyTorch).
type unitNormGolden struct {
	Cases []struct {
		Name   string    `json:"name"`
		Shape  []int     `json:"shape"`
		Axis   []int     `json:"axis"`
		Input  []float64 `json:"input"`
		Output []float64 `json:"output"`
	} `json:"cases"`
}

// TestGoldenUnitNormalization checks UnitNormalization against PyTorch's
// computation of Keras's formula, in both dtypes, for one axis, two
// adjacent axes and an all-zero sample, and its gradient by finite
// differences in float64.
func TestGoldenUnitNormalization(t *testing.T) {
	var g unitNormGolden
	readGolden(t, "unit_normalization", &g)
	if len(g.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range g.Cases {
		for _, dt := range dtypes {
			in := graph.Input(c.Shape[1:]...)
			out := NewUnitNormalization(c.Axis).Apply(in)
			got, _ := runOnce(t, newNet(t, in, out, dt, 1), graph.ProgramSpec{Batch: c.Shape[0]}, c.Input)
			if err := closeTo(got, c.Output, tolFor(dt)); err != nil {
				t.Errorf("%s %v: %v", c.Name, dt, err)
			}
		}
		in := graph.Input(c.Shape[1:]...)
		gradCheck(t, c.Name, in, NewUnitNormalization(c.Axis).Apply(in), c.Shape[0], 7)
	}
}

// TestUnitNormalizationConfig checks the Keras form of the axis (an integer
// for one axis, a list for several) and the errors for bad axes.
func TestUnitNormalizationConfig(t *testing.T) {
	for _, c := range []struct {
		axes []int
		json string
	}{{nil, `-1`}, {[]int{1, 2}, `[1,2]`}} {
		b, err := json.Marshal(NewUnitNormalization(c.axes).Config().Axis)
		if err != nil || string(b) != c.json {
			t.Errorf("axes %v: %s, %v; want %s", c.axes, b, err, c.json)
		}
		var back Axes
		if err := json.Unmarshal(b, &back); err != nil || len(back) != max(1, len(c.axes)) {
			t.Errorf("axes %v: read back %v, %v", c.axes, back, err)
		}
	}
	if err := json.Unmarshal([]byte(`"x"`), new(Axes)); err == nil {
		t.Error(`axis "x" accepted`)
	}
	in := graph.Input(3, 4)
	wantErr(t, NewUnitNormalization([]int{3}).Apply(in), "UnitNormalization", "axis [3] is out of bounds or repeated for an input of rank 3")
	wantErr(t, NewUnitNormalization([]int{0, 2}).Apply(in), "axes [0 2] must be adjacent")
	wantErr(t, NewUnitNormalizationFromConfig(UnitNormalizationConfig{}).Apply(in), "axis must name at least one axis")
}
