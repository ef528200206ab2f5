#!/usr/bin/python3
"""Golden values for kerago's merge layers (layers/merge_test.go): Add,
Subtract, Multiply, Average, Maximum, Minimum, Concatenate and Dot.

Run with /usr/bin/python3 (PyTorch 1.13) from the repository root:

    /usr/bin/python3 testdata/golden/gen_merge.py

It writes testdata/golden/merge.json. Each case gives the inputs (batch
axis first), optional (batch, time) masks, the output, the output mask, and
the gradients of sum(out * w) with respect to every input, computed in
float64 by a port to PyTorch of Keras 3's own code
(keras/src/layers/merging/*.py):

- the element-wise layers (base_merge.Merge): inputs of lower rank get axes
  of size 1 inserted after the batch axis (expand_dims(x, 1)), then NumPy
  broadcasting; Maximum and Minimum with masks follow
  Merge._apply_merge_op_and_or_mask, Multiply with masks its own
  _merge_function; the output mask is the OR of the input masks when every
  input has one (Merge.compute_mask);
- Concatenate: torch.cat; its mask is Concatenate.compute_mask (unmasked
  inputs count as all ones; masks broadcast over the features, joined along
  the axis, then any() over the last axis);
- Dot: Keras's batch_dot (transposes, rank-3 matmul, squeeze), with
  normalize the inputs first go through ops.normalize:
  x * rsqrt(max(sum(x^2), eps^2)), eps = 1e-7.

The inputs are uniform random values, so Maximum and Minimum meet no ties
between distinct inputs (PyTorch splits a tie's gradient in halves where
TensorFlow gives it to the first input). With masks, a masked element is
replaced by the running result, which makes ties on purpose; there the two
rules give the same total gradient, since both halves flow back to the same
element.
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)
EPS = 1e-7


def rand(g, shape, lo=-2.0, hi=2.0):
    return torch.rand(shape, generator=g) * (hi - lo) + lo


def expanded(mask, x):
    """Keras's ops.broadcast_to(ops.expand_dims(mask, -1), ops.shape(x))."""
    return mask.unsqueeze(-1).expand(x.shape)


def same_rank(xs):
    """base_merge.Merge.call's expand_dims(x, axis=1) up to the top rank."""
    top = max(x.dim() for x in xs)
    out = []
    for x in xs:
        while x.dim() < top:
            x = x.unsqueeze(1)
        out.append(x)
    return out


def extremum(op, xs, masks):
    """Merge._apply_merge_op_and_or_mask."""
    output, output_mask = None, None
    for x, mask in zip(xs, masks):
        if mask is not None:
            mask = expanded(mask, x)
        if output is None:
            output, output_mask = x, mask
            continue
        if mask is not None:
            x = torch.where(mask, x, output)
        if output_mask is not None:
            output = torch.where(output_mask, output, x)
        if mask is not None and output_mask is not None:
            output_mask = torch.logical_or(output_mask, mask)
        else:
            output_mask = None
        output = op(output, x)
    return output


def multiply(xs, masks):
    """Multiply._merge_function."""
    has_output_mask = all(m is not None for m in masks)
    output, output_mask = None, None
    for x, mask in zip(xs, masks):
        if mask is not None:
            mask = expanded(mask, x)
            x = torch.where(mask, x, torch.ones_like(x))
            if has_output_mask:
                output_mask = mask if output_mask is None else torch.logical_or(output_mask, mask)
        output = x if output is None else output * x
    if has_output_mask:
        output = torch.where(output_mask, output, torch.zeros_like(output))
    return output


def add(xs, masks):
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


ELEMENTWISE = {
    "Add": add,
    "Subtract": lambda xs, masks: xs[0] - xs[1],
    "Multiply": multiply,
    "Average": lambda xs, masks: add(xs, masks) / len(xs),
    "Maximum": lambda xs, masks: extremum(torch.maximum, xs, masks),
    "Minimum": lambda xs, masks: extremum(torch.minimum, xs, masks),
}


def merge_mask(masks):
    """Merge.compute_mask: the OR of the masks when every input has one."""
    if any(m is None for m in masks):
        return None
    out = masks[0]
    for m in masks[1:]:
        out = torch.logical_or(out, m)
    return out


def concat_mask(xs, masks, axis):
    """Concatenate.compute_mask."""
    if all(m is None for m in masks):
        return None
    full = []
    for x, m in zip(xs, masks):
        if m is None:
            full.append(torch.ones_like(x, dtype=torch.bool))
        else:
            full.append(torch.logical_or(m.unsqueeze(-1), torch.zeros_like(x, dtype=torch.bool)))
    return torch.any(torch.cat(full, dim=axis), dim=-1)


