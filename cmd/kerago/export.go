package main

import (
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
	"gorgonia.org/tensor"
)

// exportFlags are export's options.
type exportFlags struct {
	split, output, labels string
	cfg                   demoConfig
}

func exportCommand() *cobra.Command {
	var e exportFlags
	cmd := &cobra.Command{
		Use:   "export <dataset> --output X.npy|X.csv [--labels Y.npy|Y.csv]",
		Short: "Write a demo dataset's train or test part as the demo's model takes it",
		Long: "Writes the inputs of one part of a `kerago train` dataset (--split test or train, split by\n" +
			"--seed as train splits it) exactly as the demo feeds them to its model — scaled or\n" +
			"standardised the same way — so that `kerago predict` on a model saved by `train --save`\n" +
			"reproduces the demo's predictions; --labels writes the class indices too.",
		Args:      cobra.ExactArgs(1),
		ValidArgs: demoNames(),
		RunE: onDemo(func(cmd *cobra.Command, d demo) error {
			if err := checkDatasetFlags(cmd, cmd.Flags().Arg(0), "data"); err != nil {
				return err
			}
			return runExport(d, e)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&e.split, "split", "test", "the part to write: test or train")
	f.StringVar(&e.output, "output", "", "write the inputs to this file (.npy or .csv)")
	f.StringVar(&e.labels, "labels", "", "write the class indices to this file (.npy or .csv)")
	f.Uint64Var(&e.cfg.seed, "seed", 1, "the split's seed (train's --seed)")
	f.StringVar(&e.cfg.data, "data", "", "mnist: read the full MNIST IDX files from this directory")
	return cmd
}

// runExport writes the part e names of demo d's data.
func runExport(d demo, e exportFlags) error {
	if e.split != "test" && e.split != "train" {
		return errors.Errorf("--split %q: want test or train", e.split)
	}
	if e.output == "" {
		return errors.New("--output is required")
	}
	for flag, path := range map[string]string{"--output": e.output, "--labels": e.labels} {
		if _, err := arrayExt(flag, path); path != "" && err != nil {
			return err
		}
		if err := checkOutputPath(flag, path); err != nil {
			return err
		}
	}
	if err := checkDataDir(e.cfg.data); err != nil {
		return err
	}
	s, err := d.data(e.cfg)
	if err != nil {
		return err
	}
	x, y := s.teX, s.teY
	if e.split == "train" {
		x, y = s.trX, s.trY
	}
	if err := writeOutput(e.output, asTensor(x)); err != nil || e.labels == "" {
		return err
	}
	return writeOutput(e.labels, asTensor(y))
}

// asTensor is a demo's X or Y as a tensor: *tensor.Dense as it is, rows of
// values ([][]float64) or class indices ([]int) as float64.
func asTensor(v any) *tensor.Dense {
	switch v := v.(type) {
	case [][]float64:
		data := make([]float64, 0, len(v)*len(v[0]))
		for _, row := range v {
			data = append(data, row...)
		}
		return tensor.New(tensor.WithShape(len(v), len(v[0])), tensor.WithBacking(data))
	case []int:
		data := make([]float64, len(v))
		for i, c := range v {
			data[i] = float64(c)
		}
		return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(data))
	}
	return v.(*tensor.Dense)
}
