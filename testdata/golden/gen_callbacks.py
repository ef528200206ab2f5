#!/usr/bin/python3
"""Golden decisions of Keras 3's EarlyStopping, ReduceLROnPlateau and
ModelCheckpoint, for kerago's callbacks (train/callback_*.go).

Run with real Keras 3 on its numpy backend (see /work/shared/keras-env):

    PYTHONPATH=<keras-src>:<keras-env>/shims KERAS_BACKEND=numpy \
        /usr/bin/python3 testdata/golden/gen_callbacks.py

It writes testdata/golden/callbacks.json next to this file.

Each scenario builds a tiny compiled Keras model (Dense(1), SGD at `lr`,
metric "accuracy", built by one evaluate call so that mode "auto" can look
the metric's direction up), hands it to the real callback (set_model), and
drives the callback's hooks with a scripted sequence of epoch logs, as fit
would: on_train_begin, then per epoch on_epoch_begin, on_train_batch_end for
each batch (ModelCheckpoint with an integer save_freq), on_epoch_end, and
stopping when the callback sets model.stop_training; then on_train_end.
Before each epoch's end the Dense kernel is set to the epoch number, so the
kernel after on_train_end says which epoch's weights EarlyStopping restored.

Every callback runs with verbose=1; what it prints is recorded as "output"
(ModelCheckpoint's with the temporary directory removed from the paths).

Recorded per scenario:
  * EarlyStopping: epochs run, stopped_epoch, best_epoch, and the epoch
    whose weights the model holds at the end;
  * ReduceLROnPlateau: the learning rate after each epoch and the
    "learning_rate" the callback put into each epoch's logs;
  * ModelCheckpoint: the names of the files saved, in order;
  * CSVLogger: the file's text after one or two trainings (the second with
    append=True), each of a scripted sequence of epoch logs.
"""
import contextlib
import io
import json
import os
import tempfile

import numpy as np

import keras
from keras import callbacks

HERE = os.path.dirname(os.path.abspath(__file__))


def model(lr=0.1):
    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="binary_crossentropy", metrics=["accuracy"])
    m.evaluate(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0)  # builds the metrics
    return m


def set_epoch(m, epoch):
    k, b = m.layers[0].get_weights()
    m.layers[0].set_weights([np.full_like(k, epoch), b])


def drive(cb, m, logs, steps=0, batch_logs=None):
    """Runs cb through the epochs of logs; returns the epochs run."""
    cb.set_model(m)
    m.stop_training = False
    cb.on_train_begin()
    run = 0
    for epoch, lg in enumerate(logs):
        if m.stop_training:
            break
        cb.on_epoch_begin(epoch)
        for b in range(steps):
            cb.on_train_batch_end(b, dict(batch_logs[epoch][b]))
        set_epoch(m, epoch)
        lg = dict(lg)
        cb.on_epoch_end(epoch, lg)
        logs[epoch] = lg
        run += 1
    cb.on_train_end()
    return run


def seq(monitor, values, other=None):
    out = []
    for i, v in enumerate(values):
        lg = {"loss": 1.0 / (i + 1), "accuracy": 0.5}
        if other:
            lg.update(other)
        lg[monitor] = v
        out.append(lg)
    return out


VL = [1.0, 0.8, 0.7, 0.71, 0.72, 0.69, 0.70, 0.71, 0.72, 0.73]
VA = [0.5, 0.6, 0.7, 0.65, 0.72, 0.71, 0.70, 0.69, 0.75, 0.74]

