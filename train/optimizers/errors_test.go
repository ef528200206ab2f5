package optimizers_test

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	opt "github.com/kerago/kerago/train/optimizers"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestValidate checks that each invalid option is reported with its name and
// value, and that valid configurations pass.
func TestValidate(t *testing.T) {
	bad := []struct {
		o    opt.Optimizer
		want []string
	}{
		{opt.Adam(opt.LR(0)), []string{"adam", "LR(0)"}},
		{opt.Adam(opt.LR(-0.5)), []string{"LR(-0.5)"}},
		{opt.SGD(opt.LR(math.NaN())), []string{"sgd", "LR(NaN)"}},
		{opt.RMSprop(opt.LR(math.Inf(1))), []string{"rmsprop", "LR(+Inf)"}},
		{opt.Adam(opt.Beta1(1)), []string{"Beta1(1)", "[0, 1)"}},
		{opt.Adam(opt.Beta1(-0.1)), []string{"Beta1(-0.1)"}},
		{opt.Adam(opt.Beta2(1.5)), []string{"Beta2(1.5)"}},
		{opt.Adam(opt.Epsilon(-1e-7)), []string{"Epsilon(-1e-07)"}},
		{opt.RMSprop(opt.Epsilon(-1)), []string{"Epsilon(-1)"}},
		{opt.Adam(opt.Decay(-0.1)), []string{"Decay(-0.1)"}},
		{opt.SGD(opt.Decay(math.NaN())), []string{"Decay(NaN)"}},
		{opt.Adam(opt.ClipNorm(0)), []string{"ClipNorm(0)", "> 0"}},
		{opt.SGD(opt.ClipNorm(-1)), []string{"ClipNorm(-1)"}},
		{opt.SGD(opt.GlobalClipNorm(0)), []string{"GlobalClipNorm(0)"}},
		{opt.RMSprop(opt.ClipValue(-0.5)), []string{"ClipValue(-0.5)"}},
		{opt.Adam(opt.ClipValue(0)), []string{"ClipValue(0)"}},
		{opt.Adam(opt.ClipNorm(1), opt.GlobalClipNorm(2)), []string{"ClipNorm(1)", "GlobalClipNorm(2)", "cannot be combined"}},
		{opt.SGD(opt.Momentum(1.5)), []string{"Momentum(1.5)", "[0, 1]"}},
		{opt.SGD(opt.Momentum(-0.1)), []string{"Momentum(-0.1)"}},
		{opt.RMSprop(opt.Momentum(2)), []string{"Momentum(2)"}},
		{opt.RMSprop(opt.Rho(1)), []string{"Rho(1)"}},
		{opt.RMSprop(opt.Rho(-0.2)), []string{"Rho(-0.2)"}},
		{opt.Adam(opt.Momentum(0.9)), []string{"Momentum(0.9) does not apply to adam", "Beta1", "AMSGrad"}},
		{opt.Adam(opt.Nesterov()), []string{"Nesterov() does not apply to adam"}},
		{opt.Adam(opt.Rho(0.9)), []string{"Rho(0.9) does not apply to adam"}},
		{opt.SGD(opt.AMSGrad()), []string{"AMSGrad() does not apply to sgd", "Momentum", "Nesterov"}},
		{opt.SGD(opt.Beta1(0.9)), []string{"Beta1(0.9) does not apply to sgd"}},
		{opt.SGD(opt.Epsilon(1e-7)), []string{"Epsilon(1e-07) does not apply to sgd"}},
		{opt.SGD(opt.Centered()), []string{"Centered() does not apply to sgd"}},
		{opt.RMSprop(opt.Nesterov()), []string{"Nesterov() does not apply to rmsprop"}},
		{opt.RMSprop(opt.Beta2(0.99)), []string{"Beta2(0.99) does not apply to rmsprop"}},
		{opt.Adam(opt.LR(-1), opt.Beta1(2)), []string{"LR(-1)", "Beta1(2)"}},
		{opt.SGD(opt.WeightDecay(-0.1)), []string{"invalid sgd configuration", "WeightDecay(-0.1): must be a finite number ≥ 0"}},
		{opt.Adam(opt.WeightDecay(math.NaN())), []string{"WeightDecay(NaN): must be a finite number ≥ 0"}},
		{opt.RMSprop(opt.WeightDecay(math.Inf(1))), []string{"WeightDecay(+Inf)"}},
		{opt.Adam(opt.ExcludeFromWeightDecay("bias")), []string{`ExcludeFromWeightDecay("bias") has no effect without a WeightDecay > 0`}},
		{opt.SGD(opt.WeightDecay(0.1), opt.ExcludeFromWeightDecay("bias", "")), []string{`ExcludeFromWeightDecay("bias", ""): an empty name would exclude every weight`}},
		{opt.AdamW(opt.WeightDecay(-0.004)), []string{"invalid adamw configuration", "WeightDecay(-0.004): must be a finite number ≥ 0"}},
		{opt.AdamW(opt.WeightDecay(math.NaN())), []string{"adamw", "WeightDecay(NaN): must be a finite number ≥ 0"}},
		{opt.AdamW(opt.WeightDecay(math.Inf(1)), opt.Beta2(1)), []string{"WeightDecay(+Inf)", "Beta2(1)"}},
		{opt.AdamW(opt.WeightDecay(0), opt.ExcludeFromWeightDecay("bias")), []string{`ExcludeFromWeightDecay("bias") has no effect without a WeightDecay > 0`}},
		{opt.AdamW(opt.Momentum(0.9)), []string{"Momentum(0.9) does not apply to adamw", "WeightDecay", "AMSGrad"}},
		{opt.AdamW(opt.ExcludeFromWeightDecay("")), []string{`ExcludeFromWeightDecay(""): an empty name would exclude every weight`}},
		// Adagrad, Adadelta, Adamax, Nadam, Lion.
		{opt.Adagrad(opt.InitialAccumulator(-0.1)), []string{"invalid adagrad configuration", "InitialAccumulator(-0.1): must be a finite number ≥ 0"}},
		{opt.Adagrad(opt.InitialAccumulator(math.Inf(1))), []string{"InitialAccumulator(+Inf)"}},
		{opt.Adagrad(opt.Epsilon(-1)), []string{"Epsilon(-1)"}},
		{opt.Adagrad(opt.Beta1(0.9)), []string{"Beta1(0.9) does not apply to adagrad", "InitialAccumulator"}},
		{opt.Adadelta(opt.Rho(1)), []string{"invalid adadelta configuration", "Rho(1): must be in [0, 1)"}},
		{opt.Adadelta(opt.Rho(-0.5)), []string{"Rho(-0.5)"}},
		{opt.Adadelta(opt.Momentum(0.9)), []string{"Momentum(0.9) does not apply to adadelta", "Rho"}},
		{opt.Adamax(opt.Beta1(1)), []string{"invalid adamax configuration", "Beta1(1): must be in [0, 1)"}},
		{opt.Adamax(opt.Beta2(-0.1)), []string{"Beta2(-0.1)"}},
		{opt.Adamax(opt.AMSGrad()), []string{"AMSGrad() does not apply to adamax"}},
		{opt.Nadam(opt.Beta2(1)), []string{"invalid nadam configuration", "Beta2(1)"}},
		{opt.Nadam(opt.Epsilon(math.NaN())), []string{"Epsilon(NaN)"}},
		{opt.Nadam(opt.InitialAccumulator(0.1)), []string{"InitialAccumulator(0.1) does not apply to nadam"}},
		{opt.Lion(opt.Beta1(0)), []string{"invalid lion configuration", "Beta1(0): Lion needs β1 in (0, 1)", "SignSGD"}},
		{opt.Lion(opt.Beta2(1.5)), []string{"Beta2(1.5)"}},
		{opt.Lion(opt.Epsilon(1e-7)), []string{"Epsilon(1e-07) does not apply to lion", "Beta1, Beta2"}},
		{opt.Lion(opt.LR(-1), opt.ClipNorm(1), opt.GlobalClipNorm(1)), []string{"LR(-1)", "cannot be combined"}},
		{opt.SGD(opt.InitialAccumulator(0.1)), []string{"InitialAccumulator(0.1) does not apply to sgd"}},
	}
	w := network(t, tensor.Float64, 1, 1)[1]
	for _, c := range bad {
		err := c.o.Validate()
		if err == nil {
			t.Errorf("Validate accepted a configuration that should fail with %q", c.want)
			continue
		}
		for _, s := range c.want {
			if !contains(err.Error(), s) {
				t.Errorf("Validate error %q does not contain %q", err, s)
			}
		}
		// Apply refuses to run, changing nothing.
		set(t, w, 1)
		if err := c.o.Apply([]*graph.Weight{w}, []*tensor.Dense{grad(w, 1)}); err == nil {
			t.Errorf("Apply ran despite %v", c.want)
		}
		if got := w.Float64s()[0]; got != 1 || c.o.Iterations() != 0 {
			t.Errorf("Apply with an invalid configuration changed the weight to %g (iterations %d)", got, c.o.Iterations())
		}
	}
	good := []opt.Optimizer{
		opt.Adam(), opt.SGD(), opt.RMSprop(),
		opt.Adam(opt.LR(0.001), opt.Beta1(0.9), opt.Beta2(0.999), opt.Epsilon(1e-6), opt.Decay(1e-8), opt.GlobalClipNorm(5), opt.ClipValue(0.5)),
		opt.Adam(opt.ClipNorm(5), opt.ClipValue(0.5), opt.AMSGrad(), opt.Beta1(0), opt.Epsilon(0)),
		opt.SGD(opt.Momentum(0.9), opt.Nesterov(), opt.Decay(0.01), opt.ClipNorm(1)),
		opt.SGD(opt.Momentum(1), opt.Momentum(0)),
		opt.RMSprop(opt.Rho(0), opt.Momentum(0.9), opt.Centered(), opt.Epsilon(1e-6), opt.GlobalClipNorm(1)),
		opt.SGD(opt.WeightDecay(0.01), opt.ExcludeFromWeightDecay("bias", "gamma")),
		opt.Adam(opt.WeightDecay(0)), opt.RMSprop(opt.WeightDecay(1)),
		opt.AdamW(), opt.AdamW(opt.WeightDecay(0)), opt.AdamW(opt.ExcludeFromWeightDecay("bias"), opt.AMSGrad(), opt.ClipNorm(1)),
		opt.Adagrad(opt.InitialAccumulator(0), opt.Epsilon(1e-6)), opt.Adadelta(opt.LR(1), opt.Rho(0)),
		opt.Adamax(opt.Beta1(0)), opt.Nadam(opt.WeightDecay(0.1), opt.ExcludeFromWeightDecay("bias")),
		opt.Lion(opt.Beta1(0.99), opt.Beta2(0)),
	}
	for i, o := range good {
		if err := o.Validate(); err != nil {
			t.Errorf("good config %d: %v", i, err)
		}
	}
}

