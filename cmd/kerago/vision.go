package main

import (
	"fmt"
	"io"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago"
	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train"
)

// images turns a dataset of 0–255 pixels into a float32 (N, H, W, 1)
// tensor scaled to [0, 1].
func images(d *kerago.Dataset) *tensor.Dense {
	shape := append([]int{len(d.X)}, d.Shape...)
	data := make([]float32, 0, len(d.X)*len(d.X[0]))
	for _, row := range d.X {
		for _, v := range row {
			data = append(data, float32(v/255))
		}
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// mnistModel is the demo CNN: mnistBase → Dropout → Dense(softmax), where
// the head is GlobalAveragePooling2D (gap), GlobalMaxPooling2D (gmp) or
// Flatten. Flatten hands the Dense layer 8×8×128 = 8192 features (81,930
// weights); global pooling hands it 128 (1,290 weights), the difference the
// summary shows.
func mnistModel(head string, seed uint64) (*train.Model, error) {
	in := graph.Input(28, 28, 1)
	x, err := mnistBase(in, head)
	if err != nil {
		return nil, err
	}
	x = layers.NewDropout(0.25).Apply(x)
	out := layers.NewDense(10, layers.WithActivation("softmax")).Apply(x)
	return train.NewModel(in, out, train.Seed(seed), train.Name("mnist_cnn"))
}

// mnistBase is the demo CNN's convolutional base on in: Conv2D(32, 5×5) →
// MaxPooling2D → Conv2D(128, 5×5) → BatchNormalization → head.
func mnistBase(in *graph.Tensor, head string) (*graph.Tensor, error) {
	x := layers.NewConv2D(32, 5, layers.WithActivation("relu")).Apply(in)
	x = layers.NewMaxPooling2D(2).Apply(x)
	x = layers.NewConv2D(128, 5, layers.WithActivation("relu")).Apply(x)
	x = layers.NewBatchNormalization().Apply(x)
	switch head {
	case "gap":
		return layers.NewGlobalAveragePooling2D().Apply(x), nil
	case "gmp":
		return layers.NewGlobalMaxPooling2D().Apply(x), nil
	case "flatten":
		return layers.NewFlatten().Apply(x), nil
	}
	return nil, fmt.Errorf("unknown head %q; valid heads: flatten, gap, gmp", head)
}

// mnistData is the embedded MNIST subset (or the full files in cfg.data)
// as the CNN takes it: images scaled to [0, 1], labels.
func mnistData(cfg demoConfig) (demoSplit, error) {
	tr, te, err := kerago.MNIST()
	if cfg.data != "" {
		tr, te, err = kerago.LoadMNIST(cfg.data)
	}
	if err != nil {
		return demoSplit{}, err
	}
	return imageSplit(tr, te, "samples"), nil
}

// imageSplit is the split of two image datasets as the CNN takes it:
// images scaled to [0, 1], labels; unit names the samples.
func imageSplit(tr, te *kerago.Dataset, unit string) demoSplit {
	return demoSplit{trX: images(tr), trY: tr.Y, teX: images(te), teY: te.Y, nTrain: len(tr.X), nTest: len(te.X), unit: unit, classes: len(tr.Classes)}
}

// runMNIST trains the CNN on the embedded MNIST subset (or the full files
// in --data) and scores it on the test images.
func runMNIST(cfg demoConfig, out io.Writer) (trained, error) {
	s, err := mnistData(cfg)
	if err != nil {
		return trained{}, err
	}
	m, err := mnistModel(cfg.head, cfg.seed)
	if err != nil {
		return trained{}, err
	}
	return fitAndScore(m, cfg, out, "sparse_categorical_crossentropy", s)
}
