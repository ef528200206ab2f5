"""Writes the `nested`, `frozen` and `shared` fixtures. `nested` has what the six
fixtures from Keras do not reach: wrapped layers nested in the weights
files (Bidirectional(LSTM) with its forward_layer/backward_layer cells,
TimeDistributed(Dense)), and a `layers` group of more than forty members,
so that HDF5 stores it as a B-tree with several symbol-table nodes.
`frozen` is a transfer-learning model: its first Dense and its
BatchNormalization (with non-trivial moving statistics) have
trainable=False. `shared` is a siamese model: one Dense applied to two
inputs (two inbound nodes; later layers refer to its node 1) and an
Embedding-free Dot of the two branches.

Run from the repository root with Keras 3 on its numpy backend:

    PYTHONPATH=<keras-src>:<keras-env>/shims KERAS_BACKEND=numpy \
        /usr/bin/python3 testdata/keras/gen_models.py

It writes testdata/keras/{nested,frozen,shared}.{keras,weights.h5,h5,npz,json},
the JSON in the form of the other fixtures (configuration, weights, inputs
and Keras's predictions).
"""
import json
import os

import numpy as np
import keras

HERE = os.path.dirname(os.path.abspath(__file__))
def nested():
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
    return keras.Model(x, y, name="nested")


def frozen():
    x = keras.Input(shape=(5,), name="features")
    base = keras.layers.Dense(6, activation="relu", name="base")
    bn = keras.layers.BatchNormalization(name="bn")
    h = bn(base(x))
    y = keras.layers.Dense(3, activation="softmax", name="head")(h)
    m = keras.Model(x, y, name="frozen")
    rng = np.random.default_rng(8)
    gamma, beta, mean, var = bn.get_weights()
    bn.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.3, beta.shape),
                    rng.normal(0, 0.5, mean.shape), rng.uniform(0.5, 2.0, var.shape)])
    base.trainable = False
    bn.trainable = False
    return m


def array(name, a):
    return {"name": name, "dtype": str(a.dtype), "shape": list(a.shape), "data": a.tolist()}


def shared():
    a = keras.Input(shape=(4,), name="left")
    b = keras.Input(shape=(4,), name="right")
    enc = keras.layers.Dense(3, activation="tanh", name="encoder")
    ea, eb = enc(a), enc(b)
    diff = keras.layers.Subtract(name="diff")([ea, eb])
    sim = keras.layers.Dot(axes=1, normalize=True, name="cosine")([ea, eb])
    h = keras.layers.Concatenate(name="join")([diff, sim])
    y = keras.layers.Dense(1, activation="sigmoid", name="same")(h)
    return keras.Model([a, b], y, name="shared")


def write(name, m, input_names, xs, output_name, notes):
    if not isinstance(xs, list):
        input_names, xs = [input_names], [xs]
    y = np.asarray(m.predict(xs if len(xs) > 1 else xs[0], verbose=0))
    base = os.path.join(HERE, name)
    m.save(base + ".keras")
    m.save_weights(base + ".weights.h5")
    m.save(base + ".h5")
    ws = m.get_weights()
    np.savez(base + ".npz", *ws)
    weights = [{"index": i, "path": v.path, "name": v.name, "shape": list(v.shape), "dtype": str(v.dtype),
                "trainable": bool(v.trainable)} for i, v in enumerate(m.weights)]
    out = {"name": name, "keras_version": keras.__version__, "backend": keras.backend.backend(),
           "model_class": "Functional", "model_config": json.loads(m.to_json()), "weights": weights,
           "inputs": [array(n, x) for n, x in zip(input_names, xs)], "outputs": [array(output_name, y)], "notes": notes}
    with open(base + ".json", "w") as f:
        json.dump(out, f)


def main():
    keras.utils.set_random_seed(11)
    write("nested", nested(), "seq", np.random.default_rng(2).normal(size=(3, 6, 3)).astype("float32"), "out",
          "Bidirectional(LSTM) and TimeDistributed(Dense) nested in the weights files; 45 layers, so the layers group is a multi-node B-tree")
    keras.utils.set_random_seed(12)
    write("frozen", frozen(), "features", np.random.default_rng(3).normal(size=(4, 5)).astype("float32"), "head",
          "base and bn have trainable=False (transfer learning)")
    keras.utils.set_random_seed(13)
    rng = np.random.default_rng(4)
    write("shared", shared(), ["left", "right"], [rng.normal(size=(4, 4)).astype("float32"),
                                                   rng.normal(size=(4, 4)).astype("float32")], "same",
          "one Dense shared by two inputs: two inbound nodes, node 1 referred to downstream")


if __name__ == "__main__":
    main()
