package train

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/train/optimizers"
)

// BackupAndRestore lets a Fit that was interrupted (an error, a cancelled
// Context, a killed process) be resumed, as Keras's BackupAndRestore: at the
// end of each epoch it saves the whole training state to Dir — the model
// with its optimizer's state and the shuffling and dropout sources, as
// SaveModel writes it (see resume.go), and the number of epochs completed.
// When Fit starts with a backup in Dir, the model is restored to it and
// training continues from the next epoch: the result is bit for bit that of
// an uninterrupted run.
//
// When training ends (all epochs done, or stopped by a callback through
// StopTraining, as Keras's on_train_end) the backup is deleted, unless
// KeepBackup is set; only the files BackupAndRestore wrote are removed, and
// Dir if it is then empty. Every file is written atomically, and the
// epoch's record names the model file, so a crash during a backup leaves
// the previous one whole. A backup that cannot be written or read stops Fit
// with the error (see Failer). The model must be one SaveModel can save (a
// kerago optimizer and losses known by name).
type BackupAndRestore struct {
	BaseCallback
	Dir        string
	KeepBackup bool

	model   *Model
	resumed int // the epoch restored, or -1
	err     error
}

// backupRecord is the backup's training_metadata.json: the epochs
// completed and the model file holding their state.
type backupRecord struct {
	Epoch int    `json:"epoch"`
	Model string `json:"model"`
}

// backupMetadata is the name of the backup's record in Dir (Keras's name).
const backupMetadata = "training_metadata.json"

// CheckParams refuses an empty Dir and one that is a file.
func (b *BackupAndRestore) CheckParams(Params) error {
	if b.Dir == "" {
		return errors.New("BackupAndRestore: no Dir given")
	}
	if st, err := os.Stat(b.Dir); err == nil && !st.IsDir() {
		return errors.Errorf("BackupAndRestore: Dir %s is a file, not a directory", b.Dir)
	}
	return nil
}

// OnTrainBegin restores the backup, if there is one.
func (b *BackupAndRestore) OnTrainBegin(m *Model, _ Params) {
	b.model, b.resumed, b.err = m, -1, nil
	if _, err := m.keragoState(); err != nil {
		b.err = errors.Wrap(err, "BackupAndRestore: the model cannot be backed up")
		return
	}
	rec, err := b.record()
	if err != nil || rec == nil {
		b.err = err
		return
	}
	if err := restoreTraining(m, filepath.Join(b.Dir, rec.Model)); err != nil {
		b.err = errors.Wrapf(err, "BackupAndRestore: restoring %s", b.Dir)
		return
	}
	b.resumed = rec.Epoch
}

// record reads the backup's record: nil when there is none.
func (b *BackupAndRestore) record() (*backupRecord, error) {
	raw, err := os.ReadFile(filepath.Join(b.Dir, backupMetadata))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, errors.Wrap(err, "BackupAndRestore")
	}
	var rec backupRecord
	if err := json.Unmarshal(raw, &rec); err != nil || rec.Epoch < 0 || rec.Model == "" || filepath.Base(rec.Model) != rec.Model {
		return nil, errors.Errorf("BackupAndRestore: %s is not a backup record (%s)", filepath.Join(b.Dir, backupMetadata), raw)
	}
	return &rec, nil
}

// resumeEpoch is the epoch Fit resumes at.
func (b *BackupAndRestore) resumeEpoch() (int, bool) { return b.resumed, b.resumed >= 0 }

// OnEpochEnd backs the training state up.
func (b *BackupAndRestore) OnEpochEnd(epoch int, _ Logs) {
	if b.err != nil {
		return
	}
	if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		b.err = errors.Wrap(err, "BackupAndRestore")
		return
	}
	prev, _ := b.record()
	rec := backupRecord{Epoch: epoch + 1, Model: "epoch-" + strconv.Itoa(epoch+1) + ".keras"}
	if err := b.model.SaveModel(filepath.Join(b.Dir, rec.Model)); err != nil {
		b.err = errors.Wrapf(err, "BackupAndRestore: epoch %d", epoch+1)
		return
	}
	raw, err := json.Marshal(rec)
	if err == nil {
		err = writeAtomic(filepath.Join(b.Dir, backupMetadata), func(w io.Writer) error { _, err := w.Write(raw); return err })
	}
	if err != nil {
		b.err = errors.Wrapf(err, "BackupAndRestore: epoch %d", epoch+1)
		return
	}
	if prev != nil && prev.Model != rec.Model {
		os.Remove(filepath.Join(b.Dir, prev.Model))
	}
}

// OnTrainEnd deletes the backup (unless KeepBackup).
func (b *BackupAndRestore) OnTrainEnd(Logs) {
	if b.KeepBackup || b.err != nil {
		return
	}
	if rec, err := b.record(); err == nil && rec != nil {
		os.Remove(filepath.Join(b.Dir, rec.Model))
	}
	os.Remove(filepath.Join(b.Dir, backupMetadata))
	os.Remove(b.Dir) // only if empty
}

// Err is the error of a backup or a restore that failed.
func (b *BackupAndRestore) Err() error { return b.err }

// restoreTraining puts the training state SaveModel wrote to path into m:
// the weights, the optimizer's learning rate and state, the random sources
// and the sample order. The weights and the optimizer's slots are matched
// by position, as LoadWeights matches them.
func restoreTraining(m *Model, path string) error {
	saved, err := LoadModel(path)
	if err != nil {
		return err
	}
	if saved.opt == nil || saved.opt.Name() != m.opt.Name() {
		return errors.Errorf("the backup was not trained with optimizer %s", m.opt.Name())
	}
	state, err := optimizers.SaveState(saved.opt, saved.Weights())
	if err != nil {
		return err
	}
	if len(state.Weights) != len(m.Weights()) {
		return errors.Errorf("the backup has %d weights, the model %d", len(state.Weights), len(m.Weights()))
	}
	for i, w := range m.Weights() {
		state.Weights[i].Name = w.Name()
	}
	if err := m.SetWeights(saved.GetWeights()); err != nil {
		return err
	}
	m.weightsMu.Lock()
	defer m.weightsMu.Unlock()
	if err := optimizers.LoadState(m.opt, m.Weights(), state); err != nil {
		return err
	}
	if optimizers.ScheduleOf(m.opt) == nil { // a schedule's rate follows the restored iterations
		m.opt.SetLearningRate(saved.opt.LearningRate())
	}
	for _, src := range [][2]interface {
		MarshalBinary() ([]byte, error)
		UnmarshalBinary([]byte) error
	}{{saved.dropoutSrc, m.dropoutSrc}, {saved.shuffleSrc, m.shuffleSrc}} {
		raw, err := src[0].MarshalBinary()
		if err != nil {
			return err
		}
		if err := src[1].UnmarshalBinary(raw); err != nil {
			return err
		}
	}
	m.order = append(m.order[:0], saved.order...)
	return nil
}
