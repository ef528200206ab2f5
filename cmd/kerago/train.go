package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kerago/kerago"
	"github.com/kerago/kerago/train"
	"github.com/kerago/kerago/train/optimizers"
)

// demo is one `kerago train` dataset: how to build, fit and score its model.
type demo struct {
	about  string
	epochs int
	batch  int
	lr     float64
	run    func(cfg demoConfig, out io.Writer) (trained, error)
	// data is the split the demo trains and scores on, as it feeds it to
	// the model (`kerago export` writes it).
	data func(cfg demoConfig) (demoSplit, error)
}

// trained is a demo's trained model and its test loss and accuracy.
type trained struct {
	model     *train.Model
	loss, acc float64
}

// demoConfig is what the command line sets.
type demoConfig struct {
	epochs, batch int
	lr            float64
	seed          uint64
	verbose       int
	history       string
	data          string
	head          string
	plot          string
	save          string
	// from and freezeBase are fashion's transfer learning: the saved MNIST
	// model to start from, and whether its convolutional base is frozen.
	from       string
	freezeBase bool
	// checkpoint is the file ModelCheckpoint keeps the best val_loss model
	// in; reduceLR adds ReduceLROnPlateau on val_loss (Keras's defaults).
	// Either evaluates on the test part after each epoch.
	checkpoint string
	reduceLR   bool
	// ctx is cancelled on SIGINT: training stops after the current batch.
	ctx context.Context
}

var demos = map[string]demo{
	"cancer":  {about: "breast-cancer diagnosis (569 samples, 30 features): Dense+Dropout, binary cross-entropy", epochs: 30, batch: 32, lr: 1e-3, run: runCancer, data: cancerData},
	"mnist":   {about: "28×28 MNIST digits (embedded 6000/1000 subset, or --data DIR for the full IDX files): a small CNN", epochs: 12, batch: 64, lr: 3e-3, run: runMNIST, data: mnistData},
	"words":   {about: "a word's language (en/es/nl/pl) from its letters: Embedding → Bidirectional(GRU) → GlobalMaxPooling1D", epochs: 45, batch: 64, lr: 6e-3, run: runWords, data: wordsData},
	"fashion": {about: "Fashion-MNIST clothing (embedded 6000/1000 subset): the mnist CNN; --from mnist.keras [--freeze-base] transfers a saved MNIST model's base and compares with training from scratch", epochs: 6, batch: 64, lr: 3e-3, run: runFashion, data: fashionData},
	"digits":  {about: "8×8 handwritten digits (1797 samples): softmax classifier, sparse categorical cross-entropy", epochs: 30, batch: 32, lr: 1e-3, run: runDigits, data: digitsData},
}

// demoNames are the train datasets, sorted.
func demoNames() []string { return slices.Sorted(maps.Keys(demos)) }

// onDemo is a RunE for commands whose one argument names a demo dataset: it
// looks the demo up (an error lists the valid names) and hands it to run.
func onDemo(run func(cmd *cobra.Command, d demo) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		d, ok := demos[args[0]]
		if !ok {
			return fmt.Errorf("unknown dataset %q; valid datasets: %s", args[0], strings.Join(demoNames(), ", "))
		}
		return run(cmd, d)
	}
}

