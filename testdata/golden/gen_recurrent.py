#!/usr/bin/python3
"""Golden forward values for kerago's recurrent layers, from PyTorch.

Run with Debian's python3-torch:  /usr/bin/python3 testdata/golden/gen_recurrent.py
It writes testdata/golden/recurrent.json next to this script. The Go tests
read the JSON and never need PyTorch.

Weights are converted to Keras layout:
- GRU: torch gates are (r, z, n) in row blocks of weight_ih (3H, F); Keras
  gates are (z, r, h) in column blocks of kernel (F, 3H). torch.nn.GRU is
  Keras's reset_after=True form, bias (2, 3H) = [b_ih; b_hh] reordered.
- LSTM: torch gates (i, f, g, o) = Keras (i, f, c, o); Keras bias = b_ih + b_hh.
- RNN (tanh) = SimpleRNN; bias = b_ih + b_hh.
go_backwards is PyTorch on the time-reversed input (outputs in processing
order); Bidirectional is torch's bidirectional=True (its backward half is
already aligned with the input steps, as Keras's re-reversed output).
"""
import json
import os

import torch

torch.manual_seed(20240607)
torch.set_default_dtype(torch.float64)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def gru_weights(m, sfx=""):
    H = m.hidden_size
    wi = getattr(m, "weight_ih_l0" + sfx)
    wh = getattr(m, "weight_hh_l0" + sfx)
    order = [1, 0, 2]  # keras z, r, h from torch r, z, n
    k = torch.cat([wi[g * H:(g + 1) * H] for g in order], 0).T
    u = torch.cat([wh[g * H:(g + 1) * H] for g in order], 0).T
    w = {"kernel": flat(k), "recurrent_kernel": flat(u), "bias": None}
    if m.bias:
        bi = getattr(m, "bias_ih_l0" + sfx)
        bh = getattr(m, "bias_hh_l0" + sfx)
        b = torch.stack([torch.cat([bi[g * H:(g + 1) * H] for g in order]),
                         torch.cat([bh[g * H:(g + 1) * H] for g in order])])
        w["bias"] = flat(b)
    return w


def lstm_weights(m, sfx=""):
    w = {"kernel": flat(getattr(m, "weight_ih_l0" + sfx).T),
         "recurrent_kernel": flat(getattr(m, "weight_hh_l0" + sfx).T), "bias": None}
    if m.bias:
        w["bias"] = flat(getattr(m, "bias_ih_l0" + sfx) + getattr(m, "bias_hh_l0" + sfx))
    return w


def randomize(m):
    with torch.no_grad():
        for p in m.parameters():
            p.uniform_(-0.6, 0.6)


cases = []


def case(name, layer, units, x, weights, outputs, **kw):
    c = {"name": name, "layer": layer, "units": units,
         "input_shape": list(x.shape), "input": flat(x),
         "weights": weights, "outputs": [flat(o) for o in outputs],
         "output_shapes": [list(o.shape) for o in outputs],
         "return_sequences": False, "return_state": False, "go_backwards": False,
         "use_bias": True, "initial_state": None, "merge_mode": None}
    c.update(kw)
    cases.append(c)


N, T, F, H = 3, 5, 4, 6

# GRU (reset_after=True, sigmoid).
for name, bias, seqs, state, back, h0 in [
        ("gru_sequences", True, True, False, False, False),
        ("gru_last_state_h0", True, False, True, False, True),
        ("gru_go_backwards_sequences", True, True, False, True, False),
        ("gru_go_backwards_last", True, False, True, True, True),
        ("gru_no_bias", False, True, False, False, False)]:
    m = torch.nn.GRU(F, H, batch_first=True, bias=bias)
    randomize(m)
    x = torch.rand(N, T, F) * 2 - 1
    xin = torch.flip(x, [1]) if back else x
    hinit = torch.rand(1, N, H) - 0.5 if h0 else torch.zeros(1, N, H)
    seq, hn = m(xin, hinit)
    outs = [seq if seqs else seq[:, -1]]
    if state:
        outs.append(hn[0])
    case(name, "GRU", H, x, [gru_weights(m)], outs, return_sequences=seqs,
         return_state=state, go_backwards=back, use_bias=bias,
         initial_state=[flat(hinit[0])] if h0 else None)

