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
//   - the activations, initializers and regularizers they use, looked up by
//     their Keras names.
//
// Layers are configured with functional options shared by all layers:
//
//	layers.NewDense(64, layers.WithActivation("relu"),
//		layers.WithKernelRegularizer(layers.L2(1e-4)))
//
// An option that does not apply to a layer, an unknown name, or an invalid
// value is not a panic: the layer keeps the error, and the first Apply returns
// a tensor that carries it, so that train.NewModel reports it naming the layer.
package layers