early = [
    ("val_loss patience 2", dict(monitor="val_loss", patience=2), "val_loss", VL),
    ("val_loss patience 0", dict(monitor="val_loss", patience=0), "val_loss", VL),
    ("min_delta 0.05 patience 1", dict(monitor="val_loss", patience=1, min_delta=0.05), "val_loss", VL),
    ("mode max restore", dict(monitor="val_accuracy", patience=2, mode="max", restore_best_weights=True), "val_accuracy", VA),
    ("auto accuracy restore", dict(monitor="val_accuracy", patience=3, restore_best_weights=True), "val_accuracy", VA),
    ("baseline never beaten", dict(monitor="val_loss", patience=3, baseline=0.5), "val_loss", [0.9, 0.8, 0.7, 0.65, 0.6, 0.55, 0.52, 0.51]),
    ("baseline holds the wait", dict(monitor="val_loss", patience=3, baseline=0.5), "val_loss", [0.9, 0.8, 0.85, 0.86, 0.79, 0.9, 0.91]),
    ("baseline beaten", dict(monitor="val_loss", patience=2, baseline=0.75), "val_loss", VL),
    ("start_from_epoch 3", dict(monitor="val_loss", patience=1, start_from_epoch=3), "val_loss", [1.0, 1.1, 1.2, 0.9, 0.95, 0.85, 0.86, 0.87]),
    ("restore without stopping", dict(monitor="val_loss", patience=20, restore_best_weights=True), "val_loss", VL),
    ("restore start_from_epoch", dict(monitor="val_loss", patience=2, restore_best_weights=True, start_from_epoch=2), "val_loss", [0.1, 0.2, 0.9, 0.95, 0.97, 0.99]),
    ("mode min on accuracy", dict(monitor="accuracy", patience=1, mode="min"), "accuracy", VA),
]

reduce = [
    ("factor 0.5 patience 2", dict(monitor="val_loss", factor=0.5, patience=2), 0.1, "val_loss", VL),
    ("cooldown 2 patience 1 min_lr", dict(monitor="val_loss", factor=0.2, patience=1, cooldown=2, min_lr=0.01), 0.1, "val_loss",
     [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]),
    ("mode max", dict(monitor="val_accuracy", factor=0.1, patience=1, mode="max"), 0.01, "val_accuracy", VA),
    ("auto accuracy", dict(monitor="val_accuracy", factor=0.5, patience=1), 0.02, "val_accuracy", VA),
    ("min_delta large", dict(monitor="val_loss", factor=0.5, patience=1, min_delta=0.15), 1.0, "val_loss", VL),
    ("defaults", dict(), 0.001, "val_loss", [1.0] * 25),
    ("patience 0 min_lr", dict(monitor="loss", factor=0.3, patience=0, min_lr=0.005), 0.1, "loss", [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995]),
]

checkpoint = [
    ("best val_loss", dict(filepath="w-{epoch:02d}.weights.h5", monitor="val_loss", save_best_only=True, save_weights_only=True), VL),
    ("best val_accuracy max threshold", dict(filepath="w-{epoch:02d}.weights.h5", monitor="val_accuracy", mode="max", save_best_only=True,
                                             save_weights_only=True, initial_value_threshold=0.65), VL),
    ("best auto accuracy", dict(filepath="w-{epoch:02d}.weights.h5", monitor="val_accuracy", save_best_only=True, save_weights_only=True), VL),
    ("every epoch with values", dict(filepath="w-{epoch:02d}-{val_loss:.4f}.weights.h5", save_weights_only=True), VL),
    ("bare and e formats", dict(filepath="{epoch}-{val_loss}-{loss:.2e}-{val_accuracy:6.3f}.weights.h5", save_weights_only=True), VL[:4]),
    ("best min threshold", dict(filepath="best.weights.h5", monitor="val_loss", save_best_only=True, save_weights_only=True,
                                initial_value_threshold=0.75), VL),
]


def ckpt_logs(values):
    return [{"loss": 1.0 / (i + 1), "accuracy": 0.5 + i / 100, "val_loss": v, "val_accuracy": VA[i]} for i, v in enumerate(values)]


