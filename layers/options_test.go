package layers

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kerago/kerago/graph"
)

// notCompiling are calls that pass a layer an option it does not take; each
// must be a compile error naming the layer's option type.
var notCompiling = []struct{ call, optionType string }{
	{`layers.NewDense(64, layers.WithStrides(2))`, "DenseOption"},
	{`layers.NewDense(3, layers.WithNoiseShape(1))`, "DenseOption"},
	{`layers.NewDropout(0.5, layers.WithActivation("relu"))`, "DropoutOption"},
	{`layers.NewFlatten(layers.WithKernelRegularizer(layers.L2(1)))`, "Option"},
	{`layers.NewActivation("relu", layers.WithoutBias())`, "Option"},
	{`layers.NewConv2D(4, 3, layers.WithNoiseShape(1))`, "ConvOption"},
	{`layers.NewMaxPooling2D(2, layers.WithKeepDims())`, "PoolingOption"},
	{`layers.NewGlobalMaxPooling2D(layers.WithPadding("same"))`, "GlobalPoolingOption"},
	{`layers.NewBatchNormalization(layers.WithActivation("relu"))`, "BatchNormalizationOption"},
	{`layers.NewSimpleRNN(2, layers.WithResetAfter(false))`, "SimpleRNNOption"},
	{`layers.NewSimpleRNN(2, layers.WithRecurrentActivation("sigmoid"))`, "SimpleRNNOption"},
	{`layers.NewLSTM(2, layers.WithResetAfter(false))`, "LSTMOption"},
	{`layers.NewGRU(2, layers.WithUnitForgetBias(false))`, "GRUOption"},
	{`layers.NewBidirectional(layers.NewGRU(2), layers.WithActivation("relu"))`, "BidirectionalOption"},
	{`layers.NewEmbedding(5, 3, layers.WithActivation("relu"))`, "EmbeddingOption"},
	{`layers.NewLambda(nil, layers.WithActivation("relu"))`, "LambdaOption"},
	{`layers.NewConcatenate(layers.WithNormalize())`, "ConcatenateOption"},
	{`layers.NewDot(nil, layers.WithAxis(1))`, "DotOption"},
	{`layers.NewAdd(layers.WithAxis(1))`, "Option"},
}

