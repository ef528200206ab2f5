#!/usr/bin/python3
"""Golden values for Compile per output, loss weights, sample and class
weights (train package).

1. evaluate: the Keras-written functional_2io model (testdata/keras: outputs
   p = Dense(1, sigmoid) and c = Dense(3, softmax)) compiled by real Keras 3
   with a loss per output by name, loss_weights, metrics per output and
   weighted_metrics, evaluated on 8 samples in batches of 3 (so 3, 3, 2),
   without and with per-output sample weights. Keras's own logs (names and
   values) are the golden; the script recomputes the total loss in numpy from
   Keras's predictions (per-output Σ w·loss / batch size, weighted by
   loss_weights, averaged over batches by batch size) and checks it agrees.

2. fit_step: one SGD step (learning rate 0.5) of Input(4) → Dense(3,
   softmax) with sparse categorical cross-entropy on a batch of 6 samples,
   with sample weights, and with class weights (class_weight → per-sample
   weights by the label, as Keras's class_weight_to_sample_weights), in
   PyTorch float64: loss = Σ w·CE / 6, new weights = old - 0.5·grad.

Run from the repository root:

    PYTHONPATH=/tmp/keras-src:/work/shared/keras-env/shims KERAS_BACKEND=numpy \\
        /usr/bin/python3 testdata/golden/gen_compile.py

It writes testdata/golden/compile.json.
"""
import json
import os

import numpy as np
import torch

os.environ.setdefault("KERAS_BACKEND", "numpy")
import keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(5)
EPS = 1e-7


def f32(a):
    return np.asarray(a, dtype=np.float32)


# ------------------------------------------------------------ 1. evaluate

model = keras.saving.load_model(os.path.join(HERE, "..", "keras", "functional_2io.keras"))
assert [o.name for o in model.outputs] == ["p", "c"] or model.output_names == ["p", "c"], model.output_names
n = 8
xa, xb = f32(rng.normal(size=(n, 8))), f32(rng.normal(size=(n, 4)))
yp = f32(rng.integers(0, 2, (n, 1)))
yc = f32(rng.integers(0, 3, n))
wp, wc = f32(rng.uniform(0.2, 2.0, n)), f32(rng.uniform(0.2, 2.0, n))
loss_weights = {"p": 1.0, "c": 0.2}
model.compile(optimizer="sgd",
              loss={"p": "binary_crossentropy", "c": "sparse_categorical_crossentropy"},
              loss_weights=loss_weights,
              metrics={"p": ["accuracy", "auc"], "c": [keras.metrics.SparseTopKCategoricalAccuracy(k=2)]},
              weighted_metrics={"p": ["accuracy"], "c": ["sparse_categorical_crossentropy"]})
pred_p, pred_c = model.predict([xa, xb], verbose=0)


def numpy_total(sw_p, sw_c, batch=3):
    """Keras's total loss: per batch Σ_o lw_o·Σ(w·l_o)/bs, averaged by bs."""
    tot = cnt = 0.0
    for s in range(0, n, batch):
        sl = slice(s, min(s + batch, n))
        bs = sl.stop - sl.start
        p = np.clip(pred_p[sl, 0].astype(np.float64), EPS, 1 - EPS)
        lp = -(yp[sl, 0] * np.log(p) + (1 - yp[sl, 0]) * np.log(1 - p))
        c = np.clip(pred_c[sl].astype(np.float64), EPS, 1 - EPS)
        lc = -np.log(c[np.arange(bs), yc[sl].astype(int)])
        lp = (lp * (1 if sw_p is None else sw_p[sl])).sum() / bs
        lc = (lc * (1 if sw_c is None else sw_c[sl])).sum() / bs
        tot += (loss_weights["p"] * lp + loss_weights["c"] * lc) * bs
        cnt += bs
    return tot / cnt


evaluate = []
for weighted in [False, True]:
    sw = [wp, wc] if weighted else None
    logs = model.evaluate([xa, xb], [yp, yc], sample_weight=sw, batch_size=3,
                          verbose=0, return_dict=True)
    mine = numpy_total(wp if weighted else None, wc if weighted else None)
    assert abs(mine - logs["loss"]) < 1e-5, (weighted, mine, logs["loss"])
    evaluate.append({
        "weighted": weighted, "logs": {k: float(v) for k, v in logs.items()},
        "numpy_loss": mine,
    })
    print("evaluate weighted=%s:" % weighted, logs)

eval_case = {
    "xa": xa.ravel().tolist(), "xb": xb.ravel().tolist(),
    "yp": yp.ravel().tolist(), "yc": yc.tolist(),
    "wp": wp.tolist(), "wc": wc.tolist(),
    "loss_weights": loss_weights, "results": evaluate,
}

# ------------------------------------------------------------ 2. fit step

W0 = rng.normal(0, 0.5, (4, 3))
b0 = rng.normal(0, 0.1, 3)
x = rng.normal(size=(6, 4))
y = np.array([0, 1, 2, 1, 1, 0])
sw = rng.uniform(0.2, 2.0, 6)
class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
LR = 0.5


def step(w):
    W = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    p = torch.softmax(torch.tensor(x) @ W + b, dim=-1)
    ce = -torch.log(p[torch.arange(6), torch.tensor(y)])
    loss = (torch.tensor(w) * ce).sum() / 6
    loss.backward()
    return {"loss": float(loss), "W": (W - LR * W.grad).detach().numpy().ravel().tolist(),
            "b": (b - LR * b.grad).detach().numpy().tolist()}


fit = {
    "W0": W0.ravel().tolist(), "b0": b0.tolist(), "x": x.ravel().tolist(), "y": y.tolist(),
    "sample_weight": sw.tolist(), "class_weight": {str(k): v for k, v in class_weight.items()},
    "lr": LR,
    "with_sample_weight": step(sw),
    "with_class_weight": step(np.array([class_weight[int(c)] for c in y])),
}

with open(os.path.join(HERE, "compile.json"), "w") as f:
    json.dump({"generator": "testdata/golden/gen_compile.py", "evaluate": eval_case, "fit_step": fit}, f, indent=1)
print("wrote compile.json")
