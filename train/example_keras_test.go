package train_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train"
)

// A model trained and saved by Keras 3 (model.save("mlp.keras")) loads in
// Go with its architecture and weights, and predicts.
func ExampleLoadModel() {
	m, err := train.LoadModel("../testdata/keras/mlp.keras")
	if err != nil {
		fmt.Println(err)
		return
	}
	x := tensor.New(tensor.WithShape(1, 20), tensor.WithBacking(make([]float32, 20)))
	probs, err := m.Predict(x)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Name(), len(m.Layers()), "layers", len(m.Weights()), "weights; output shape", probs.Shape())
	// Output: mlp 4 layers 4 weights; output shape (1, 3)
}

// A model built in Go is saved as a .keras file that Keras 3 loads with
// keras.saving.load_model, and that LoadModel reads back.
func ExampleModel_SaveModel() {
	in := graph.NamedInput("features", 4)
	x := layers.NewDense(8, layers.WithActivation("relu"), layers.WithName("hidden")).Apply(in)
	out := layers.NewDense(2, layers.WithActivation("softmax"), layers.WithName("probs")).Apply(x)
	m, err := train.NewModel(in, out, train.Name("go_model"))
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "kerago")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "go_model.keras")
	if err := m.SaveModel(path); err != nil {
		fmt.Println(err)
		return
	}
	back, err := train.LoadModel(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(back.Name(), back.Weights()[0].Name(), []int(back.Weights()[0].Shape()))
	// Output: go_model hidden/kernel [4 8]
}

// Weights exchanged alone: a Keras 3 .weights.h5 file (model.save_weights)
// or an .npz of model.get_weights() loads into a model of the same
// architecture, here rebuilt from Keras's own configuration
// (model.to_json(), kept in the fixture's JSON).
func ExampleModelFromKerasConfig() {
	raw, err := os.ReadFile("../testdata/keras/gru_v1.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	var fixture struct {
		ModelConfig json.RawMessage `json:"model_config"`
	}
	if err := json.Unmarshal(raw, &fixture); err != nil {
		fmt.Println(err)
		return
	}
	m, err := train.ModelFromKerasConfig(fixture.ModelConfig)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, path := range []string{"../testdata/keras/gru_v1.weights.h5", "../testdata/keras/gru_v1.npz"} {
		if err := m.LoadWeights(path); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(m.Name(), len(m.Weights()), "weights")
	// Output: gru_v1 5 weights
}
