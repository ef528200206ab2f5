#!/usr/bin/python3
"""Golden values for kerago's element-wise Maximum and Minimum
(graph/ops/minmax_test.go).

Run with /usr/bin/python3 (PyTorch 1.13) from the repository root:

    /usr/bin/python3 testdata/golden/gen_minmax.py

It writes testdata/golden/minmax.json: torch.maximum and torch.minimum of
two float64 tensors and the gradients of sum(out * w) with respect to both.
The inputs have no ties (PyTorch splits a tie's gradient in halves where
TensorFlow, and kerago, give it all to the first input; the Go test checks
ties by hand).
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)


def main():
    g = torch.Generator().manual_seed(11)
    shape = (3, 4, 2)
    a0 = torch.rand(shape, generator=g) * 4 - 2
    b0 = torch.rand(shape, generator=g) * 4 - 2
    w = torch.rand(shape, generator=g) * 2 - 1
    cases = []
    for name, f in (("maximum", torch.maximum), ("minimum", torch.minimum)):
        a = a0.clone().requires_grad_(True)
        b = b0.clone().requires_grad_(True)
        y = f(a, b)
        (y * w).sum().backward()
        cases.append({"name": name, "shape": list(shape), "a": a0.flatten().tolist(),
                      "b": b0.flatten().tolist(), "w": w.flatten().tolist(),
                      "output": y.detach().flatten().tolist(),
                      "grad_a": a.grad.flatten().tolist(), "grad_b": b.grad.flatten().tolist()})
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "minmax.json")
    with open(path, "w") as f:
        json.dump({"cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