def main():
    out = {"early_stopping": [], "reduce_lr": [], "checkpoint": []}
    for name, kw, monitor, values in early:
        m = model()
        cb = callbacks.EarlyStopping(verbose=1, **kw)
        logs = seq(monitor, values)
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            run = drive(cb, m, logs)
        out["early_stopping"].append({
            "name": name, "args": kw, "logs": seq(monitor, values),
            "epochs_run": run, "stopped_epoch": cb.stopped_epoch, "best_epoch": cb.best_epoch,
            "weights_epoch": int(m.layers[0].get_weights()[0].flat[0]), "output": printed.getvalue(),
        })
    for name, kw, lr, monitor, values in reduce:
        m = model(lr)
        cb = callbacks.ReduceLROnPlateau(verbose=1, **kw)
        logs = seq(monitor, values)
        lrs = []
        cb.set_model(m)
        cb.on_train_begin()
        logged = []
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            for epoch, lg in enumerate(logs):
                cb.on_epoch_end(epoch, lg)
                logged.append(lg["learning_rate"])
                lrs.append(float(np.asarray(m.optimizer.learning_rate)))
        out["reduce_lr"].append({"name": name, "args": kw, "lr": lr, "logs": seq(monitor, values), "lrs": lrs, "logged_lr": logged,
                                 "output": printed.getvalue()})
    for name, kw, values in checkpoint:
        with tempfile.TemporaryDirectory() as d:
            m = model()
            kw2 = dict(kw, filepath=os.path.join(d, kw["filepath"]))
            cb = callbacks.ModelCheckpoint(verbose=1, **kw2)
            saved = []
            orig = m.save_weights
            m.save_weights = lambda fp, overwrite=True, **k: (saved.append(os.path.basename(fp)), orig(fp, overwrite=overwrite))
            with contextlib.redirect_stdout(io.StringIO()) as printed:
                drive(cb, m, ckpt_logs(values))
        out["checkpoint"].append({"name": name, "args": kw, "logs": ckpt_logs(values), "saved": saved,
                                  "output": printed.getvalue().replace(d + os.sep, "")})
    # Batch-level saving: 3 batches per epoch, 3 epochs, every 2 batches.
    with tempfile.TemporaryDirectory() as d:
        m = model()
        kw = dict(filepath="b-{epoch}-{batch}-{loss:.3f}.weights.h5", save_freq=2, save_weights_only=True)
        cb = callbacks.ModelCheckpoint(**dict(kw, filepath=os.path.join(d, kw["filepath"])))
        saved = []
        orig = m.save_weights
        m.save_weights = lambda fp, overwrite=True, **k: (saved.append(os.path.basename(fp)), orig(fp, overwrite=overwrite))
        batch_logs = [[{"loss": 1.0 / (e * 3 + b + 1), "accuracy": 0.5} for b in range(3)] for e in range(3)]
        drive(cb, m, ckpt_logs(VL[:3]), steps=3, batch_logs=batch_logs)
        out["checkpoint_batches"] = {"args": kw, "steps": 3, "batch_logs": batch_logs, "logs": ckpt_logs(VL[:3]), "saved": saved}
    out["csv_logger"] = []
    for name, sep, runs in [
        ("with validation", ",", [ckpt_logs(VL[:3])]),
        ("without validation", ",", [[{"loss": 1 / 3, "accuracy": 0.25, "learning_rate": 1e-05}, {"loss": 0.1, "accuracy": 1e16, "learning_rate": 5e-06}]]),
        ("append with a separator", ";", [ckpt_logs(VL[:2]), ckpt_logs(VL[2:5])]),
    ]:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "log.csv")
            for i, logs in enumerate(runs):
                cb = callbacks.CSVLogger(path, separator=sep, append=i > 0)
                drive(cb, model(), [dict(lg) for lg in logs])
            with open(path, newline="") as f:  # Python's csv ends lines with \r\n
                text = f.read()
        out["csv_logger"].append({"name": name, "separator": sep, "runs": runs, "text": text})
    with open(os.path.join(HERE, "callbacks.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
