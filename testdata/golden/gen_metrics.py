#!/usr/bin/python3
"""Golden epoch values for kerago's stateful metrics (metrics package).

Each case feeds several batches (with sample weights in most) to one metric
and records the value Keras 3 reports after them: the epoch's value, not a
mean of batch values (the script checks that the two differ for the
confusion metrics).

References:

  AUC (ROC, PR)       Keras's algorithm reproduced in numpy (thresholds
                      [-1e-7, 1/(T-1), ..., 1+1e-7]; evenly spaced ones use
                      Keras's buckets ceil(p*(T-1))-1 computed in float32;
                      ROC trapezoids, PR by interpolate_pr_auc), checked
                      close to scikit-learn's exact roc_auc_score and
                      average_precision_score (it is an approximation).
  Precision, Recall   scikit-learn's precision_score / recall_score with
                      sample weights (threshold 0.5, flattened labels); the
                      TopK / ClassID / other-threshold cases in numpy.
  F1Score             Keras's formula (with its 1e-7 guards) in numpy,
                      checked close to scikit-learn's f1_score.
  mse, mae, rmse,     PyTorch (F.mse_loss, F.l1_loss) and numpy per sample,
  mape, msle,         then Σ w·v / Σ w.
  cross-entropies,
  accuracies, top-k

When real Keras 3 runs here (keras-env: KERAS_BACKEND=numpy and the source
on PYTHONPATH), every case is also computed by Keras's own metric classes
(update_state per batch, then result) and must agree to 1e-5.

Inputs are rounded to float32 first, so that the Go tests feed the same
values in both dtypes. Run from the repository root:

    PYTHONPATH=/tmp/keras-src:/work/shared/keras-env/shims KERAS_BACKEND=numpy \\
        /usr/bin/python3 testdata/golden/gen_metrics.py

It writes testdata/golden/metrics.json.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import (average_precision_score, f1_score,
                             precision_score, recall_score, roc_auc_score)

EPS = 1e-7
rng = np.random.default_rng(12)

try:
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    import keras  # noqa: E402
    HAVE_KERAS = True
except Exception as e:  # pragma: no cover
    print("real Keras not available:", e)
    HAVE_KERAS = False


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


# ---------------------------------------------------------------- confusion


def auc_thresholds(num=200, thresholds=None):
    if thresholds is None:
        inner = [(i + 1) / (num - 1) for i in range(num - 2)]
        even = True
    else:
        inner = sorted(thresholds)
        t = np.array([0.0] + inner + [1.0])
        even = len(t) >= 3 and np.allclose(
            t, np.arange(len(t), dtype=np.float32) / (len(t) - 1), atol=EPS)
    return np.array([-EPS] + inner + [1 + EPS]), even


def confusion(batches, thresholds, buckets, top_k=None, class_id=None):
    """Keras's confusion-matrix variables summed over the batches."""
    n = len(thresholds)
    tp, fp, tn, fn = (np.zeros(n) for _ in range(4))
    for y, p, w in batches:
        p = p.copy()
        if top_k is not None:
            idx = np.argsort(-p, axis=-1, kind="stable")[..., :top_k]
            mask = np.zeros_like(p)
            np.put_along_axis(mask, idx, 1, axis=-1)
            p = p * mask + -1e10 * (1 - mask)
        ww = np.ones(p.shape) if w is None else np.broadcast_to(
            w.reshape(w.shape + (1,) * (p.ndim - 1)), p.shape)
        if class_id is not None:
            y, p, ww = y[..., class_id], p[..., class_id], ww[..., class_id]
        y, p, ww = y.ravel() != 0, p.ravel(), ww.ravel()
        if buckets:
            pc = np.clip(p, 0, 1).astype(np.float32)
            b = np.ceil(pc * np.float32(n - 1)).astype(np.float64) - 1
            b = np.maximum(b, 0).astype(int)
            tpb = np.bincount(b, weights=ww * y, minlength=n)
            fpb = np.bincount(b, weights=ww * ~y, minlength=n)
            btp, bfp = np.cumsum(tpb[::-1])[::-1], np.cumsum(fpb[::-1])[::-1]
        else:
            pos = p.astype(np.float32)[None, :] > thresholds.astype(np.float32)[:, None]
            btp = (pos * (ww * y)[None, :]).sum(1)
            bfp = (pos * (ww * ~y)[None, :]).sum(1)
        tp += btp
        fp += bfp
        tn += (ww * ~y).sum() - bfp
        fn += (ww * y).sum() - btp
    return tp, fp, tn, fn


