package main

import (
	"io"

	"github.com/kerago/kerago"
	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train"
)

// runWords classifies a word's language (en, es, nl, pl) from its letters:
// Embedding(48, 64, mask_zero) → Bidirectional(GRU(96, return_sequences,
// dropout 0.3)) → GlobalMaxPooling1D → Dropout(0.5) → Dense(4, softmax),
// trained with Adam on the first 80 % of words_language and scored on the
// last 20 %. The learning rate (--lr, 6e-3 by default) is the peak of a
// cosine schedule over the epochs (train.CosineDecay, down to 5 % of the
// peak): the peak rate was the setting that mattered most when tuning
// (1.5e-3 underfits), and the annealing settles the weights by the end.
func runWords(cfg demoConfig, out io.Writer) (trained, error) {
	d, err := kerago.WordsLanguage()
	if err != nil {
		return trained{}, err
	}
	s := wordsSplit(d)
	in := graph.Input(len(d.X[0]))
	x := layers.NewEmbedding(len(d.Alphabet)+1, 64, layers.WithMaskZero()).Apply(in)
	x = layers.NewBidirectional(layers.NewGRU(96, layers.WithReturnSequences(), layers.WithDropoutRate(0.3))).Apply(x)
	x = layers.NewGlobalMaxPooling1D().Apply(x)
	x = layers.NewDropout(0.5).Apply(x)
	o := layers.NewDense(s.classes, layers.WithActivation("softmax")).Apply(x)
	m, err := train.NewModel(in, o, train.Seed(cfg.seed), train.Name("words_bigru"))
	if err != nil {
		return trained{}, err
	}
	sched := &train.LearningRateScheduler{Schedule: train.CosineDecay(cfg.lr, 0.05, cfg.epochs)}
	return fitAndScore(m, cfg, out, "sparse_categorical_crossentropy", s, train.Callbacks(sched))
}

// wordsSplit is the words dataset split as the demo trains on it: the
// first 80 % of the words, and the last 20 %.
func wordsSplit(d *kerago.Dataset) demoSplit {
	cut := len(d.X) * 8 / 10
	return splitOf(d.Slice(0, cut), d.Slice(cut, len(d.X)), "words")
}

// wordsData is the words dataset's split (see wordsSplit).
func wordsData(demoConfig) (demoSplit, error) {
	d, err := kerago.WordsLanguage()
	if err != nil {
		return demoSplit{}, err
	}
	return wordsSplit(d), nil
}
