package train_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/losses"
	"github.com/kerago/kerago/train"
	"github.com/kerago/kerago/train/optimizers"
)

// badInput is one entry of the catalogue: a bad input given to the public
// API, and a part of the error message it must get.
type badInput struct {
	name string
	run  func(t *testing.T) error
	want string
}

// seq builds a Sequential model on in and returns only the error.
func seq(in *graph.Tensor, ls ...graph.Layer) func(*testing.T) error {
	return func(*testing.T) error {
		_, err := train.Sequential(in, ls)
		return err
	}
}

// compiled is a compiled 4 → 3 softmax classifier (sparse labels).
func compiled(t *testing.T, opts ...train.ModelOption) *train.Model {
	t.Helper()
	m, err := train.Sequential(graph.Input(4), []graph.Layer{layers.NewDense(3, layers.WithActivation("softmax"), layers.WithName("probs"))}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile("adam", "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	return m
}

// rows is n samples of width features, all v.
func rows(n, width int, v float64) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, width)
		for j := range out[i] {
			out[i][j] = v
		}
	}
	return out
}

// compileWith compiles a fresh 4 → 3 model with optimizer, loss and metrics.
func compileWith(opt, loss any, ms ...any) func(*testing.T) error {
	return func(t *testing.T) error {
		m, err := train.Sequential(graph.Input(4), []graph.Layer{layers.NewDense(3, layers.WithActivation("softmax"))})
		if err != nil {
			t.Fatal(err)
		}
		return m.Compile(opt, loss, ms...)
	}
}

// fitWith fits the compiled 4 → 3 model on x, y with opts.
func fitWith(x, y any, opts ...train.FitOption) func(*testing.T) error {
	return func(t *testing.T) error {
		_, err := compiled(t).Fit(x, y, append([]train.FitOption{train.Verbose(0)}, opts...)...)
		return err
	}
}

// evaluateWith evaluates the compiled 4 → 3 model on x, y with opts.
func evaluateWith(x, y any, opts ...train.FitOption) func(*testing.T) error {
	return func(t *testing.T) error {
		_, err := compiled(t).Evaluate(x, y, opts...)
		return err
	}
}

// predictWith predicts with the 4 → 3 model on x with opts.
func predictWith(x any, opts ...train.FitOption) func(*testing.T) error {
	return func(t *testing.T) error {
		_, err := compiled(t).Predict(x, opts...)
		return err
	}
}

// withFile writes content to a file named name and runs use on its path.
func withFile(name string, content []byte, use func(t *testing.T, m *train.Model, path string) error) func(*testing.T) error {
	return func(t *testing.T) error {
		path := filepath.Join(t.TempDir(), name)
		if content != nil {
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return use(t, compiled(t), path)
	}
}

func loadWeights(_ *testing.T, m *train.Model, path string) error { return m.LoadWeights(path) }

// setWeights sets the 4 → 3 model's weights to ws.
func setWeights(ws ...*tensor.Dense) func(*testing.T) error {
	return func(t *testing.T) error { return compiled(t).SetWeights(ws) }
}

func dense(shape []int, vals any) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))
}

// fromConfig reads a Keras model configuration.
func fromConfig(cfg string) func(*testing.T) error {
	return func(*testing.T) error {
		_, err := train.ModelFromKerasConfig([]byte(cfg))
		return err
	}
}

// seqConfig is a Keras 3 Sequential configuration of an Input(4) and the
// given layer objects.
func seqConfig(layerObjs ...string) string {
	return `{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [null, 4]}}` +
		func() string {
			s := ""
			for _, l := range layerObjs {
				s += ", " + l
			}
			return s
		}() + `]}}`
}

