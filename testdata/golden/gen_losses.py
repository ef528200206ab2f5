#!/usr/bin/python3
"""Golden per-sample loss values for kerago's losses package.

Reference: PyTorch (tested with 1.13, Debian's python3-torch), reproducing the
Keras 3 semantics of docs/SEMANTICS.md §20 with torch's own loss
functions where one exists:

  binary_crossentropy       F.binary_cross_entropy on p clamped to [1e-7, 1-1e-7]
                            (the bounds rounded to the dtype, as Keras's floatx),
                            mean over the last axis; from logits:
                            F.binary_cross_entropy_with_logits, mean over the last axis.
  categorical_crossentropy  p renormalised over the last axis, clamped, -sum y log p;
                            from logits: F.cross_entropy with probability targets.
  sparse_categorical_crossentropy
                            F.cross_entropy(log(clamp(p)), labels) (what Keras's
                            sparse_softmax_cross_entropy_with_logits on log p does);
                            from logits: F.cross_entropy(z, labels).
  mean_squared_error        F.mse_loss, mean over the last axis.
  mean_absolute_error       F.l1_loss, mean over the last axis.

A model output (N, ..., C) gives per-element values (N, ...) that are averaged
over the axes after the batch axis, one value per sample.

Each case is computed twice, in float32 and in float64 (the inputs rounded to
the dtype first, as the Go tests feed them), because the clipping bound
1-1e-7 rounds differently. Run from the repository root:

    /usr/bin/python3 testdata/golden/gen_losses.py

It writes testdata/golden/losses.json.
"""
import json
import os

import torch
import torch.nn.functional as F

EPS = 1e-7


def per_sample(x):
    """Mean over every axis after the batch axis."""
    if x.dim() == 1:
        return x
    return x.reshape(x.shape[0], -1).mean(dim=1)


def class_axis_first(z):
    """(N, ..., C) -> (N, C, ...) for F.cross_entropy."""
    if z.dim() == 2:
        return z
    return z.movedim(-1, 1)


def bce(y, p, logits):
    if logits:
        e = F.binary_cross_entropy_with_logits(p, y, reduction="none")
    else:
        e = F.binary_cross_entropy(torch.clamp(p, EPS, 1 - EPS), y, reduction="none")
    return per_sample(e.mean(dim=-1))


def cce(y, p, logits):
    if logits:
        e = F.cross_entropy(class_axis_first(p), class_axis_first(y), reduction="none")
    else:
        q = torch.clamp(p / p.sum(dim=-1, keepdim=True), EPS, 1 - EPS)
        e = -(y * torch.log(q)).sum(dim=-1)
    return per_sample(e)


def sparse(y, p, logits):
    z = p if logits else torch.log(torch.clamp(p, EPS, 1 - EPS))
    e = F.cross_entropy(class_axis_first(z), y.long(), reduction="none")
    return per_sample(e)


def mse(y, p, logits):
    return per_sample(F.mse_loss(p, y, reduction="none").mean(dim=-1))


def mae(y, p, logits):
    return per_sample(F.l1_loss(p, y, reduction="none").mean(dim=-1))


LOSSES = {
    "binary_crossentropy": bce,
    "categorical_crossentropy": cce,
    "sparse_categorical_crossentropy": sparse,
    "mean_squared_error": mse,
    "mean_absolute_error": mae,
}


def seeded(shape, seed, kind):
    g = torch.Generator().manual_seed(seed)
    if kind == "prob":
        return torch.rand(shape, generator=g, dtype=torch.float64) * 0.98 + 0.01
    if kind == "softmax":
        return torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64) * 2, dim=-1)
    if kind == "logit":
        return torch.randn(shape, generator=g, dtype=torch.float64) * 3
    if kind == "binary":
        return (torch.rand(shape, generator=g, dtype=torch.float64) > 0.5).double()
    if kind == "onehot":
        idx = torch.randint(0, shape[-1], shape[:-1], generator=g)
        return F.one_hot(idx, shape[-1]).double()
    if kind == "labels":
        return torch.randint(0, shape[1], shape[0], generator=g).double()
    if kind == "real":
        return torch.randn(shape, generator=g, dtype=torch.float64)
    raise ValueError(kind)


def flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]


