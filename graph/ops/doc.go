// Package ops holds kerago's custom Gorgonia operations, each one node
// forward and one node per gradient instead of a chain of Gorgonia
// built-ins.
//
// Every operation is a Kernel: its name and parameters, its output shape
// (where it rejects inputs it cannot take), a Forward that writes into a
// given output buffer, and, for a Differentiable kernel, the nodes of its
// gradient. Apply wraps a kernel in the one adapter that implements
// Gorgonia's Op, SDOp and UsePreallocDoer: it records the input nodes'
// shapes and dtypes and checks every run's values against them, hands the
// kernel contiguous tensors, reuses the previous run's output (kerago's
// executor passes it back), keeps scalar results in the op so that a run
// allocates nothing, and derives the op's hash from the kernel's type,
// name and parameters. A new op is one new file holding its kernels and
// its public constructor; its test file registers an example graph, and
// the package's contract test (contract_test.go) checks buffer reuse and
// allocations for every kernel it finds.
//
// The kernels:
//
//   - element-wise functions with their own derivative (UnaryFunc, used by
//     the activations), a bias add over the last axis (BiasAdd), and the
//     dense product with bias and relu fused (Dense);
//   - per-row functions of (y_true, y_pred) reduced to one value per sample
//     (RowFunc, used by the losses and metrics);
//   - channels-last convolution (Conv1D, Conv2D and their fused bias and
//     relu forms) and pooling (Pool, GlobalPool, MaskedGlobalAveragePool);
//   - batch normalization (BatchNormTrain, BatchNormInfer, MovingStat);
//   - element-wise maximum and minimum of two tensors (Maximum, Minimum),
//     broadcasting along axes of size 1 (BroadcastTo) and the per-sample
//     matrix product (BatchMatMul), used by the merge layers;
//   - reductions, the mean, l2-normalization, softmax and concatenation
//     (Reduce, Mean, L2Normalize, Softmax, Concat), used by graph/backend;
//   - fused GRU and LSTM sequence kernels (FusedGRU, FusedLSTM);
//   - Capture, which copies a node's value out of a running machine at the
//     moment it is computed.
//
// Every kernel works on float32 and float64 tensors. Errors are returned,
// never panics, because a panic inside a Gorgonia machine cannot be
// recovered by the caller.
package ops
