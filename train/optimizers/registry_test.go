package optimizers_test

import (
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	opt "github.com/kerago/kerago/train/optimizers"
)

// TestRegistry checks that every registered name builds the optimizer of
// that name, valid with its defaults, in any case, that New passes its
// options on, and that an unknown name lists every registered one.
func TestRegistry(t *testing.T) {
	names := opt.Names()
	if len(names) < 3 {
		t.Fatalf("Names() = %v", names)
	}
	for _, name := range names {
		for _, spelled := range []string{name, strings.ToUpper(name)} {
			o, err := opt.New(spelled)
			if err != nil {
				t.Fatalf("New(%q): %v", spelled, err)
			}
			if o.Name() != name || o.Validate() != nil || o.Iterations() != 0 {
				t.Errorf("New(%q) = %s, Validate %v", spelled, o.Name(), o.Validate())
			}
		}
		o, err := opt.New(name, opt.LR(0.25))
		if err != nil || o.LearningRate() != 0.25 {
			t.Errorf("New(%q, LR(0.25)): learning rate %g, %v", name, o.LearningRate(), err)
		}
	}
	o, err := opt.New("adabelief", opt.LR(1))
	if err == nil || o != nil {
		t.Fatalf("New(adabelief) = %v, %v; want an error", o, err)
	}
	want := `optimizers: unknown optimizer "adabelief" (valid names: ` + strings.Join(names, ", ") + ")"
	if err.Error() != want {
		t.Errorf("New(adabelief) error %q, want %q", err, want)
	}
}

// TestSlots checks the state each rule keeps per weight, under Keras's slot
// names: only the slots its configuration uses.
func TestSlots(t *testing.T) {
	cases := []struct {
		o    opt.Optimizer
		want string
	}{
		{opt.Adam(), "momentum velocity"},
		{opt.Adam(opt.AMSGrad()), "momentum velocity velocity_hat"},
		{opt.AdamW(), "momentum velocity"},
		{opt.AdamW(opt.AMSGrad()), "momentum velocity velocity_hat"},
		{opt.SGD(), ""},
		{opt.SGD(opt.Momentum(0.9)), "momentum"},
		{opt.SGD(opt.Momentum(0.9), opt.Nesterov()), "momentum"},
		{opt.RMSprop(), "velocity"},
		{opt.RMSprop(opt.Momentum(0.5)), "velocity momentum"},
		{opt.RMSprop(opt.Centered()), "velocity average_gradient"},
		{opt.RMSprop(opt.Centered(), opt.Momentum(0.5)), "velocity momentum average_gradient"},
	}
	for _, dt := range dtypes {
		w := network(t, dt, 1, 2)[1]
		for _, c := range cases {
			if got := opt.SlotNames(c.o, w); got != nil {
				t.Fatalf("%s: slots %v before the first step", c.o.Name(), got)
			}
			if err := c.o.Apply([]*graph.Weight{w}, []*tensor.Dense{grad(w, 1, 2)}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(opt.SlotNames(c.o, w), " "); got != c.want {
				t.Errorf("%s %v: slots %q, want %q", c.o.Name(), dt, got, c.want)
			}
		}
	}
}
