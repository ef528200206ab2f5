#!/usr/bin/python3
"""Golden values for kerago's UnitNormalization layer
(layers/unit_normalization_test.go).

Run with /usr/bin/python3 (PyTorch 1.13) from the repository root:

    /usr/bin/python3 testdata/golden/gen_unit_normalization.py

It writes testdata/golden/unit_normalization.json. Keras 3's
UnitNormalization is x * rsqrt(max(sum(x^2 over axes), eps^2)) with
eps = 1e-12 (keras.ops.normalize, order 2), computed here in float64 with
PyTorch; axes count the batch axis as 0. One case has an all-zero sample,
which stays zero.
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)
EPS = 1e-12


def unit_normalize(x, axes):
    s = torch.sum(x * x, dim=axes, keepdim=True)
    return x * torch.rsqrt(torch.clamp(s, min=EPS * EPS))


def case(name, shape, axes, seed, zero_sample=False):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g) * 4 - 2
    if zero_sample:
        x[0] = 0
    y = unit_normalize(x, axes)
    return {"name": name, "shape": list(shape), "axis": axes,
            "input": x.flatten().tolist(), "output": y.flatten().tolist()}


def main():
    cases = [
        case("last axis", (3, 5), [-1], 1),
        case("last axis, a zero sample", (3, 4), [-1], 2, zero_sample=True),
        case("middle axis of 3-D", (2, 4, 3), [1], 3),
        case("two adjacent axes", (2, 3, 4), [1, 2], 4),
        case("two axes, negative", (2, 3, 2, 2), [-2, -1], 5),
    ]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unit_normalization.json")
    with open(path, "w") as f:
        json.dump({"cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
