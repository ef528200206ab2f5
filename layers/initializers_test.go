package layers

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// kernelOf builds a fresh Dense(units) with init on Input(in) and returns
// its kernel values after Initialise(dt, seed).
func kernelOf(t *testing.T, init graph.Initializer, in, units int, dt tensor.Dtype, seed uint64) []float64 {
	t.Helper()
	x := graph.Input(in)
	d := NewDense(units, WithKernelInitializer(init))
	newNet(t, x, d.Apply(x), dt, seed)
	return d.Kernel().Float64s()
}

func meanStd(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

// TestInitializerNames: every name resolves; same seed, same values; a
// different seed, different values (random ones).
func TestInitializerNames(t *testing.T) {
	names := InitializerNames()
	if len(names) < 12 {
		t.Fatalf("only %d initializers: %v", len(names), names)
	}
	for _, name := range names {
		init, err := Initializer(name)
		if err != nil || init == nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, dt := range dtypes {
			a := kernelOf(t, init, 7, 5, dt, 3)
			b := kernelOf(t, init, 7, 5, dt, 3)
			if err := closeTo(a, b, tol{}); err != nil {
				t.Errorf("%s %v: same seed, different values: %v", name, dt, err)
			}
			c := kernelOf(t, init, 7, 5, dt, 4)
			random := name != "zeros" && name != "ones"
			if random && closeTo(a, c, tol{}) == nil {
				t.Errorf("%s %v: seeds 3 and 4 gave the same values", name, dt)
			}
		}
	}
}

// TestInitializerDistributions checks bounds (uniform: within the limit;
// truncated: within two standard deviations of the untruncated normal) and
// the sample standard deviation against Keras's formulas on a (400, 300)
// kernel (fan_in 400, fan_out 300).
func TestInitializerDistributions(t *testing.T) {
	const fanIn, fanOut = 400.0, 300.0
	const trunc = 0.87962566103423978 // std of a unit normal truncated to ±2
	type spec struct {
		bound float64 // |w| ≤ bound (0: unbounded)
		std   float64 // expected sample std
	}
	cases := map[string]spec{
		"glorot_uniform":   {math.Sqrt(6 / (fanIn + fanOut)), math.Sqrt(2 / (fanIn + fanOut))},
		"he_uniform":       {math.Sqrt(6 / fanIn), math.Sqrt(2 / fanIn)},
		"lecun_uniform":    {math.Sqrt(3 / fanIn), math.Sqrt(1 / fanIn)},
		"random_uniform":   {0.05, 0.1 / math.Sqrt(12)},
		"glorot_normal":    {2 * math.Sqrt(2/(fanIn+fanOut)) / trunc, math.Sqrt(2 / (fanIn + fanOut))},
		"he_normal":        {2 * math.Sqrt(2/fanIn) / trunc, math.Sqrt(2 / fanIn)},
		"lecun_normal":     {2 * math.Sqrt(1/fanIn) / trunc, math.Sqrt(1 / fanIn)},
		"truncated_normal": {2 * 0.05, 0.05 * trunc},
		"random_normal":    {0, 0.05},
		"orthogonal":       {0, 1 / math.Sqrt(fanIn)},
	}
	for name, c := range cases {
		init, err := Initializer(name)
		if err != nil {
			t.Fatal(err)
		}
		v := kernelOf(t, init, int(fanIn), int(fanOut), tensor.Float64, 21)
		maxAbs := 0.0
		for _, x := range v {
			maxAbs = math.Max(maxAbs, math.Abs(x))
		}
		if c.bound > 0 {
			if maxAbs > c.bound {
				t.Errorf("%s: |w| reaches %v, beyond %v", name, maxAbs, c.bound)
			}
			if maxAbs < 0.98*c.bound {
				t.Errorf("%s: largest |w| %v, far below the bound %v", name, maxAbs, c.bound)
			}
		}
		mean, std := meanStd(v)
		if math.Abs(std-c.std) > 0.02*c.std {
			t.Errorf("%s: sample std %v, want %v", name, std, c.std)
		}
		if math.Abs(mean) > 5*c.std/math.Sqrt(float64(len(v))) {
			t.Errorf("%s: sample mean %v, want 0", name, mean)
		}
	}
	for name, want := range map[string]float64{"zeros": 0, "ones": 1} {
		init, _ := Initializer(name)
		for _, x := range kernelOf(t, init, 3, 2, tensor.Float32, 1) {
			if x != want {
				t.Fatalf("%s gives %v", name, x)
			}
		}
	}
	v := make([]float64, 10)
	if err := Constant(2.5).Fill(v, graph.Shape{10}, nil); err != nil || v[9] != 2.5 {
		t.Errorf("Constant(2.5): %v %v", v, err)
	}
}

// TestOrthogonal: WᵀW = I for tall weights (rows ≥ cols), WWᵀ = I for wide
// ones, with the Keras view of a rank-3 weight as (prod(shape[:-1]), last).
func TestOrthogonal(t *testing.T) {
	for _, shape := range []graph.Shape{{6, 4}, {5, 5}, {3, 7}, {2, 3, 5}, {1, 4}} {
		for _, gain := range []float64{1, 2} {
			v := make([]float64, shape.Size())
			if err := (OrthogonalInit{Gain: gain}).Fill(v, shape, rand.New(rand.NewPCG(5, 6))); err != nil {
				t.Fatal(err)
			}
			cols := shape[len(shape)-1]
			rows := len(v) / cols
			at := func(i, j int) float64 { return v[i*cols+j] }
			if rows >= cols {
				for a := 0; a < cols; a++ {
					for b := 0; b < cols; b++ {
						s := 0.0
						for i := 0; i < rows; i++ {
							s += at(i, a) * at(i, b)
						}
						if want := gain * gain * b2f(a == b); math.Abs(s-want) > 1e-12 {
							t.Fatalf("shape %v gain %v: (WᵀW)[%d,%d] = %v, want %v", shape, gain, a, b, s, want)
						}
					}
				}
			} else {
				for a := 0; a < rows; a++ {
					for b := 0; b < rows; b++ {
						s := 0.0
						for j := 0; j < cols; j++ {
							s += at(a, j) * at(b, j)
						}
						if want := gain * gain * b2f(a == b); math.Abs(s-want) > 1e-12 {
							t.Fatalf("shape %v gain %v: (WWᵀ)[%d,%d] = %v, want %v", shape, gain, a, b, s, want)
						}
					}
				}
			}
		}
	}
	err := Orthogonal().Fill(make([]float64, 4), graph.Shape{4}, rand.New(rand.NewPCG(1, 1)))
	if err == nil || !strings.Contains(err.Error(), "rank 2") {
		t.Errorf("Orthogonal on a vector: %v", err)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestInitializerErrors: bad names and bad arguments are errors, reported
// through Initialise naming the weight.
func TestInitializerErrors(t *testing.T) {
	_, err := Initializer("glorot")
	if err == nil {
		t.Fatal("unknown initializer accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, `unknown initializer "glorot"`) || !strings.Contains(msg, strings.Join(InitializerNames(), ", ")) {
		t.Errorf("message %q should name the initializer and list %v", msg, InitializerNames())
	}
	bad := map[string]graph.Initializer{
		"unknown mode":         VarianceScaling{1, "fan_sum", "uniform"},
		"unknown distribution": VarianceScaling{1, "fan_in", "cauchy"},
		"scale must be":        VarianceScaling{0, "fan_in", "uniform"},
		"below minval":         RandomUniform(1, -1),
		"must not be negative": RandomNormal(0, -1),
	}
	for want, init := range bad {
		x := graph.Input(3)
		out := NewDense(2, WithKernelInitializer(init), WithName("bad_init")).Apply(x)
		net, err := graph.NewNetwork([]*graph.Tensor{x}, []*graph.Tensor{out})
		if err != nil {
			t.Fatal(err)
		}
		err = net.Initialise(tensor.Float32, 1)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "bad_init/kernel") {
			t.Errorf("want an error with %q naming bad_init/kernel, got %v", want, err)
		}
	}
}

// TestVarianceScalingModes: fan_out mode, untruncated normal, and Keras 2.2's
// "normal" (truncated, variance-corrected) on a (400, 300) weight.
func TestVarianceScalingModes(t *testing.T) {
	shape := graph.Shape{400, 300}
	cases := []struct {
		vs          VarianceScaling
		std, bound  float64
		wantOutside bool // untruncated: some draws beyond 2 std
	}{
		{VarianceScaling{2, "fan_out", "untruncated_normal"}, math.Sqrt(2.0 / 300), 0, true},
		{VarianceScaling{1, "fan_in", "normal"}, math.Sqrt(1.0 / 400), 2 * math.Sqrt(1.0/400) / 0.87962566103423978, false},
		{VarianceScaling{3, "fan_avg", "uniform"}, math.Sqrt(3.0 / 350), math.Sqrt(9.0 / 350), false},
	}
	for _, c := range cases {
		v := make([]float64, shape.Size())
		if err := c.vs.Fill(v, shape, rand.New(rand.NewPCG(8, 9))); err != nil {
			t.Fatal(err)
		}
		_, std := meanStd(v)
		if math.Abs(std-c.std) > 0.02*c.std {
			t.Errorf("%+v: std %v, want %v", c.vs, std, c.std)
		}
		outside := 0
		for _, x := range v {
			if c.bound > 0 && math.Abs(x) > c.bound {
				t.Fatalf("%+v: %v beyond %v", c.vs, x, c.bound)
			}
			if math.Abs(x) > 2*c.std {
				outside++
			}
		}
		if c.wantOutside && outside == 0 {
			t.Errorf("%+v: no draw beyond two standard deviations", c.vs)
		}
	}
	// Convolution fans: (3, 3, 3, 32) has fan_in 27 and fan_out 288.
	v := make([]float64, 3*3*3*32)
	if err := HeUniform().Fill(v, graph.Shape{3, 3, 3, 32}, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	for _, x := range v {
		if math.Abs(x) > math.Sqrt(6.0/27) {
			t.Fatalf("he_uniform conv: %v beyond %v", x, math.Sqrt(6.0/27))
		}
	}
}