func trainCommand() *cobra.Command {
	var cfg demoConfig
	var lines []string
	for _, n := range demoNames() {
		lines = append(lines, fmt.Sprintf("  %-8s %s", n, demos[n].about))
	}
	cmd := &cobra.Command{
		Use:       "train <dataset>",
		Short:     "Train a demo model on an embedded dataset",
		Long:      "Train a demo model on an embedded dataset (80/20 split fixed by --seed).\n\nDatasets:\n" + strings.Join(lines, "\n"),
		Args:      cobra.ExactArgs(1),
		ValidArgs: demoNames(),
		RunE: onDemo(func(cmd *cobra.Command, d demo) error {
			if !cmd.Flags().Changed("epochs") {
				cfg.epochs = d.epochs
			}
			if !cmd.Flags().Changed("batch-size") {
				cfg.batch = d.batch
			}
			if !cmd.Flags().Changed("lr") {
				cfg.lr = d.lr
			}
			if err := checkTrainFlags(cmd, cmd.Flags().Arg(0), cfg); err != nil {
				return err
			}
			for _, err := range []error{
				checkOutputPath("--save", cfg.save, ".keras"),
				checkOutputPath("--checkpoint", cfg.checkpoint, ".keras"),
				checkOutputPath("--history", cfg.history),
				checkOutputPath("--plot", cfg.plot, ".png"),
			} {
				if err != nil {
					return err
				}
			}
			ctx, stop := signal.NotifyContext(commandContext(cmd), os.Interrupt)
			defer stop()
			cfg.ctx = ctx
			out := cmd.OutOrStdout()
			res, err := d.run(cfg, out)
			if err != nil {
				return err
			}
			if cfg.save != "" {
				if err := res.model.SaveModel(cfg.save); err != nil {
					return err
				}
			}
			fmt.Fprintf(out, "test_loss=%.6f test_accuracy=%.6f\n", res.loss, res.acc)
			return nil
		}),
	}
	f := cmd.Flags()
	f.IntVar(&cfg.epochs, "epochs", 0, "number of epochs (default: the dataset's)")
	f.IntVar(&cfg.batch, "batch-size", 0, "samples per step (default: the dataset's)")
	f.Float64Var(&cfg.lr, "lr", 0, "Adam learning rate (default: the dataset's)")
	f.Uint64Var(&cfg.seed, "seed", 1, "seed for the split, initial weights, shuffling and dropout")
	f.IntVar(&cfg.verbose, "verbose", 1, "0 silent, 1 progress bar, 2 one line per epoch")
	f.StringVar(&cfg.history, "history", "", "write the training history as CSV to this file")
	f.StringVar(&cfg.plot, "plot", "", "draw the training curves as a PNG to this file")
	f.StringVar(&cfg.data, "data", "", "mnist: read the full MNIST IDX files from this directory")
	f.StringVar(&cfg.head, "head", "gap", "mnist, fashion: the head after the convolutions: flatten, gap or gmp")
	f.StringVar(&cfg.from, "from", "", "fashion: start from this saved MNIST model (.keras from `kerago train mnist --save`): its convolutional base under a new head")
	f.BoolVar(&cfg.freezeBase, "freeze-base", false, "fashion with --from: keep the transferred convolutional base frozen (train the new head only)")
	f.StringVar(&cfg.save, "save", "", "after training, save the whole model to this .keras file (kerago summary/predict read it, as does Keras 3)")
	f.StringVar(&cfg.checkpoint, "checkpoint", "", "during training, keep the model of the best val_loss (on the test part) in this .keras file")
	f.BoolVar(&cfg.reduceLR, "reduce-lr", false, "reduce the learning rate tenfold when val_loss (on the test part) stalls for 10 epochs (Keras's ReduceLROnPlateau)")
	return cmd
}

// demoSplit is a demo's train and test parts as Fit and Evaluate take them,
// with their sizes; unit names the samples in the summary ("words").
type demoSplit struct {
	trX, trY, teX, teY any
	nTrain, nTest      int
	unit               string
	classes            int
}

// checkTrainFlags refuses, before any work, flag values train cannot use
// and flags that do not apply to the dataset.
func checkTrainFlags(cmd *cobra.Command, dataset string, cfg demoConfig) error {
	switch {
	case cfg.epochs < 0:
		return fmt.Errorf("--epochs must not be negative, got %d", cfg.epochs)
	case cfg.batch <= 0:
		return fmt.Errorf("--batch-size must be positive, got %d", cfg.batch)
	case !(cfg.lr > 0) || math.IsInf(cfg.lr, 0):
		return fmt.Errorf("--lr must be a positive number, got %v", cfg.lr)
	case cfg.verbose < 0 || cfg.verbose > 2:
		return fmt.Errorf("--verbose must be 0, 1 or 2, got %d", cfg.verbose)
	}
	if err := checkDatasetFlags(cmd, dataset, "data", "head", "from", "freeze-base"); err != nil {
		return err
	}
	if cfg.freezeBase && cfg.from == "" {
		return fmt.Errorf("--freeze-base needs --from (the saved MNIST model whose base it freezes)")
	}
	if err := checkInputFile("--from", cfg.from, ".keras"); err != nil {
		return err
	}
	return checkDataDir(cfg.data)
}

