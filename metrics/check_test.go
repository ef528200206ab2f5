package metrics

import (
	"encoding/json"
	"testing"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/graphtest"
)

// TestCheckRefusesMisfits: a metric that does not fit the output or its
// targets, or was given bad options, is refused by Check (what Compile
// calls) with an error naming the metric and what is wrong.
func TestCheckRefusesMisfits(t *testing.T) {
	one, four := graph.Shape{1}, graph.Shape{4}
	cases := []struct {
		what           string
		m              Metric
		target, output graph.Shape
		want           []string
	}{
		{"sparse top-k on a sigmoid output", SparseTopKCategoricalAccuracy(), graph.Shape{}, one,
			[]string{"metric sparse_top_k_categorical_accuracy", "k=5", "at least 2", "shape (None, 1)"}},
		{"top-k with k above the classes", TopKCategoricalAccuracy(K(5)), four, four,
			[]string{"k=5", "at least k classes", "(None, 4)"}},
		{"top-k with one-hot targets for a sparse metric", SparseTopKCategoricalAccuracy(K(2)), four, four,
			[]string{"class-index targets of shape (None,)", "got targets of shape (None, 4)"}},
		{"F1 on a sequence output", F1Score(), graph.Shape{3, 4}, graph.Shape{3, 4},
			[]string{"metric f1_score", "(batch, classes)"}},
		{"F1 with class-index targets", F1Score(), graph.Shape{}, four,
			[]string{"metric f1_score", "targets of the output's shape (None, 4)"}},
		{"precision with a class beyond the output", Precision(ClassID(4)), four, four,
			[]string{"metric precision", "ClassID(4)", "more than 4 classes"}},
		{"recall with top-k beyond the output", Recall(TopK(5)), four, four,
			[]string{"metric recall", "TopK(5)", "4 values"}},
		{"AUC on class indices", AUC(), graph.Shape{}, four,
			[]string{"metric auc", "targets of the output's shape"}},
		{"sparse crossentropy with one-hot targets", SparseCategoricalCrossentropy(), four, four,
			[]string{"metric sparse_categorical_crossentropy", "got targets of shape (None, 4)"}},
		{"mse with other targets", MeanSquaredError(), graph.Shape{3}, four,
			[]string{"metric mean_squared_error", "(None, 3)"}},
		{"option a metric does not take", MeanSquaredError(K(2)), four, four,
			[]string{"metric MeanSquaredError does not take option K", "it takes: Named"}},
		{"no precision thresholds", Precision(Thresholds()), four, four,
			[]string{"metric Precision: Thresholds(): give at least one threshold"}},
		{"precision threshold out of range", Recall(Thresholds(0.5, 1.5)), four, four,
			[]string{"metric Recall: Thresholds: 1.5 is not in [0, 1]"}},
		{"AUC curve", AUC(Curve("PRGAIN")), four, four, []string{`Curve("PRGAIN")`, "ROC and PR"}},
		{"AUC thresholds", AUC(NumThresholds(1)), four, four, []string{"NumThresholds(1)", "more than 1"}},
		{"AUC threshold out of range", AUC(Thresholds(0.5, 2)), four, four, []string{"2 is not in [0, 1]"}},
		{"F1 average", F1Score(Average("samples")), four, four, []string{`Average("samples")`, "none, micro, macro and weighted"}},
		{"F1 threshold", F1Score(Threshold(0)), four, four, []string{"Threshold(0)", "(0, 1]"}},
		{"top-k k", TopKCategoricalAccuracy(K(0)), four, four, []string{"K(0)", "at least 1"}},
		{"empty name", AUC(Named("")), four, four, []string{`Named("")`}},
	}
	for _, c := range cases {
		graphtest.WantErr(t, c.what, c.m.Check(c.target, c.output), c.want...)
	}
	for _, ok := range []struct {
		m              Metric
		target, output graph.Shape
	}{
		{SparseTopKCategoricalAccuracy(K(2)), graph.Shape{1}, four},
		{SparseCategoricalCrossentropy(), graph.Shape{}, four},
		{F1Score(Average("weighted")), four, four},
		{Precision(ClassID(3)), four, four},
		{AUC(Curve("PR")), graph.Shape{3, 4}, graph.Shape{3, 4}},
	} {
		if err := ok.m.Check(ok.target, ok.output); err != nil {
			t.Errorf("%s on %v/%v: %v", ok.m.Name(), ok.target, ok.output, err)
		}
	}
}

// TestConfigRoundTrip: FromConfig(m.Config()) makes the same metric.
func TestConfigRoundTrip(t *testing.T) {
	for _, m := range []Metric{
		AUC(Curve("PR"), NumThresholds(50), Named("pr")), AUC(Thresholds(0.1, 0.6)),
		Precision(TopK(2), Thresholds(0.3)), Recall(ClassID(1)),
		F1Score(Average("micro"), Threshold(0.4)), TopKCategoricalAccuracy(K(3)),
		BinaryCrossentropy(FromLogits()), RootMeanSquaredError(), SparseCategoricalAccuracy(Named("acc")),
	} {
		cfg := m.(interface{ Config() Config }).Config()
		back, err := FromConfig(cfg)
		if err != nil {
			t.Fatalf("%s: %v", m.Name(), err)
		}
		if got := back.(interface{ Config() Config }).Config(); !sameConfig(got, cfg) || back.Name() != m.Name() {
			t.Errorf("%s: config %+v came back as %+v", m.Name(), cfg, got)
		}
	}
	_, err := FromConfig(Config{Class: "Hinge"})
	graphtest.WantErr(t, "unknown class", err, `unknown metric class "Hinge"`, "AUC", "F1Score")
}

func sameConfig(a, b Config) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
