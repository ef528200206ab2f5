package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// dropoutInput is a nonzero input of n values.
func dropoutInput(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 0.5 + float64(i%7)*0.25
		if i%3 == 0 {
			x[i] = -x[i]
		}
	}
	return x
}

func trainSpec(batch int, seed uint64) graph.ProgramSpec {
	return graph.ProgramSpec{Training: true, Batch: batch, Head: sumHead, Rand: rand.New(rand.NewPCG(seed, 0))}
}

// TestDropoutStatistics: in training about a fraction rate of the elements
// is zeroed, the kept ones are x/(1-rate); inference is the identity.
func TestDropoutStatistics(t *testing.T) {
	const batch, width = 20, 1000
	x := dropoutInput(batch * width)
	for _, rate := range []float64{0.3, 0.75} {
		for _, dt := range dtypes {
			in := graph.Input(width)
			net := newNet(t, in, NewDropout(rate).Apply(in), dt, 1)
			got, _ := runOnce(t, net, trainSpec(batch, 5), x)
			zeros := 0
			relTol := 1e-15
			if dt == tensor.Float32 {
				relTol = 2e-7
			}
			for i, v := range got {
				if v == 0 {
					zeros++
					continue
				}
				if want := x[i] / (1 - rate); math.Abs(v-want) > relTol*math.Abs(want) {
					t.Fatalf("rate %v %v: kept element %d is %v, want x/(1-rate) = %v", rate, dt, i, v, want)
				}
			}
			frac := float64(zeros) / float64(len(got))
			// 5 standard deviations of a Bernoulli mean over 20000 draws.
			if sd := math.Sqrt(rate * (1 - rate) / float64(len(got))); math.Abs(frac-rate) > 5*sd {
				t.Errorf("rate %v %v: %.4f of the elements are zero", rate, dt, frac)
			}
			inf, _ := runOnce(t, net, graph.ProgramSpec{Batch: batch}, x)
			if err := closeTo(inf, x, tol{}); err != nil { // x is exact in float32
				t.Errorf("rate %v %v: inference is not the identity: %v", rate, dt, err)
			}
		}
	}
}

// TestDropoutRateZero: rate 0 is the identity even in training.
func TestDropoutRateZero(t *testing.T) {
	in := graph.Input(50)
	net := newNet(t, in, NewDropout(0).Apply(in), tensor.Float64, 1)
	x := dropoutInput(100)
	got, _ := runOnce(t, net, trainSpec(2, 1), x)
	if err := closeTo(got, x, tol{}); err != nil {
		t.Error(err)
	}
}

// TestDropoutDeterminism: the program's seed fixes the masks; a new run
// draws a new mask.
func TestDropoutDeterminism(t *testing.T) {
	in := graph.Input(200)
	net := newNet(t, in, NewDropout(0.5).Apply(in), tensor.Float64, 1)
	x := dropoutInput(400)
	a, pa := runOnce(t, net, trainSpec(2, 42), x)
	b, _ := runOnce(t, net, trainSpec(2, 42), x)
	c, _ := runOnce(t, net, trainSpec(2, 43), x)
	if err := closeTo(a, b, tol{}); err != nil {
		t.Errorf("same seed, different masks: %v", err)
	}
	if closeTo(a, c, tol{}) == nil {
		t.Error("different seeds gave the same mask")
	}
	if err := pa.Run(true); err != nil {
		t.Fatal(err)
	}
	second := graph.Float64s(pa.Outputs()[0])
	if closeTo(second, a, tol{}) == nil {
		t.Error("a second run reused the mask")
	}
	if err := pa.Run(false); err != nil { // refresh=false keeps the mask
		t.Fatal(err)
	}
	if err := closeTo(graph.Float64s(pa.Outputs()[0]), second, tol{}); err != nil {
		t.Errorf("Run(false) changed the mask: %v", err)
	}
}

// TestDropoutNoiseShape: a 1 in the noise shape shares the mask along that
// axis; each sample still gets its own mask.
func TestDropoutNoiseShape(t *testing.T) {
	const batch, steps, feats = 6, 5, 8
	x := dropoutInput(batch * steps * feats)
	for _, dt := range dtypes {
		for _, sharedAxis := range []int{1, 2} {
			noise := []int{0, 0}
			noise[sharedAxis-1] = 1
			in := graph.Input(steps, feats)
			net := newNet(t, in, NewDropout(0.5, WithNoiseShape(noise...)).Apply(in), dt, 1)
			got, _ := runOnce(t, net, trainSpec(batch, 3), x)
			kept := func(b, s, f int) bool { return got[(b*steps+s)*feats+f] != 0 }
			perSample := map[int]string{}
			for b := 0; b < batch; b++ {
				pattern := ""
				for s := 0; s < steps; s++ {
					for f := 0; f < feats; f++ {
						ref := kept(b, 0, f)
						if sharedAxis == 2 {
							ref = kept(b, s, 0)
						}
						if kept(b, s, f) != ref {
							t.Fatalf("noise shape %v %v: sample %d (%d,%d) not shared along axis %d", noise, dt, b, s, f, sharedAxis)
						}
						if kept(b, s, f) {
							pattern += "1"
						} else {
							pattern += "0"
						}
					}
				}
				perSample[b] = pattern
			}
			distinct := map[string]bool{}
			for _, p := range perSample {
				distinct[p] = true
			}
			if len(distinct) < 2 {
				t.Errorf("noise shape %v %v: every sample got the same mask", noise, dt)
			}
		}
	}
	// A noise shape equal to the input's is an ordinary mask.
	in := graph.Input(3, 4)
	if err := NewDropout(0.5, WithNoiseShape(3, 4)).Apply(in).Err(); err != nil {
		t.Error(err)
	}
}