CASES = [
    # name, loss, from_logits, y_true (nested list or tensor), y_pred, shape of y_pred
    ("bce_probs_saturated", "binary_crossentropy", False,
     [[1, 0], [0, 1], [1, 1], [0, 0], [0.3, 0.8]],
     [[0.9, 0.2], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.25, 0.6]]),
    ("bce_logits_large", "binary_crossentropy", True,
     [[1, 0], [1, 0], [0, 1], [1, 1], [0.25, 0.5]],
     [[0.0, 3.0], [30.0, -30.0], [30.0, -30.0], [-100.0, 100.0], [1.5, -0.7]]),
    ("cce_probs_unnormalised", "categorical_crossentropy", False,
     [[0, 1, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1], [0.2, 0.5, 0.3]],
     [[0.2, 0.7, 0.1], [0.4, 1.4, 0.2], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.1, 0.6, 0.3]]),
    ("cce_logits_large", "categorical_crossentropy", True,
     [[0, 1, 0], [1, 0, 0], [0, 0, 1], [0.2, 0.5, 0.3]],
     [[1.0, 2.0, 0.5], [-30.0, 30.0, 0.0], [100.0, -100.0, 0.0], [0.3, -0.2, 1.1]]),
    ("sparse_probs_unnormalised", "sparse_categorical_crossentropy", False,
     [1, 1, 0, 2, 1],
     [[0.2, 0.7, 0.1], [0.4, 1.4, 0.2], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.1, 0.6, 0.3]]),
    ("sparse_logits_large", "sparse_categorical_crossentropy", True,
     [1, 0, 2, 2],
     [[1.0, 2.0, 0.5], [-30.0, 30.0, 0.0], [100.0, -100.0, 0.0], [0.3, -0.2, 1.1]]),
    ("mse", "mean_squared_error", False,
     [[1, 0, 2], [0.5, -1, 3]],
     [[0.9, 0.2, 2.5], [-0.5, -1, 1]]),
    ("mae", "mean_absolute_error", False,
     [[1, 0, 2], [0.5, -1, 3]],
     [[0.9, 0.2, 2.5], [-0.5, -1, 1]]),
]

# Seeded cases, including rank-3 outputs (N, T, C) where the per-sample value
# is the mean over T.
SEEDED = [
    ("bce_probs_seeded", "binary_crossentropy", False, "binary", "prob", (4, 5)),
    ("bce_probs_seq", "binary_crossentropy", False, "binary", "prob", (2, 3, 4)),
    ("bce_logits_seq", "binary_crossentropy", True, "binary", "logit", (2, 3, 4)),
    ("cce_probs_softmax", "categorical_crossentropy", False, "onehot", "softmax", (4, 5)),
    ("cce_probs_seq", "categorical_crossentropy", False, "onehot", "prob", (2, 3, 4)),
    ("cce_logits_seq", "categorical_crossentropy", True, "onehot", "logit", (2, 3, 4)),
    ("sparse_probs_softmax", "sparse_categorical_crossentropy", False, "labels", "softmax", (4, 5)),
    ("sparse_probs_seq", "sparse_categorical_crossentropy", False, "labels", "softmax", (2, 3, 4)),
    ("sparse_logits_seq", "sparse_categorical_crossentropy", True, "labels", "logit", (2, 3, 4)),
    ("mse_seq", "mean_squared_error", False, "real", "real", (2, 3, 4)),
    ("mae_seq", "mean_absolute_error", False, "real", "real", (2, 3, 4)),
]


def run_case(name, loss, logits, y, p):
    out = {"name": name, "loss": loss, "from_logits": logits,
           "y_true_shape": list(y.shape), "y_pred_shape": list(p.shape),
           "y_true": flat(y), "y_pred": flat(p), "per_sample": {}}
    for dt, key in ((torch.float32, "float32"), (torch.float64, "float64")):
        v = LOSSES[loss](y.to(dt), p.to(dt), logits)
        out["per_sample"][key] = [float(x) for x in v.to(torch.float64).tolist()]
    return out


def main():
    cases = []
    for name, loss, logits, y, p in CASES:
        cases.append(run_case(name, loss, logits, torch.tensor(y, dtype=torch.float64),
                              torch.tensor(p, dtype=torch.float64)))
    for i, (name, loss, logits, ykind, pkind, shape) in enumerate(SEEDED):
        p = seeded(shape, 100 + i, pkind)
        if ykind == "labels":
            lead = shape[:-1]
            g = torch.Generator().manual_seed(200 + i)
            y = torch.randint(0, shape[-1], lead, generator=g).double()
        else:
            y = seeded(shape, 200 + i, ykind)
        cases.append(run_case(name, loss, logits, y, p))
    doc = {
        "generator": "testdata/golden/gen_losses.py",
        "reference": "PyTorch %s, Keras 3 loss semantics (docs/SEMANTICS.md §20)" % torch.__version__,
        "epsilon": EPS,
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "losses.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote %d cases to %s" % (len(cases), path))


if __name__ == "__main__":
    main()
