package layers

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// dtypes are the float types every forward test runs in, spago-style.
var dtypes = []tensor.Dtype{tensor.Float32, tensor.Float64}

// tol is the dtype-appropriate tolerance |got-want| ≤ atol + rtol·|want|.
type tol struct{ atol, rtol float64 }

func tolFor(dt tensor.Dtype) tol {
	if dt == tensor.Float32 {
		return tol{1e-6, 1e-5}
	}
	return tol{1e-12, 1e-10}
}

// closeTo reports the first element where got and want disagree.
func closeTo(got, want []float64, tl tol) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d values, want %d", len(got), len(want))
	}
	for i := range got {
		if math.IsNaN(got[i]) || math.Abs(got[i]-want[i]) > tl.atol+tl.rtol*math.Abs(want[i]) {
			return fmt.Errorf("element %d: got %.10g, want %.10g (|diff| %.3g)", i, got[i], want[i], math.Abs(got[i]-want[i]))
		}
	}
	return nil
}

// sumHead is a cost head: the sum of the first output.
func sumHead(_ *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
	s, err := G.Sum(outs[0])
	return s, nil, err
}

// optionsAs converts options held as one option type to another that each
// of them implements (e.g. []RNNOption to []GRUOption), as Go cannot spread
// a slice of one interface type into a variadic parameter of another.
func optionsAs[O, I any](in []I) []O {
	out := make([]O, len(in))
	for i, o := range in {
		out[i] = any(o).(O)
	}
	return out
}

// newNet builds and initialises a network, failing the test on error.
func newNet(t *testing.T, in, out *graph.Tensor, dt tensor.Dtype, seed uint64) *graph.Network {
	t.Helper()
	net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
	if err != nil {
		t.Fatalf("NewNetwork: %v", err)
	}
	if err := net.Initialise(dt, seed); err != nil {
		t.Fatalf("Initialise: %v", err)
	}
	return net
}

// runOnce runs net once on x and returns the first output as float64s.
func runOnce(t *testing.T, net *graph.Network, spec graph.ProgramSpec, x []float64) ([]float64, *graph.Program) {
	t.Helper()
	p, err := net.RunOnce(spec, [][]float64{x})
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return graph.Float64s(p.Outputs()[0]), p
}

// setWeight writes values into w, failing the test on error.
func setWeight(t *testing.T, w *graph.Weight, vals []float64) {
	t.Helper()
	if w == nil {
		t.Fatal("weight is nil")
	}
	if err := w.SetFloat64s(vals); err != nil {
		t.Fatal(err)
	}
}

// randomValues returns n values uniform in ±(0.1..1) (away from 0) from seed.
func randomValues(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 99))
	v := make([]float64, n)
	for i := range v {
		v[i] = 0.1 + 0.9*rng.Float64()
		if rng.IntN(2) == 0 {
			v[i] = -v[i]
		}
	}
	return v
}

// gradCheck runs a float64 finite-difference check of the model in → out
// with respect to every trainable weight and the input.
func gradCheck(t *testing.T, name string, in, out *graph.Tensor, batch int, seed uint64) {
	t.Helper()
	if out.Err() != nil {
		t.Fatalf("%s: building: %v", name, out.Err())
	}
	size := batch * in.Shape().Size()
	err := graph.GradCheck{
		Inputs: []*graph.Tensor{in}, Outputs: []*graph.Tensor{out},
		Batch: batch, Feeds: [][]float64{randomValues(size, seed)},
		CheckInputs: true, Seed: seed,
	}.Run()
	if err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

// wantErr checks that tensor x carries an error containing every part.
func wantErr(t *testing.T, x *graph.Tensor, parts ...string) {
	t.Helper()
	if x.Err() == nil {
		t.Fatalf("expected an error containing %q, got none", parts)
	}
	msg := x.Err().Error()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not contain %q", msg, p)
		}
	}
}

// readGolden decodes testdata/golden/<name>.json, written by
// testdata/golden/gen_<name>.py, into v.
func readGolden(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("../testdata/golden/" + name + ".json")
	if err != nil {
		t.Fatalf("golden values: %v (generate with /usr/bin/python3 testdata/golden/gen_%s.py)", err, name)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