// TestOptionsOfOtherLayersDoNotCompile builds a package of calls that pass
// layers options they do not take, next to valid ones, with the go tool
// (the file is added through an overlay, nothing is written to the module),
// and checks that exactly the wrong calls fail, each naming the option
// type the layer takes.
func TestOptionsOfOtherLayersDoNotCompile(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	src := []string{"package compilecheck", `import "github.com/kerago/kerago/layers"`, "var ("}
	for _, c := range notCompiling {
		src = append(src, "\t_ = "+c.call,
			"\t_ = layers.NewDense(64, layers.WithName(\"d\"), layers.WithActivation(\"relu\"), layers.WithoutBias())")
	}
	src = append(src, ")")
	dir := t.TempDir()
	file, overlay := filepath.Join(dir, "check.go"), filepath.Join(dir, "overlay.json")
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(wd, "zz_compilecheck")
	ov, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(pkg, "check.go"): file}})
	if err := os.WriteFile(file, []byte(strings.Join(src, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(overlay, ov, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, gotool, "build", "-overlay", overlay, "-gcflags=-e", "-o", os.DevNull, pkg).CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("go build: %v (%v)\n%s", err, ctx.Err(), out)
	}
	errs := map[int]string{} // source line → error
	for _, l := range strings.Split(string(out), "\n") {
		if parts := strings.SplitN(l, ":", 4); len(parts) == 4 && strings.HasSuffix(parts[0], "check.go") {
			if line, err := strconv.Atoi(parts[1]); err == nil {
				errs[line] = parts[3]
			}
		}
	}
	for i, c := range notCompiling {
		want := "does not implement layers." + c.optionType + " (missing method"
		if e := errs[4+2*i]; !strings.Contains(e, want) {
			t.Errorf("%s: error %q, want %q", c.call, e, want)
		}
		if e, ok := errs[5+2*i]; ok {
			t.Errorf("a valid call failed: %s", e)
		}
	}
	if len(errs) != len(notCompiling) {
		t.Errorf("%d errors for %d wrong calls:\n%s", len(errs), len(notCompiling), out)
	}
}

// kerasKeys are the get_config keys of the Keras arguments kerago's layers
// take (Keras 3.16 names).
var (
	kernelKeys    = []string{"activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer"}
	recurrentKeys = append([]string{"name", "units", "recurrent_initializer", "recurrent_regularizer", "return_sequences",
		"return_state", "go_backwards", "dropout", "recurrent_dropout", "kerago_implementation"}, kernelKeys...)
)

// TestConfigKeys checks that every configuration marshals to exactly the
// Keras keys of its arguments (embedded parts flattened, no key lost to a
// clash), plus kerago_implementation for the recurrent layers.
func TestConfigKeys(t *testing.T) {
	lambda := DefaultLambdaConfig()
	lambda.OutputShape = graph.Shape{3}
	for _, c := range []struct {
		cfg  any
		keys []string
	}{
		{DefaultDenseConfig(), append([]string{"name", "units"}, kernelKeys...)},
		{DefaultConvConfig(), append([]string{"name", "filters", "kernel_size", "strides", "padding", "dilation_rate"}, kernelKeys...)},
		{DefaultPoolingConfig(), []string{"name", "pool_size", "strides", "padding"}},
		{DefaultGlobalPoolingConfig(), []string{"name", "keepdims"}},
		{DefaultDropoutConfig(), []string{"name", "rate", "noise_shape"}},
		{DefaultFlattenConfig(), []string{"name"}},
		{DefaultReshapeConfig(), []string{"name", "target_shape"}},
		{DefaultActivationConfig(), []string{"name", "activation"}},
		{DefaultBatchNormalizationConfig(), []string{"name", "axis", "momentum", "epsilon", "center", "scale",
			"beta_initializer", "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
			"beta_regularizer", "gamma_regularizer"}},
		{DefaultEmbeddingConfig(), []string{"name", "input_dim", "output_dim", "embeddings_initializer", "embeddings_regularizer", "mask_zero"}},
		{DefaultSimpleRNNConfig(), recurrentKeys},
		{DefaultGRUConfig(), append([]string{"recurrent_activation", "reset_after"}, recurrentKeys...)},
		{DefaultLSTMConfig(), append([]string{"recurrent_activation", "unit_forget_bias"}, recurrentKeys...)},
		{DefaultBidirectionalConfig(), []string{"name", "layer", "merge_mode"}},
		{DefaultTimeDistributedConfig(), []string{"name", "layer"}},
		{lambda, []string{"name", "output_shape"}},
		{DefaultUnitNormalizationConfig(), []string{"name", "axis"}},
		{DefaultMergeConfig(), []string{"name"}},
		{DefaultConcatenateConfig(), []string{"name", "axis"}},
		{DefaultDotConfig(), []string{"name", "axes", "normalize"}},
	} {
		b, err := json.Marshal(c.cfg)
		if err != nil {
			t.Fatalf("%T: %v", c.cfg, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		var got []string
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(c.keys))
		if !slices.Equal(got, want) {
			t.Errorf("%T keys\n got %v\nwant %v", c.cfg, got, want)
		}
	}
}

// TestConfigRoundTrip: the options land in the configuration Config
// returns, with Keras's defaults and per-axis values resolved, and the
// layer built from that configuration has the same one.
func TestConfigRoundTrip(t *testing.T) {
	conv := NewConv2D(4, 3, WithName("rt_conv"), WithStrides(2), WithPadding("SAME"), WithoutBias())
	want := DefaultConvConfig()
	want.Name, want.Filters, want.KernelSize, want.UseBias = "rt_conv", 4, []int{3, 3}, false
	want.Strides, want.Padding, want.DilationRate = []int{2, 2}, "same", []int{1, 1}
	if got := conv.Config(); !reflect.DeepEqual(got, want) {
		t.Errorf("Conv2D config\n got %+v\nwant %+v", got, want)
	}
	gru := NewGRU(3, WithName("rt_gru"), WithResetAfter(false), WithReturnSequences(), WithRecurrentActivation("hard_sigmoid"))
	wantGRU := DefaultGRUConfig()
	wantGRU.Name, wantGRU.Units, wantGRU.ResetAfter, wantGRU.ReturnSequences, wantGRU.RecurrentActivation = "rt_gru", 3, false, true, "hard_sigmoid"
	if got := gru.Config(); !reflect.DeepEqual(got, wantGRU) {
		t.Errorf("GRU config\n got %+v\nwant %+v", got, wantGRU)
	}
	if n := NewDense(2).Config().Name; !strings.HasPrefix(n, "dense") {
		t.Errorf("Config reports the default name: %q", n)
	}
	dense := NewDense(5, WithActivation("relu"), WithKernelRegularizer(L2(0.1)))
	pool := NewMaxPooling1D(3)
	bn := NewBatchNormalization(WithAxis(1), WithoutScale())
	bi := NewBidirectional(gru, WithMergeMode("sum"))
	for _, p := range [][2]graph.Layer{
		{dense, NewDenseFromConfig(dense.Config())}, {conv, NewConv2DFromConfig(conv.Config())},
		{gru, NewGRUFromConfig(gru.Config())}, {pool, NewMaxPooling1DFromConfig(pool.Config())},
		{bn, NewBatchNormalizationFromConfig(bn.Config())}, {bi, NewBidirectionalFromConfig(bi.Config())},
	} {
		if err := p[1].(interface{ Err() error }).Err(); err != nil {
			t.Errorf("%s from its own config: %v", p[0].Name(), err)
		}
		if a, b := configOf(p[0]), configOf(p[1]); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: rebuilt from its config\n got %+v\nwant %+v", p[0].Name(), b, a)
		}
	}
	// Nil initializers stand for the defaults.
	d := NewDenseFromConfig(DenseConfig{Units: 2, KernelConfig: KernelConfig{UseBias: true}})
	if c := d.Config(); c.KernelInitializer != GlorotUniform() || c.BiasInitializer != Zeros() {
		t.Errorf("nil initializers: %+v", c.KernelConfig)
	}
}

// configOf calls l's Config method.
func configOf(l graph.Layer) any {
	return reflect.ValueOf(l).MethodByName("Config").Call(nil)[0].Interface()
}
