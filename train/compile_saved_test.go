package train

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/graphtest"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/metrics"
)

// TestSavedMetricArgs: the compile configuration kerago.json holds turns
// back into Compile's arguments: the metric names of earlier files (for
// every output), per-output metrics by name or by config, weighted ones,
// and loss weights; a saved metric with neither name nor config, or an
// unknown class, is an error.
func TestSavedMetricArgs(t *testing.T) {
	legacy := &savedCompile{Metrics: []string{"accuracy", "mse"}}
	args, err := legacy.metricArgs()
	if err != nil || !slices.Equal(args, []any{"accuracy", "mse"}) {
		t.Fatalf("legacy metrics: %v, %v", args, err)
	}
	cfg := metrics.Config{Class: "AUC", Name: "pr", Curve: "PR", NumThresholds: 20}
	c := &savedCompile{
		OutputMetrics: []savedMetric{
			{Output: "a", Name: "mae"}, {Output: "b", Config: &cfg}, {Output: "a", Name: "mse", Weighted: true},
		},
		LossWeights: []float64{1, 0.5},
	}
	args, err = c.metricArgs()
	if err != nil || len(args) != 3 {
		t.Fatalf("metric args %v, %v", args, err)
	}
	plain := args[0].(map[string][]any)
	if !slices.Equal(plain["a"], []any{"mae"}) || len(plain["b"]) != 1 || plain["b"][0].(metrics.Metric).Name() != "pr" {
		t.Errorf("plain metrics %v", plain)
	}
	if w := args[1].(compileOption).weighted.([]any)[0].(map[string][]any); !slices.Equal(w["a"], []any{"mse"}) {
		t.Errorf("weighted metrics %v", w)
	}
	if lw := args[2].(compileOption).lossWeights.([]float64); !slices.Equal(lw, []float64{1, 0.5}) {
		t.Errorf("loss weights %v", lw)
	}
	_, err = (&savedCompile{OutputMetrics: []savedMetric{{Output: "a"}}}).metricArgs()
	graphtest.WantErr(t, "empty metric", err, "a metric of output a has neither a name nor a config")
	_, err = (&savedCompile{OutputMetrics: []savedMetric{{Output: "a", Config: &metrics.Config{Class: "Hinge"}}}}).metricArgs()
	graphtest.WantErr(t, "unknown class", err, `unknown metric class "Hinge"`)
}

// plainMetric is a user's metric without a Config method.
type plainMetric struct{ metrics.Metric }

// TestSavingAMetricWithoutConfig: a metric kerago cannot rebuild is an
// error naming it when the model is saved.
func TestSavingAMetricWithoutConfig(t *testing.T) {
	m, err := Sequential(graph.Input(3), []graph.Layer{layers.NewDense(2)})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile("sgd", "mse", plainMetric{metrics.MeanAbsoluteError(metrics.Named("mine"))}); err != nil {
		t.Fatal(err)
	}
	err = m.SaveModel(filepath.Join(t.TempDir(), "m.keras"))
	graphtest.WantErr(t, "metric without config", err, "metric mine cannot be saved", "Config")
}
