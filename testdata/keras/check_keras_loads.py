#!/usr/bin/python3
"""Checks that real Keras 3 loads the files kerago writes.

kerago's test TestWriteKerasSamples writes, when KERAGO_KERAS_SAMPLES names
a folder, one <name>.keras, <name>.weights.h5 and <name>.json (the inputs
and kerago's predictions) per sample model. This script loads each .keras
with keras.saving.load_model, predicts the inputs, loads the .weights.h5
into the same architecture with model.load_weights, predicts again, and
compares both with kerago's predictions.

Run it with Keras 3 on its numpy backend (see the keras-env notes of the
project's shared folder: the Keras source, Debian's numpy, scipy, h5py,
absl, rich and packaging, and three small stand-in modules):

    KERAGO_KERAS_SAMPLES=/tmp/samples go test -run TestWriteKerasSamples ./train/
    PYTHONPATH=<keras-src>:<shims> KERAS_BACKEND=numpy \\
        /usr/bin/python3 testdata/keras/check_keras_loads.py /tmp/samples

It prints one line per file and exits 1 if any prediction differs by more
than 1e-5. The Go tests never need it.
"""
import glob
import json
import os
import sys

import numpy as np
import keras


def predict(model, inputs):
    out = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    return out if isinstance(out, list) else [out]


def main(folder):
    worst = 0.0
    files = sorted(glob.glob(os.path.join(folder, "*.keras")))
    if not files:
        print("no .keras files in", folder)
        return 1
    for path in files:
        name = os.path.basename(path)[:-len(".keras")]
        with open(os.path.join(folder, name + ".json")) as f:
            sample = json.load(f)
        inputs = [np.array(i["data"], dtype="float32") for i in sample["inputs"]]
        want = [np.array(o["data"], dtype="float32") for o in sample["outputs"]]
        model = keras.saving.load_model(path)
        diffs = [float(np.abs(g - w).max()) for g, w in zip(predict(model, inputs), want)]
        fresh = keras.models.model_from_json(model.to_json())
        fresh.load_weights(os.path.join(folder, name + ".weights.h5"))
        diffs += [float(np.abs(g - w).max()) for g, w in zip(predict(fresh, inputs), want)]
        d = max(diffs)
        worst = max(worst, d)
        print("%-16s keras %s: max |keras - kerago| = %.3g" % (name, keras.__version__, d))
    print("worst", worst)
    return 0 if worst <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
