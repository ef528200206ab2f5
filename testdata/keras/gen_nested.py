"""Writes the `nested` fixture: a model whose files have what the six
fixtures from Keras do not reach — wrapped layers nested in the weights
files (Bidirectional(LSTM) with its forward_layer/backward_layer cells,
TimeDistributed(Dense)), and a `layers` group of more than forty members,
so that HDF5 stores it as a B-tree with several symbol-table nodes.

Run from the repository root with Keras 3 on its numpy backend:

    PYTHONPATH=<keras-src>:<keras-env>/shims KERAS_BACKEND=numpy \
        /usr/bin/python3 testdata/keras/gen_nested.py

It writes testdata/keras/nested.{keras,weights.h5,h5,npz,json}, the JSON
in the form of the other fixtures (configuration, weights, inputs and
Keras's predictions).
"""
import json
import os

import numpy as np
import keras

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "nested"


def model():
    x = keras.Input(shape=(6, 3), name="seq")
    h = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True), name="bilstm")(x)
    h = keras.layers.TimeDistributed(keras.layers.Dense(3, activation="tanh"), name="td")(h)
    for i in range(40):
        # Orthogonal and linear, so that forty of them keep the values'
        # size and the final outputs are not too small to compare.
        h = keras.layers.Dense(3, kernel_initializer=keras.initializers.Orthogonal(seed=i),
                               bias_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=100 + i),
                               name="mix_%02d" % i)(h)
    h = keras.layers.SimpleRNN(3, name="rnn")(h)
    y = keras.layers.Dense(2, name="out")(h)
    return keras.Model(x, y, name=NAME)


def array(name, a):
    return {"name": name, "dtype": str(a.dtype), "shape": list(a.shape), "data": a.tolist()}


def main():
    keras.utils.set_random_seed(11)
    m = model()
    x = np.random.default_rng(2).normal(size=(3, 6, 3)).astype("float32")
    y = np.asarray(m.predict(x, verbose=0))
    base = os.path.join(HERE, NAME)
    m.save(base + ".keras")
    m.save_weights(base + ".weights.h5")
    m.save(base + ".h5")
    ws = m.get_weights()
    np.savez(base + ".npz", *ws)
    weights = [{"index": i, "path": v.path, "name": v.name, "shape": list(v.shape), "dtype": str(v.dtype),
                "trainable": bool(v.trainable)} for i, v in enumerate(m.weights)]
    out = {"name": NAME, "keras_version": keras.__version__, "backend": keras.backend.backend(),
           "model_class": "Functional", "model_config": json.loads(m.to_json()), "weights": weights,
           "inputs": [array("seq", x)], "outputs": [array("out", y)],
           "notes": "Bidirectional(LSTM) and TimeDistributed(Dense) nested in the weights files; 45 layers, so the layers group is a multi-node B-tree"}
    with open(base + ".json", "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
