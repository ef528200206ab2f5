package train

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train/optimizers"
)

// goldenCallbacks is testdata/golden/callbacks.json (gen_callbacks.py: the
// decisions of Keras 3's own callbacks on scripted logs).
type goldenCallbacks struct {
	EarlyStopping []struct {
		Name string
		Args struct {
			Monitor            string   `json:"monitor"`
			Patience           int      `json:"patience"`
			MinDelta           float64  `json:"min_delta"`
			Mode               string   `json:"mode"`
			Baseline           *float64 `json:"baseline"`
			RestoreBestWeights bool     `json:"restore_best_weights"`
			StartFromEpoch     int      `json:"start_from_epoch"`
		}
		Logs         []map[string]float64
		EpochsRun    int `json:"epochs_run"`
		StoppedEpoch int `json:"stopped_epoch"`
		BestEpoch    int `json:"best_epoch"`
		WeightsEpoch int `json:"weights_epoch"`
		Output       string
	} `json:"early_stopping"`
	ReduceLR []struct {
		Name string
		Args struct {
			Monitor  *string  `json:"monitor"`
			Factor   *float64 `json:"factor"`
			Patience *int     `json:"patience"`
			MinDelta *float64 `json:"min_delta"`
			Mode     string   `json:"mode"`
			Cooldown int      `json:"cooldown"`
			MinLR    float64  `json:"min_lr"`
		}
		LR       float64 `json:"lr"`
		Logs     []map[string]float64
		LRs      []float64 `json:"lrs"`
		LoggedLR []float64 `json:"logged_lr"`
		Output   string
	} `json:"reduce_lr"`
	Checkpoint []struct {
		Name   string
		Args   checkpointArgs
		Logs   []map[string]float64
		Saved  []string
		Output string
	}
	CSVLogger []struct {
		Name      string
		Separator string
		Runs      [][]map[string]float64
		Text      string
	} `json:"csv_logger"`
	CheckpointBatches struct {
		Args      checkpointArgs
		Steps     int
		BatchLogs [][]map[string]float64 `json:"batch_logs"`
		Logs      []map[string]float64
		Saved     []string
	} `json:"checkpoint_batches"`
}

type checkpointArgs struct {
	FilePath              string   `json:"filepath"`
	Monitor               string   `json:"monitor"`
	Mode                  string   `json:"mode"`
	SaveBestOnly          bool     `json:"save_best_only"`
	SaveWeightsOnly       bool     `json:"save_weights_only"`
	SaveFreq              int      `json:"save_freq"`
	InitialValueThreshold *float64 `json:"initial_value_threshold"`
}

func readGoldenCallbacks(t *testing.T) goldenCallbacks {
	t.Helper()
	raw, err := os.ReadFile("../testdata/golden/callbacks.json")
	if err != nil {
		t.Fatal(err)
	}
	var g goldenCallbacks
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.EarlyStopping) == 0 || len(g.ReduceLR) == 0 || len(g.Checkpoint) == 0 || len(g.CheckpointBatches.Saved) == 0 || len(g.CSVLogger) == 0 {
		t.Fatal("callbacks.json holds no scenarios")
	}
	return g
}

