"""Writes models whose inputs have None axes besides the batch, as real Keras 3
saves them, with Keras's predictions for several concrete shapes.

Run from the repository root with Keras 3 on its numpy backend:

    PYTHONPATH=<keras-src>:<keras-env>/shims KERAS_BACKEND=numpy \
        /usr/bin/python3 testdata/keras/none_dims/gen.py

It writes testdata/keras/none_dims/{text_none,conv_none}.keras and
testdata/keras/none_dims/cases.json: for each model, cases of inputs of different
concrete shapes and the outputs Keras predicts for them.
"""
import json
import os

import numpy as np
import keras

HERE = os.path.dirname(os.path.abspath(__file__))
keras.utils.set_random_seed(3)


def text_model():
    x = keras.Input(shape=(None,), dtype="int32", name="tokens")
    h = keras.layers.Embedding(20, 4, mask_zero=True, name="embed")(x)
    # Not GRU(return_sequences=True) → GlobalAveragePooling1D: Keras 3.16's
    # RNN layers set supports_masking = False, so the mask stops at the GRU
    # and the pooling averages padded steps too, where Keras 2 (and kerago,
    # SEMANTICS.md) passes the mask on.
    h = keras.layers.GRU(5, name="gru")(h)
    y = keras.layers.Dense(3, activation="softmax", name="probs")(h)
    return keras.Model(x, y, name="text_none")


def conv_model():
    x = keras.Input(shape=(None, None, 2), name="image")
    h = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="conv")(x)
    h = keras.layers.MaxPooling2D(2, name="pool")(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    y = keras.layers.Dense(2, name="logits")(h)
    return keras.Model(x, y, name="conv_none")


def array(name, a):
    return {"name": name, "dtype": str(a.dtype), "shape": list(a.shape), "data": a.ravel().tolist()}


def main():
    rng = np.random.default_rng(5)
    out = {"keras_version": keras.__version__, "backend": keras.backend.backend(), "models": []}
    # Text: sequences of lengths 6 and 9, zero-padded at the end.
    m = text_model()
    cases = []
    for steps in (6, 9):
        x = rng.integers(1, 20, size=(3, steps)).astype("int32")
        x[1, steps - 2:] = 0
        x[2, steps // 2:] = 0
        cases.append({"inputs": [array("tokens", x)], "outputs": [array("probs", np.asarray(m.predict(x, verbose=0)))]})
    m.save(os.path.join(HERE, "text_none.keras"))
    out["models"].append({"name": "text_none", "cases": cases})
    # Images of 8x8 and 6x10.
    m = conv_model()
    cases = []
    for h, w in ((8, 8), (6, 10)):
        x = rng.normal(size=(2, h, w, 2)).astype("float32")
        cases.append({"inputs": [array("image", x)], "outputs": [array("logits", np.asarray(m.predict(x, verbose=0)))]})
    m.save(os.path.join(HERE, "conv_none.keras"))
    out["models"].append({"name": "conv_none", "cases": cases})
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
