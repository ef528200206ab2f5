package train

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/train/hdf5"
)

// Keras's model files, chosen by extension: a .keras file is a zip of
// config.json (the model's configuration), metadata.json and
// model.weights.h5 (the weights in Keras 3's layout); a .h5 file is Keras
// 2's legacy full model (the configuration in the model_config attribute,
// the weights under model_weights, listed by layer_names and each layer's
// weight_names); a .weights.h5 file holds Keras 3's weights alone.

// kerasVersion is the Keras version kerago's files say they are written
// for: the format of Keras 3.
const kerasVersion = "3.16.0"

// maxConfigSize bounds the JSON read from a .keras file's config.json.
const maxConfigSize = 64 << 20

// isExt reports whether path ends in ext, ignoring case.
func isExt(path, ext string) bool { return strings.HasSuffix(strings.ToLower(path), ext) }

// LoadModel reads a whole model — its architecture and its weights — from a
// .keras file (Keras 3's format, and kerago's own) or a legacy Keras 2 .h5
// file. The layers must be ones kerago has (or registered with
// layers.Register); opts set what the file does not (DType, Seed). Every
// error names the file and what is wrong in it.
func LoadModel(path string, opts ...ModelOption) (m *Model, err error) {
	defer guard("LoadModel", &err)
	switch {
	case isExt(path, ".keras"):
		m, err = loadKeras(path, opts)
	case isExt(path, ".h5"):
		m, err = loadLegacyH5(path, opts)
	default:
		return nil, errors.Errorf("LoadModel: %s: the extension names no model format (.keras or .h5)", path)
	}
	return m, errors.Wrapf(err, "LoadModel %s", path)
}

// loadKeras reads a .keras zip.
func loadKeras(path string, opts []ModelOption) (*Model, error) {
	zr, err := zip.OpenReader(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return nil, err
	}
	if err != nil {
		return nil, errors.Errorf("not a .keras (zip) file: %v", err)
	}
	defer zr.Close()
	cfg, err := zipEntry(&zr.Reader, "config.json", maxConfigSize)
	if err != nil {
		return nil, err
	}
	m, err := ModelFromKerasConfig(cfg, opts...)
	if err != nil {
		return nil, err
	}
	// Every other entry holds little more than the weights' values (the
	// weight files) or a few copies of them (the optimizer's slots, in
	// kerago.json): their decompressed sizes are bounded by that, plus room
	// for the rest (configuration, the sample order).
	params := int64(m.CountParams())
	limit := 8*params + maxConfigSize
	var st *savedState
	if raw, err := optionalZipEntry(&zr.Reader, keragoEntry, 128*params+4*maxConfigSize); err != nil {
		return nil, err
	} else if raw != nil {
		if st, err = parseState(raw); err != nil {
			return nil, err
		}
		// The saved dtype and seed come before the caller's options.
		if m, err = ModelFromKerasConfig(cfg, append(st.modelOptions(), opts...)...); err != nil {
			return nil, err
		}
	}
	raw, err := zipEntry(&zr.Reader, "model.weights.h5", limit)
	if err != nil {
		return nil, err
	}
	f, err := hdf5.Read(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return nil, errors.Wrap(err, "model.weights.h5")
	}
	ws, err := m.kerasWeightsFrom(f)
	if err != nil {
		return nil, errors.Wrap(err, "model.weights.h5")
	}
	if err := m.SetWeights(ws); err != nil {
		return nil, err
	}
	if raw, err := optionalZipEntry(&zr.Reader, fullWeightsEntry, limit); err != nil {
		return nil, err
	} else if raw != nil {
		if err := m.readWeights(bufio.NewReader(bytes.NewReader(raw)), fullWeightsEntry); err != nil {
			return nil, err
		}
	}
	if st != nil {
		return m, st.restore(m)
	}
	return m, nil
}

// fullWeightsEntry holds a float64 model's weights in full precision, in
// kerago's own weight format (model.weights.h5 holds them as float32, as
// Keras's files do); LoadModel prefers it.
const fullWeightsEntry = "kerago.weights"