# LSTM (unit_forget_bias irrelevant: weights are set).
for name, bias, seqs, state, back, h0 in [
        ("lstm_sequences_state_h0c0", True, True, True, False, True),
        ("lstm_last", True, False, False, False, False),
        ("lstm_go_backwards_sequences", True, True, True, True, False),
        ("lstm_no_bias", False, False, False, False, False)]:
    m = torch.nn.LSTM(F, H, batch_first=True, bias=bias)
    randomize(m)
    x = torch.rand(N, T, F) * 2 - 1
    xin = torch.flip(x, [1]) if back else x
    hinit = torch.rand(1, N, H) - 0.5 if h0 else torch.zeros(1, N, H)
    cinit = torch.rand(1, N, H) - 0.5 if h0 else torch.zeros(1, N, H)
    seq, (hn, cn) = m(xin, (hinit, cinit))
    outs = [seq if seqs else seq[:, -1]]
    if state:
        outs += [hn[0], cn[0]]
    case(name, "LSTM", H, x, [lstm_weights(m)], outs, return_sequences=seqs,
         return_state=state, go_backwards=back, use_bias=bias,
         initial_state=[flat(hinit[0]), flat(cinit[0])] if h0 else None)

# SimpleRNN.
for name, seqs, back in [("simple_rnn_sequences", True, False), ("simple_rnn_go_backwards_last", False, True)]:
    m = torch.nn.RNN(F, H, batch_first=True, nonlinearity="tanh")
    randomize(m)
    x = torch.rand(N, T, F) * 2 - 1
    xin = torch.flip(x, [1]) if back else x
    seq, hn = m(xin)
    case(name, "SimpleRNN", H, x, [lstm_weights(m)], [seq if seqs else seq[:, -1]],
         return_sequences=seqs, go_backwards=back)


def merge(a, b, mode):
    return {"concat": lambda: torch.cat([a, b], -1), "sum": lambda: a + b,
            "mul": lambda: a * b, "ave": lambda: (a + b) / 2}[mode]()


# Bidirectional GRU and LSTM.
for name, layer, seqs, mode, state in [
        ("bigru_concat_sequences", "GRU", True, "concat", False),
        ("bigru_concat_last", "GRU", False, "concat", False),
        ("bigru_sum_sequences_state", "GRU", True, "sum", True),
        ("bilstm_ave_last_state", "LSTM", False, "ave", True),
        ("bilstm_mul_sequences", "LSTM", True, "mul", False)]:
    if layer == "GRU":
        m = torch.nn.GRU(F, H, batch_first=True, bidirectional=True)
    else:
        m = torch.nn.LSTM(F, H, batch_first=True, bidirectional=True)
    randomize(m)
    x = torch.rand(N, T, F) * 2 - 1
    seq, st = m(x)
    conv = gru_weights if layer == "GRU" else lstm_weights
    ws = [conv(m), conv(m, "_reverse")]
    if seqs:
        fw, bw = seq[..., :H], seq[..., H:]
    else:
        fw, bw = seq[:, -1, :H], seq[:, 0, H:]
    outs = [merge(fw, bw, mode)]
    if state:
        if layer == "GRU":
            outs += [st[0], st[1]]
        else:
            hn, cn = st
            outs += [hn[0], cn[0], hn[1], cn[1]]
    case(name, layer, H, x, ws, outs, return_sequences=seqs, return_state=state, merge_mode=mode)

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recurrent.json")
with open(out, "w") as f:
    json.dump({"generator": "gen_recurrent.py, torch " + torch.__version__, "cases": cases}, f)
print("wrote", out, len(cases), "cases")
