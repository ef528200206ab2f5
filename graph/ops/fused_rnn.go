package ops

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// RecurrentSpec configures a fused recurrent op.
type RecurrentSpec struct {
	// Units is the state size H.
	Units int
	// ResetAfter selects GRU's reset-after form (TF2/Keras 3, cuDNN); false
	// is Keras 2.2's reset-before form. Ignored by LSTM.
	ResetAfter bool
	// HardSigmoid makes the gates use Keras 2's hard_sigmoid,
	// clip(0.2x+0.5, 0, 1), instead of the sigmoid.
	HardSigmoid bool
	// GoBackwards reads the sequence from its last step to its first.
	GoBackwards bool
}

// FusedGRU runs a Keras GRU (gate order z, r, h; activation tanh) over a
// whole sequence as one node, with a hand-written backward pass.
//
// x is (N, T, F); h0 (N, H); kernel (F, 3H); recurrent (H, 3H); bias is
// (2, 3H) with ResetAfter (input biases, then recurrent biases), (3H)
// without, or nil for no bias; mask is (N, T) of 0/1 or nil. The result is
// (N, T, H): the state after each step in processing order (with
// GoBackwards, step 0 is the last input step). At a masked step the state
// is carried over unchanged. Gradients flow to x, h0, kernel, recurrent and
// bias; the mask gets none.
func FusedGRU(spec RecurrentSpec, x, h0, kernel, recurrent, bias, mask *G.Node) (*G.Node, error) {
	return nil, errors.New("fused GRU: not implemented yet")
}

// FusedLSTM runs a Keras LSTM (gate order i, f, c, o; activation tanh) over
// a whole sequence as one node, with a hand-written backward pass.
//
// x is (N, T, F); h0 and c0 (N, H); kernel (F, 4H); recurrent (H, 4H); bias
// (4H) or nil; mask (N, T) or nil. The result is (N, T, 2H): for each step
// in processing order, the hidden state h_t followed by the cell state c_t.
// Masked steps carry both states over. Gradients flow to x, h0, c0, kernel,
// recurrent and bias.
func FusedLSTM(spec RecurrentSpec, x, h0, c0, kernel, recurrent, bias, mask *G.Node) (*G.Node, error) {
	return nil, errors.New("fused LSTM: not implemented yet")
}