func catalogueAPI() []badInput {
	in4 := func() *graph.Tensor { return graph.Input(4) }
	img := func() *graph.Tensor { return graph.Input(8, 8, 1) }
	sq := func() *graph.Tensor { return graph.Input(5, 3) }
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	nan := rows(6, 4, 0)
	nan[4][2] = math.NaN()
	labels := []int{0, 1, 2, 0, 1, 2}
	return []badInput{
		// Layers, found when the model is built.
		{"Dense units 0", seq(in4(), layers.NewDense(0)), "(Dense): units must be positive, got 0 (input shape (None, 4))"},
		{"Dense units -3", seq(in4(), layers.NewDense(-3)), "(Dense): units must be positive, got -3 (input shape (None, 4))"},
		{"Dense unknown activation", seq(in4(), layers.NewDense(2, layers.WithActivation("relux"))), "(Dense): unknown activation \"relux\"; valid activations: elu, exponential, gelu, hard_sigmoid, leaky_relu, linear, relu, relu6, selu, sigmoid, silu, softmax, softplus, softsign, swish, tanh (input shape (None, 4))"},
		{"Dropout rate 1.5", seq(in4(), layers.NewDropout(1.5)), "(Dropout): rate must be in [0, 1), got 1.5 (input shape (None, 4))"},
		{"Dropout rate -0.1", seq(in4(), layers.NewDropout(-0.1)), "(Dropout): rate must be in [0, 1), got -0.1 (input shape (None, 4))"},
		{"Dropout rate NaN", seq(in4(), layers.NewDropout(math.NaN())), "(Dropout): rate must be in [0, 1), got NaN (input shape (None, 4))"},
		{"Dropout noise shape rank", seq(in4(), layers.NewDropout(0.5, layers.WithNoiseShape(1, 2, 3))), "(Dropout): noise shape [1 2 3] (batch axis excluded) must have the input's rank 1 (input shape (None, 4))"},
		{"Conv2D on a vector", seq(in4(), layers.NewConv2D(2, 3)), "(Conv2D): expected ndim=4, found ndim=2 (input shape (None, 4))"},
		{"Conv2D filters 0", seq(img(), layers.NewConv2D(0, 3)), "(Conv2D): filters must be positive, got 0 (input shape (None, 8, 8, 1))"},
		{"Conv2D kernel 0", seq(img(), layers.NewConv2D(2, 0)), "(Conv2D): kernel size must be positive, got [0] (input shape (None, 8, 8, 1))"},
		{"Conv2D kernel larger than the image", seq(img(), layers.NewConv2D(2, 9)), "(Conv2D): the kernel does not fit in the input: spatial axis 1 has size 8, the kernel size 9 (9 with dilation rate 1), so with padding \"valid\" the output size would be 0; use padding \"same\" or a smaller kernel (input shape (None, 8, 8, 1))"},
		{"Conv2D padding", seq(img(), layers.NewConv2D(2, 3, layers.WithPadding("full"))), "(Conv2D): the padding argument must be one of \"valid\", \"same\"; got \"full\" (input shape (None, 8, 8, 1))"},
		{"Conv2D strides 0", seq(img(), layers.NewConv2D(2, 3, layers.WithStrides(0))), "(Conv2D): strides must be positive, got [0] (input shape (None, 8, 8, 1))"},
		{"Conv2D dilation -1", seq(img(), layers.NewConv2D(2, 3, layers.WithDilation(-1))), "(Conv2D): dilation rate must be positive, got [-1] (input shape (None, 8, 8, 1))"},
		{"Conv2D kernel size of 3 dims", seq(img(), layers.NewConv2D(2, 3, layers.WithKernelSize(3, 3, 3))), "(Conv2D): kernel size takes 1 or 2 values, got [3 3 3] (input shape (None, 8, 8, 1))"},
		{"Conv1D on a vector", seq(in4(), layers.NewConv1D(2, 3)), "(Conv1D): expected ndim=3, found ndim=2; the input needs a channel axis last (batch, steps, channels): one feature per step is (steps, 1) (input shape (None, 4))"},
		{"Conv1D kernel longer than the sequence", seq(sq(), layers.NewConv1D(2, 6)), "(Conv1D): the kernel does not fit in the input: spatial axis 1 has size 5, the kernel size 6 (6 with dilation rate 1), so with padding \"valid\" the output size would be 0; use padding \"same\" or a smaller kernel (input shape (None, 5, 3))"},
		{"MaxPooling2D pool 0", seq(img(), layers.NewMaxPooling2D(0)), "(MaxPooling2D): pool size must be positive, got [0] (input shape (None, 8, 8, 1))"},
		{"MaxPooling2D on a vector", seq(in4(), layers.NewMaxPooling2D(2)), "(MaxPooling2D): expected ndim=4, found ndim=2 (input shape (None, 4))"},
		{"MaxPooling2D pool larger than the image", seq(img(), layers.NewMaxPooling2D(9)), "(MaxPooling2D): computed output size would be zero or negative: axis 1 has size 8, pool size 9, strides 9, padding valid (input shape (None, 8, 8, 1))"},
		{"AveragePooling1D on an image", seq(img(), layers.NewAveragePooling1D(2)), "(AveragePooling1D): expected ndim=3, found ndim=4 (input shape (None, 8, 8, 1))"},
		{"AveragePooling1D padding", seq(sq(), layers.NewAveragePooling1D(2, layers.WithPadding("causal"))), "(AveragePooling1D): the padding argument must be one of \"valid\", \"same\"; got \"causal\" (input shape (None, 5, 3))"},
		{"GlobalMaxPooling1D on a vector", seq(in4(), layers.NewGlobalMaxPooling1D()), "(GlobalMaxPooling1D): expected ndim=3, found ndim=2 (input shape (None, 4))"},
		{"GlobalAveragePooling2D on a sequence", seq(sq(), layers.NewGlobalAveragePooling2D()), "(GlobalAveragePooling2D): expected ndim=4, found ndim=3 (input shape (None, 5, 3))"},
		{"Reshape to another size", seq(in4(), layers.NewReshape([]int{3})), "(Reshape): cannot reshape input shape (None, 4) into target shape (3,): total size of new array must be unchanged (4 elements per sample, the target has 3) (input shape (None, 4))"},
		{"Reshape with two -1", seq(in4(), layers.NewReshape([]int{-1, -1})), "(Reshape): target shape (-1, -1): can only specify one unknown dimension (-1) (input shape (None, 4))"},
		{"Reshape with 0", seq(in4(), layers.NewReshape([]int{0, 4})), "(Reshape): target shape (0, 4): dims must be positive or -1, got 0 (input shape (None, 4))"},
		{"Reshape -1 not dividing", seq(in4(), layers.NewReshape([]int{3, -1})), "(Reshape): cannot reshape input shape (None, 4) into target shape (3, -1): total size of new array must be unchanged (4 elements per sample is not a multiple of 3) (input shape (None, 4))"},
		{"Embedding input dim 0", seq(in4(), layers.NewEmbedding(0, 3)), "(Embedding): input_dim and output_dim must be positive, got 0 and 3 (input shape (None, 4))"},
		{"Embedding output dim -1", seq(in4(), layers.NewEmbedding(10, -1)), "(Embedding): input_dim and output_dim must be positive, got 10 and -1 (input shape (None, 4))"},
		{"GRU units 0", seq(sq(), layers.NewGRU(0)), "(GRU): units must be positive, got 0 (input shape (None, 5, 3))"},
		{"GRU on a vector", seq(in4(), layers.NewGRU(2)), "(GRU): expected ndim=3 (batch, time, features), found ndim=2 (input shape (None, 4))"},
		{"GRU dropout 1", seq(sq(), layers.NewGRU(2, layers.WithDropoutRate(1))), "(GRU): dropout must be in [0, 1), got 1 (input shape (None, 5, 3))"},
		{"GRU recurrent dropout -1", seq(sq(), layers.NewGRU(2, layers.WithRecurrentDropout(-1))), "(GRU): recurrent_dropout must be in [0, 1), got -1 (input shape (None, 5, 3))"},
		{"GRU implementation", seq(sq(), layers.NewGRU(2, layers.WithImplementation("cuda"))), "(GRU): unknown implementation \"cuda\"; valid implementations: auto, fused, unrolled (input shape (None, 5, 3))"},
		{"LSTM on a vector", seq(in4(), layers.NewLSTM(2)), "(LSTM): expected ndim=3 (batch, time, features), found ndim=2 (input shape (None, 4))"},
		{"LSTM recurrent activation", seq(sq(), layers.NewLSTM(2, layers.WithRecurrentActivation("softmaxx"))), "(LSTM): unknown activation \"softmaxx\"; valid activations: elu, exponential, gelu, hard_sigmoid, leaky_relu, linear, relu, relu6, selu, sigmoid, silu, softmax, softplus, softsign, swish, tanh (input shape (None, 5, 3))"},
		{"SimpleRNN on an image", seq(img(), layers.NewSimpleRNN(2)), "(SimpleRNN): expected ndim=3 (batch, time, features), found ndim=4 (input shape (None, 8, 8, 1))"},
		{"SimpleRNN units -1", seq(sq(), layers.NewSimpleRNN(-1)), "(SimpleRNN): units must be positive, got -1 (input shape (None, 5, 3))"},
		{"Bidirectional merge mode", seq(sq(), layers.NewBidirectional(layers.NewGRU(2), layers.WithMergeMode("xor"))), "(Bidirectional): invalid merge mode \"xor\"; merge mode should be one of concat, sum, mul, ave, none (input shape (None, 5, 3))"},
		{"Bidirectional of a Dense", seq(sq(), layers.NewBidirectional(layers.NewDense(2))), "(Bidirectional): wraps recurrent layers (SimpleRNN, GRU, LSTM); layer"},
		{"Bidirectional of nil", seq(sq(), layers.NewBidirectional(nil)), "(Bidirectional): needs a recurrent layer to wrap, got nil (input shape (None, 5, 3))"},
		{"TimeDistributed on a vector", seq(in4(), layers.NewTimeDistributed(layers.NewDense(2))), "(TimeDistributed): expected min_ndim=3 (batch, time, …), found ndim=2 (input shape (None, 4))"},
		{"TimeDistributed of nil", seq(sq(), layers.NewTimeDistributed(nil)), "(TimeDistributed): needs a layer to wrap, got nil (input shape (None, 5, 3))"},
		{"BatchNormalization axis 3 of a vector", seq(in4(), layers.NewBatchNormalization(layers.WithAxis(3))), "(BatchNormalization): axis 3 does not exist: an input of shape (None, 4) (rank 2) has feature axes 1…1, or -1…-1 from the end (input shape (None, 4))"},
		{"BatchNormalization momentum 2", seq(in4(), layers.NewBatchNormalization(layers.WithMomentum(2))), "(BatchNormalization): momentum must be in [0, 1], got 2 (input shape (None, 4))"},
		{"BatchNormalization epsilon -1", seq(in4(), layers.NewBatchNormalization(layers.WithEpsilon(-1))), "(BatchNormalization): epsilon must be positive, got -1 (input shape (None, 4))"},
		{"Activation unknown", seq(in4(), layers.NewActivation("swishy")), "(Activation): unknown activation \"swishy\"; valid activations: elu, exponential, gelu, hard_sigmoid, leaky_relu, linear, relu, relu6, selu, sigmoid, silu, softmax, softplus, softsign, swish, tanh (input shape (None, 4))"},
		{"UnitNormalization axis 2 of a vector", seq(in4(), layers.NewUnitNormalization([]int{2})), "(UnitNormalization): axis [2] is out of bounds or repeated for an input of rank 2 (input shape (None, 4))"},
		{"Conv1D after Flatten", seq(in4(), layers.NewFlatten(), layers.NewConv1D(1, 1)), "(Conv1D): expected ndim=3, found ndim=2; the input needs a channel axis last (batch, steps, channels): one feature per step is (steps, 1) (input shape (None, 4))"},
		{"Lambda that fails", seq(in4(), layers.NewLambda(func(*graph.Context, graph.Node) (graph.Node, error) { return nil, os.ErrInvalid })), "(Lambda): the function failed: invalid argument (input shape (None, 4))"},
		{"Lambda registered name unknown", seq(in4(), layers.NewRegisteredLambda("no_such_function")), "(Lambda): no function is registered as \"no_such_function\" (register it with layers.RegisterLambda; none is registered) (input shape (None, 4))"},
		{"nil layer in Sequential", seq(in4(), layers.NewDense(2), nil), "Sequential: layer 1 is nil"},
		{"Input with dim 0", seq(graph.Input(0), layers.NewDense(2)), ": every dim must be positive or graph.Unknown (None), got shape [0]"},
		{"Input with dim -2", seq(graph.Input(-2), layers.NewDense(2)), ": every dim must be positive or graph.Unknown (None), got shape [-2]"},
		{"nil input", seq(nil, layers.NewDense(2)), "Sequential needs an input: graph.Input(shape...)"},
		{"Dense applied twice to other widths", func(*testing.T) error {
			d := layers.NewDense(2)
			a, b := graph.Input(3), graph.Input(4)
			_, err := train.NewModel([]*graph.Tensor{a, b}, []*graph.Tensor{d.Apply(a), d.Apply(b)})
			return err
		}, "(Dense): expected axis -1 of input shape to have value 3 but got shape (None, 4) (input shape (None, 4))"},
		{"Concatenate of mismatched shapes", func(*testing.T) error {
			a, b := graph.Input(2, 3), graph.Input(3, 3)
			_, err := train.NewModel([]*graph.Tensor{a, b}, layers.NewConcatenate().Apply(a, b))
			return err
		}, "(Concatenate): input 1 has shape (None, 3, 3), input 0 (None, 2, 3): they differ on an axis other than the concatenation axis -1 (input shape [(None, 2, 3), (None, 3, 3)])"},
		{"Add of mismatched widths", func(*testing.T) error {
			a, b := graph.Input(3), graph.Input(4)
			_, err := train.NewModel([]*graph.Tensor{a, b}, layers.NewAdd().Apply(a, b))
			return err
		}, "(Add): input 1 of shape (None, 4) cannot be merged with shape (None, 3): sizes must be equal or 1 on each axis, aligned from the end (input shape [(None, 3), (None, 4)])"},
		{"Subtract of three inputs", func(*testing.T) error {
			a, b, c := graph.Input(3), graph.Input(3), graph.Input(3)
			_, err := train.NewModel([]*graph.Tensor{a, b, c}, layers.NewSubtract().Apply(a, b, c))
			return err
		}, "(Subtract): expects exactly 2 inputs, got 3 (input shape [(None, 3), (None, 3), (None, 3)])"},
		{"Dot with an axis out of range", func(*testing.T) error {
			a, b := graph.Input(3), graph.Input(3)
			_, err := train.NewModel([]*graph.Tensor{a, b}, layers.NewDot([]int{2, 2}).Apply(a, b))
			return err
		}, "(Dot): axis 2 does not exist for input 0 of rank 2 (batch axis included) (input shape [(None, 3), (None, 3)])"},
		{"Dot of mismatched axes", func(*testing.T) error {
			a, b := graph.Input(3), graph.Input(4)
			_, err := train.NewModel([]*graph.Tensor{a, b}, layers.NewDot([]int{1, 1}).Apply(a, b))
			return err
		}, "(Dot): the dot axes differ in size: 3 (axis 1 of (None, 3)) and 4 (axis 1 of (None, 4)) (input shape [(None, 3), (None, 4)])"},
		{"output not reachable from the inputs", func(*testing.T) error {
			a, b := graph.Input(3), graph.Input(3)
			_, err := train.NewModel(a, layers.NewDense(2).Apply(b))
			return err
		}, "(shape (None, 3)), which is not among the model's inputs"},
		{"inputs of the wrong type", func(*testing.T) error {
			_, err := train.NewModel("x", layers.NewDense(2).Apply(graph.Input(3)))
			return err
		}, "inputs must be a *graph.Tensor or []*graph.Tensor, got string"},
		{"two layers with one name", func(*testing.T) error {
			a := graph.Input(3)
			h := layers.NewDense(2, layers.WithName("d")).Apply(a)
			_, err := train.NewModel(a, layers.NewDense(2, layers.WithName("d")).Apply(h))
			return err
		}, "two layers are named \"d\" (a Dense and a Dense): layer names must be unique in a model, as Keras requires"},
		{"the same input listed twice", func(*testing.T) error {
			a := graph.Input(3)
			_, err := train.NewModel([]*graph.Tensor{a, a}, layers.NewDense(2).Apply(a))
			return err
		}, ") is listed twice among the model's inputs"},
		{"DType int32", func(*testing.T) error {
			_, err := train.Sequential(in4(), []graph.Layer{layers.NewDense(2)}, train.DType(tensor.Int32))
			return err
		}, "DType int32 is not supported; use tensor.Float32 or tensor.Float64"},
		{"ProgramCacheBytes -1", func(*testing.T) error {
			_, err := train.Sequential(in4(), []graph.Layer{layers.NewDense(2)}, train.ProgramCacheBytes(-1))
			return err
		}, "ProgramCacheBytes(-1): the bound must be at least 0"},
		{"initializer name unknown", func(*testing.T) error { _, err := layers.Initializer("glorot"); return err }, "unknown initializer \"glorot\"; valid initializers: glorot_normal, glorot_uniform, he_normal, he_uniform, lecun_normal, lecun_uniform, ones, orthogonal, random_normal, random_uniform, truncated_normal, zeros"},

		// Compile.
		{"optimizer name unknown", compileWith("adamx", "mse"), "Compile: optimizers: unknown optimizer \"adamx\" (valid names: adadelta, adagrad, adam, adamax, adamw, lion, nadam, rmsprop, sgd)"},
		{"loss name unknown", compileWith("adam", "mse2"), "Compile: unknown loss \"mse2\"; valid names: BinaryCrossentropy, CategoricalCrossentropy, MAE, MSE, MeanAbsoluteError, MeanSquaredError, SparseCategoricalCrossentropy, bce, binary_crossentropy, categorical_crossentropy, mae, mean_absolute_error, mean_squared_error, mse, sparse_categorical_crossentropy"},
		{"metric name unknown", compileWith("adam", "mse", "f7"), "Compile: metrics: unknown metric \"f7\"; valid names: AUC, BinaryAccuracy, BinaryCrossentropy, CategoricalAccuracy, CategoricalCrossentropy, F1Score, MAE, MAPE, MSE, MSLE, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError, Precision, Recall, RootMeanSquaredError, SparseCategoricalAccuracy, SparseCategoricalCrossentropy, SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, acc, accuracy, auc, binary_accuracy, binary_crossentropy, categorical_accuracy, categorical_crossentropy, f1_score, mae, mape, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error, mse, msle, precision, recall, root_mean_squared_error, sparse_categorical_accuracy, sparse_categorical_crossentropy, sparse_top_k_categorical_accuracy, top_k_categorical_accuracy"},
		{"optimizer of the wrong type", compileWith(5, "mse"), "Compile: the optimizer must be a name or an optimizers.Optimizer, got int"},
		{"loss of the wrong type", compileWith("adam", 3.5), "Compile: a loss must be a name or a losses.Loss, got float64"},
		{"nil optimizer", compileWith(nil, "mse"), "Compile: no optimizer given"},
		{"nil loss", compileWith("adam", nil), "Compile: the model cannot be compiled because it has no loss to optimize"},
		{"two losses for one output", compileWith("adam", []string{"mse", "mae"}), "Compile: a loss must be a name or a losses.Loss, got []string"},
		{"learning rate -1", compileWith(optimizers.Adam(optimizers.LR(-1)), "mse"), "Compile: optimizers: invalid adam configuration: LR(-1): the learning rate must be a finite number > 0"},
		{"learning rate NaN", compileWith(optimizers.SGD(optimizers.LR(math.NaN())), "mse"), "Compile: optimizers: invalid sgd configuration: LR(NaN): the learning rate must be a finite number > 0"},
		{"learning rate +Inf", compileWith(optimizers.RMSprop(optimizers.LR(math.Inf(1))), "mse"), "Compile: optimizers: invalid rmsprop configuration: LR(+Inf): the learning rate must be a finite number > 0"},
		{"clipnorm -1", compileWith(optimizers.Adam(optimizers.ClipNorm(-1)), "mse"), "Compile: optimizers: invalid adam configuration: ClipNorm(-1): must be a finite number > 0"},
		{"clipvalue 0", compileWith(optimizers.Adam(optimizers.ClipValue(0)), "mse"), "Compile: optimizers: invalid adam configuration: ClipValue(0): must be a finite number > 0"},
		{"clipnorm and global clipnorm", compileWith(optimizers.Adam(optimizers.ClipNorm(1), optimizers.GlobalClipNorm(1)), "mse"), "Compile: optimizers: invalid adam configuration: ClipNorm(1) and GlobalClipNorm(1) cannot be combined: choose per-tensor or global norm clipping"},
		{"beta_1 1.5", compileWith(optimizers.Adam(optimizers.Beta1(1.5)), "mse"), "Compile: optimizers: invalid adam configuration: Beta1(1.5): must be in [0, 1)"},
		{"beta_2 -0.1", compileWith(optimizers.Adam(optimizers.Beta2(-0.1)), "mse"), "Compile: optimizers: invalid adam configuration: Beta2(-0.1): must be in [0, 1)"},
		{"epsilon -1", compileWith(optimizers.Adam(optimizers.Epsilon(-1)), "mse"), "Compile: optimizers: invalid adam configuration: Epsilon(-1): must be a finite number ≥ 0"},
		{"momentum -0.5", compileWith(optimizers.SGD(optimizers.Momentum(-0.5)), "mse"), "Compile: optimizers: invalid sgd configuration: Momentum(-0.5): must be in [0, 1]"},
		{"rho 2", compileWith(optimizers.RMSprop(optimizers.Rho(2)), "mse"), "Compile: optimizers: invalid rmsprop configuration: Rho(2): must be in [0, 1)"},
		{"weight decay -1", compileWith(optimizers.AdamW(optimizers.WeightDecay(-1)), "mse"), "Compile: optimizers: invalid adamw configuration: WeightDecay(-1): must be a finite number ≥ 0"},
		{"decay -1", compileWith(optimizers.SGD(optimizers.Decay(-1)), "mse"), "Compile: optimizers: invalid sgd configuration: Decay(-1): must be a finite number ≥ 0"},
		{"optimizers.New name unknown", func(*testing.T) error { _, err := optimizers.New("adagrad2"); return err }, "optimizers: unknown optimizer \"adagrad2\" (valid names: adadelta, adagrad, adam, adamax, adamw, lion, nadam, rmsprop, sgd)"},
		{"losses.Get name unknown", func(*testing.T) error { _, err := losses.Get("hinge2"); return err }, "unknown loss \"hinge2\"; valid names: BinaryCrossentropy, CategoricalCrossentropy, MAE, MSE, MeanAbsoluteError, MeanSquaredError, SparseCategoricalCrossentropy, bce, binary_crossentropy, categorical_crossentropy, mae, mean_absolute_error, mean_squared_error, mse, sparse_categorical_crossentropy"},
		{"sparse categorical loss on one unit", func(t *testing.T) error {
			m, err := train.Sequential(in4(), []graph.Layer{layers.NewDense(1)})
			if err != nil {
				t.Fatal(err)
			}
			return m.Compile("adam", "sparse_categorical_crossentropy")
		}, ": sparse_categorical_crossentropy on an output of shape (None, 1): use binary_crossentropy (a one-unit output has a single class)"},

		// Fit.
		{"Fit before Compile", func(t *testing.T) error {
			m, err := train.Sequential(in4(), []graph.Layer{layers.NewDense(3)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Fit(rows(6, 4, 0), labels)
			return err
		}, "Fit: the model must be compiled first (call Compile)"},
		{"Fit x of 5 features", fitWith(rows(6, 5, 0), labels), "to have shape (4,) but got array with shape (5,)"},
		{"Fit y of 5 samples, x of 6", fitWith(rows(6, 4, 0), labels[:5]), "Fit: input arrays should have the same number of samples as target arrays; found 6 input samples and 5 target samples"},
		{"Fit nil x", fitWith(nil, labels), "Fit: x is nil"},
		{"Fit nil y", fitWith(rows(6, 4, 0), nil), "Fit: y is nil"},
		{"Fit x a string", fitWith("data.csv", labels), "Fit: x has type string; want *tensor.Dense (float32 or float64), [][]float64, [][]float32, []float64, []float32 or []int"},
		{"Fit ragged rows", fitWith([][]float64{{1, 2, 3, 4}, {1, 2, 3}}, labels[:2]), "Fit: x: row 1 has 3 values, row 0 has 4"},
		{"Fit zero samples", fitWith([][]float64{}, []int{}), "Fit: no samples (the input arrays have 0 rows)"},
		{"Fit label 3 of 3 classes", fitWith(rows(6, 4, 0), []int{0, 1, 2, 3, 1, 2}), "Fit: targets of output probs: sparse_categorical_crossentropy: target 3 of sample 3 is not a class index: labels must be integers in [0, 3)"},
		{"Fit label -1", fitWith(rows(6, 4, 0), []int{0, 1, 2, -1, 1, 2}), "Fit: targets of output probs: sparse_categorical_crossentropy: target -1 of sample 3 is not a class index: labels must be integers in [0, 3)"},
		{"Fit label 1.5", fitWith(rows(6, 4, 0), []float64{0, 1, 2, 1.5, 1, 2}), "Fit: targets of output probs: sparse_categorical_crossentropy: target 1.5 of sample 3 is not a class index: labels must be integers in [0, 3)"},
		{"Fit NaN in x", fitWith(nan, labels), ", sample 4 holds NaN (at index 2 of the sample); pass AllowNonFinite() to train on it anyway"},
		{"Fit batch size 0", fitWith(rows(6, 4, 0), labels, train.BatchSize(0)), "Fit: batch size must be positive, got 0"},
		{"Fit epochs -1", fitWith(rows(6, 4, 0), labels, train.Epochs(-1)), "Fit: epochs must not be negative, got -1"},
		{"Fit initial epoch -1", fitWith(rows(6, 4, 0), labels, train.InitialEpoch(-1)), "Fit: initial epoch must not be negative, got -1"},
		{"Fit verbose 5", fitWith(rows(6, 4, 0), labels, train.Verbose(5)), "Fit: verbose must be 0, 1 or 2, got 5"},
		{"Fit validation split 1", fitWith(rows(6, 4, 0), labels, train.ValidationSplit(1)), "Fit: validation split must be in [0, 1), got 1"},
		{"Fit validation split -0.2", fitWith(rows(6, 4, 0), labels, train.ValidationSplit(-0.2)), "Fit: validation split must be in [0, 1), got -0.2"},
		{"Fit validation split NaN", fitWith(rows(6, 4, 0), labels, train.ValidationSplit(math.NaN())), "Fit: validation split must be in [0, 1), got NaN"},
		{"Fit validation split leaving no training sample", fitWith(rows(2, 4, 0), labels[:2], train.ValidationSplit(0.9)), "Fit: validation split 0.9 of 2 samples leaves an empty training or validation set"},
		{"Fit validation data of 5 features", fitWith(rows(6, 4, 0), labels, train.ValidationData(rows(2, 5, 0), labels[:2])), "Fit: validation data: error when checking input: expected"},
		{"Fit nil callback", fitWith(rows(6, 4, 0), labels, train.Callbacks(nil)), "Fit: callback 0 is nil"},
		{"Fit EarlyStopping on an unlogged value", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.EarlyStopping{Monitor: "val_f1"})), "Fit: EarlyStopping: Monitor \"val_f1\" is never logged by this Fit; it logs loss, accuracy"},
		{"Fit EarlyStopping MinDelta NaN", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.EarlyStopping{Monitor: "loss", MinDelta: math.NaN()})), "Fit: EarlyStopping: MinDelta must be a finite number ≥ 0, got NaN"},
		{"Fit NaN in validation data", fitWith(rows(6, 4, 0), labels, train.ValidationData(nan, labels)), ", sample 4 holds NaN (at index 2 of the sample); pass AllowNonFinite() to train on it anyway"},
		{"Fit initial epoch past the last", fitWith(rows(6, 4, 0), labels, train.InitialEpoch(3), train.Epochs(2)), "Fit: initial epoch 3 is past the last epoch 2"},
		{"Predict option Predict does not take", predictWith(rows(2, 4, 0), train.Epochs(3)), "Predict does not take option Epochs"},
		{"Evaluate option Evaluate does not take", evaluateWith(rows(6, 4, 0), labels, train.ValidationSplit(0.5)), "Evaluate does not take option ValidationSplit"},
		{"Fit two target arrays for one output", fitWith(rows(6, 4, 0), train.Multi(labels, labels)), "Fit: the model has 1 outputs but 2 target arrays were given"},
		{"Fit one-hot targets for sparse labels", fitWith(rows(6, 4, 0), rows(6, 3, 0)), "Fit: loss sparse_categorical_crossentropy (these look like one-hot labels: use categorical_crossentropy, or pass class indices): error when checking target: expected probs to have shape () but got array with shape (3,)"},
		{"Fit scalar tensor x", fitWith(dense([]int{}, []float32{1}), labels), "Fit: x is a scalar; want an array with the samples on axis 0"},
		{"Fit EarlyStopping patience -1", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.EarlyStopping{Monitor: "loss", Patience: -1})), "Fit: EarlyStopping: Patience (-1) and StartFromEpoch (0) must not be negative"},
		{"Fit EarlyStopping bad mode", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.EarlyStopping{Monitor: "loss", Mode: "maximum"})), "Fit: EarlyStopping: Mode \"maximum\" is not one of auto, min, max"},
		{"Fit EarlyStopping StartFromEpoch -1", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.EarlyStopping{Monitor: "loss", StartFromEpoch: -1})), "Fit: EarlyStopping: Patience (0) and StartFromEpoch (-1) must not be negative"},
		{"Fit ReduceLROnPlateau factor 1", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ReduceLROnPlateau{Monitor: "loss", Factor: 1})), "Fit: ReduceLROnPlateau: Factor must be in (0, 1), got 1 (NewReduceLROnPlateau sets Keras's 0.1)"},
		{"Fit ReduceLROnPlateau zero factor", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ReduceLROnPlateau{Monitor: "loss"})), "Fit: ReduceLROnPlateau: Factor must be in (0, 1), got 0"},
		{"Fit ReduceLROnPlateau on val_loss without validation", fitWith(rows(6, 4, 0), labels, train.Callbacks(train.NewReduceLROnPlateau())), "Fit: ReduceLROnPlateau: Monitor \"val_loss\" is never logged by this Fit; it logs loss, accuracy"},
		{"Fit ReduceLROnPlateau negative cooldown", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ReduceLROnPlateau{Monitor: "loss", Factor: 0.5, Cooldown: -1})), "Fit: ReduceLROnPlateau: Patience (0) and Cooldown (-1) must not be negative"},
		{"Fit ReduceLROnPlateau negative MinLR", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ReduceLROnPlateau{Monitor: "loss", Factor: 0.5, MinLR: -1})), "Fit: ReduceLROnPlateau: MinLR must be a finite number ≥ 0, got -1"},
		{"Fit ReduceLROnPlateau negative MinDelta", fitWith(rows(6, 4, 0), labels, train.ValidationSplit(0.5), train.Callbacks(&train.ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.5, MinDelta: -1})), "Fit: ReduceLROnPlateau: MinDelta must be a finite number ≥ 0, got -1"},
		{"Fit ModelCheckpoint field never logged", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ModelCheckpoint{FilePath: "m-{epoch:02d}-{val_loss:.4f}.keras"})), "Fit: ModelCheckpoint: FilePath \"m-{epoch:02d}-{val_loss:.4f}.keras\": field {val_loss} names a value this Fit never logs; it can name epoch, loss, accuracy"},
		{"Fit ModelCheckpoint bad spec", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ModelCheckpoint{FilePath: "m-{epoch:>3}.keras"})), "field {epoch}: format spec \">3\" is not [0][width][.precision][d|f|e|g]"},
		{"Fit ModelCheckpoint d on a float", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ModelCheckpoint{FilePath: "m-{loss:d}.keras"})), "field {loss}: format d needs an integer, and loss is a float (use f or e)"},
		{"Fit ModelCheckpoint unclosed field", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ModelCheckpoint{FilePath: "m-{epoch.keras"})), "the field at offset 2 is not closed by }"},
		{"Fit ModelCheckpoint single brace", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ModelCheckpoint{FilePath: "m-}.keras"})), "a single } at offset 2 (write }} for a brace)"},
		{"Fit ModelCheckpoint weights to .keras", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ModelCheckpoint{FilePath: "m.keras", SaveWeightsOnly: true})), "Fit: ModelCheckpoint: FilePath m.keras: with SaveWeightsOnly the weights go to a .weights.h5 file (or kerago's weights file), not a .keras file"},
		{"Fit ModelCheckpoint model to .h5", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ModelCheckpoint{FilePath: "m.h5"})), "Fit: ModelCheckpoint: FilePath m.h5: a whole model is saved as a .keras file (set SaveWeightsOnly for weights)"},
		{"Fit ModelCheckpoint best of an unlogged value", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ModelCheckpoint{FilePath: "m.keras", SaveBestOnly: true})), "Fit: ModelCheckpoint: Monitor \"val_loss\" is never logged by this Fit; it logs loss, accuracy"},
		{"Fit ModelCheckpoint negative SaveFreq", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ModelCheckpoint{FilePath: "m.keras", SaveFreq: -2})), "Fit: ModelCheckpoint: SaveFreq must be 0 (each epoch) or a positive number of batches, got -2"},
		{"Fit ModelCheckpoint batch saves naming val_", fitWith(rows(6, 4, 0), labels, train.ValidationSplit(0.5), train.Callbacks(&train.ModelCheckpoint{FilePath: "m-{val_loss}.keras", SaveFreq: 2})), "field {val_loss} names a value this Fit never logs; it can name epoch, loss, accuracy, batch"},
		{"Fit ModelCheckpoint direction unknown", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.ModelCheckpoint{FilePath: "m.keras", Mode: "best"})), "Fit: ModelCheckpoint: Mode \"best\" is not one of auto, min, max"},
		{"Fit CSVLogger without a file", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.CSVLogger{})), "Fit: CSVLogger: no Filename given"},
		{"Fit CSVLogger separator a quote", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.CSVLogger{Filename: "log.csv", Separator: "\""})), "Fit: CSVLogger: Separator \"\\\"\" must not hold a quote or a line break"},
		{"Fit BackupAndRestore without a directory", fitWith(rows(6, 4, 0), labels, train.Callbacks(&train.BackupAndRestore{})), "Fit: BackupAndRestore: no Dir given"},
		{"Evaluate nil callback", evaluateWith(rows(6, 4, 0), labels, train.Callbacks(nil)), "Evaluate: callback 0 is nil"},
		{"Predict nil callback", predictWith(rows(2, 4, 0), train.Callbacks(nil)), "Predict: callback 0 is nil"},
		{"Fit cancelled context", fitWith(rows(6, 4, 0), labels, train.Context(cancelled)), "Fit: cancelled before epoch 1, batch 1; the weights are those of the last completed step: context canceled"},
		{"Fit nil context", fitWith(rows(6, 4, 0), labels, train.Context(nil)), "Fit: Context(nil): give a context (context.Background() for none)"},
		{"Fit nil output writer", fitWith(rows(6, 4, 0), labels, train.Output(nil), train.Verbose(1)), "Fit: Output(nil): give a writer (io.Discard to drop the progress)"},
		{"Fit two arrays for one input", fitWith(train.Multi(rows(6, 4, 0), rows(6, 4, 0)), labels), "Fit: the model has 1 inputs but 2 input arrays were given"},
		{"Fit int tensor x", fitWith(dense([]int{6, 4}, make([]int, 24)), labels), "Fit: x has dtype int; want float32 or float64"},
		{"TrainOnBatch before Compile", func(t *testing.T) error {
			m, err := train.Sequential(in4(), []graph.Layer{layers.NewDense(3)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.TrainOnBatch(rows(2, 4, 0), labels[:2])
			return err
		}, "TrainOnBatch: the model must be compiled first (call Compile)"},
		{"TrainOnBatch x of 3 features", func(t *testing.T) error {
			_, err := compiled(t).TrainOnBatch(rows(2, 3, 0), labels[:2])
			return err
		}, "TrainOnBatch: error when checking input: expected"},

		// Evaluate and Predict.
		{"Evaluate before Compile", func(t *testing.T) error {
			m, err := train.Sequential(in4(), []graph.Layer{layers.NewDense(3)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Evaluate(rows(6, 4, 0), labels)
			return err
		}, "Evaluate: the model must be compiled first (call Compile)"},
		{"Evaluate y of 2 samples, x of 6", evaluateWith(rows(6, 4, 0), labels[:2]), "Evaluate: input arrays should have the same number of samples as target arrays; found 6 input samples and 2 target samples"},
		{"Evaluate NaN in x", evaluateWith(nan, labels), ", sample 4 holds NaN (at index 2 of the sample); pass AllowNonFinite() to evaluate it anyway"},
		{"Evaluate label 7", evaluateWith(rows(6, 4, 0), []int{7, 0, 0, 0, 0, 0}), "Evaluate: targets of output probs: sparse_categorical_crossentropy: target 7 of sample 0 is not a class index: labels must be integers in [0, 3)"},
		{"Evaluate batch size -1", evaluateWith(rows(6, 4, 0), labels, train.BatchSize(-1)), "Evaluate: batch size must be positive, got -1"},
		{"Evaluate cancelled context", evaluateWith(rows(6, 4, 0), labels, train.Context(cancelled)), "Evaluate: cancelled: context canceled"},
		{"Predict x of 3 features", predictWith(rows(6, 3, 0)), "to have shape (4,) but got array with shape (3,)"},
		{"Predict zero samples", predictWith(dense([]int{0, 4}, []float32{})), "Predict: no samples (the input arrays have 0 rows)"},
		{"Predict NaN in x", predictWith(nan), ", sample 4 holds NaN (at index 2 of the sample); pass AllowNonFinite() to predict it anyway"},
		{"Predict +Inf in a float32 tensor", predictWith(dense([]int{2, 4}, []float32{0, 0, 0, 0, 0, float32(math.Inf(1)), 0, 0})), ", sample 1 holds +Inf (at index 1 of the sample); pass AllowNonFinite() to predict it anyway"},
		{"Predict a 3-d tensor for a vector input", predictWith(dense([]int{2, 2, 2}, make([]float32, 8))), "to have shape (4,) but got array with shape (2, 2)"},
		{"Predict nil", predictWith(nil), "Predict: x is nil"},
		{"Predict a map", predictWith(map[string]any{"x": 1}), "Predict: x has type map[string]interface {}; want *tensor.Dense (float32 or float64), [][]float64, [][]float32, []float64, []float32 or []int"},
		{"Predict batch size 0", predictWith(rows(2, 4, 0), train.BatchSize(0)), "Predict: batch size must be positive, got 0"},
		{"Predict cancelled context", predictWith(rows(2, 4, 0), train.Context(cancelled)), "Predict: cancelled: context canceled"},
		{"Predict a bool tensor", predictWith(dense([]int{1, 4}, make([]bool, 4))), "Predict: x has dtype bool; want float32 or float64"},
		{"PredictAll two arrays for one input", func(t *testing.T) error {
			_, err := compiled(t).PredictAll(train.Multi(rows(2, 4, 0), rows(2, 4, 0)))
			return err
		}, "Predict: the model has 1 inputs but 2 input arrays were given"},

		// Weights in memory.
		{"SetWeights one weight of two", setWeights(dense([]int{4, 3}, make([]float32, 12))), "SetWeights: got 1 weights, the model has 2"},
		{"SetWeights kernel of shape 3x4", setWeights(dense([]int{3, 4}, make([]float32, 12)), dense([]int{3}, make([]float32, 3))), "SetWeights: weight 0 (probs/kernel): has shape [3 4], want [4 3]"},
		{"SetWeights nil tensor", setWeights(nil, dense([]int{3}, make([]float32, 3))), "SetWeights: weight 0 (probs/kernel): is nil, want shape [4 3]"},
		{"SetWeights NaN", setWeights(dense([]int{4, 3}, make([]float32, 12)), dense([]int{3}, []float32{0, float32(math.NaN()), 0})), "SetWeights: weight 1 (probs/bias): value 1 is NaN; weights must be finite"},
		{"SetWeights float64 beyond float32", setWeights(dense([]int{4, 3}, make([]float64, 12)), dense([]int{3}, []float64{0, 0, 1e39})), "SetWeights: weight 1 (probs/bias): value 2 (1e+39) overflows float32, the model's dtype"},
		{"SetWeights int tensor", setWeights(dense([]int{4, 3}, make([]int, 12)), dense([]int{3}, make([]float32, 3))), "SetWeights: weight 0 (probs/kernel): has dtype int, want float32 or float64"},

		// Weight and model files.
		{"SaveWeights empty path", func(t *testing.T) error { return compiled(t).SaveWeights("") }, "SaveWeights: no file name given (the path is empty)"},
		{"SaveWeights to a directory", func(t *testing.T) error { return compiled(t).SaveWeights(t.TempDir()) }, "is a directory, not a file name"},
		{"SaveWeights into a missing directory", func(t *testing.T) error {
			return compiled(t).SaveWeights(filepath.Join(t.TempDir(), "no", "w.kw"))
		}, "SaveWeights: cannot create w.kw in directory"},
		{"SaveWeightsNPZ empty path", func(t *testing.T) error { return compiled(t).SaveWeightsNPZ("") }, "SaveWeightsNPZ: no file name given (the path is empty)"},
		{"SaveModel to .h5", func(t *testing.T) error { return compiled(t).SaveModel(filepath.Join(t.TempDir(), "m.h5")) }, "a whole model is saved as a .keras file"},
		{"SaveModel of a Func loss", func(t *testing.T) error {
			m, err := train.Sequential(in4(), []graph.Layer{layers.NewDense(3)})
			if err != nil {
				t.Fatal(err)
			}
			mse, _ := losses.Get("mse")
			if err := m.Compile("adam", losses.Func("mine", mse.PerSample)); err != nil {
				t.Fatal(err)
			}
			return m.SaveModel(filepath.Join(t.TempDir(), "m.keras"))
		}, "SaveModel: loss mine cannot be saved: unknown loss \"mine\"; valid names: BinaryCrossentropy, CategoricalCrossentropy, MAE, MSE, MeanAbsoluteError, MeanSquaredError, SparseCategoricalCrossentropy, bce, binary_crossentropy, categorical_crossentropy, mae, mean_absolute_error, mean_squared_error, mse, sparse_categorical_crossentropy"},
		{"LoadWeights missing file", withFile("none.kw", nil, loadWeights), "no such file or directory"},
		{"LoadWeights a text file", withFile("w.kw", []byte("hello\n"), loadWeights), "not a kerago weight file"},
		{"LoadWeights header not JSON", withFile("w.kw", []byte("KERAGO-WEIGHTS-2\n{weights\n"), loadWeights), "bad header: invalid character 'w' looking for beginning of object key string"},
		{"LoadWeights header without newline", withFile("w.kw", []byte("KERAGO-WEIGHTS-2\n{}"), loadWeights), "truncated header"},
		{"LoadWeights of another model", func(t *testing.T) error {
			return loadBytes(t, compiled(t), savedWeights(t, smallWeightsModel(t, tensor.Float32, 1)))
		}, "weight 0 (d/kernel in the file, probs/kernel in the model) has shape [3 2] in the file but [4 3] in the model"},
		{"LoadWeights a shape that differs", func(t *testing.T) error {
			other, err := train.Sequential(graph.Input(5), []graph.Layer{layers.NewDense(3)})
			if err != nil {
				t.Fatal(err)
			}
			return loadBytes(t, compiled(t), savedWeights(t, other))
		}, "/kernel in the file, probs/kernel in the model) has shape [5 3] in the file but [4 3] in the model"},
		{"LoadWeights trailing data", func(t *testing.T) error {
			m := compiled(t)
			return loadBytes(t, m, append(asVersion1(savedWeights(t, m)), 0))
		}, "data past the last weight"},
		{"LoadWeights .h5 that is not HDF5", withFile("w.weights.h5", []byte("not hdf5"), loadWeights), "hdf5: corrupt file: not an HDF5 file: no HDF5 signature at offset 0 (user blocks are not supported) (at offset 0)"},
		{"LoadWeights .npz that is not a zip", withFile("w.npz", []byte("PK not a zip"), loadWeights), "not a readable NPZ (zip) file: zip: not a valid zip file"},
		{"LoadWeightsNPZ missing file", withFile("none.npz", nil, func(_ *testing.T, m *train.Model, p string) error { return m.LoadWeightsNPZ(p) }), "no such file or directory"},
		{"LoadModel unknown extension", func(*testing.T) error { _, err := train.LoadModel("model.onnx"); return err }, "LoadModel: model.onnx: the extension names no model format (.keras or .h5)"},
		{"LoadModel missing file", func(t *testing.T) error { _, err := train.LoadModel(filepath.Join(t.TempDir(), "m.keras")); return err }, "m.keras: open "},
		{"LoadModel not a zip", withFile("m.keras", []byte("not a zip"), func(_ *testing.T, _ *train.Model, p string) error { _, err := train.LoadModel(p); return err }), "not a .keras (zip) file: zip: not a valid zip file"},
		{"LoadModel config.json cut short", func(t *testing.T) error {
			raw := savedKeras(t, compiled(t))
			_, err := train.LoadModel(writeTemp(t, "m.keras", rezip(t, raw, "config.json", []byte("{"), false)))
			return err
		}, "model configuration: not a Keras model: unexpected end of JSON input"},
		{"LoadModel weights-only .h5", func(t *testing.T) error {
			path := filepath.Join(t.TempDir(), "w.weights.h5")
			if err := compiled(t).SaveWeights(path); err != nil {
				t.Fatal(err)
			}
			_, err := train.LoadModel(path)
			return err
		}, "no model_config attribute: not a Keras full-model .h5 file (load weights into a model with LoadWeights)"},
		{"LoadModel kerago.json of format 9", func(t *testing.T) error {
			raw := savedKeras(t, compiled(t))
			_, err := train.LoadModel(writeTemp(t, "m.keras", rezip(t, raw, "kerago.json", []byte(`{"format": 9}`), false)))
			return err
		}, "kerago.json: format 9 is not known (1)"},
		{"ReadNPY missing file", func(t *testing.T) error { _, err := train.ReadNPY(filepath.Join(t.TempDir(), "a.npy")); return err }, "no such file or directory"},
		{"ReadNPY text file", func(t *testing.T) error {
			_, err := train.ReadNPY(writeTemp(t, "a.npy", []byte("1,2,3\n")))
			return err
		}, "truncated NPY header"},
		{"ReadNPY big-endian floats", func(t *testing.T) error {
			_, err := train.ReadNPY(writeTemp(t, "a.npy", npyArray(1, npyDict(">f4", "False", "2,"), make([]byte, 8))))
			return err
		}, "dtype \">f4\" is not supported (want '<f4' or '<f8', little-endian float, or a little-endian integer)"},
		{"ReadNPY shape larger than the file", func(t *testing.T) error {
			_, err := train.ReadNPY(writeTemp(t, "a.npy", npyArray(1, npyDict("<f8", "False", "1000000, 1000000"), make([]byte, 8))))
			return err
		}, "shape [1000000 1000000] needs 8000000000000 bytes of data, the file holds 8"},
		{"WriteNPY empty tensor", func(t *testing.T) error {
			return train.WriteNPY(filepath.Join(t.TempDir(), "a.npy"), dense([]int{0, 3}, []float32{}))
		}, "shape [0 3] has no elements"},
		{"WriteAtomic empty path", func(*testing.T) error { return train.WriteAtomic("", nil) }, "no file name given (the path is empty)"},

		// Keras model configurations.
		{"config not JSON", fromConfig("{"), "model configuration: not a Keras model: unexpected end of JSON input"},
		{"config class unknown", fromConfig(`{"class_name": "Graph", "config": {}}`), "model configuration: class Graph is not supported (Sequential or Functional)"},
		{"config layer class unknown", fromConfig(seqConfig(`{"class_name": "Dense2", "config": {"name": "d", "units": 2}}`)), "model s: layer d: unknown class Dense2 (kerago knows Activation, Add, Average"},
		{"config Dense without units", fromConfig(seqConfig(`{"class_name": "Dense", "config": {"name": "d"}}`)), "model s: layer d (Dense): missing key \"units\""},
		{"config Dense units a string", fromConfig(seqConfig(`{"class_name": "Dense", "config": {"name": "d", "units": "two"}}`)), "model s: layer d (Dense): key units: json: cannot unmarshal string into Go value of type int"},
		{"config activation unknown", fromConfig(seqConfig(`{"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "gelu_fast"}}`)), "model s: layer d (Dense): unknown activation \"gelu_fast\"; valid activations: elu, exponential, gelu, hard_sigmoid, leaky_relu, linear, relu, relu6, selu, sigmoid, silu, softmax, softplus, softsign, swish, tanh (input shape (None, 4))"},
		{"config initializer unknown", fromConfig(seqConfig(`{"class_name": "Dense", "config": {"name": "d", "units": 2, "kernel_initializer": {"class_name": "Identity2", "config": {}}}}`)), "model s: layer d (Dense): key kernel_initializer: unknown initializer Identity2"},
		{"config regularizer unknown", fromConfig(seqConfig(`{"class_name": "Dense", "config": {"name": "d", "units": 2, "kernel_regularizer": {"class_name": "OrthogonalRegularizer", "config": {}}}}`)), "model s: layer d (Dense): key kernel_regularizer: unknown regularizer OrthogonalRegularizer (L1, L2 or L1L2)"},
		{"config constraint", fromConfig(seqConfig(`{"class_name": "Dense", "config": {"name": "d", "units": 2, "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 2}}}}`)), "model s: layer d (Dense): key kernel_constraint: kerago supports only null, got {\"class_name\": \"MaxNorm\", \"config\": {\"max_value\": 2}}"},
		{"config Sequential without layers", fromConfig(`{"class_name": "Sequential", "config": {"name": "s", "layers": []}}`), "model s: a Sequential model with no layers"},
		{"config Sequential without an input shape", fromConfig(`{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "Dense", "config": {"name": "d", "units": 2}}]}}`), "model s: a Sequential model without an input shape (no InputLayer, build_input_shape or batch_input_shape)"},
		{"config Functional inbound to an unknown layer", fromConfig(`{"class_name": "Functional", "config": {"name": "f", "layers": [{"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_shape": [null, 4]}, "inbound_nodes": []}, {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2}, "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32", "keras_history": ["y", 0, 0]}}], "kwargs": {}}]}], "input_layers": [["x", 0, 0]], "output_layers": [["d", 0, 0]]}}`), "model f: layer d: input from layer y, which the configuration does not have"},
		{"config Functional output unknown", fromConfig(`{"class_name": "Functional", "config": {"name": "f", "layers": [{"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_shape": [null, 4]}, "inbound_nodes": []}], "input_layers": [["x", 0, 0]], "output_layers": [["z", 0, 0]]}}`), "model f: output_layers: input from layer z, which the configuration does not have"},
		{"config Conv2D padding", fromConfig(`{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [null, 8, 8, 1]}}, {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3], "padding": "full"}}]}}`), "model s: layer c (Conv2D): the padding argument must be one of \"valid\", \"same\"; got \"full\" (input shape (None, 8, 8, 1))"},
		{"config Conv2D channels_first", fromConfig(`{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [null, 8, 8, 1]}}, {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3], "data_format": "channels_first"}}]}}`), "model s: layer c (Conv2D): key data_format: kerago supports only \"channels_last\" or null, got \"channels_first\""},
		{"config dtype int8", fromConfig(seqConfig(`{"class_name": "Dense", "config": {"name": "d", "units": 2, "dtype": "int8"}}`)), "model s: layer d (Dense): key dtype: dtype \"int8\" is not supported (float32 or float64)"},
		{"config GRU reset_after a string", fromConfig(`{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [null, 5, 3]}}, {"class_name": "GRU", "config": {"name": "g", "units": 2, "reset_after": "yes"}}]}}`), "model s: layer g (GRU): key reset_after: json: cannot unmarshal string into Go value of type bool"},
		{"config Lambda of a Python function", fromConfig(seqConfig(`{"class_name": "Lambda", "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAA="}}}}`)), "model s: layer l (Lambda): its function is a Python lambda stored as bytecode, which kerago cannot run: in Keras, use a named function registered with keras.saving.register_keras_serializable, and register a Go function under the same name with layers.RegisterLambda"},
		{"config layer shape error", fromConfig(seqConfig(`{"class_name": "Reshape", "config": {"name": "r", "target_shape": [3]}}`)), "model s: layer r (Reshape): cannot reshape input shape (None, 4) into target shape (3,): total size of new array must be unchanged (4 elements per sample, the target has 3) (input shape (None, 4))"},
	}
}

// writeTemp writes content to a new file named name and returns its path.
func writeTemp(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCatalogueOfBadInputs gives the public API bad inputs of every kind
// (layers, models, Compile, Fit, Evaluate, Predict, weights, files, Keras
// configurations): each gets an error containing its expected message,
// and none panics (a panic inside would surface as an "internal error").
func TestCatalogueOfBadInputs(t *testing.T) {
	cases := catalogueAPI()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases named %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			err := c.run(t)
			switch {
			case err == nil:
				t.Errorf("accepted; want an error containing %q", c.want)
			case strings.Contains(err.Error(), "internal error"):
				t.Errorf("panicked: %v", err)
			case !strings.Contains(err.Error(), c.want):
				t.Errorf("got %q, want it to contain %q", err, c.want)
			}
		})
	}
	t.Logf("%d cases", len(cases))
}
