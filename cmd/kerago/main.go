// Command kerago runs kerago's demos and benchmarks: `kerago train <dataset>`
// trains a Keras-style model on a dataset embedded in the binary, printing
// the model summary, a progress bar per epoch, and on its last line
// `test_loss=<float> test_accuracy=<float>` on the held-out part;
// `kerago bench` measures training throughput on standard workloads;
// `kerago summary`, `predict` and `convert` work on model files (.keras,
// legacy .h5, .weights.h5, .npz), and `kerago export` writes a demo's data
// as NPY or CSV for `predict`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "kerago:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is 130 for an interrupted command (SIGINT, as shells report
// it), 1 for any other error.
func exitCode(err error) int {
	if errors.Is(err, context.Canceled) {
		return 130
	}
	return 1
}

// newRoot builds the command tree.
func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "kerago",
		Short:         "Keras for Go: training demos on embedded real data",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(trainCommand(), benchCommand(), summaryCommand(), predictCommand(), convertCommand(), exportCommand())
	return root
}
