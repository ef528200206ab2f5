package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// ModelCheckpoint saves the model (or its weights) during Fit, as Keras 3's
// ModelCheckpoint:
//   - FilePath may hold Python format fields, filled in at each save:
//     {epoch} (counting from 1, as Keras), {batch} (from 1, with SaveFreq)
//     and any logged value by name ({val_loss}, {accuracy}); each with an
//     optional format spec [0][width][.precision][d|f|e|g], e.g.
//     "model-{epoch:02d}-{val_loss:.4f}.keras". "{{" and "}}" are braces.
//     A value without a spec is written as Python's str() writes a float.
//   - A whole model goes to a .keras file (SaveModel); with SaveWeightsOnly
//     the weights go to a file SaveWeights writes (".weights.h5" Keras 3's
//     weights, kerago's own format for other names). Both are atomic.
//   - SaveFreq 0 saves at each epoch's end; n > 0 every n training batches
//     (the logs then are the running training means, without "val_").
//   - With SaveBestOnly a save happens only when Monitor (default
//     "val_loss"; Mode as EarlyStopping's) beats the best value saved so
//     far, which starts at InitialValueThreshold when set. As in Keras the
//     best value carries over from one Fit call to the next.
//
// Everything is checked when Fit starts: the file name's extension, the
// pattern's syntax, a field naming a value this Fit never logs, and a
// Monitor it never logs (with SaveBestOnly). A save that fails stops Fit
// with the error (see Failer). Verbose > 0 prints Keras's messages to Out
// (os.Stdout if nil).
type ModelCheckpoint struct {
	BaseCallback
	FilePath              string
	Monitor               string
	Mode                  string
	SaveBestOnly          bool
	SaveWeightsOnly       bool
	SaveFreq              int
	InitialValueThreshold *float64
	Verbose               int
	Out                   io.Writer

	// Saved lists the files written, in order (a pattern without fields
	// repeats its one name).
	Saved []string

	fields   []pathField
	op       monitorOp
	best     float64
	hasBest  bool
	started  bool
	model    *Model
	epoch    int
	seen     int // batches since the last save (SaveFreq > 0)
	lastSeen int // the last batch seen, -1 at the start
	err      error
}

// CheckParams checks the file name and the pattern against what the Fit
// logs, the mode, and SaveFreq.
func (c *ModelCheckpoint) CheckParams(p Params) error {
	switch {
	case c.FilePath == "":
		return errors.New("ModelCheckpoint: no FilePath given")
	case c.SaveWeightsOnly && isExt(c.FilePath, ".keras"):
		return errors.Errorf("ModelCheckpoint: FilePath %s: with SaveWeightsOnly the weights go to a .weights.h5 file (or kerago's weights file), not a .keras file", c.FilePath)
	case !c.SaveWeightsOnly && !isExt(c.FilePath, ".keras"):
		return errors.Errorf("ModelCheckpoint: FilePath %s: a whole model is saved as a .keras file (set SaveWeightsOnly for weights)", c.FilePath)
	case c.SaveFreq < 0:
		return errors.Errorf("ModelCheckpoint: SaveFreq must be 0 (each epoch) or a positive number of batches, got %d", c.SaveFreq)
	}
	logged := p
	if c.SaveFreq > 0 {
		logged.Validation = false // batch logs hold the training values only
	}
	fields, err := parsePathPattern(c.FilePath, loggedNames(logged), c.SaveFreq > 0)
	if err != nil {
		return errors.Wrapf(err, "ModelCheckpoint: FilePath %q", c.FilePath)
	}
	monitor := orDefault(c.Monitor, "val_loss")
	if !c.SaveBestOnly {
		// The monitored value matters only with SaveBestOnly; the mode is
		// checked all the same.
		monitor = "loss"
		logged = Params{Metrics: []string{"loss"}}
	}
	op, err := newMonitorOp("ModelCheckpoint", monitor, c.Mode, 0, logged)
	if err != nil {
		return err
	}
	if t := c.InitialValueThreshold; t != nil && math.IsNaN(*t) {
		return errors.New("ModelCheckpoint: InitialValueThreshold is NaN")
	}
	c.fields, c.op = fields, op
	return nil
}

// OnTrainBegin keeps the model; the best value starts at
// InitialValueThreshold on the first Fit only.
func (c *ModelCheckpoint) OnTrainBegin(m *Model, _ Params) {
	c.Monitor = orDefault(c.Monitor, "val_loss")
	c.model, c.err, c.seen, c.lastSeen = m, nil, 0, -1
	if !c.started {
		c.started = true
		if c.InitialValueThreshold != nil {
			c.best, c.hasBest = *c.InitialValueThreshold, true
		}
	}
}

// OnEpochBegin records the epoch (for {epoch} in batch saves).
func (c *ModelCheckpoint) OnEpochBegin(epoch int) { c.epoch = epoch }

// OnBatchEnd saves every SaveFreq batches (SaveFreq > 0).
func (c *ModelCheckpoint) OnBatchEnd(batch int, logs Logs) {
	if c.SaveFreq <= 0 || c.err != nil {
		return
	}
	if batch <= c.lastSeen {
		c.seen += batch + 1
	} else {
		c.seen += batch - c.lastSeen
	}
	c.lastSeen = batch
	if c.seen >= c.SaveFreq {
		c.seen = 0
		c.save(c.epoch, batch, logs)
	}
}

// OnEpochEnd saves at the end of each epoch (SaveFreq 0).
func (c *ModelCheckpoint) OnEpochEnd(epoch int, logs Logs) {
	if c.SaveFreq == 0 && c.err == nil {
		c.save(epoch, -1, logs)
	}
}

// Err is the error of a failed save.
func (c *ModelCheckpoint) Err() error { return c.err }