// zipEntry reads one entry of a zip, refusing one larger than limit
// (whatever its header claims, no more than limit+1 bytes are read).
func zipEntry(zr *zip.Reader, name string, limit int64) ([]byte, error) {
	for _, f := range zr.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, errors.Errorf("%s: %v", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, limit+1))
		if err != nil {
			return nil, errors.Errorf("%s: %v", name, err)
		}
		if int64(len(b)) > limit {
			return nil, errors.Errorf("%s is larger than %d bytes", name, limit)
		}
		return b, nil
	}
	return nil, errors.Errorf("no %s in the archive", name)
}

// optionalZipEntry is zipEntry for an entry the archive may lack: nil and
// no error when it does; an entry that is there but unreadable (too large,
// a bad checksum) is an error.
func optionalZipEntry(zr *zip.Reader, name string, limit int64) ([]byte, error) {
	for _, f := range zr.File {
		if f.Name == name {
			return zipEntry(zr, name, limit)
		}
	}
	return nil, nil
}

// SaveModel writes the whole model to path as a .keras file that Keras 3
// loads (keras.saving.load_model) and LoadModel reads back: config.json,
// metadata.json and model.weights.h5, and kerago.json, which Keras ignores:
// the compile configuration, the optimizer's state and the random sources'
// states, so that training resumes exactly after LoadModel (Fit with
// InitialEpoch). A model compiled with a loss or optimizer kerago cannot
// rebuild by name (a losses.Func, an optimizer of the program's own) cannot
// be saved whole. The file is written under a temporary name and renamed
// into place.
func (m *Model) SaveModel(path string) (err error) {
	defer guard("SaveModel", &err)
	if !isExt(path, ".keras") {
		return errors.Errorf("SaveModel: %s: a whole model is saved as a .keras file", path)
	}
	m.weightsMu.RLock() // weights, optimizer state and random sources of one step
	defer m.weightsMu.RUnlock()
	cfg, err := m.KerasConfig()
	if err != nil {
		return errors.Wrap(err, "SaveModel")
	}
	tree, err := m.kerasWeightsTree()
	if err != nil {
		return errors.Wrap(err, "SaveModel")
	}
	meta, err := json.Marshal(map[string]string{"keras_version": kerasVersion, "date_saved": time.Now().UTC().Format("2006-01-02@15:04:05")})
	if err != nil {
		return errors.Wrap(err, "SaveModel")
	}
	state, err := m.keragoState()
	if err != nil {
		return errors.Wrap(err, "SaveModel")
	}
	return errors.Wrap(writeAtomic(path, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		entries := []zipWrite{
			{"metadata.json", func(w io.Writer) error { _, err := w.Write(meta); return err }},
			{"config.json", func(w io.Writer) error { _, err := w.Write(cfg); return err }},
			{"model.weights.h5", tree.Write},
			{keragoEntry, func(w io.Writer) error { _, err := w.Write(state); return err }},
		}
		if m.dt == tensor.Float64 {
			entries = append(entries, zipWrite{fullWeightsEntry, m.writeWeights})
		}
		for _, e := range entries {
			ew, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Store, Modified: time.Now()})
			if err != nil {
				return err
			}
			if err := e.write(ew); err != nil {
				return errors.Wrap(err, e.name)
			}
		}
		return zw.Close()
	}), "SaveModel")
}

// zipWrite is one entry of a zip to write.
type zipWrite struct {
	name  string
	write func(io.Writer) error
}

// loadLegacyH5 reads a legacy Keras 2 full-model .h5 file.
func loadLegacyH5(path string, opts []ModelOption) (*Model, error) {
	f, err := hdf5.Open(path)
	if err != nil {
		return nil, err
	}
	v, ok := f.Root.Attr("model_config")
	cfg, isString := v.(string)
	if !ok || !isString {
		return nil, errors.New("no model_config attribute: not a Keras full-model .h5 file (load weights into a model with LoadWeights)")
	}
	m, err := ModelFromKerasConfig([]byte(cfg), opts...)
	if err != nil {
		return nil, err
	}
	ws, err := m.legacyWeightsFrom(f)
	if err != nil {
		return nil, err
	}
	return m, m.SetWeights(ws)
}