def batch_dot(x, y, axes):
    """Keras's batch_dot (keras/src/layers/merging/dot.py)."""
    x_ndim, y_ndim = x.dim(), y.dim()
    a0, a1 = axes
    orig_x_ndim, orig_y_ndim = x_ndim, y_ndim
    if x_ndim == 2:
        x = x.unsqueeze(1)
        a0 += 1
        x_ndim += 1
    if y_ndim == 2:
        y = y.unsqueeze(2)
        y_ndim += 1
    if a0 != x_ndim - 1:
        pattern = list(range(x_ndim))
        for i in range(a0, x_ndim - 1):
            pattern[i] = pattern[i + 1]
        pattern[-1] = a0
        x = x.permute(pattern)
    if a1 != 1:
        pattern = list(range(y_ndim))
        for i in range(a1, 1, -1):
            pattern[i] = pattern[i - 1]
        pattern[1] = a1
        y = y.permute(pattern)
    x_squashed = x_ndim > 3
    if x_squashed:
        x_mid_dims = list(x.shape[1:-1])
        x = x.reshape(x.shape[0], -1, x.shape[-1])
    y_squashed = y_ndim > 3
    if y_squashed:
        y_trail_dims = list(y.shape[2:])
        y = y.reshape(y.shape[0], y.shape[1], -1)
    result = torch.matmul(x, y)
    output_shape = list(result.shape)
    if x_squashed:
        output_shape = output_shape[:1] + x_mid_dims + output_shape[-1:]
    if y_squashed:
        output_shape = output_shape[:-1] + y_trail_dims
    result = result.reshape(output_shape)
    if orig_x_ndim == 2:
        result = result.squeeze(1)
    elif orig_y_ndim == 2:
        result = result.squeeze(-1)
    return result


def normalize(x, axis):
    s = torch.sum(x * x, dim=axis, keepdim=True)
    return x * torch.rsqrt(torch.clamp(s, min=EPS * EPS))


def dot(xs, axes, normalized):
    """Dot._merge_function and compute_output_shape (rank 1 → (N, 1))."""
    x, y = xs
    if len(axes) == 1:
        axes = [axes[0] % x.dim(), axes[0] % y.dim()] if axes[0] < 0 else [axes[0]] * 2
    else:
        axes = [a % t.dim() if a < 0 else a for a, t in zip(axes, xs)]
    if normalized:
        x, y = normalize(x, axes[0]), normalize(y, axes[1])
    out = batch_dot(x, y, axes)
    if out.dim() == 1:
        out = out.unsqueeze(1)
    return out


def flat(t):
    return t.detach().flatten().tolist()


def case(layer, name, batch, shapes, seed, masks=None, zero_sample=False, **params):
    g = torch.Generator().manual_seed(seed)
    xs = [rand(g, (batch,) + tuple(s)) for s in shapes]
    if zero_sample:
        xs[0][0] = 0
    xs = [x.requires_grad_(True) for x in xs]
    masks = masks or [None] * len(xs)
    bmasks = [None if m is None else torch.tensor(m, dtype=torch.bool).reshape(batch, -1) for m in masks]
    out_mask = None
    if layer in ELEMENTWISE:
        out = ELEMENTWISE[layer](same_rank(xs), bmasks)
        out_mask = merge_mask(bmasks)
    elif layer == "Concatenate":
        out = torch.cat(xs, dim=params["axis"] % xs[0].dim())
        out_mask = concat_mask(xs, bmasks, params["axis"])
    else:
        out = dot(xs, params["axes"], params["normalize"])
    w = rand(g, out.shape, -1.0, 1.0)
    (out * w).sum().backward()
    c = {"layer": layer, "name": name, "batch": batch, "shapes": [list(s) for s in shapes],
         "inputs": [flat(x) for x in xs], "masks": masks, "w": flat(w),
         "output_shape": list(out.shape[1:]), "output": flat(out),
         "output_mask": None if out_mask is None else [float(v) for v in flat(out_mask)],
         "grads": [flat(x.grad) for x in xs]}
    c.update(params)
    return c


def elementwise_cases():
    cases = []
    for i, layer in enumerate(ELEMENTWISE):
        n = 2 if layer == "Subtract" else 3
        cases.append(case(layer, "same shapes, 2-D", 2, [(4,)] * n, 10 + i))
        cases.append(case(layer, "same shapes, 3-D", 2, [(3, 2)] * 2, 20 + i))
        cases.append(case(layer, "columns (N, 1)", 3, [(1,)] * 2, 30 + i))
        cases.append(case(layer, "broadcast axes of size 1", 2, [(3, 1), (1, 4)], 40 + i))
        cases.append(case(layer, "broadcast a lower rank", 2, [(2, 3, 4), (4,)], 50 + i))
    cases.append(case("Add", "three inputs, mixed broadcasts", 2, [(3, 4), (1, 4), (3, 1)], 60))
    cases.append(case("Maximum", "one input", 2, [(3,)], 61))
    return cases


