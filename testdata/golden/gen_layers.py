#!/usr/bin/python3
"""Golden forward values for kerago's layers tests (layers/golden_test.go).

Run with /usr/bin/python3 (PyTorch 1.13) from the repository root:

    /usr/bin/python3 testdata/golden/gen_layers.py

It writes testdata/golden/layers.json. Everything is computed in float64 by
PyTorch ops, following the Keras formulas of docs/SEMANTICS.md (§3, §6):
activations (Keras names; hard_sigmoid is Keras 2's clip(0.2x+0.5, 0, 1),
leaky_relu has Keras 3's slope 0.2, gelu is exact, softmax is over the last
axis) and Dense (y = activation(x @ W + b), the product on the last axis).
"""
import json
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": F.relu,
    "relu6": F.relu6,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": lambda x: torch.clamp(0.2 * x + 0.5, 0.0, 1.0),
    "tanh": torch.tanh,
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "elu": F.elu,
    "selu": torch.selu,
    # log(1 + e^x) exactly (F.softplus returns x itself above its threshold 20).
    "softplus": lambda x: torch.logaddexp(x, torch.zeros_like(x)),
    "softsign": F.softsign,
    "leaky_relu": lambda x: F.leaky_relu(x, negative_slope=0.2),
    "gelu": lambda x: F.gelu(x, approximate="none"),
    "swish": F.silu,
    "silu": F.silu,
    "exponential": torch.exp,
}

# Rows of 8: large magnitudes (±30, ±20), the hard_sigmoid and relu6 corners,
# and values near 0 (not exactly at the relu kink except one forward-only 0).
ACT_INPUT = [
    [-30.0, -6.5, -2.5, -1.0, -0.3, 0.0, 0.4, 30.0],
    [-3.0, -2.0, -0.75, 0.25, 1.1, 2.5, 6.0, 7.0],
    [-20.0, -10.0, -0.05, 0.05, 1.5, 3.0, 10.0, 20.0],
]

KERNEL = [  # (4, 3)
    [0.2, -0.5, 0.1],
    [-0.3, 0.8, 0.4],
    [0.6, 0.05, -0.7],
    [-0.1, 0.3, 0.25],
]
BIAS = [0.1, -0.2, 0.3]
X2 = [  # (2, 4)
    [1.0, -2.0, 0.5, 3.0],
    [-1.5, 0.25, 2.0, -0.75],
]
X3 = [  # (2, 3, 4)
    [[1.0, -2.0, 0.5, 3.0], [0.1, 0.2, 0.3, 0.4], [-1.0, 1.0, -1.0, 1.0]],
    [[-1.5, 0.25, 2.0, -0.75], [2.5, -0.5, 0.0, 1.25], [0.3, -0.6, 0.9, -1.2]],
]


def flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def main():
    out = {"activations": {}, "dense": []}
    x = torch.tensor(ACT_INPUT)
    out["activations"] = {
        "shape": list(x.shape),
        "input": flat(x),
        "outputs": {name: flat(f(x)) for name, f in sorted(ACTIVATIONS.items())},
    }
    w = torch.tensor(KERNEL)
    b = torch.tensor(BIAS)
    cases = [
        ("2d_linear_bias", X2, True, "linear"),
        ("2d_linear_nobias", X2, False, "linear"),
        ("2d_relu_bias", X2, True, "relu"),
        ("2d_sigmoid_nobias", X2, False, "sigmoid"),
        ("3d_linear_bias", X3, True, "linear"),
        ("3d_tanh_bias", X3, True, "tanh"),
        ("3d_softmax_nobias", X3, False, "softmax"),
        ("3d_gelu_bias", X3, True, "gelu"),
    ]
    for name, xs, use_bias, act in cases:
        xt = torch.tensor(xs)
        y = xt @ w
        if use_bias:
            y = y + b
        y = ACTIVATIONS[act](y)
        out["dense"].append({
            "name": name,
            "input_shape": list(xt.shape),
            "input": flat(xt),
            "units": w.shape[1],
            "kernel": flat(w),
            "bias": flat(b) if use_bias else None,
            "activation": act,
            "output_shape": list(y.shape),
            "output": flat(y),
        })
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layers.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path, "with torch", torch.__version__)


if __name__ == "__main__":
    main()
