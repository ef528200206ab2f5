// Package layers holds kerago's layers, each one type with its
// configuration, Build (shape inference and weight creation, Keras's build)
// and Emit (its Gorgonia nodes, Keras's call):
//
//   - core: Dense, Activation (ActivationLayer), Dropout, Flatten, Reshape,
//     Lambda (with graph/backend functions);
//   - convolution and pooling, channels-last: Conv1D, Conv2D,
//     Max/AveragePooling1D/2D, GlobalAverage/GlobalMaxPooling1D/2D;
//   - normalization: BatchNormalization;
//   - recurrent: SimpleRNN, GRU, LSTM (fused sequence kernels chosen
//     automatically), Bidirectional, Embedding (mask_zero), TimeDistributed;
//   - merging, applied to a list of inputs (Apply(x1, x2, …)): Add,
//     Subtract, Multiply, Average, Maximum, Minimum (sharing MergeConfig),
//     Concatenate and Dot;
//   - the activations, initializers and regularizers they use, looked up by
//     their Keras names.
//
// Each layer has a configuration struct whose fields are its Keras
// arguments, tagged with the keys Keras's get_config writes (DenseConfig:
// units, activation, use_bias, kernel_initializer, …; layers with the same
// arguments share one: ConvConfig for Conv1D and Conv2D, PoolingConfig,
// GlobalPoolingConfig, MergeConfig), with Keras's defaults from DefaultDenseConfig and
// the like. A layer is built from its configuration by one constructor
// (NewDenseFromConfig, …) and returns it with Config. Settings Keras lacks
// (the recurrent layers' Implementation) are marked as kerago's.
//
// The usual constructors take the required arguments and functional
// options, which fill the configuration:
//
//	layers.NewDense(64, layers.WithActivation("relu"),
//		layers.WithKernelRegularizer(layers.L2(1e-4)))
//
// Options are typed by the layers that take them: NewDense takes
// DenseOptions, NewConv2D ConvOptions, NewGRU GRUOptions, and so on, and an
// option a layer does not take is a compile error
// (layers.NewDense(64, layers.WithStrides(2)) does not build). Options that
// several layers take set a part of the configuration they share:
// WithName (NameOption, every layer) the LayerConfig, WithAxis
// (AxisOption) the axis of BatchNormalization and Concatenate,
// WithActivation, WithoutBias and the kernel and bias initializers and
// regularizers (KernelOption) the KernelConfig of Dense, the convolutions
// and the recurrent layers, WithStrides and WithPadding (WindowOption) the
// WindowConfig of the convolutions and window pooling layers, the
// recurrent options (RecurrentOption) the RecurrentConfig of SimpleRNN, GRU
// and LSTM. RNNOption holds an option any recurrent layer takes.
//
// An invalid value (an unknown activation name, a negative size, "causal"
// padding for Conv2D) is not a panic: the layer keeps the error (Err), and
// its first Apply returns a tensor that carries it, so that train.NewModel
// reports it naming the layer. Each layer also declares Keras's input specs
// (graph.InputSpec: Dense needs min_ndim=2 and, once built, the same last
// axis), which Apply checks before the layer's Build.
package layers
