package train

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Weight files hold a magic line, one JSON header line listing each weight's
// name and shape, then every weight's values as little-endian float64, in
// header order (the model's weight order, as Keras's topological loading),
// then (from version 2 on) the CRC-32C (Castagnoli) of every byte before it,
// as 4 little-endian bytes. Version 1 files, which have no checksum, are
// still read.
const (
	weightsMagic   = "KERAGO-WEIGHTS-2\n"
	weightsMagicV1 = "KERAGO-WEIGHTS-1\n"
)

// weightsCRC is the checksum's polynomial table.
var weightsCRC = crc32.MakeTable(crc32.Castagnoli)

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
	sum := crc32.New(weightsCRC)
	out := io.MultiWriter(w, sum)
	if _, err = io.WriteString(out, weightsMagic+string(hdr)+"\n"); err != nil {
		return err
	}
	for _, wt := range m.Weights() {
		vals := wt.Float64s()
		buf := make([]byte, 8*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
		}
		if _, err = out.Write(buf); err != nil {
			return err
		}
	}
	_, err = w.Write(binary.LittleEndian.AppendUint32(nil, sum.Sum32()))
	return err
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
// it in errors) into the model's weights: the whole file is read and checked
// (checksum, weight count, shapes, finite values that fit the model's dtype)
// before SetWeights changes any weight.
func (m *Model) readWeights(r *bufio.Reader, path string) error {
	ws, err := m.decodeWeights(r)
	if err != nil {
		return errors.Wrapf(err, "LoadWeights: %s", path)
	}
	return errors.Wrap(m.SetWeights(ws), "LoadWeights")
}

// decodeWeights reads kerago's weight format from r, one tensor per model
// weight; no allocation exceeds what the model's own weights need.
func (m *Model) decodeWeights(r *bufio.Reader) ([]*tensor.Dense, error) {
	sum := crc32.New(weightsCRC)
	magic := make([]byte, len(weightsMagic))
	if _, err := io.ReadFull(r, magic); err != nil || (string(magic) != weightsMagic && string(magic) != weightsMagicV1) {
		return nil, errors.New("not a kerago weight file")
	}
	checked := string(magic) == weightsMagic
	sum.Write(magic)
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		line, err = readLine(r, line)
	}
	if err != nil {
		return nil, errors.New("truncated header")
	}
	sum.Write(line)
	var h weightsHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return nil, errors.Wrap(err, "bad header")
	}
	model := m.Weights()
	if len(h.Weights) != len(model) {
		return nil, errors.Errorf("you are trying to load a weight file containing %d weights into a model with %d weights", len(h.Weights), len(model))
	}
	out := make([]*tensor.Dense, len(model))
	for i, rec := range h.Weights {
		want := model[i].Shape()
		if !want.Equal(rec.Shape) {
			return nil, errors.Errorf("weight %d (%s in the file, %s in the model) has shape %v in the file but %v in the model", i, rec.Name, model[i].Name(), rec.Shape, []int(want))
		}
		buf := make([]byte, 8*want.Size())
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, errors.Errorf("truncated (in weight %s)", rec.Name)
		}
		sum.Write(buf)
		vals := make([]float64, want.Size())
		for j := range vals {
			vals[j] = math.Float64frombits(binary.LittleEndian.Uint64(buf[8*j:]))
		}
		out[i] = tensor.New(tensor.WithShape(want...), tensor.WithBacking(vals))
	}
	if checked {
		var stored [4]byte
		if _, err := io.ReadFull(r, stored[:]); err != nil {
			return nil, errors.New("truncated (no checksum after the last weight)")
		}
		if got, want := binary.LittleEndian.Uint32(stored[:]), sum.Sum32(); got != want {
			return nil, errors.Errorf("the file is corrupt: its CRC-32C is %08x, its contents give %08x", got, want)
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return nil, errors.New("data past the last weight")
	}
	return out, nil
}

// readLine finishes reading a line longer than r's buffer, of which first
// has been read, bounded at 64 MiB.
func readLine(r *bufio.Reader, first []byte) ([]byte, error) {
	line := append([]byte(nil), first...)
	for len(line) < 64<<20 {
		more, err := r.ReadSlice('\n')
		line = append(line, more...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
	return nil, errors.New("header line longer than 64 MiB")
}

// isNPZ reports whether path names an NPZ file by its extension.
func isNPZ(path string) bool { return strings.EqualFold(filepath.Ext(path), ".npz") }