// goldenModel is gen_callbacks.py's model: Dense(1, sigmoid) on 2 inputs,
// SGD at lr, binary cross-entropy and accuracy.
func goldenModel(t *testing.T, lr float64) *Model {
	t.Helper()
	in := graph.Input(2)
	m, err := NewModel(in, layers.NewDense(1, layers.WithActivation("sigmoid")).Apply(in), DType(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(optimizers.SGD(optimizers.LR(lr)), "binary_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	return m
}

// goldenParams describe a Fit with validation that logs loss and accuracy.
var goldenParams = Params{Epochs: 100, Steps: 1, Validation: true, Metrics: []string{"loss", "accuracy"}}

// logsOf turns a scripted log dictionary into Logs (sorted names).
func logsOf(d map[string]float64) Logs {
	var l Logs
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range d {
			if !yield(k) {
				return
			}
		}
	}) {
		l.Set(k, d[k])
	}
	return l
}

// setEpoch sets the Dense kernel to epoch (as gen_callbacks.py does before
// each epoch's end) so that the weights say which epoch they are from.
func setEpoch(t *testing.T, m *Model, epoch int) {
	t.Helper()
	if err := m.Weights()[0].SetFloat64s([]float64{float64(epoch), float64(epoch)}); err != nil {
		t.Fatal(err)
	}
}

// drive runs cb through the scripted epochs as Fit would, stopping when it
// stops training; it returns the epochs run.
func drive(t *testing.T, m *Model, cb Callback, logs []map[string]float64) int {
	t.Helper()
	if ch, ok := cb.(interface{ CheckParams(Params) error }); ok {
		if err := ch.CheckParams(goldenParams); err != nil {
			t.Fatal(err)
		}
	}
	m.stop.Store(false)
	cb.OnTrainBegin(m, goldenParams)
	run := 0
	for epoch, d := range logs {
		if m.stop.Load() {
			break
		}
		cb.OnEpochBegin(epoch)
		setEpoch(t, m, epoch)
		cb.OnEpochEnd(epoch, logsOf(d))
		run++
	}
	cb.OnTrainEnd(Logs{})
	return run
}

// TestEarlyStoppingGolden drives EarlyStopping with the logs Keras 3's
// EarlyStopping saw: the same epochs run, stop, best epoch and restored
// weights.
func TestEarlyStoppingGolden(t *testing.T) {
	for _, c := range readGoldenCallbacks(t).EarlyStopping {
		a := c.Args
		var out strings.Builder
		es := &EarlyStopping{Monitor: a.Monitor, Mode: a.Mode, MinDelta: a.MinDelta, Patience: a.Patience, Baseline: a.Baseline,
			RestoreBestWeights: a.RestoreBestWeights, StartFromEpoch: a.StartFromEpoch, Verbose: 1, Out: &out}
		m := goldenModel(t, 0.1)
		run := drive(t, m, es, c.Logs)
		stopped := max(es.StoppedEpoch, 0) // Keras's 0 for "did not stop"
		weights := int(m.Weights()[0].Float64s()[0])
		if run != c.EpochsRun || stopped != c.StoppedEpoch || es.BestEpoch != c.BestEpoch || weights != c.WeightsEpoch {
			t.Errorf("%s: ran %d, stopped %d, best %d, weights of epoch %d; Keras %d, %d, %d, %d",
				c.Name, run, stopped, es.BestEpoch, weights, c.EpochsRun, c.StoppedEpoch, c.BestEpoch, c.WeightsEpoch)
		}
		if out.String() != c.Output {
			t.Errorf("%s: printed %q, Keras %q", c.Name, out.String(), c.Output)
		}
	}
}

// TestReduceLROnPlateauGolden: the learning rate after each epoch, and the
// logged one, are Keras 3's (which holds the rate in float32: 1e-6
// relative).
func TestReduceLROnPlateauGolden(t *testing.T) {
	for _, c := range readGoldenCallbacks(t).ReduceLR {
		r := NewReduceLROnPlateau()
		a := c.Args
		if a.Monitor != nil {
			r.Monitor = *a.Monitor
		}
		if a.Factor != nil {
			r.Factor = *a.Factor
		}
		if a.Patience != nil {
			r.Patience = *a.Patience
		}
		if a.MinDelta != nil {
			r.MinDelta = *a.MinDelta
		}
		var out strings.Builder
		r.Mode, r.Cooldown, r.MinLR, r.Verbose, r.Out = a.Mode, a.Cooldown, a.MinLR, 1, &out
		m := goldenModel(t, c.LR)
		if err := r.CheckParams(goldenParams); err != nil {
			t.Fatal(err)
		}
		r.OnTrainBegin(m, goldenParams)
		exact := true
		for epoch, d := range c.Logs {
			logs := logsOf(d)
			r.AddEpochLogs(epoch, &logs)
			r.OnEpochEnd(epoch, logs)
			logged, _ := logs.Get("learning_rate")
			exact = exact && m.Optimizer().LearningRate() == c.LRs[epoch]
			if lr := m.Optimizer().LearningRate(); !closeRel(lr, c.LRs[epoch], 1e-6) || !closeRel(logged, c.LoggedLR[epoch], 1e-6) {
				t.Errorf("%s: epoch %d: learning rate %g (logged %g), Keras %g (%g)", c.Name, epoch, lr, logged, c.LRs[epoch], c.LoggedLR[epoch])
				break
			}
		}
		// Keras prints the product of its float32 rate and the factor: the
		// messages agree where every rate is the same number in both.
		if exact && out.String() != c.Output {
			t.Errorf("%s: printed %q, Keras %q", c.Name, out.String(), c.Output)
		}
	}
}

func closeRel(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Abs(b) }

// TestModelCheckpointGolden: ModelCheckpoint saves the files Keras 3's
// saved, under the same names, at the end of epochs and every SaveFreq
// batches; each one loads back.
func TestModelCheckpointGolden(t *testing.T) {
	g := readGoldenCallbacks(t)
	for _, c := range g.Checkpoint {
		dir := t.TempDir()
		mc := c.Args.callback(dir)
		var out strings.Builder
		mc.Verbose, mc.Out = 1, &out
		drive(t, goldenModel(t, 0.1), mc, c.Logs)
		checkSaved(t, c.Name, dir, mc.Saved, c.Saved)
		if got := strings.ReplaceAll(out.String(), dir+string(filepath.Separator), ""); got != c.Output {
			t.Errorf("%s: printed %q, Keras %q", c.Name, got, c.Output)
		}
	}
	c := g.CheckpointBatches
	dir := t.TempDir()
	mc := c.Args.callback(dir)
	m := goldenModel(t, 0.1)
	if err := mc.CheckParams(goldenParams); err != nil {
		t.Fatal(err)
	}
	mc.OnTrainBegin(m, goldenParams)
	for epoch, d := range c.Logs {
		mc.OnEpochBegin(epoch)
		for b := range c.Steps {
			mc.OnBatchEnd(b, logsOf(c.BatchLogs[epoch][b]))
		}
		mc.OnEpochEnd(epoch, logsOf(d))
	}
	checkSaved(t, "batches", dir, mc.Saved, c.Saved)
}

// callback is the ModelCheckpoint the arguments describe, saving into dir.
func (a checkpointArgs) callback(dir string) *ModelCheckpoint {
	return &ModelCheckpoint{FilePath: filepath.Join(dir, a.FilePath), Monitor: a.Monitor, Mode: a.Mode, SaveBestOnly: a.SaveBestOnly,
		SaveWeightsOnly: a.SaveWeightsOnly, SaveFreq: a.SaveFreq, InitialValueThreshold: a.InitialValueThreshold}
}

// checkSaved compares the names saved with Keras's and loads each file.
func checkSaved(t *testing.T, name, dir string, saved, want []string) {
	t.Helper()
	var got []string
	for _, p := range saved {
		got = append(got, filepath.Base(p))
		if err := goldenModel(t, 0.1).LoadWeights(p); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: saved %q, Keras %q", name, got, want)
	}
}

// TestCSVLoggerGolden: the file CSVLogger writes over one or two runs (the
// second appending) is Keras 3's, but for the line ends ("\n", not Python
// csv's "\r\n"): header, sorted names, "val_" columns added, "NA", values.
func TestCSVLoggerGolden(t *testing.T) {
	for _, c := range readGoldenCallbacks(t).CSVLogger {
		path := filepath.Join(t.TempDir(), "log.csv")
		for i, run := range c.Runs {
			drive(t, goldenModel(t, 0.1), &CSVLogger{Filename: path, Separator: c.Separator, Append: i > 0}, run)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ReplaceAll(c.Text, "\r\n", "\n"); string(got) != want {
			t.Errorf("%s: wrote\n%s\nKeras\n%s", c.Name, got, want)
		}
	}
}
