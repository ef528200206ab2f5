package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"gorgonia.org/tensor"
)

// metricsGolden is testdata/golden/metrics.json, written by gen_metrics.py
// (scikit-learn, PyTorch, numpy reproductions of Keras's algorithms, each
// case checked against real Keras 3).
type metricsGolden struct {
	Cases []struct {
		Name        string         `json:"name"`
		Class       string         `json:"class"`
		Options     map[string]any `json:"options"`
		PredShape   []int          `json:"pred_shape"`
		TargetShape []int          `json:"target_shape"`
		Batches     []struct {
			YTrue   []float64 `json:"y_true"`
			YPred   []float64 `json:"y_pred"`
			Weights []float64 `json:"weights"`
		} `json:"batches"`
		// Want is a number, or a list for a Vector.
		Want json.RawMessage `json:"want"`
	} `json:"cases"`
}

// goldenConfig turns a case's Keras options into a Config.
func goldenConfig(class string, opts map[string]any) (Config, error) {
	c := Config{Class: class}
	for k, v := range opts {
		switch k {
		case "curve":
			c.Curve = v.(string)
		case "average":
			c.Average = v.(string)
		case "num_thresholds":
			c.NumThresholds = int(v.(float64))
		case "k":
			c.K = int(v.(float64))
		case "top_k":
			c.TopK = int(v.(float64))
		case "class_id":
			id := int(v.(float64))
			c.ClassID = &id
		case "threshold":
			t := v.(float64)
			c.Threshold = &t
		case "from_logits":
			c.FromLogits = v.(bool)
		case "thresholds":
			switch t := v.(type) {
			case float64:
				c.Thresholds = []float64{t}
			case []any:
				for _, x := range t {
					c.Thresholds = append(c.Thresholds, x.(float64))
				}
			}
		default:
			return c, fmt.Errorf("unknown option %q", k)
		}
	}
	return c, nil
}

// TestMetricsGolden runs every golden case batch by batch, sums the
// statistics as the training loop does and compares the epoch's result,
// in float64 and float32 (and once in a training program).
func TestMetricsGolden(t *testing.T) {
	raw, err := os.ReadFile("../testdata/golden/metrics.json")
	if err != nil {
		t.Fatalf("golden values (regenerate with testdata/golden/gen_metrics.py): %v", err)
	}
	var g metricsGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 50 {
		t.Fatalf("only %d golden cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		cfg, err := goldenConfig(c.Class, c.Options)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		m, err := FromConfig(cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if err := m.Check(c.TargetShape, c.PredShape); err != nil {
			t.Fatalf("%s: Check: %v", c.Name, err)
		}
		for _, dt := range dtypes {
			var sums []float64
			for bi, b := range c.Batches {
				n := len(b.YPred) / size(c.PredShape)
				st, err := evalMetric(m, dt, append([]int{n}, c.PredShape...), append([]int{n}, c.TargetShape...),
					b.YPred, b.YTrue, dt == tensor.Float32 && bi == 0, b.Weights...)
				if err != nil {
					t.Fatalf("%s %v: %v", c.Name, dt, err)
				}
				if sums == nil {
					sums = make([]float64, len(st))
				}
				for i, v := range st {
					sums[i] += v
				}
			}
			var want []float64
			if err := json.Unmarshal(c.Want, &want); err != nil {
				var one float64
				if err := json.Unmarshal(c.Want, &one); err != nil {
					t.Fatalf("%s: want %s", c.Name, c.Want)
				}
				want = []float64{one}
			}
			got := []float64{m.Result(sums)}
			if v, ok := m.(Vector); ok {
				got = make([]float64, v.Len(c.PredShape))
				v.Results(sums, got)
			}
			tol := 1e-9
			if dt == tensor.Float32 {
				tol = 2e-6
			}
			if len(got) != len(want) {
				t.Fatalf("%s %v: %d values, want %d", c.Name, dt, len(got), len(want))
			}
			for i := range got {
				if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
					t.Errorf("%s %v: value %d: got %.10g, want %.10g", c.Name, dt, i, got[i], want[i])
				}
			}
		}
	}
}

func size(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
