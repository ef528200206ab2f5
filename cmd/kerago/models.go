package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/pkg/errors"
	"github.com/spf13/cobra"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/train"
)

// isExt reports whether path ends in ext, ignoring case.
func isExt(path string, exts ...string) bool {
	for _, ext := range exts {
		if strings.HasSuffix(strings.ToLower(path), ext) {
			return true
		}
	}
	return false
}

// isWeightsFile reports whether path names a weights-only file (.weights.h5
// or .npz), which needs an architecture to be loaded into.
func isWeightsFile(path string) bool { return isExt(path, ".weights.h5") || isExt(path, ".npz") }

// loadModel reads a whole model from path (.keras or a legacy .h5), or,
// with arch set, the architecture from arch and the weights from path (any
// format LoadWeights reads).
func loadModel(path, arch string) (*train.Model, error) {
	if arch != "" {
		m, err := train.LoadModel(arch)
		if err != nil {
			return nil, err
		}
		return m, m.LoadWeights(path)
	}
	if isWeightsFile(path) {
		return nil, errors.Errorf("%s holds weights only: give the architecture with --model FILE.keras (or a legacy .h5)", path)
	}
	return train.LoadModel(path)
}

func summaryCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "summary FILE",
		Short: "Print the layer table of a model file (.keras or legacy .h5)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := train.LoadModel(args[0])
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), m.Summary())
			return nil
		},
	}
}

// predictFlags are predict's options.
type predictFlags struct {
	inputs, outputs []string
	batch           int
}

func predictCommand() *cobra.Command {
	var p predictFlags
	cmd := &cobra.Command{
		Use:   "predict FILE --input X.npy|X.csv [--output Y.npy|Y.csv]",
		Short: "Predict with a model file (.keras or legacy .h5) on NPY or CSV data",
		Long: "Loads the model, reads one array per model input (--input, comma-separated in the model's\n" +
			"input order), predicts in batches of --batch-size and writes one array per model output\n" +
			"(--output, comma-separated in the model's output order), or prints them as CSV.\n\n" +
			"Arrays: NPY (float32, float64 or integers, C order) or CSV, by extension; the first axis is\n" +
			"the samples and the rest must equal the model input's shape. A CSV file has one sample per\n" +
			"row, flattened in C order; a first row with no numeric cell is a header and is skipped.\n" +
			"Printed outputs are CSV rows; a model with several outputs prints a `# <name> <shape>` line\n" +
			"before each. Output files are written under a temporary name and renamed into place.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runPredict(cmd.OutOrStdout(), args[0], p) },
	}
	f := cmd.Flags()
	f.StringSliceVar(&p.inputs, "input", nil, "input arrays (.npy or .csv), one per model input, comma-separated")
	f.StringSliceVar(&p.outputs, "output", nil, "output files (.npy or .csv), one per model output, comma-separated (default: print as CSV)")
	f.IntVar(&p.batch, "batch-size", 32, "samples per prediction step")
	return cmd
}

// runPredict is the predict command: it checks the flags, loads the model
// and the inputs, predicts and writes or prints the outputs.
func runPredict(out io.Writer, path string, p predictFlags) error {
	if p.batch <= 0 {
		return errors.Errorf("--batch-size must be positive, got %d", p.batch)
	}
	for _, o := range p.outputs {
		if _, err := arrayExt("--output", o); err != nil {
			return err
		}
		if err := checkOutputPath("--output", o); err != nil {
			return err
		}
	}
	m, err := train.LoadModel(path)
	if err != nil {
		return err
	}
	ins, outs := m.Network().Inputs(), m.Network().Outputs()
	if len(p.inputs) != len(ins) {
		return errors.Errorf("the model has %d inputs (%s), --input names %d files", len(ins), tensorNames(ins), len(p.inputs))
	}
	if len(p.outputs) > 0 && len(p.outputs) != len(outs) {
		return errors.Errorf("the model has %d outputs (%s), --output names %d files", len(outs), tensorNames(outs), len(p.outputs))
	}
	x, err := readInputs(p.inputs, m)
	if err != nil {
		return err
	}
	ys, err := m.PredictAll(x, train.BatchSize(p.batch))
	if err != nil {
		return err
	}
	for i, y := range ys {
		if len(p.outputs) > 0 {
			err = writeOutput(p.outputs[i], y)
		} else {
			if len(ys) > 1 {
				fmt.Fprintf(out, "# %s %v\n", outs[i].Layer().Name(), []int(y.Shape()))
			}
			err = writeCSV(out, y)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readInputs reads one array per model input, with as many samples each,
// as PredictAll takes them.
func readInputs(paths []string, m *train.Model) (any, error) {
	ins := m.Network().Inputs()
	xs := make([]any, len(paths))
	n0 := 0
	for i, path := range paths {
		t, err := readInput(path, ins[i])
		if err != nil {
			return nil, err
		}
		if n := t.Shape()[0]; i == 0 {
			n0 = n
		} else if n != n0 {
			return nil, errors.Errorf("%s holds %d samples, %s %d: every input needs as many", path, n, paths[0], n0)
		}
		xs[i] = t
	}
	if len(xs) == 1 {
		return xs[0], nil
	}
	return train.Multi(xs...), nil
}

// tensorNames lists the names of the layers behind ts.
func tensorNames(ts []*graph.Tensor) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Layer().Name()
	}
	return strings.Join(names, ", ")
}

// convertCommand is `kerago convert IN OUT`.
func convertCommand() *cobra.Command {
	var arch string
	cmd := &cobra.Command{
		Use:   "convert IN OUT",
		Short: "Convert a model or weights file between .keras, legacy .h5, .weights.h5 and .npz",
		Long: "Reads IN — a whole model (.keras, legacy Keras 2 .h5), or with --model a weights file\n" +
			"(.weights.h5, .npz, legacy .h5 weights, kerago's own) loaded into that model's architecture —\n" +
			"and writes OUT by its extension: .keras (the whole model), .weights.h5 (Keras 3's weights\n" +
			"layout) or .npz (np.savez of get_weights(), float32). OUT is written under a temporary name\n" +
			"and renamed into place.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, out := args[0], args[1]
			if !isExt(out, ".keras") && !isWeightsFile(out) {
				return errors.Errorf("%s: kerago writes .keras (whole model), .weights.h5 or .npz (weights); not legacy .h5 or other formats", out)
			}
			m, err := loadModel(in, arch)
			if err != nil {
				return err
			}
			if isExt(out, ".keras") {
				return m.SaveModel(out)
			}
			return m.SaveWeights(out)
		},
	}
	cmd.Flags().StringVar(&arch, "model", "", "read the architecture from this model file (.keras or legacy .h5) and the weights from IN")
	return cmd
}
