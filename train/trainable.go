package train

import (
	"strings"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
)

// SetTrainable freezes (false) or unfreezes (true) every layer of the
// model, as Keras's model.trainable = …: a frozen layer's weights get no
// gradient and no update, count as non-trainable in Summary, and a frozen
// BatchNormalization normalizes with its moving statistics. To freeze part
// of a model, call SetTrainable on its layers (Layer finds one by name).
// As in Keras, the change takes effect at the next Compile: Fit and
// TrainOnBatch refuse to run on a model whose trainable weights changed
// since Compile (Keras would silently go on training the weights it was
// compiled with).
func (m *Model) SetTrainable(trainable bool) {
	for _, l := range m.net.Layers() {
		if t, ok := l.(graph.Trainability); ok {
			t.SetTrainable(trainable)
		}
	}
}

// Layer returns the model's layer called name (Keras's get_layer), or an
// error listing the layer names.
func (m *Model) Layer(name string) (graph.Layer, error) {
	var names []string
	for _, l := range m.net.Layers() {
		if l.Name() == name {
			return l, nil
		}
		names = append(names, l.Name())
	}
	return nil, errors.Errorf("the model has no layer %q (its layers: %s)", name, strings.Join(names, ", "))
}

// TrainableWeights are the weights training updates, in model order
// (Keras's trainable_weights).
func (m *Model) TrainableWeights() []*graph.Weight { return m.weightsWhere(true) }

// NonTrainableWeights are the other weights: frozen layers' weights and
// weights no gradient reaches by design (BatchNormalization's moving
// statistics), in model order.
func (m *Model) NonTrainableWeights() []*graph.Weight { return m.weightsWhere(false) }

func (m *Model) weightsWhere(trainable bool) []*graph.Weight {
	var out []*graph.Weight
	for _, w := range m.net.Weights() {
		if w.Trainable() == trainable {
			out = append(out, w)
		}
	}
	return out
}

// trainableState is which of the model's weights are trainable now, in
// model order (Compile records it).
func (m *Model) trainableState() []bool {
	ws := m.net.Weights()
	out := make([]bool, len(ws))
	for i, w := range ws {
		out[i] = w.Trainable()
	}
	return out
}

// checkTrainable refuses to train a model whose layers were frozen or
// unfrozen since Compile, and a model with nothing to train. call names
// the entry point in the error.
func (m *Model) checkTrainable(call string) error {
	trainable := false
	for i, w := range m.net.Weights() {
		now := w.Trainable()
		if i < len(m.compiledTrainable) && now != m.compiledTrainable[i] {
			state := "frozen"
			if now {
				state = "unfrozen"
			}
			return errors.Errorf("%s: weight %s was %s after Compile; call Compile again for the change to take effect (as in Keras)", call, w.Name(), state)
		}
		trainable = trainable || now
	}
	if !trainable {
		return errors.Errorf("%s: the model has nothing to train: every layer is frozen (SetTrainable(false)); unfreeze a layer and Compile again", call)
	}
	return nil
}