def dnn(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))


def auc_result(tp, fp, tn, fn, curve):
    if curve == "PR":
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = dnn(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), dnn(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return float(np.sum(dnn(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))))
    rec = dnn(tp, tp + fn)
    fpr = dnn(fp, fp + tn)
    return float(np.sum((fpr[:-1] - fpr[1:]) * (rec[:-1] + rec[1:]) / 2))


def flat(batches):
    y = np.concatenate([b[0].reshape(len(b[0]), -1) for b in batches])
    p = np.concatenate([b[1].reshape(len(b[1]), -1) for b in batches])
    w = np.concatenate([np.ones(len(b[0])) if b[2] is None else b[2] for b in batches])
    return y, p, np.repeat(w, y.shape[1])


# --------------------------------------------------------------- per-sample


def per_sample(kind, y, p, opts):
    """Per-sample values of the mean metrics (shape (N,))."""
    tp, ty = torch.tensor(p), torch.tensor(y)
    red = tuple(range(1, p.ndim))
    if kind == "MeanSquaredError" or kind == "RootMeanSquaredError":
        return F.mse_loss(tp, ty, reduction="none").mean(dim=red).numpy()
    if kind == "MeanAbsoluteError":
        return F.l1_loss(tp, ty, reduction="none").mean(dim=red).numpy()
    if kind == "MeanAbsolutePercentageError":
        return (100 * np.abs(y - p) / np.maximum(np.abs(y), EPS)).mean(axis=red)
    if kind == "MeanSquaredLogarithmicError":
        return ((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(y, EPS) + 1)) ** 2).mean(axis=red)
    if kind == "BinaryCrossentropy":
        if opts.get("from_logits"):
            return F.binary_cross_entropy_with_logits(tp, ty, reduction="none").mean(dim=red).numpy()
        return F.binary_cross_entropy(tp.clamp(EPS, 1 - EPS), ty, reduction="none").mean(dim=red).numpy()
    if kind == "CategoricalCrossentropy":
        if opts.get("from_logits"):
            return F.cross_entropy(tp, ty, reduction="none").numpy()
        q = (tp / tp.sum(-1, keepdim=True)).clamp(EPS, 1 - EPS)
        return -(ty * q.log()).sum(-1).numpy()
    if kind == "SparseCategoricalCrossentropy":
        z = tp if opts.get("from_logits") else tp.clamp(EPS, 1 - EPS).log()
        return F.cross_entropy(z, ty.long(), reduction="none").numpy()
    if kind == "BinaryAccuracy":
        return ((p > 0.5) == (y == 1)).mean(axis=red)
    if kind == "CategoricalAccuracy":
        return (np.argmax(p, -1) == np.argmax(y, -1)).astype(float)
    if kind == "SparseCategoricalAccuracy":
        return (np.argmax(p, -1) == y.astype(int)).astype(float)
    k = opts.get("k", 5)
    if kind == "TopKCategoricalAccuracy":
        t = np.argmax(y, -1)
    elif kind == "SparseTopKCategoricalAccuracy":
        t = y.astype(int)
    else:
        raise ValueError(kind)
    pt = np.take_along_axis(p, t[:, None], -1)
    return ((p > pt).sum(-1) < k).astype(float)


def mean_metric(kind, batches, opts):
    s = c = 0.0
    for y, p, w in batches:
        v = per_sample(kind, y, p, opts)
        ww = np.ones(len(v)) if w is None else w
        s += float((ww * v).sum())
        c += float(ww.sum())
    r = s / c
    return math.sqrt(r) if kind == "RootMeanSquaredError" else r


# ------------------------------------------------------------------------ F1