// TestNonFiniteGradients checks that NaN or Inf in any gradient leaves every
// weight and the optimizer's state unchanged and names the weight.
func TestNonFiniteGradients(t *testing.T) {
	for _, dt := range dtypes {
		for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			for _, mk := range []func() opt.Optimizer{
				func() opt.Optimizer { return opt.Adam(opt.ClipNorm(1)) },
				func() opt.Optimizer { return opt.SGD(opt.Momentum(0.9), opt.GlobalClipNorm(1)) },
				func() opt.Optimizer { return opt.RMSprop(opt.Centered(), opt.Momentum(0.5)) },
				func() opt.Optimizer { return opt.SGD(opt.WeightDecay(0.1), opt.Decay(0.5)) },
				func() opt.Optimizer { return opt.AdamW(opt.AMSGrad(), opt.ClipValue(0.3)) },
			} {
				ws := network(t, dt, 3, 2) // kernel (3,2), bias (2)
				set(t, ws[0], 1, 2, 3, 4, 5, 6)
				set(t, ws[1], -1, 1)
				good := [][]float64{{0.1, 0.2, -0.3, 0.4, 0.5, -0.6}, {0.7, -0.8}}
				o := mk()
				// One good step first, so that the state exists.
				if err := o.Apply(ws, []*tensor.Dense{grad(ws[0], good[0]...), grad(ws[1], good[1]...)}); err != nil {
					t.Fatal(err)
				}
				before := snapshot(ws)
				err := o.Apply(ws, []*tensor.Dense{grad(ws[0], good[0]...), grad(ws[1], 0.5, bad)})
				if err == nil {
					t.Fatalf("%s %v %s: no error for a %g gradient", o.Name(), dt, "bias", bad)
				}
				if !contains(err.Error(), ws[1].Name()) || !contains(err.Error(), "index 1") {
					t.Errorf("error %q does not name %s and index 1", err, ws[1].Name())
				}
				after := snapshot(ws)
				for i := range before {
					for j := range before[i] {
						if after[i][j] != before[i][j] {
							t.Fatalf("%s %v: weight %d[%d] changed from %g to %g by a %g gradient", o.Name(), dt, i, j, before[i][j], after[i][j], bad)
						}
					}
				}
				if o.Iterations() != 1 {
					t.Errorf("Iterations() = %d after a refused step", o.Iterations())
				}
				// The state was not poisoned: the next good step matches a
				// twin optimizer that never saw the bad gradient.
				twin := mk()
				twinWs := network(t, dt, 3, 2)
				set(t, twinWs[0], 1, 2, 3, 4, 5, 6)
				set(t, twinWs[1], -1, 1)
				for k := 0; k < 2; k++ {
					if err := twin.Apply(twinWs, []*tensor.Dense{grad(twinWs[0], good[0]...), grad(twinWs[1], good[1]...)}); err != nil {
						t.Fatal(err)
					}
				}
				if err := o.Apply(ws, []*tensor.Dense{grad(ws[0], good[0]...), grad(ws[1], good[1]...)}); err != nil {
					t.Fatal(err)
				}
				got, want := snapshot(ws), snapshot(twinWs)
				for i := range got {
					checkValues(t, "after recovery", got[i], want[i], 0, 0)
					for _, v := range got[i] {
						if math.IsNaN(v) || math.IsInf(v, 0) {
							t.Fatalf("weight poisoned: %v", got[i])
						}
					}
				}
			}
		}
	}
}

