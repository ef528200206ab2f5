#!/usr/bin/python3
"""Proves that h5py reads the HDF5 files kerago's writer makes.

Usage (Debian: apt-get install python3-h5py; run with /usr/bin/python3):

    HDF5_SAMPLES=/tmp/samples go test -run TestWriteSamples ./train/hdf5/
    /usr/bin/python3 train/hdf5/testdata/check_h5py.py /tmp/samples/*.h5

For each FILE.h5 it prints the tree (groups, attributes with their values,
datasets with shape, dtype and first values) and, when the Go test wrote a
FILE.json beside it, compares every attribute and every dataset bit for bit
with what the Go side meant to write. It then walks the file the way Keras
loads it (legacy: layer_names, then each layer's weight_names; Keras 3:
layers/<key>/vars/<i>) when the file has that shape. It exits non-zero on
any mismatch.

    /usr/bin/python3 check_h5py.py --make-many OUT.h5

writes the h5py-made fixture h5py_many.h5 (300 links inserted out of order,
so that the HDF5 library splits its B-tree to a second level, and a group
"extra" with float64 attributes that only the default mode reads).
"""
import json
import sys

import h5py
import numpy as np


def show_attr(v):
    if isinstance(v, np.ndarray):
        return "%s %s %r" % (v.dtype, v.shape, v.tolist()[:6])
    s = repr(v)
    return s if len(s) < 90 else s[:87] + "..."


def show(f):
    for k, v in f.attrs.items():
        print("  / @%s = %s" % (k, show_attr(v)))

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            vals = np.asarray(obj[()]).ravel()[:4].tolist()
            print("  %s  dataset %s %s %r" % (name, obj.dtype, obj.shape, vals))
        else:
            print("  %s/" % name)
        for k, v in obj.attrs.items():
            print("  %s @%s = %s" % (name, k, show_attr(v)))

    f.visititems(visit)


def attr_json(v):
    """An h5py attribute value in the JSON form the Go test writes."""
    if isinstance(v, np.ndarray):
        if v.dtype == np.float64:
            return {"float64": [float(x) for x in v]}
        return {"strings": [x.decode() if isinstance(x, bytes) else x for x in v]}
    if isinstance(v, bytes):
        v = v.decode()
    return {"string": v}


def compare(f, want):
    bad = 0
    seen = []
    f.visititems(lambda name, obj: seen.append(name))
    if sorted(seen) != sorted(want["objects"]):
        print("  MISMATCH objects: %r vs %r" % (sorted(seen)[:5], sorted(want["objects"])[:5]))
        bad += 1
    for path, attrs in want["attrs"].items():
        obj = f[path]
        if sorted(obj.attrs.keys()) != sorted(attrs.keys()):
            print("  MISMATCH attribute names of %s" % path)
            bad += 1
            continue
        for k, v in attrs.items():
            if attr_json(obj.attrs[k]) != v:
                print("  MISMATCH %s @%s: %r vs %r" % (path, k, obj.attrs[k], v))
                bad += 1
    for path, d in want["datasets"].items():
        ds = f[path]
        got = np.ascontiguousarray(ds[()], dtype="<f4").view("<u4").ravel().tolist()
        if ds.dtype != np.float32 or list(ds.shape) != d["shape"] or got != d["bits"]:
            print("  MISMATCH dataset %s: %s %s" % (path, ds.dtype, ds.shape))
            bad += 1
    return bad


def keras_walk(f):
    """Loads the weights as Keras's loaders find them, if the file has that shape."""
    if "model_weights" in f and "layer_names" in f["model_weights"].attrs:
        mw = f["model_weights"]
        n = 0
        for layer in mw.attrs["layer_names"]:
            layer = layer.decode() if isinstance(layer, bytes) else layer
            names = mw[layer].attrs["weight_names"]
            for w in names:
                w = w.decode() if isinstance(w, bytes) else w
                np.asarray(mw[layer][w])
                n += 1
        print("  keras legacy walk: %d layers, %d weights" % (len(mw.attrs["layer_names"]), n))
    elif "layers" in f:
        n = 0

        def visit(name, obj):
            nonlocal n
            if isinstance(obj, h5py.Group) and name.endswith("vars"):
                assert isinstance(obj.attrs["name"], str)
                n += sum(1 for k in obj.keys() if isinstance(obj[k], h5py.Dataset))

        f["layers"].visititems(visit)
        print("  keras 3 walk: %d weights under layers/*/vars" % n)


def make_many(path):
    with h5py.File(path, "w") as f:
        g = f.create_group("many")
        for i in range(300):
            g.create_dataset("m%03d" % ((i * 7919) % 300), data=np.float32(i))
        f.attrs["empty"] = ""
        f.attrs["strs"] = ["a", "", "\u00fc"]
        f.attrs.create("none", np.array([], dtype=np.float64))
        extra = f.create_group("extra")  # float64 attributes Keras does not write
        extra.attrs["scalar"] = np.float64(1.5)
        extra.attrs["vector"] = np.array([1.0, -2.5], dtype=np.float64)


def main(args):
    if args[:1] == ["--make-many"]:
        make_many(args[1])
        return 0
    bad = 0
    for path in args:
        print(path)
        with h5py.File(path, "r") as f:
            show(f)
            try:
                with open(path[: -len(".h5")] + ".json") as j:
                    want = json.load(j)
            except FileNotFoundError:
                want = None
            if want is not None:
                b = compare(f, want)
                print("  %s against the Go tree" % ("MATCH" if b == 0 else "%d MISMATCHES" % b))
                bad += b
            keras_walk(f)
    print("h5py %s (HDF5 %s): %d files, %d mismatches" % (h5py.__version__, h5py.version.hdf5_version, len(args), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