// legacyWeightsFrom reads the model's weights out of a legacy .h5 tree: the
// layers listed in layer_names that have weights (in order) give, through
// their weight_names, the weights of the model's layers that have weights
// (in order), as Keras's load_weights matches them.
func (m *Model) legacyWeightsFrom(f *hdf5.File) ([]*tensor.Dense, error) {
	root := f.Group("model_weights")
	if root == nil {
		root = f.Root
	}
	names, err := stringsAttr(root, "layer_names")
	if err != nil {
		return nil, err
	}
	type fileLayer struct {
		name    string
		weights []string
	}
	var fileLayers []fileLayer
	for _, n := range names {
		g := root.Group(n)
		if g == nil {
			return nil, errors.Errorf("layer_names lists %s, which has no group", n)
		}
		wn, err := stringsAttr(g, "weight_names")
		if err != nil {
			return nil, errors.Wrapf(err, "layer %s", n)
		}
		if len(wn) > 0 {
			fileLayers = append(fileLayers, fileLayer{n, wn})
		}
	}
	var mine []graph.Layer
	for _, l := range m.net.Layers() {
		if len(l.Weights()) > 0 {
			mine = append(mine, l)
		}
	}
	if len(mine) != len(fileLayers) {
		return nil, errors.Errorf("the file has %d layers with weights, the model %d", len(fileLayers), len(mine))
	}
	var out []*tensor.Dense
	for i, l := range mine {
		fl := fileLayers[i]
		ws := l.Weights()
		if len(fl.weights) != len(ws) {
			return nil, errors.Errorf("layer %s has %d weights, the file's layer %s %d", l.Name(), len(ws), fl.name, len(fl.weights))
		}
		for j, w := range ws {
			d := root.Dataset(fl.name + "/" + fl.weights[j])
			if d == nil {
				return nil, errors.Errorf("layer %s: no dataset %s", fl.name, fl.weights[j])
			}
			if !slices.Equal(d.Shape, w.Shape()) {
				return nil, errors.Errorf("weight %s: %s/%s has shape %v, the weight %v", w.Name(), fl.name, fl.weights[j], d.Shape, []int(w.Shape()))
			}
			out = append(out, datasetTensor(d))
		}
	}
	return out, nil
}

// stringsAttr is a list-of-strings attribute; an empty float64 array (what
// Keras writes for a layer without weights) is an empty list.
func stringsAttr(g *hdf5.Group, name string) ([]string, error) {
	v, ok := g.Attr(name)
	if !ok {
		return nil, errors.Errorf("no %s attribute", name)
	}
	switch s := v.(type) {
	case []string:
		return s, nil
	case string:
		return []string{s}, nil
	case []float64:
		if len(s) == 0 {
			return nil, nil
		}
	}
	return nil, errors.Errorf("attribute %s is %T, not a list of strings", name, v)
}

// loadH5Weights reads weights from an .h5 file into the model: Keras 3's
// layout (a layers group) or a legacy one (layer_names).
func (m *Model) loadH5Weights(path string) error {
	f, err := hdf5.Open(path)
	if err != nil {
		return err
	}
	var ws []*tensor.Dense
	if f.Group("layers") != nil {
		ws, err = m.kerasWeightsFrom(f)
	} else {
		ws, err = m.legacyWeightsFrom(f)
	}
	if err != nil {
		return errors.Wrapf(err, "%s", filepath.Base(path))
	}
	return m.SetWeights(ws)
}

// saveKerasWeights writes the model's weights as a Keras 3 .weights.h5 file.
func (m *Model) saveKerasWeights(path string) error {
	tree, err := m.kerasWeightsTree()
	if err != nil {
		return err
	}
	return writeAtomic(path, tree.Write)
}
