#!/usr/bin/python3
"""Golden forward values for kerago's convolution layers (layers/conv_test.go).

Run with /usr/bin/python3 (PyTorch 1.13) from the repository root:

    /usr/bin/python3 testdata/golden/gen_conv.py

It writes testdata/golden/conv.json. Tensors are stored channels-last, as
Keras has them: inputs (N, H, W, C) or (N, L, C), kernels (kh, kw, C, F) or
(k, C, F). PyTorch computes in NCHW / NCL, so the script permutes in and out,
and pads explicitly with F.pad to reproduce TensorFlow's padding:

  valid:  no padding
  same:   out = ceil(n / s), total = max(0, (out - 1) * s + dk - n),
          before = total // 2, after = total - before (the odd cell at the
          bottom / right), dk = (k - 1) * d + 1
  causal: (k - 1) * d cells before, none after (Conv1D only)

torch.nn.functional.conv2d / conv1d are cross-correlations, as TensorFlow's.
Values are multiples of 1/64 in [-1, 1], so every product and partial sum is
exact in float32 as well: the Go tests compare float32 and float64 runs with
tight tolerances.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
GEN = torch.Generator().manual_seed(20240611)


def values(*shape):
    """Multiples of 1/64 in [-1, 1] (exact in float32)."""
    q = torch.randint(-64, 65, shape, generator=GEN).double()
    return q / 64.0


def pads(n, k, s, d, padding):
    dk = (k - 1) * d + 1
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = math.ceil(n / s)
        total = max(0, (out - 1) * s + dk - n)
        return total // 2, total - total // 2
    if padding == "causal":
        return dk - 1, 0
    raise ValueError(padding)


ACT = {"linear": lambda x: x, "relu": F.relu, "tanh": torch.tanh}

# name, (N, H, W, C), filters, (kh, kw), strides, dilation, padding, bias, activation
CONV2D = [
    ("valid_s1", (2, 5, 6, 3), 4, (3, 3), (1, 1), (1, 1), "valid", True, "linear"),
    ("same_s1", (2, 5, 6, 3), 4, (3, 3), (1, 1), (1, 1), "same", True, "linear"),
    # G7 (n, k, s) = (7, 3, 2): valid 3, same 4, pads (1, 1); on the width
    # (6, 3, 2): valid 2, same 3, pads (0, 1).
    ("g7_7x6_k3_s2_valid", (2, 7, 6, 2), 3, (3, 3), (2, 2), (1, 1), "valid", True, "linear"),
    ("g7_7x6_k3_s2_same", (2, 7, 6, 2), 3, (3, 3), (2, 2), (1, 1), "same", True, "linear"),
    # G7 (5, 2, 2): valid 2, same 3, pads (0, 1).
    ("g7_5x5_k2_s2_valid", (2, 5, 5, 2), 3, (2, 2), (2, 2), (1, 1), "valid", True, "linear"),
    ("g7_5x5_k2_s2_same", (2, 5, 5, 2), 3, (2, 2), (2, 2), (1, 1), "same", True, "linear"),
    # G7 (4, 3, 1): valid 2, same 4, pads (1, 1).
    ("g7_4x4_k3_s1_valid", (2, 4, 4, 3), 2, (3, 3), (1, 1), (1, 1), "valid", True, "linear"),
    ("g7_4x4_k3_s1_same", (2, 4, 4, 3), 2, (3, 3), (1, 1), (1, 1), "same", True, "linear"),
    ("dilation2_valid", (2, 7, 8, 2), 3, (3, 3), (1, 1), (2, 2), "valid", True, "linear"),
    ("dilation2_same", (2, 7, 8, 2), 3, (3, 3), (1, 1), (2, 2), "same", True, "linear"),
    # An even kernel with stride 1 under SAME: pads (1, 2) on both axes.
    ("even_k4_same", (2, 6, 5, 3), 2, (4, 4), (1, 1), (1, 1), "same", True, "linear"),
    # Rectangular kernel, per-axis strides, no bias, relu.
    ("rect_k2x4_s1x2_same_relu", (2, 6, 7, 3), 4, (2, 4), (1, 2), (1, 1), "same", False, "relu"),
    ("k1x1", (2, 4, 4, 3), 5, (1, 1), (1, 1), (1, 1), "valid", True, "tanh"),
    ("single_channel_k5_same", (2, 8, 8, 1), 4, (5, 5), (1, 1), (1, 1), "same", True, "relu"),
]

# name, (N, L, C), filters, k, stride, dilation, padding, bias, activation
CONV1D = [
    ("valid_k3", (2, 9, 3), 4, 3, 1, 1, "valid", True, "linear"),
    ("same_k3_s2", (2, 9, 3), 4, 3, 2, 1, "same", True, "linear"),
    ("same_k4_d2", (2, 8, 2), 3, 4, 1, 2, "same", True, "linear"),
    ("causal_k3", (2, 9, 3), 4, 3, 1, 1, "causal", True, "linear"),
    ("causal_k3_d2", (2, 9, 3), 4, 3, 1, 2, "causal", True, "tanh"),
    ("causal_k2_s2", (2, 9, 3), 4, 2, 2, 1, "causal", False, "linear"),
    ("valid_k3_s2", (2, 10, 2), 3, 3, 2, 1, "valid", True, "relu"),
    ("valid_k3_d3", (2, 10, 2), 3, 3, 1, 3, "valid", True, "linear"),
]


def flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def conv2d_case(name, xs, filters, ks, strides, dil, padding, use_bias, act):
    n, h, w, c = xs
    x = values(*xs)
    kernel = values(ks[0], ks[1], c, filters)
    bias = values(filters) if use_bias else torch.zeros(filters)
    pt, pb = pads(h, ks[0], strides[0], dil[0], padding)
    pl, pr = pads(w, ks[1], strides[1], dil[1], padding)
    xp = F.pad(x.permute(0, 3, 1, 2), (pl, pr, pt, pb))  # NCHW, zeros
    y = F.conv2d(xp, kernel.permute(3, 2, 0, 1), stride=strides, dilation=dil)
    y = ACT[act](y.permute(0, 2, 3, 1) + bias)
    return {
        "name": name, "input_shape": list(xs), "input": flat(x),
        "filters": filters, "kernel_size": list(ks), "strides": list(strides),
        "dilation": list(dil), "padding": padding, "use_bias": use_bias,
        "activation": act, "kernel": flat(kernel), "bias": flat(bias) if use_bias else [],
        "pads": [pt, pb, pl, pr], "output_shape": list(y.shape), "output": flat(y),
    }


def conv1d_case(name, xs, filters, k, stride, dil, padding, use_bias, act):
    n, length, c = xs
    x = values(*xs)
    kernel = values(k, c, filters)
    bias = values(filters) if use_bias else torch.zeros(filters)
    pl, pr = pads(length, k, stride, dil, padding)
    xp = F.pad(x.permute(0, 2, 1), (pl, pr))  # NCL
    y = F.conv1d(xp, kernel.permute(2, 1, 0), stride=stride, dilation=dil)
    y = ACT[act](y.permute(0, 2, 1) + bias)
    return {
        "name": name, "input_shape": list(xs), "input": flat(x),
        "filters": filters, "kernel_size": [k], "strides": [stride],
        "dilation": [dil], "padding": padding, "use_bias": use_bias,
        "activation": act, "kernel": flat(kernel), "bias": flat(bias) if use_bias else [],
        "pads": [pl, pr], "output_shape": list(y.shape), "output": flat(y),
    }


def main():
    out = {
        "conv2d": [conv2d_case(*c) for c in CONV2D],
        "conv1d": [conv1d_case(*c) for c in CONV1D],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
