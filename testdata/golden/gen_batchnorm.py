#!/usr/bin/python3
"""Golden values for kerago's BatchNormalization tests (layers/batchnorm_test.go).

Run with /usr/bin/python3 (PyTorch 1.13) from the repository root:

    /usr/bin/python3 testdata/golden/gen_batchnorm.py

It writes testdata/golden/batchnorm.json. Everything is float64.

For each case (an input shape and a feature axis, the batch axis counting
as 0 as in Keras) it records:
- gamma, beta (non-trivial) and the two training batches x1, x2;
- train_out1, train_out2: torch.nn.functional.batch_norm(training=True),
  i.e. normalisation with the batch mean and the biased batch variance;
- the moving statistics after one and after two training steps from the
  Keras initial values (mean 0, variance 1) with the Keras 3 rule
      mm = a*mm + (1-a)*mean_B,   mv = a*mv + (1-a)*var_B (biased).
  torch's own running_var uses the unbiased variance and the momentum
  convention 1-a, so the statistics are computed here with tensor ops;
- infer_out: batch_norm(training=False) of x_infer with the statistics
  after the two steps.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def as_ncl(x, axis):
    """View x as (outer, C, inner) with the feature axis in the middle."""
    s = list(x.shape)
    outer = 1
    for d in s[:axis]:
        outer *= d
    inner = 1
    for d in s[axis + 1:]:
        inner *= d
    return x.reshape(outer, s[axis], inner)


def batch_stats(x, axis):
    v = as_ncl(x, axis)
    mean = v.mean(dim=(0, 2))
    var = v.var(dim=(0, 2), unbiased=False)
    return mean, var


def bn(x, axis, gamma, beta, eps, mean=None, var=None):
    v = as_ncl(x, axis)
    if mean is None:
        y = F.batch_norm(v, None, None, gamma, beta, training=True, eps=eps)
    else:
        y = F.batch_norm(v, mean, var, gamma, beta, training=False, eps=eps)
    return y.reshape(x.shape)


def flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def case(name, shape, axis, momentum, eps, seed):
    g = torch.Generator().manual_seed(seed)
    c = shape[axis]
    gamma = 0.5 + torch.rand(c, generator=g) * 1.5
    beta = torch.randn(c, generator=g) * 0.5
    # Channels with different means and spreads.
    loc = torch.randn(c, generator=g) * 2
    spread = 0.5 + torch.rand(c, generator=g) * 2
    bshape = [1] * len(shape)
    bshape[axis] = c

    def batch():
        return torch.randn(*shape, generator=g) * spread.reshape(bshape) + loc.reshape(bshape)

    x1, x2, xi = batch(), batch(), batch()
    mm, mv = torch.zeros(c), torch.ones(c)
    out = {"name": name, "shape": shape, "axis": axis, "momentum": momentum,
           "epsilon": eps, "gamma": flat(gamma), "beta": flat(beta)}
    for step, x in ((1, x1), (2, x2)):
        out["x%d" % step] = flat(x)
        out["train_out%d" % step] = flat(bn(x, axis, gamma, beta, eps))
        mean, var = batch_stats(x, axis)
        mm = momentum * mm + (1 - momentum) * mean
        mv = momentum * mv + (1 - momentum) * var
        out["moving_mean%d" % step] = flat(mm)
        out["moving_variance%d" % step] = flat(mv)
    out["x_infer"] = flat(xi)
    out["infer_out"] = flat(bn(xi, axis, gamma, beta, eps, mm, mv))
    return out


def main():
    cases = [
        case("dense_2d", [6, 3], 1, 0.99, 1e-3, 1),
        case("conv_4d", [2, 3, 3, 4], 3, 0.99, 1e-3, 2),
        case("seq_3d_axis1", [3, 2, 4], 1, 0.9, 1e-2, 3),
        case("seq_3d_last", [2, 5, 3], 2, 0.8, 1e-3, 4),
    ]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "batchnorm.json")
    with open(path, "w") as f:
        json.dump({"cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
