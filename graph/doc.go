// Package graph owns kerago's symbolic model: Input and the Tensors that
// layers produce (the Keras-level DAG, with shapes inferred at Apply time),
// the Layer interface, Weight (the one tensor that holds a weight's values),
// the emission Context through which layers add nodes to a Gorgonia graph,
// Network (a DAG from inputs to outputs), Program (a Network compiled into
// one Gorgonia graph and tape machine for a mode and a batch size), and the
// finite-difference gradient checker every package's tests use.
//
// Shapes here never include the batch axis: Input(28, 28, 1) is Keras's
// Input(shape=(28, 28, 1)), printed as (None, 28, 28, 1).
//
// Weights are created by a layer's Build with a shape, an initializer and an
// optional regularizer, but hold no values until a Network initialises them
// with a dtype and a seed: one seed fixes every initial weight, independently
// of the order in which models are built. Every Program of a Network binds its
// weight nodes to the Weight's one *tensor.Dense, so an optimizer step is seen
// by all of them.
//
// graph knows nothing of losses, optimizers or the training loop: a Program is
// given a Head function that adds whatever the caller needs (a loss, metrics)
// on top of the model's outputs.
package graph
