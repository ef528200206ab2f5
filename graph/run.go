package graph

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// RunOnce compiles net as spec says, writes feeds (row-major, one slice per
// Program feed) and runs the program once. Tests use it for golden values;
// the training loop keeps its programs instead.
func (n *Network) RunOnce(spec ProgramSpec, feeds [][]float64) (*Program, error) {
	p, err := NewProgram(n, spec)
	if err != nil {
		return nil, err
	}
	if err := p.SetFeeds(feeds); err != nil {
		return nil, err
	}
	if err := p.Run(true); err != nil {
		return nil, err
	}
	return p, nil
}

// SetFeeds copies row-major float64 values into the program's feeds.
func (p *Program) SetFeeds(feeds [][]float64) error {
	bufs := p.Feeds()
	if len(feeds) != len(bufs) {
		return errors.Errorf("%d feeds given, the program has %d", len(feeds), len(bufs))
	}
	for i, b := range bufs {
		if len(feeds[i]) != b.Shape().TotalSize() {
			return errors.Errorf("feed %d: %d values, shape %v needs %d", i, len(feeds[i]), b.Shape(), b.Shape().TotalSize())
		}
		copyInto(b, feeds[i])
	}
	return nil
}

// Float64s returns a float32 or float64 tensor's values as a new float64 slice.
func Float64s(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}
