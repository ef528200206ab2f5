package train

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// Weight files hold a magic line, one JSON header line listing each weight's
// name and shape, then every weight's values as little-endian float64, in
// header order (the model's weight order, as Keras's topological loading).
const weightsMagic = "KERAGO-WEIGHTS-1\n"

type weightsHeader struct {
	Model   string         `json:"model"`
	Weights []weightRecord `json:"weights"`
}

type weightRecord struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// SaveWeights writes every weight of the model to path, in the format its
// extension names: ".weights.h5" (or ".h5") Keras 3's weights file, which
// Keras's model.load_weights reads; ".npz" an NPZ file in get_weights()
// order (SaveWeightsNPZ); any other path kerago's own weight file. The file
// is written under a temporary name and renamed into place, so a failure
// never leaves a half-written file at path.
func (m *Model) SaveWeights(path string) (err error) {
	if isNPZ(path) {
		return m.SaveWeightsNPZ(path)
	}
	m.weightsMu.RLock()
	defer m.weightsMu.RUnlock()
	if isExt(path, ".h5") {
		defer guard("SaveWeights", &err)
		return errors.Wrap(m.saveKerasWeights(path), "SaveWeights")
	}
	return errors.Wrap(writeAtomic(path, m.writeWeights), "SaveWeights")
}

// writeWeights writes the model's weights to w in kerago's own format.
func (m *Model) writeWeights(w io.Writer) error {
	h := weightsHeader{Model: m.name}
	for _, wt := range m.Weights() {
		h.Weights = append(h.Weights, weightRecord{Name: wt.Name(), Shape: wt.Shape()})
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if _, err = io.WriteString(w, weightsMagic+string(hdr)+"\n"); err != nil {
		return err
	}
	buf := make([]byte, 8)
	for _, wt := range m.Weights() {
		for _, v := range wt.Float64s() {
			binary.LittleEndian.PutUint64(buf, math.Float64bits(v))
			if _, err = w.Write(buf); err != nil {
				return err
			}
		}
	}
	return nil
}

// LoadWeights reads a file written by SaveWeights into the model's weights,
// matched by position as Keras's load_weights does; a path ending in ".npz"
// is read as an NPZ file (LoadWeightsNPZ), one ending in ".h5" as a Keras
// weights file — Keras 3's layout (layers/<class key>/vars, matched by
// class and order) or the legacy one (layer_names and weight_names, the
// weighted layers matched in order). The whole file is read and checked
// (weight count and every shape) before any weight changes.
func (m *Model) LoadWeights(path string) (err error) {
	if isNPZ(path) {
		return m.LoadWeightsNPZ(path)
	}
	defer guard("LoadWeights", &err)
	if isExt(path, ".h5") {
		return errors.Wrap(m.loadH5Weights(path), "LoadWeights")
	}
	f, err := os.Open(path)
	if err != nil {
		return errors.Wrap(err, "LoadWeights")
	}
	defer f.Close()
	return m.readWeights(bufio.NewReader(f), path)
}

// readWeights reads a weight file in kerago's own format from r (path names
// it in errors) into the model's weights.
func (m *Model) readWeights(r *bufio.Reader, path string) error {
	magic := make([]byte, len(weightsMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != weightsMagic {
		return errors.Errorf("LoadWeights: %s is not a kerago weight file", path)
	}
	line, err := r.ReadBytes('\n')
	if err != nil {
		return errors.Errorf("LoadWeights: %s: truncated header", path)
	}
	var h weightsHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return errors.Wrapf(err, "LoadWeights: %s: bad header", path)
	}
	ws := m.Weights()
	if len(h.Weights) != len(ws) {
		return errors.Errorf("LoadWeights: you are trying to load a weight file containing %d weights into a model with %d weights", len(h.Weights), len(ws))
	}
	values := make([][]float64, len(ws))
	buf := make([]byte, 8)
	for i, rec := range h.Weights {
		want := ws[i].Shape()
		if !want.Equal(rec.Shape) {
			return errors.Errorf("LoadWeights: weight %d (%s in the file, %s in the model) has shape %v in the file but %v in the model", i, rec.Name, ws[i].Name(), rec.Shape, []int(want))
		}
		values[i] = make([]float64, want.Size())
		for j := range values[i] {
			if _, err := io.ReadFull(r, buf); err != nil {
				return errors.Errorf("LoadWeights: %s is truncated (in weight %s)", path, rec.Name)
			}
			values[i][j] = math.Float64frombits(binary.LittleEndian.Uint64(buf))
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return errors.Errorf("LoadWeights: %s has data past its last weight", path)
	}
	for i, w := range ws {
		if err := w.SetFloat64s(values[i]); err != nil {
			return errors.Wrap(err, "LoadWeights")
		}
	}
	return nil
}

// isNPZ reports whether path names an NPZ file by its extension.
func isNPZ(path string) bool { return strings.EqualFold(filepath.Ext(path), ".npz") }