# (N, T) masks for N = 2, T = 3.
M1 = [1, 1, 0, 1, 0, 0]
M2 = [0, 1, 1, 1, 0, 1]
M3 = [1, 0, 0, 0, 0, 1]


def masked_cases():
    cases = []
    for i, layer in enumerate(ELEMENTWISE):
        n = 2 if layer == "Subtract" else 3
        both = [M1, M2, M3][:n]
        cases.append(case(layer, "every input masked", 2, [(3, 2)] * n, 70 + i, masks=both))
        cases.append(case(layer, "first input unmasked", 2, [(3, 2)] * n, 80 + i, masks=[None] + both[1:]))
        cases.append(case(layer, "last input unmasked", 2, [(3, 2)] * n, 90 + i, masks=both[:-1] + [None]))
    return cases


def concatenate_cases():
    return [
        case("Concatenate", "Dense(6) and Dense(4), axis -1", 2, [(6,), (4,)], 110, axis=-1),
        case("Concatenate", "columns, axis 1", 3, [(1,), (1,), (2,)], 111, axis=1),
        case("Concatenate", "time axis 1", 2, [(2, 3), (1, 3), (4, 3)], 112, axis=1),
        case("Concatenate", "axis 2 of 3-D", 2, [(3, 2), (3, 1)], 113, axis=2),
        case("Concatenate", "axis -2 of 4-D", 2, [(2, 3, 2), (2, 1, 2)], 114, axis=-2),
        case("Concatenate", "masks, axis 1, one unmasked", 2, [(3, 2), (3, 2)], 115, axis=1, masks=[M1, None]),
        case("Concatenate", "masks, axis -1, both masked", 2, [(3, 2), (3, 3)], 116, axis=-1, masks=[M1, M2]),
        case("Concatenate", "masks, axis -1, one unmasked", 2, [(3, 2), (3, 3)], 117, axis=-1, masks=[None, M2]),
    ]


def dot_cases():
    cases = []
    for norm in (False, True):
        tag = ", normalized" if norm else ""
        cases += [
            case("Dot", "(d)·(d), axes 1" + tag, 3, [(5,), (5,)], 120 + norm, axes=[1], normalize=norm),
            case("Dot", "(d)·(d), axes -1" + tag, 2, [(4,), (4,)], 122 + norm, axes=[-1], normalize=norm),
            case("Dot", "(m,k)·(k,p), axes (2,1)" + tag, 2, [(3, 4), (4, 5)], 124 + norm, axes=[2, 1], normalize=norm),
            case("Dot", "(k,m)·(k,p), axes 1" + tag, 2, [(4, 3), (4, 5)], 126 + norm, axes=[1], normalize=norm),
            case("Dot", "(m,k)·(p,k), axes -1" + tag, 2, [(3, 4), (5, 4)], 128 + norm, axes=[-1], normalize=norm),
            case("Dot", "(k,m)·(p,k), axes (1,2)" + tag, 2, [(4, 3), (5, 4)], 130 + norm, axes=[1, 2], normalize=norm),
        ]
    cases += [
        case("Dot", "(k)·(m,k), axes (1,2)", 2, [(4,), (3, 4)], 140, axes=[1, 2], normalize=False),
        case("Dot", "(m,k)·(k), axes (-1,-1)", 2, [(3, 4), (4,)], 141, axes=[-1, -1], normalize=False),
        case("Dot", "4-D middle axis: (a,k,b)·(k,p), axes (2,1)", 2, [(3, 4, 2), (4, 5)], 142, axes=[2, 1], normalize=False),
        case("Dot", "4-D middle axis of y: (k)·(a,k,b), axes (1,2)", 2, [(4,), (3, 4, 2)], 143, axes=[1, 2], normalize=True),
        case("Dot", "4-D end axes: (k,a,b)·(c,k), axes (1,2)", 2, [(4, 2, 3), (5, 4)], 144, axes=[1, 2], normalize=False),
        case("Dot", "zero sample, normalized", 2, [(3,), (3,)], 145, axes=[1], normalize=True, zero_sample=True),
    ]
    return cases


def main():
    cases = elementwise_cases() + masked_cases() + concatenate_cases() + dot_cases()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "merge.json")
    with open(path, "w") as f:
        json.dump({"cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
