package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLICatalogueOfBadInputs runs kerago with bad arguments, flags and
// files of every kind: each fails with an error containing its expected
// message, having printed nothing, and leaves no file behind in its
// directory (besides the inputs it was given).
func TestCLICatalogueOfBadInputs(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mlp := filepath.Join(fixtureDir, "mlp.keras")
	good := file("good.csv", strings.Repeat("0.5,", 19)+"0.5\n")
	junk := file("junk.keras", "not a zip")
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(filepath.Join(dir, "d.keras"), 0o755); err != nil {
		t.Fatal(err)
	}
	// $DIR in a message stands for dir.
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no command", []string{"fly"}, "unknown command \"fly\" for \"kerago\""},
		{"train: unknown dataset", []string{"train", "imagenet"}, "unknown dataset \"imagenet\"; valid datasets: cancer, digits, fashion, mnist, words"},
		{"train: two datasets", []string{"train", "cancer", "digits"}, "accepts 1 arg(s), received 2"},
		{"train: unknown flag", []string{"train", "cancer", "--epoch", "3"}, "unknown flag: --epoch"},
		{"train: epochs not a number", []string{"train", "cancer", "--epochs", "three"}, "invalid argument \"three\" for \"--epochs\" flag: strconv.ParseInt: parsing \"three\": invalid syntax"},
		{"train: batch size 0", []string{"train", "cancer", "--batch-size", "0"}, "--batch-size must be positive, got 0"},
		{"train: lr 0", []string{"train", "cancer", "--lr", "0"}, "--lr must be a positive number, got 0"},
		{"train: lr +Inf", []string{"train", "cancer", "--lr", "+Inf"}, "--lr must be a positive number, got +Inf"},
		{"train: verbose -1", []string{"train", "cancer", "--verbose", "-1"}, "--verbose must be 0, 1 or 2, got -1"},
		{"train: seed -1", []string{"train", "cancer", "--seed", "-1"}, "invalid argument \"-1\" for \"--seed\" flag: strconv.ParseUint: parsing \"-1\": invalid syntax"},
		{"train: head for digits", []string{"train", "digits", "--head", "gap"}, "--head applies to the mnist and fashion datasets only, not digits"},
		{"train: freeze-base without from", []string{"train", "fashion", "--freeze-base"}, "--freeze-base needs --from (the saved MNIST model whose base it freezes)"},
		{"train: from for mnist", []string{"train", "mnist", "--from", mlp}, "--from applies to the fashion dataset only, not mnist"},
		{"train: from a missing file", []string{"train", "fashion", "--from", filepath.Join(dir, "none.keras")}, "--from $DIR/none.keras: no such file"},
		{"train: from a weights file", []string{"train", "fashion", "--from", filepath.Join(dir, "w.weights.h5")}, "want a .keras file"},
		{"train: from a model that is not the mnist demo's", []string{"train", "fashion", "--from", mlp, "--freeze-base"}, "where the mnist demo's base with --head gap has"},
		{"train: unknown mnist head", []string{"train", "mnist", "--head", "dense"}, "unknown head \"dense\"; valid heads: flatten, gap, gmp"},
		{"train: data for words", []string{"train", "words", "--data", dir}, "--data applies to the mnist dataset only, not words"},
		{"train: mnist data directory missing", []string{"train", "mnist", "--data", filepath.Join(dir, "none"), "--epochs", "1"}, "--data $DIR/none: no such directory"},
		{"train: mnist data directory without IDX files", []string{"train", "mnist", "--data", dir, "--epochs", "1"}, "MNIST: opening train-images-idx3-ubyte.gz: open $DIR/train-images-idx3-ubyte: no such file or directory"},
		{"train: save as .h5", []string{"train", "cancer", "--save", filepath.Join(out, "m.h5")}, "--save $DIR/out/m.h5: want a .keras file"},
		{"train: save into a missing directory", []string{"train", "cancer", "--save", filepath.Join(dir, "none", "m.keras")}, "--save $DIR/none/m.keras: no directory $DIR/none to write it in"},
		{"train: checkpoint as .h5", []string{"train", "cancer", "--checkpoint", filepath.Join(out, "m.h5")}, "--checkpoint $DIR/out/m.h5: want a .keras file"},
		{"train: checkpoint into a missing directory", []string{"train", "cancer", "--checkpoint", filepath.Join(dir, "none", "m.keras")}, "--checkpoint $DIR/none/m.keras: no directory $DIR/none to write it in"},
		{"train: checkpoint is a directory", []string{"train", "cancer", "--checkpoint", filepath.Join(dir, "d.keras")}, "--checkpoint $DIR/d.keras is a directory, not a file name"},
		{"train: reduce-lr with a value", []string{"train", "cancer", "--reduce-lr=often"}, "invalid argument \"often\" for \"--reduce-lr\" flag: strconv.ParseBool: parsing \"often\": invalid syntax"},
		{"train: history into a missing directory", []string{"train", "cancer", "--history", filepath.Join(dir, "none", "h.csv")}, "--history $DIR/none/h.csv: no directory $DIR/none to write it in"},
		{"train: history is a directory", []string{"train", "cancer", "--history", dir}, "--history $DIR is a directory, not a file name"},
		{"train: plot not a PNG", []string{"train", "cancer", "--plot", filepath.Join(dir, "p.svg")}, "--plot $DIR/p.svg: want a .png file"},
		{"train: plot into a missing directory", []string{"train", "cancer", "--plot", filepath.Join(dir, "none", "p.png")}, "--plot $DIR/none/p.png: no directory $DIR/none to write it in"},
		{"summary: no model", []string{"summary"}, "accepts 1 arg(s), received 0"},
		{"summary: not a zip", []string{"summary", junk}, "LoadModel $DIR/junk.keras: not a .keras (zip) file: zip: not a valid zip file"},
		{"summary: unknown extension", []string{"summary", file("m.onnx", "")}, "LoadModel: $DIR/m.onnx: the extension names no model format (.keras or .h5)"},
		{"summary: weights-only file", []string{"summary", filepath.Join(fixtureDir, "mlp.weights.h5")}, "LoadModel ../../testdata/keras/mlp.weights.h5: no model_config attribute: not a Keras full-model .h5 file (load weights into a model with LoadWeights)"},
		{"predict: no input flag", []string{"predict", mlp}, "the model has 1 inputs (features), --input names 0 files"},
		{"predict: no model", []string{"predict", "--input", good}, "accepts 1 arg(s), received 0"},
		{"predict: model missing", []string{"predict", filepath.Join(dir, "none.keras"), "--input", good}, "LoadModel $DIR/none.keras: open $DIR/none.keras: no such file or directory"},
		{"predict: model not a zip", []string{"predict", junk, "--input", good}, "LoadModel $DIR/junk.keras: not a .keras (zip) file: zip: not a valid zip file"},
		{"predict: CSV with a short row", []string{"predict", mlp, "--input", file("short.csv", strings.Repeat("1,", 18)+"1\n")}, "input \"features\": $DIR/short.csv: line 1 has 19 values, the model input takes 20 per sample (shape [20] flattened)"},
		{"predict: CSV with Inf", []string{"predict", mlp, "--input", file("inf.csv", strings.Repeat("1,", 19)+"Inf\n")}, "input \"features\": $DIR/inf.csv: line 1, column 20: \"Inf\" is not a finite number"},
		{"predict: CSV with an empty cell", []string{"predict", mlp, "--input", file("gap.csv", strings.Repeat("1,", 10)+","+strings.Repeat("1,", 8)+"1\n")}, "input \"features\": $DIR/gap.csv: line 1, column 11: \"\" is not a finite number"},
		{"predict: CSV with a bare quote", []string{"predict", mlp, "--input", file("quote.csv", "1,\"2,3\n")}, "input \"features\": $DIR/quote.csv: parse error on line 1, column 8: extraneous or missing \" in quoted-field"},
		{"predict: empty CSV", []string{"predict", mlp, "--input", file("empty.csv", "")}, "input \"features\": $DIR/empty.csv holds no samples"},
		{"predict: NPY of text", []string{"predict", mlp, "--input", file("text.npy", "1,2,3\n")}, "input \"features\": ReadNPY $DIR/text.npy: truncated NPY header"},
		{"predict: input missing", []string{"predict", mlp, "--input", filepath.Join(dir, "none.csv")}, "input \"features\": open $DIR/none.csv: no such file or directory"},
		{"predict: input is a directory", []string{"predict", mlp, "--input", dir + "/"}, "--input $DIR/: the extension names no array format (.npy or .csv)"},
		{"predict: batch size -2", []string{"predict", mlp, "--input", good, "--batch-size", "-2"}, "--batch-size must be positive, got -2"},
		{"predict: output into a missing directory", []string{"predict", mlp, "--input", good, "--output", filepath.Join(dir, "none", "y.csv")}, "--output $DIR/none/y.csv: no directory $DIR/none to write it in"},
		{"predict: output is a directory", []string{"predict", mlp, "--input", good, "--output", dir + "/y.npy/"}, "--output $DIR/y.npy/: the extension names no array format (.npy or .csv)"},
		{"convert: one argument", []string{"convert", mlp}, "accepts 2 arg(s), received 1"},
		{"convert: source missing", []string{"convert", filepath.Join(dir, "none.keras"), filepath.Join(out, "m.npz")}, "LoadModel $DIR/none.keras: open $DIR/none.keras: no such file or directory"},
		{"convert: source not a zip", []string{"convert", junk, filepath.Join(out, "m.npz")}, "LoadModel $DIR/junk.keras: not a .keras (zip) file: zip: not a valid zip file"},
		{"convert: unknown target extension", []string{"convert", mlp, filepath.Join(out, "m.onnx")}, "$DIR/out/m.onnx: kerago writes .keras (whole model), .weights.h5 or .npz (weights); not legacy .h5 or other formats"},
		{"convert: weights with a model of another shape", []string{"convert", filepath.Join(fixtureDir, "mlp.npz"), filepath.Join(out, "m.keras"), "--model", filepath.Join(fixtureDir, "cnn.keras")}, "LoadWeightsNPZ ../../testdata/keras/mlp.npz: missing entry arr_4.npy: the file has 4 arrays, the model has 10 weights"},
		{"convert: model flag not a model", []string{"convert", filepath.Join(fixtureDir, "mlp.npz"), filepath.Join(out, "m.keras"), "--model", junk}, "LoadModel $DIR/junk.keras: not a .keras (zip) file: zip: not a valid zip file"},
		{"export: no dataset", []string{"export", "--output", filepath.Join(out, "x.npy")}, "accepts 1 arg(s), received 0"},
		{"export: head flag", []string{"export", "cancer", "--head", "gap", "--output", filepath.Join(out, "x.npy")}, "unknown flag: --head"},
		{"export: data for cancer", []string{"export", "cancer", "--data", dir, "--output", filepath.Join(out, "x.npy")}, "--data applies to the mnist dataset only, not cancer"},
		{"export: output into a missing directory", []string{"export", "cancer", "--output", filepath.Join(dir, "none", "x.npy")}, "--output $DIR/none/x.npy: no directory $DIR/none to write it in"},
		{"bench: unknown workload", []string{"bench", "--workload", "resnet"}, "unknown workload \"resnet\"; valid workloads: all, article, bigru, cnn, gru, lstm, mlp, predict"},
		{"bench: steps 0", []string{"bench", "--steps", "0"}, "--steps must be positive, got 0"},
		{"bench: threads 0", []string{"bench", "--threads", "0"}, "--threads must be positive, got 0"},
		{"bench: profile into a missing directory", []string{"bench", "--workload", "mlp", "--steps", "1", "--cpuprofile", filepath.Join(dir, "none", "cpu.out")}, "--cpuprofile $DIR/none/cpu.out: no directory $DIR/none to write it in"},
	}
	before, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		printed, err := runCLI(t, c.args...)
		want := strings.ReplaceAll(c.want, "$DIR", dir)
		switch {
		case err == nil:
			t.Errorf("%s: accepted; want an error containing %q", c.name, want)
		case !strings.Contains(err.Error(), want):
			t.Errorf("%s: got %q, want it to contain %q", c.name, err, want)
		case printed != "":
			t.Errorf("%s: printed %q before failing", c.name, printed)
		}
	}
	after, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("the failed commands left files: %d entries before, %d after", len(before), len(after))
	}
	t.Logf("%d cases", len(cases))
}
