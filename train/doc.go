// Package train owns kerago's models and their training: Model (functional,
// from inputs to outputs, and Sequential), Compile with a loss, an optimizer
// and metrics, Fit with its Keras-style progress bar, Evaluate, Predict,
// Summary, callbacks (History, the progress bar, and Keras 3's
// EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, CSVLogger,
// TerminateOnNaN, BackupAndRestore, LearningRateScheduler and
// LambdaCallback, one file each; hooks beyond the Callback interface are
// optional interfaces, see callbacks.go) and weight files.
//
// A Model compiles its network into graph.Programs on demand: one training
// program per batch size met (the last partial batch gets its own), and
// inference programs for Evaluate and Predict. All of them share the
// model's weights.
//
// Semantics follow Keras (see docs/SEMANTICS.md §23, training-loop
// notes): the epoch loss and metrics are sample-weighted running means of the
// per-batch values, validation_split holds out the last fraction of the
// samples before shuffling, shuffling happens at every epoch, and the
// reported loss includes regularization penalties. One seed (Seed option)
// fixes initial weights, shuffling and dropout masks, so two runs with the
// same seed give bit-identical histories.
//
// The progress bar is written here rather than taken from a library because
// its exact format is Keras's (counter, 30-character bar, time per step,
// running metrics), which general-purpose progress bars do not produce.
package train