def f1_keras(batches, average, threshold):
    tp = fp = fn = inter = 0
    axis = None if average == "micro" else 0
    for y, p, w in batches:
        if threshold is None:
            pred = (p >= p.max(-1, keepdims=True)) & (np.abs(p) > 1e-9)
        else:
            pred = p.astype(np.float32) > np.float32(threshold)
        pred = pred.astype(float)
        ww = np.ones((len(y), 1)) if w is None else w[:, None]
        tp = tp + (ww * pred * y).sum(axis=axis)
        fp = fp + (ww * pred * (1 - y)).sum(axis=axis)
        fn = fn + (ww * (1 - pred) * y).sum(axis=axis)
        inter = inter + (ww * y).sum(axis=axis)
    prec = tp / (tp + fp + EPS)
    rec = tp / (tp + fn + EPS)
    f = 2 * prec * rec / (prec + rec + EPS)
    if average is None:
        return f
    if average == "weighted":
        return float(np.sum(f * inter / (np.sum(inter) + EPS)))
    return float(np.mean(f))


def f1_sklearn(batches, average, threshold):
    y = np.concatenate([b[0] for b in batches])
    p = np.concatenate([b[1] for b in batches])
    w = np.concatenate([np.ones(len(b[0])) if b[2] is None else b[2] for b in batches])
    if threshold is None:
        pred = (p >= p.max(-1, keepdims=True)).astype(int)
    else:
        pred = (p > threshold).astype(int)
    return f1_score(y.astype(int), pred, average=average, sample_weight=w, zero_division=0)


# -------------------------------------------------------------------- keras


KERAS_OPTS = {"num_thresholds": "num_thresholds", "curve": "curve", "thresholds": "thresholds",
              "top_k": "top_k", "class_id": "class_id", "k": "k", "average": "average",
              "threshold": "threshold", "from_logits": "from_logits"}


def keras_value(cls, opts, batches):
    kw = {KERAS_OPTS[k]: v for k, v in opts.items()}
    m = getattr(keras.metrics, cls)(**kw)
    for y, p, w in batches:
        sw = None
        if w is not None:
            sw = w.reshape(w.shape + (1,) * (p.ndim - 1)) if cls in ("AUC", "Precision", "Recall") else w
        m.update_state(y.astype(np.float32), p.astype(np.float32), sample_weight=sw)
    r = np.asarray(m.result(), dtype=np.float64)
    return float(r) if r.ndim == 0 else r.tolist()


# -------------------------------------------------------------------- cases


def batches_of(sizes, shape, make_y, make_p, weighted=True):
    out = []
    for n in sizes:
        y = f32(make_y(n, shape))
        p = f32(make_p(n, shape))
        w = f32(rng.uniform(0.2, 2.0, n)) if weighted else None
        out.append((y, p, w))
    return out


def binary_y(n, shape):
    return rng.integers(0, 2, (n,) + shape).astype(float)


def prob(n, shape):
    return rng.uniform(0, 1, (n,) + shape)


def noisy_prob(n, shape):
    """Probabilities correlated with nothing in particular, some exactly on
    bucket edges (0, 1, 0.5, i/199)."""
    p = rng.uniform(0, 1, (n,) + shape)
    flat = p.reshape(-1)
    flat[:3] = [0.0, 1.0, 0.5][: len(flat[:3])]
    if len(flat) > 3:
        flat[3] = 7 / 199
    return p


def onehot(n, shape):
    c = shape[-1]
    return np.eye(c)[rng.integers(0, c, n)]


def softmax_rows(n, shape):
    z = rng.normal(size=(n,) + shape)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def labels(n, shape):
    return rng.integers(0, shape[-1], n).astype(float)


def multilabel(n, shape):
    return rng.integers(0, 2, (n,) + shape).astype(float)


cases = []


def add(name, cls, opts, pred_shape, target_shape, batches, want, keras_cls=None, keras_opts=None):
    if HAVE_KERAS:
        kb = batches
        if target_shape != pred_shape and cls.startswith("Sparse"):
            kb = [(y, p, w) for y, p, w in batches]
        k = keras_value(keras_cls or cls, keras_opts if keras_opts is not None else opts, kb)
        assert np.allclose(k, want, rtol=1e-5, atol=1e-5), (name, k, want)
    cases.append({
        "name": name, "class": cls, "options": opts,
        "pred_shape": list(pred_shape), "target_shape": list(target_shape),
        "batches": [{"y_true": y.ravel().tolist(), "y_pred": p.ravel().tolist(),
                     "weights": None if w is None else w.tolist()} for y, p, w in batches],
        "want": want,
    })


