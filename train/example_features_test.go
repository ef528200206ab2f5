package train_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/metrics"
	"github.com/kerago/kerago/train"
	"github.com/kerago/kerago/train/optimizers"
)

// What a Keras user reaches for while training, together (the README's
// example): a frozen layer, AdamW on a cosine schedule, a loss and metrics
// per output with loss weights, class weights, Keras's callbacks, and a
// Dataset that streams from NPY files through a shuffle buffer.
func Example_trainingFeatures() {
	dir, err := os.MkdirTemp("", "kerago-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	in := graph.Input(8)
	h := layers.NewDense(16, layers.WithActivation("relu"), layers.WithName("base")).Apply(in)
	digits := layers.NewDense(3, layers.WithActivation("softmax"), layers.WithName("digits")).Apply(h)
	size := layers.NewDense(1, layers.WithName("size")).Apply(h)
	m, err := train.NewModel(in, []*graph.Tensor{digits, size}, train.Seed(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	base, _ := m.Layer("base")
	base.(graph.Trainability).SetTrainable(false)

	sched := optimizers.CosineDecay{InitialLearningRate: 1e-2, DecaySteps: 100}
	err = m.Compile(optimizers.AdamW(optimizers.LRSchedule(sched), optimizers.ClipNorm(1)),
		map[string]any{"digits": "sparse_categorical_crossentropy", "size": "mse"},
		map[string][]any{"digits": {"accuracy", metrics.SparseTopKCategoricalAccuracy(metrics.K(2))}, "size": {"mae", metrics.RootMeanSquaredError()}},
		train.LossWeights(map[string]float64{"digits": 1, "size": 0.2}))
	if err != nil {
		fmt.Println(err)
		return
	}
	x := make([]float32, 64*8)
	for i := range x {
		x[i] = float32(i%13) / 13
	}
	labels, sizes := make([]float64, 64), make([]float64, 64)
	for i := range labels {
		labels[i], sizes[i] = float64(i%3), float64(i%5)/5
	}
	w := make([]float64, 64)
	for i := range w {
		w[i] = float64(1 + i%2)
	}
	xs := tensor.New(tensor.WithShape(64, 8), tensor.WithBacking(x))
	hist, err := m.Fit(xs, train.Multi(labels, sizes), train.Epochs(2), train.BatchSize(16), train.Verbose(0),
		train.SampleWeight(w), train.ValidationSplit(0.25),
		train.Callbacks(
			&train.ModelCheckpoint{FilePath: filepath.Join(dir, "best-{epoch:02d}-{val_loss:.3f}.keras"), SaveBestOnly: true},
			&train.EarlyStopping{Monitor: "val_loss", Patience: 3, RestoreBestWeights: true},
			&train.CSVLogger{Filename: filepath.Join(dir, "log.csv")},
			&train.BackupAndRestore{Dir: filepath.Join(dir, "backup")}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.MetricsNames())
	fmt.Println(len(hist.Epochs), "epochs;", len(m.TrainableWeights()), "trainable weights of", len(m.Weights()))
	saved, _ := filepath.Glob(filepath.Join(dir, "best-*.keras"))
	fmt.Println(len(saved) > 0, "checkpoints")

	// The same data, streamed from NPY files a batch at a time.
	xp, yp := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	if err := train.WriteNPY(xp, xs); err != nil {
		fmt.Println(err)
		return
	}
	if err := train.WriteNPY(yp, tensor.New(tensor.WithShape(64), tensor.WithBacking(labels))); err != nil {
		fmt.Println(err)
		return
	}
	in2 := graph.Input(8)
	clf, _ := train.NewModel(in2, layers.NewDense(3, layers.WithActivation("softmax")).Apply(in2), train.Seed(1))
	if err := clf.Compile("adam", "sparse_categorical_crossentropy", "accuracy"); err != nil {
		fmt.Println(err)
		return
	}
	ds := train.FromNPY(xp, yp, 16).Shuffle(32, 1).Prefetch(2)
	hist, err = clf.Fit(ds, nil, train.Epochs(3), train.Verbose(0), train.ClassWeight(map[int]float64{0: 1, 1: 2, 2: 1}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(slices.Sorted(func(yield func(string) bool) {
		for k := range hist.Values {
			if !yield(k) {
				return
			}
		}
	}), clf.Optimizer().Iterations(), "steps")
	// Output:
	// [loss digits_loss size_loss digits_accuracy digits_sparse_top_k_categorical_accuracy size_mae size_root_mean_squared_error]
	// 2 epochs; 4 trainable weights of 6
	// true checkpoints
	// [accuracy loss] 12 steps
}