// datasetFlags are the train flags that apply to some datasets only, with
// those datasets.
var datasetFlags = map[string][]string{
	"data":        {"mnist"},
	"head":        {"mnist", "fashion"},
	"from":        {"fashion"},
	"freeze-base": {"fashion"},
}

// checkDatasetFlags refuses flags (of datasetFlags) given for a dataset
// they do not apply to.
func checkDatasetFlags(cmd *cobra.Command, dataset string, flags ...string) error {
	for _, f := range flags {
		ds := datasetFlags[f]
		if !cmd.Flags().Changed(f) || slices.Contains(ds, dataset) {
			continue
		}
		if len(ds) == 1 {
			return fmt.Errorf("--%s applies to the %s dataset only, not %s", f, ds[0], dataset)
		}
		return fmt.Errorf("--%s applies to the %s datasets only, not %s", f, strings.Join(ds, " and "), dataset)
	}
	return nil
}

// commandContext is cmd's context, or the background one when it was run
// without one.
func commandContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// splitOf is the split of two datasets' X and Y.
func splitOf(tr, te *kerago.Dataset, unit string) demoSplit {
	return demoSplit{trX: tr.X, trY: tr.Y, teX: te.X, teY: te.Y, nTrain: len(tr.X), nTest: len(te.X), unit: unit, classes: len(tr.Classes)}
}

// fitAndScore compiles m with Adam at cfg.lr, loss and the accuracy metric,
// prints its summary and the split's sizes (verbose), trains on the train
// part with cfg's epochs, batch size and verbosity plus opts (and, with
// --checkpoint or --reduce-lr, the test part as validation data and their
// callbacks), and scores on the test part (see finish).
func fitAndScore(m *train.Model, cfg demoConfig, out io.Writer, loss string, s demoSplit, opts ...train.FitOption) (trained, error) {
	if err := m.Compile(optimizers.Adam(optimizers.LR(cfg.lr)), loss, "accuracy"); err != nil {
		return trained{}, err
	}
	if cfg.verbose > 0 {
		fmt.Fprint(out, m.Summary())
		fmt.Fprintf(out, "Train on %d %s, test on %d %s\n", s.nTrain, s.unit, s.nTest, s.unit)
	}
	opts = append([]train.FitOption{train.Epochs(cfg.epochs), train.BatchSize(cfg.batch), train.Verbose(cfg.verbose), train.Output(out)}, opts...)
	if cfg.checkpoint != "" || cfg.reduceLR {
		opts = append(opts, train.ValidationData(s.teX, s.teY))
	}
	if cfg.checkpoint != "" {
		opts = append(opts, train.Callbacks(&train.ModelCheckpoint{FilePath: cfg.checkpoint, SaveBestOnly: true}))
	}
	if cfg.reduceLR {
		opts = append(opts, train.Callbacks(train.NewReduceLROnPlateau()))
	}
	if cfg.ctx != nil {
		opts = append(opts, train.Context(cfg.ctx))
	}
	hist, err := m.Fit(s.trX, s.trY, opts...)
	if err != nil {
		return trained{}, err
	}
	return finish(m, hist, cfg, s.teX, s.teY)
}

// finish evaluates on the test part and writes the history if asked.
func finish(m *train.Model, hist *train.History, cfg demoConfig, x, y any) (trained, error) {
	if cfg.history != "" {
		err := train.WriteAtomic(cfg.history, func(w io.Writer) error { _, err := io.WriteString(w, hist.CSV()); return err })
		if err != nil {
			return trained{}, err
		}
	}
	if cfg.plot != "" {
		if err := hist.SavePlot(cfg.plot); err != nil {
			return trained{}, err
		}
	}
	logs, err := m.Evaluate(x, y, train.BatchSize(cfg.batch))
	if err != nil {
		return trained{}, err
	}
	loss, _ := logs.Get("loss")
	acc, _ := logs.Get("accuracy")
	return trained{model: m, loss: loss, acc: acc}, nil
}