# AUC: ROC and PR, default thresholds, one and three values per sample.
for curve in ["ROC", "PR"]:
    for shape in [(1,), (3,)]:
        for weighted in [True, False]:
            bs = batches_of([7, 9, 6], shape, binary_y, noisy_prob, weighted)
            tp, fp, tn, fn = confusion(bs, *auc_thresholds())
            want = auc_result(tp, fp, tn, fn, curve)
            y, p, w = flat(bs)
            exact = roc_auc_score(y.ravel(), p.ravel(), sample_weight=w) if curve == "ROC" else \
                average_precision_score(y.ravel(), p.ravel(), sample_weight=w)
            assert abs(want - exact) < (0.01 if curve == "ROC" else 0.06), (curve, want, exact)
            per_batch = np.mean([auc_result(*confusion([b], *auc_thresholds()), curve) for b in bs])
            assert abs(per_batch - want) > 1e-6, "the epoch AUC should differ from the mean of batch AUCs"
            opts = {} if curve == "ROC" else {"curve": "PR"}
            add(f"AUC {curve} {shape} weighted={weighted}", "AUC", opts, shape, shape, bs, want)

# AUC with fewer thresholds, and with given thresholds (evenly spaced ones
# use the buckets, others compare).
bs = batches_of([8, 8, 5], (1,), binary_y, noisy_prob)
for opts, th in [({"num_thresholds": 11}, auc_thresholds(11)),
                 ({"thresholds": [0.25, 0.5, 0.75]}, auc_thresholds(thresholds=[0.25, 0.5, 0.75])),
                 ({"thresholds": [0.1, 0.3, 0.35, 0.9]}, auc_thresholds(thresholds=[0.1, 0.3, 0.35, 0.9]))]:
    for curve in ["ROC", "PR"]:
        o = dict(opts)
        if curve == "PR":
            o["curve"] = "PR"
        want = auc_result(*confusion(bs, *th), curve)
        add(f"AUC {curve} {opts}", "AUC", o, (1,), (1,), bs, want)

