#!/usr/bin/python3
"""Golden forward values for kerago's pooling layers (layers/pooling_test.go).

Run with /usr/bin/python3 (PyTorch 1.13) from the repository root:

    /usr/bin/python3 testdata/golden/gen_pooling.py

It writes testdata/golden/pooling.json. Everything is computed in float64 by
PyTorch ops on channels-first permutations of the channels-last (Keras)
inputs, following docs/SEMANTICS.md §10 and §12:

- window pooling: TensorFlow output sizes (valid: ceil((n-k+1)/s), same:
  ceil(n/s)); SAME padding is reproduced by explicit asymmetric padding,
  pad_before = pad_total // 2, the extra cell after. Max pooling pads with
  -inf (padded cells never win); average pooling divides avg_pool of the
  zero-padded input by avg_pool of a zero-padded ones mask, i.e. the sum of
  the window's valid cells over their count.
- global pooling: mean / amax over the spatial axes, with keepdims; masked
  GlobalAveragePooling1D is sum(x*m) / sum(m) over the steps.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(20240611)


def rand(shape):
    # Distinct values (no ties), in [-2, 2).
    n = math.prod(shape)
    perm = torch.randperm(n, generator=gen).to(torch.float64)
    noise = torch.rand(n, generator=gen) * 0.5
    return ((perm + noise) / n * 4 - 2).reshape(shape)


def out_and_pads(n, k, s, padding):
    if padding == "valid":
        return (n - k + s) // s, 0, 0
    out = (n + s - 1) // s
    total = max(0, (out - 1) * s + k - n)
    return out, total // 2, total - total // 2


def pool(x, kind, pool_size, strides, padding):
    """x is channels-last (N, *spatial, C)."""
    d = x.dim() - 2
    xc = x.permute(0, d + 1, *range(1, d + 1))  # (N, C, *spatial)
    pads = []
    for i in reversed(range(d)):  # F.pad lists the last axis first
        _, before, after = out_and_pads(x.shape[1 + i], pool_size[i], strides[i], padding)
        pads += [before, after]
    maxf = F.max_pool1d if d == 1 else F.max_pool2d
    avgf = F.avg_pool1d if d == 1 else F.avg_pool2d
    if kind == "max":
        y = maxf(F.pad(xc, pads, value=-math.inf), pool_size, strides)
    else:
        num = avgf(F.pad(xc, pads, value=0.0), pool_size, strides)
        den = avgf(F.pad(torch.ones_like(xc), pads, value=0.0), pool_size, strides)
        y = num / den
    want = [out_and_pads(x.shape[1 + i], pool_size[i], strides[i], padding)[0] for i in range(d)]
    assert list(y.shape[2:]) == want, (list(y.shape), want)
    return y.permute(0, *range(2, d + 2), 1).contiguous()


POOL_CASES = [
    # name, kind, input shape (N, *spatial, C), pool, strides (None = pool), padding
    ("max2d_valid_2", "max", (2, 4, 4, 3), (2, 2), None, "valid"),
    ("avg2d_valid_2", "avg", (2, 4, 4, 3), (2, 2), None, "valid"),
    ("max2d_valid_odd", "max", (2, 7, 5, 2), (3, 3), (2, 2), "valid"),
    ("avg2d_valid_odd", "avg", (2, 7, 5, 2), (3, 3), (2, 2), "valid"),
    ("max2d_same_odd", "max", (2, 7, 5, 2), (3, 3), (2, 2), "same"),
    ("avg2d_same_odd", "avg", (2, 7, 5, 2), (3, 3), (2, 2), "same"),
    ("max2d_same_s1", "max", (1, 5, 6, 2), (3, 3), (1, 1), "same"),
    ("avg2d_same_s1", "avg", (1, 5, 6, 2), (3, 3), (1, 1), "same"),
    ("max2d_same_s3", "max", (2, 8, 7, 3), (2, 2), (3, 3), "same"),
    ("avg2d_same_s3", "avg", (2, 8, 7, 3), (2, 2), (3, 3), "same"),
    ("max2d_valid_s3", "max", (2, 8, 7, 3), (2, 2), (3, 3), "valid"),
    ("avg2d_valid_s3", "avg", (2, 8, 7, 3), (2, 2), (3, 3), "valid"),
    ("max2d_rect_valid", "max", (2, 6, 7, 2), (3, 2), (1, 2), "valid"),
    ("avg2d_rect_valid", "avg", (2, 6, 7, 2), (3, 2), (1, 2), "valid"),
    ("max2d_rect_same", "max", (2, 6, 7, 2), (2, 4), (2, 3), "same"),
    ("avg2d_rect_same", "avg", (2, 6, 7, 2), (2, 4), (2, 3), "same"),
    ("max2d_same_default", "max", (1, 5, 5, 1), (2, 2), None, "same"),
    ("avg2d_same_default", "avg", (1, 5, 5, 1), (2, 2), None, "same"),
    ("max1d_valid_2", "max", (2, 7, 3), (2,), None, "valid"),
    ("avg1d_valid_2", "avg", (2, 7, 3), (2,), None, "valid"),
    ("max1d_same_3_2", "max", (2, 7, 3), (3,), (2,), "same"),
    ("avg1d_same_3_2", "avg", (2, 7, 3), (3,), (2,), "same"),
    ("max1d_same_s1", "max", (2, 6, 2), (4,), (1,), "same"),
    ("avg1d_same_s1", "avg", (2, 6, 2), (4,), (1,), "same"),
    ("max1d_valid_s3", "max", (2, 10, 2), (3,), (3,), "valid"),
    ("avg1d_valid_s3", "avg", (2, 10, 2), (3,), (3,), "valid"),
]

GLOBAL_CASES = [
    # name, kind, input shape, keepdims
    ("gavg1d", "avg", (2, 5, 3), False),
    ("gmax1d", "max", (2, 5, 3), False),
    ("gavg1d_keep", "avg", (2, 5, 3), True),
    ("gmax1d_keep", "max", (2, 5, 3), True),
    ("gavg2d", "avg", (2, 3, 4, 3), False),
    ("gmax2d", "max", (2, 3, 4, 3), False),
    ("gavg2d_keep", "avg", (2, 3, 4, 3), True),
    ("gmax2d_keep", "max", (2, 3, 4, 3), True),
]


def main():
    pools = []
    for name, kind, shape, size, strides, padding in POOL_CASES:
        x = rand(shape)
        s = strides if strides is not None else size
        y = pool(x, kind, list(size), list(s), padding)
        pools.append({
            "name": name, "kind": kind, "input_shape": list(shape),
            "input": x.flatten().tolist(), "pool": list(size),
            "strides": list(strides) if strides is not None else None,
            "padding": padding, "output_shape": list(y.shape),
            "output": y.flatten().tolist(),
        })
    globals_ = []
    for name, kind, shape, keep in GLOBAL_CASES:
        x = rand(shape)
        axes = tuple(range(1, len(shape) - 1))
        if kind == "avg":
            y = x.mean(dim=axes, keepdim=keep)
        else:
            y = x.amax(dim=axes, keepdim=keep)
        globals_.append({
            "name": name, "kind": kind, "input_shape": list(shape),
            "input": x.flatten().tolist(), "keepdims": keep,
            "output_shape": list(y.shape), "output": y.flatten().tolist(),
        })
    # Masked GlobalAveragePooling1D: sum(x*m)/sum(m) over the steps.
    x = rand((3, 5, 2))
    m = torch.tensor([[1, 1, 1, 0, 0], [1, 0, 1, 0, 1], [1, 1, 1, 1, 1]], dtype=torch.float64)
    y = (x * m[:, :, None]).sum(dim=1) / m.sum(dim=1, keepdim=True)
    masked = {
        "input_shape": list(x.shape), "input": x.flatten().tolist(),
        "mask": m.flatten().tolist(), "output_shape": list(y.shape),
        "output": y.flatten().tolist(),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pooling.json")
    # One case per line.
    with open(path, "w") as f:
        f.write('{"pool": [\n')
        f.write(",\n".join(json.dumps(c) for c in pools))
        f.write('\n],\n"global": [\n')
        f.write(",\n".join(json.dumps(c) for c in globals_))
        f.write('\n],\n"masked_global_average": ')
        f.write(json.dumps(masked))
        f.write("\n}\n")


if __name__ == "__main__":
    main()