// save saves the model if it should (Keras's _save_model); batch is -1 for
// an epoch's save.
func (c *ModelCheckpoint) save(epoch, batch int, logs Logs) {
	path := formatPath(c.fields, epoch+1, batch+1, logs)
	out := c.Out
	if out == nil {
		out = os.Stdout
	}
	if c.SaveBestOnly {
		cur, ok := logs.Get(c.Monitor)
		if ok { // Keras saves (with a warning) when the value is missing
			best := "None"
			if c.hasBest {
				best = fmt.Sprintf("%.5f", c.best)
			}
			if !c.op.improved(cur, c.best, c.hasBest) {
				if c.Verbose > 0 {
					fmt.Fprintf(out, "\nEpoch %d: %s did not improve from %s\n", epoch+1, c.Monitor, best)
				}
				return
			}
			if c.Verbose > 0 {
				fmt.Fprintf(out, "\nEpoch %d: %s improved from %s to %.5f, saving model to %s\n", epoch+1, c.Monitor, best, cur, path)
			}
			c.best, c.hasBest = cur, true
		}
	} else if c.Verbose > 0 {
		fmt.Fprintf(out, "\nEpoch %d: saving model to %s\n", epoch+1, path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			c.err = errors.Wrap(err, "ModelCheckpoint")
			return
		}
	}
	var err error
	if c.SaveWeightsOnly {
		err = c.model.SaveWeights(path)
	} else {
		err = c.model.SaveModel(path)
	}
	if err != nil {
		c.err = errors.Wrapf(err, "ModelCheckpoint: epoch %d", epoch+1)
		return
	}
	c.Saved = append(c.Saved, path)
	if c.Verbose > 0 {
		fmt.Fprintf(out, "\nEpoch %d: finished saving model to %s\n", epoch+1, path)
	}
}

// pathField is a piece of a file name pattern: literal text, or a field
// (name) and its Go format verb ("" for Python's str()).
type pathField struct {
	text, name, verb string
}

// specRE is the format specs a field may carry: [0][width][.precision][type].
var specRE = regexp.MustCompile(`^(0?)([0-9]*)(\.[0-9]+)?([dfeg]?)$`)

// parsePathPattern splits a Python format pattern into pieces, refusing bad
// syntax and fields naming neither "epoch" (nor "batch", when batch is set)
// nor one of names.
func parsePathPattern(pattern string, names []string, batch bool) ([]pathField, error) {
	var out []pathField
	var lit strings.Builder
	for i := 0; i < len(pattern); i++ {
		ch := pattern[i]
		switch {
		case ch == '{' && strings.HasPrefix(pattern[i:], "{{"), ch == '}' && strings.HasPrefix(pattern[i:], "}}"):
			lit.WriteByte(ch)
			i++
		case ch == '}':
			return nil, errors.Errorf("a single } at offset %d (write }} for a brace)", i)
		case ch == '{':
			end := strings.IndexByte(pattern[i:], '}')
			if end < 0 {
				return nil, errors.Errorf("the field at offset %d is not closed by }", i)
			}
			name, spec, _ := strings.Cut(pattern[i+1:i+end], ":")
			isInt := name == "epoch" || (batch && name == "batch")
			if !isInt && !slices.Contains(names, name) {
				valid := append([]string{"epoch"}, names...)
				if batch {
					valid = append(valid, "batch")
				}
				return nil, errors.Errorf("field {%s} names a value this Fit never logs; it can name %s", name, strings.Join(valid, ", "))
			}
			sm := specRE.FindStringSubmatch(spec)
			if sm == nil {
				return nil, errors.Errorf("field {%s}: format spec %q is not [0][width][.precision][d|f|e|g]", name, spec)
			}
			if sm[4] == "d" && !isInt {
				return nil, errors.Errorf("field {%s}: format d needs an integer, and %s is a float (use f or e)", name, name)
			}
			verb := ""
			switch {
			case sm[4] != "":
				verb = "%" + sm[1] + sm[2] + sm[3] + sm[4]
			case isInt:
				verb = "%" + sm[1] + sm[2] + "d"
			case sm[3] != "":
				verb = "%" + sm[1] + sm[2] + sm[3] + "g"
			case sm[2] != "":
				verb = "%" + sm[1] + sm[2] + "s"
			}
			out = append(out, pathField{text: lit.String()}, pathField{name: name, verb: verb})
			lit.Reset()
			i += end
		default:
			lit.WriteByte(ch)
		}
	}
	return append(out, pathField{text: lit.String()}), nil
}

// formatPath fills the fields in with epoch, batch and the logged values.
func formatPath(fields []pathField, epoch, batch int, logs Logs) string {
	var b strings.Builder
	for _, f := range fields {
		if f.name == "" {
			b.WriteString(f.text)
			continue
		}
		var v float64
		isInt := true
		switch f.name {
		case "epoch":
			v = float64(epoch)
		case "batch":
			v = float64(batch)
		default:
			v, _ = logs.Get(f.name)
			isInt = false
		}
		switch {
		case strings.HasSuffix(f.verb, "d"):
			fmt.Fprintf(&b, f.verb, int(v))
		case strings.HasSuffix(f.verb, "s"):
			fmt.Fprintf(&b, f.verb, pythonFloat(v))
		case f.verb != "":
			fmt.Fprintf(&b, f.verb, v)
		case isInt:
			b.WriteString(strconv.Itoa(int(v)))
		default:
			b.WriteString(pythonFloat(v))
		}
	}
	return b.String()
}

// pythonFloat writes v as Python's str() writes a float: the shortest
// digits that read back to v, in scientific notation below 1e-4 and from
// 1e16 on, with ".0" on whole numbers.
func pythonFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	if a := math.Abs(v); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(v, 'e', -1, 64)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