# Precision and Recall at 0.5 against scikit-learn.
for shape in [(1,), (4,)]:
    bs = batches_of([10, 10, 7], shape, binary_y, prob)
    y, p, w = flat(bs)
    for cls, fn_ in [("Precision", precision_score), ("Recall", recall_score)]:
        want = fn_(y.ravel().astype(int), (p.ravel() > 0.5).astype(int), sample_weight=w)
        tp, fp, tn, fnn = confusion(bs, np.array([0.5]), False)
        mine = tp[0] / (tp[0] + (fp[0] if cls == "Precision" else fnn[0]))
        assert abs(mine - want) < 1e-12, (cls, mine, want)
        per_batch = np.mean([fn_(b[0].ravel().astype(int), (b[1].ravel() > 0.5).astype(int),
                                 sample_weight=np.repeat(b[2], b[0].size // len(b[0]))) for b in bs])
        assert abs(per_batch - want) > 1e-4
        add(f"{cls} {shape}", cls, {}, shape, shape, bs, float(want))

# Precision and Recall with a threshold, TopK and ClassID (numpy).
bs = batches_of([9, 9, 4], (4,), multilabel, prob)
for cls in ["Precision", "Recall"]:
    for opts in [{"thresholds": 0.3}, {"top_k": 2}, {"class_id": 2}, {"top_k": 1, "thresholds": 0.2}]:
        th = np.array([opts.get("thresholds", -1e10 if "top_k" in opts else 0.5)])
        tp, fp, tn, fnn = confusion(bs, th, False, top_k=opts.get("top_k"), class_id=opts.get("class_id"))
        want = float(tp[0] / (tp[0] + (fp[0] if cls == "Precision" else fnn[0])))
        add(f"{cls} {opts}", cls, opts, (4,), (4,), bs, want)

# F1Score.
for ymaker, name in [(onehot, "one-hot"), (multilabel, "multi-label")]:
    bs = batches_of([12, 12, 9], (4,), ymaker, softmax_rows if name == "one-hot" else prob)
    for average in ["micro", "macro", "weighted"]:
        for threshold in [None, 0.4]:
            want = f1_keras(bs, average, threshold)
            sk = f1_sklearn(bs, average, threshold)
            assert abs(want - sk) < 1e-5, (name, average, threshold, want, sk)
            opts = {"average": average}
            if threshold is not None:
                opts["threshold"] = threshold
            add(f"F1Score {name} {opts}", "F1Score", opts, (4,), (4,), bs, want)

# Metrics with several values (Keras returns an array): F1Score with
# average None, Precision and Recall at several thresholds.
for ymaker, name in [(onehot, "one-hot"), (multilabel, "multi-label")]:
    bs = batches_of([12, 12, 9], (4,), ymaker, softmax_rows if name == "one-hot" else prob)
    for threshold in [None, 0.4]:
        want = f1_keras(bs, None, threshold)
        sk = f1_sklearn(bs, None, threshold)
        assert np.allclose(want, sk, atol=1e-5), (want, sk)
        opts = {} if threshold is None else {"threshold": threshold}
        add(f"F1Score {name} average None {opts}", "F1Score", opts, (4,), (4,), bs, [float(v) for v in want])
bs = batches_of([10, 10, 7], (3,), binary_y, prob)
y, p, w = flat(bs)
for cls, fn_ in [("Precision", precision_score), ("Recall", recall_score)]:
    th = [0.3, 0.5, 0.8]
    want = [float(fn_(y.ravel().astype(int), (p.ravel() > t).astype(int), sample_weight=w)) for t in th]
    add(f"{cls} thresholds {th}", cls, {"thresholds": th}, (3,), (3,), bs, want)

# Mean metrics.
reg = lambda n, s: rng.normal(1.0, 1.0, (n,) + s)  # noqa: E731
pos = lambda n, s: rng.uniform(0.0, 3.0, (n,) + s)  # noqa: E731
mean_cases = [
    ("MeanSquaredError", {}, (3,), (3,), reg, reg),
    ("MeanAbsoluteError", {}, (3,), (3,), reg, reg),
    ("RootMeanSquaredError", {}, (3,), (3,), reg, reg),
    ("MeanAbsolutePercentageError", {}, (3,), (3,), reg, reg),
    ("MeanSquaredLogarithmicError", {}, (3,), (3,), pos, pos),
    ("MeanSquaredError", {}, (2, 3), (2, 3), reg, reg),
    ("BinaryCrossentropy", {}, (2,), (2,), binary_y, prob),
    ("BinaryCrossentropy", {"from_logits": True}, (2,), (2,), binary_y, reg),
    ("CategoricalCrossentropy", {}, (4,), (4,), onehot, softmax_rows),
    ("CategoricalCrossentropy", {"from_logits": True}, (4,), (4,), onehot, reg),
    ("SparseCategoricalCrossentropy", {}, (4,), (), labels, softmax_rows),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, (4,), (), labels, reg),
    ("BinaryAccuracy", {}, (1,), (1,), binary_y, prob),
    ("CategoricalAccuracy", {}, (5,), (5,), onehot, softmax_rows),
    ("SparseCategoricalAccuracy", {}, (5,), (), labels, softmax_rows),
    ("TopKCategoricalAccuracy", {"k": 2}, (5,), (5,), onehot, softmax_rows),
    ("TopKCategoricalAccuracy", {}, (6,), (6,), onehot, softmax_rows),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, (5,), (), labels, softmax_rows),
]
for cls, opts, ps, ts, my, mp in mean_cases:
    for weighted in [True, False]:
        bs = []
        for n in [6, 6, 5]:
            y = f32(my(n, ps))
            if ts == ():
                y = f32(labels(n, ps))
            bs.append((y, f32(mp(n, ps)), f32(rng.uniform(0.2, 2.0, n)) if weighted else None))
        want = mean_metric(cls, bs, opts)
        add(f"{cls} {opts} {ps} weighted={weighted}", cls, opts, ps, ts, bs, want)

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics.json")
with open(out, "w") as f:
    json.dump({"generator": "testdata/golden/gen_metrics.py",
               "checked_with_keras": HAVE_KERAS, "cases": cases}, f, indent=1)
print(f"wrote {out}: {len(cases)} cases, real Keras check: {HAVE_KERAS}")