// frozen is a layer with one non-trainable weight, for TestApplyErrors.
type frozen struct{ graph.Base }

func (l *frozen) Build(in []graph.Shape) ([]graph.Shape, error) {
	if !l.Built() {
		l.AddWeight("moving", graph.Shape{2}, nil, nil, false)
	}
	return in, nil
}

func (l *frozen) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) { return in, nil }

// TestApplyErrors checks that mismatched or malformed inputs are refused
// with a message naming the weight and without changing anything.
func TestApplyErrors(t *testing.T) {
	ws := network(t, tensor.Float64, 3, 2)
	kernel, bias := ws[0], ws[1]
	ws32 := network(t, tensor.Float32, 3, 2)
	in := graph.Input(2)
	fl := &frozen{Base: graph.NewBase("Frozen", "")}
	out := graph.Apply1(fl, in)
	net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Initialise(tensor.Float64, 1); err != nil {
		t.Fatal(err)
	}
	moving := net.Weights()[0]
	g6 := func() *tensor.Dense { return grad(kernel, 1, 2, 3, 4, 5, 6) }
	transposed := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))
	if err := transposed.T(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		params []*graph.Weight
		grads  []*tensor.Dense
		want   string
	}{
		{"count", []*graph.Weight{kernel, bias}, []*tensor.Dense{g6()}, "2 weights but 1 gradients"},
		{"nil grad", []*graph.Weight{kernel}, []*tensor.Dense{nil}, "gradient of " + kernel.Name() + " is nil"},
		{"nil weight", []*graph.Weight{nil}, []*tensor.Dense{g6()}, "weight 0 is nil"},
		{"shape", []*graph.Weight{kernel}, []*tensor.Dense{tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))}, "has shape (2, 3), the weight (3, 2)"},
		{"size", []*graph.Weight{bias}, []*tensor.Dense{g6()}, kernel.Name()[:0] + bias.Name()},
		{"dtype", []*graph.Weight{kernel}, []*tensor.Dense{grad(ws32[0], 1, 2, 3, 4, 5, 6)}, "is float32, the weight is float64"},
		{"twice", []*graph.Weight{bias, bias}, []*tensor.Dense{grad(bias, 1, 2), grad(bias, 1, 2)}, bias.Name() + " is listed twice"},
		{"not trainable", []*graph.Weight{moving}, []*tensor.Dense{grad(moving, 1, 2)}, moving.Name() + " is not trainable"},
		{"transposed", []*graph.Weight{kernel}, []*tensor.Dense{transposed}, "not a contiguous"},
	}
	for _, c := range cases {
		for _, o := range []opt.Optimizer{opt.Adam(), opt.SGD(opt.Momentum(0.9)), opt.RMSprop()} {
			before := snapshot(ws)
			err := o.Apply(c.params, c.grads)
			if err == nil {
				t.Errorf("%s %s: no error", o.Name(), c.name)
				continue
			}
			if !contains(err.Error(), c.want) {
				t.Errorf("%s %s: error %q does not contain %q", o.Name(), c.name, err, c.want)
			}
			after := snapshot(ws)
			for i := range before {
				checkValues(t, c.name+" unchanged", after[i], before[i], 0, 0)
			}
			if o.Iterations() != 0 {
				t.Errorf("%s %s: Iterations() = %d", o.Name(), c.name, o.Iterations())
			}
		}
	}
}

// TestHugeFiniteGradients checks that norm clipping of finite gradients whose
// squares overflow still gives the clipped direction, not zeros or NaN.
func TestHugeFiniteGradients(t *testing.T) {
	ws := network(t, tensor.Float64, 2, 1) // kernel (2,1), bias (1)
	for _, o := range []opt.Optimizer{opt.SGD(opt.LR(1), opt.ClipNorm(1)), opt.SGD(opt.LR(1), opt.GlobalClipNorm(1))} {
		set(t, ws[0], 0, 0)
		set(t, ws[1], 0)
		err := o.Apply(ws, []*tensor.Dense{grad(ws[0], 3e200, 4e200), grad(ws[1], 0)})
		if err != nil {
			t.Fatal(err)
		}
		checkValues(t, "kernel", ws[0].Float64s(), []float64{-0.6, -0.8}, 1e-15, 0)
	}
}
