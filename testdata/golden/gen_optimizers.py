#!/usr/bin/python3
"""Golden values for kerago's optimizers (train/optimizers).

Run with /usr/bin/python3 (PyTorch 1.13) and the Keras 3 source for the
real-Keras checks (numpy backend; /work/shared/keras-env/README.md; the paths
default to /tmp/keras-src and /work/shared/keras-env/shims, or set
KERAS_SRC and KERAS_SHIMS):

    /usr/bin/python3 testdata/golden/gen_optimizers.py

It writes testdata/golden/optimizers.json next to this file.

The reference is Keras's update rules (docs/SEMANTICS.md §22.1 for
Adam; Keras 3 keras/src/optimizers/{sgd,rmsprop,adagrad,adadelta,adamax,
nadam,lion}.py, §22.7; learning-rate schedules evaluated at the steps
already made, with the float64 formulas of gen_schedules.py, §22.8;
legacy Keras 2 `decay`, applied on top of a schedule as tf.keras 2 did;
clipping: per-tensor clipnorm g*c/max(|g|,c), Keras 2 global clipnorm, value
clipping after norm clipping; Keras 3 weight_decay, w - w*wd*lr with the
decayed lr before the update, skipping weights whose name contains one of
exclude_from_weight_decay) written in torch tensor ops, in float64 and in
float32. In float32 every tensor op runs in float32 with Python-float scalars
(rounded to float32 by torch), as kerago's float32 loops do; the scalars
(decayed learning rate, Adam's bias-corrected step size, clipping factors,
lr*weight_decay) are
computed in float64 and the gradient norms are accumulated in float64, as
kerago does.

torch.optim cannot be the reference directly, because its formulas differ
from Keras's, but the script checks that the Keras formulas agree with
torch.optim wherever the two are mathematically identical:
  * Adam: torch adds eps to sqrt(v)/sqrt(1-b2^t), Keras to sqrt(v) with the
    bias correction folded into the step size; the two agree only for eps=0,
    so torch.optim.Adam(eps=0) (plain and amsgrad) is compared with the Keras
    formula at eps=0.
  * SGD: torch keeps buf = mu*buf + g and steps -lr*buf (Nesterov:
    -lr*(g + mu*buf)); Keras keeps v = mu*v - lr*g. With dampening=0 and a
    constant lr, v = -lr*buf, so the parameters agree (up to rounding).
  * RMSprop: torch adds eps to sqrt(v) (Keras 3: under the sqrt) and keeps
    buf = mu*buf + g/sqrt(.) stepping -lr*buf; equal to Keras 3 for eps=0.
  * AdamW: torch shrinks p by p*(1 - lr*wd) before its Adam step, which is
    Keras's p - p*wd*lr up to rounding; its Adam part places eps as torch's
    Adam does, so torch.optim.AdamW(eps=0) (plain, amsgrad, and with biases
    excluded through a parameter group without weight decay) is compared
    with the Keras formula at eps=0. Torch has no legacy decay.
  * Adagrad: torch adds eps to sqrt(acc) (Keras: under the sqrt): compared
    at eps=0. Adadelta: the same formula, compared as is. Adamax: torch puts
    eps inside the max (max(b2*u, |g|+eps)), Keras adds it to u: compared at
    eps=0. Nadam: torch 1.13's NAdam multiplies mu twice into mu_product_next
    (fixed in PyTorch 2.0) and defaults to the paper's 0.96^(0.004 t) cache,
    so it is recorded as disagreeing and real Keras is Nadam's cross-check.
    Lion has no torch.optim class; its rule is the paper's (Chen et al.
    2023) and real Keras's.
  * Schedules: plain SGD with ExponentialDecay against torch's SGD stepped
    with ExponentialLR, Adam (eps=0) with CosineDecay against CosineAnnealingLR.
All torch comparisons run in float64 and must agree to 1e-12 relative.
check_keras then runs real Keras 3 on the same weights and gradients for
every new optimizer and the schedule cases (see its docstring).
"""

import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_schedules import schedule_lr  # noqa: E402  (the float64 schedule formulas)

SEED = 20240607
STEPS = 6
SHAPES = [[3, 4], [4], [4, 2], [2]]  # Input(3) -> Dense(4) -> Dense(2)
# Names containing kerago's (layer name/weight name), for exclude_from_weight_decay.
NAMES = ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"]
GRAD_SCALES = [3.0, 1.0, 0.5, 2.0]   # per weight, so that clipping bites unevenly
STEP_SCALES = [1.0, 0.5, 2.0, 0.01, 1.0, 4.0]

CASES = [
    ("adam_default", "adam", {}),
    ("adam_lr", "adam", {"lr": 0.01}),
    ("adam_amsgrad", "adam", {"lr": 0.01, "amsgrad": True}),
    ("adam_eps_decay", "adam", {"lr": 0.01, "epsilon": 1e-6, "decay": 0.05}),
    ("adam_betas", "adam", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99}),
    ("adam_clipnorm", "adam", {"lr": 0.01, "clipnorm": 1.0}),
    ("adam_global_clipnorm", "adam", {"lr": 0.01, "global_clipnorm": 2.0}),
    ("adam_clipvalue", "adam", {"lr": 0.01, "clipvalue": 0.5}),
    # The article's Keras 2 optimizer: Adam(lr=0.001, beta_1=0.9,
    # beta_2=0.999, epsilon=1e-6, decay=1e-8, clipnorm=5., clipvalue=0.5),
    # whose clipnorm is global in Keras 2.
    ("adam_article", "adam", {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-6,
                              "decay": 1e-8, "global_clipnorm": 5.0, "clipvalue": 0.5}),
    ("adam_clipnorm_clipvalue", "adam", {"lr": 0.01, "clipnorm": 1.0, "clipvalue": 0.2}),
    ("adam_amsgrad_decay_clip", "adam", {"lr": 0.01, "amsgrad": True, "decay": 0.1,
                                         "global_clipnorm": 3.0, "clipvalue": 0.8}),
    ("sgd_plain", "sgd", {"lr": 0.1}),
    ("sgd_default", "sgd", {}),
    ("sgd_momentum", "sgd", {"lr": 0.05, "momentum": 0.9}),
    ("sgd_nesterov", "sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd_momentum_decay", "sgd", {"lr": 0.1, "momentum": 0.5, "decay": 0.1}),
    ("sgd_clipnorm_clipvalue", "sgd", {"lr": 0.1, "clipnorm": 1.0, "clipvalue": 0.5}),
    ("sgd_global_clipnorm", "sgd", {"lr": 0.1, "momentum": 0.9, "global_clipnorm": 2.0}),
    ("rmsprop_default", "rmsprop", {}),
    ("rmsprop_lr", "rmsprop", {"lr": 0.01}),
    ("rmsprop_centered", "rmsprop", {"lr": 0.01, "centered": True}),
    ("rmsprop_momentum", "rmsprop", {"lr": 0.01, "momentum": 0.9}),
    ("rmsprop_centered_momentum_decay", "rmsprop", {"lr": 0.01, "centered": True,
                                                    "momentum": 0.5, "decay": 0.05}),
    ("rmsprop_rho_eps", "rmsprop", {"lr": 0.01, "rho": 0.8, "epsilon": 1e-4}),
    ("rmsprop_clipnorm", "rmsprop", {"lr": 0.01, "clipnorm": 1.0, "clipvalue": 0.3}),
    # Keras 3 weight_decay, which the base gives every optimizer.
    ("adam_weight_decay", "adam", {"lr": 0.01, "weight_decay": 0.1}),
    # As sgd_momentum, with decayed kernels and excluded biases.
    ("sgd_momentum_weight_decay", "sgd", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05,
                                          "exclude_from_weight_decay": ["bias"]}),
    ("rmsprop_weight_decay_decay", "rmsprop", {"lr": 0.01, "weight_decay": 0.2, "decay": 0.05,
                                               "clipnorm": 1.0}),
    # Keras 3 AdamW: Adam with weight_decay defaulting to 0.004.
    ("adamw_default", "adamw", {}),
    ("adamw_lr", "adamw", {"lr": 0.01, "weight_decay": 0.1}),
    ("adamw_amsgrad", "adamw", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("adamw_clipnorm_clipvalue", "adamw", {"lr": 0.01, "weight_decay": 0.05, "clipnorm": 1.0,
                                           "clipvalue": 0.2}),
    ("adamw_decay_global_clipnorm", "adamw", {"lr": 0.01, "weight_decay": 0.1, "decay": 0.1,
                                              "global_clipnorm": 2.0}),
    ("adamw_amsgrad_exclude_bias", "adamw", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True,
                                             "exclude_from_weight_decay": ["bias"]}),
    # Keras 3's Adagrad, Adadelta, Adamax, Nadam and Lion.
    ("adagrad_default", "adagrad", {}),
    ("adagrad_lr", "adagrad", {"lr": 0.1}),
    ("adagrad_init_eps_decay", "adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-3,
                                           "decay": 0.1}),
    ("adagrad_clipnorm_clipvalue", "adagrad", {"lr": 0.1, "clipnorm": 1.0, "clipvalue": 0.5}),
    ("adagrad_global_clipnorm_weight_decay", "adagrad", {"lr": 0.1, "global_clipnorm": 2.0, "weight_decay": 0.1}),
    ("adadelta_lr1", "adadelta", {"lr": 1.0}),
    ("adadelta_rho_eps", "adadelta", {"lr": 1.0, "rho": 0.9, "epsilon": 1e-4}),
    ("adadelta_clip_decay", "adadelta", {"lr": 1.0, "clipnorm": 1.0, "clipvalue": 0.5, "decay": 0.1}),
    ("adadelta_global_clipnorm_weight_decay", "adadelta", {"lr": 1.0, "global_clipnorm": 2.0, "weight_decay": 0.05,
                                                          "exclude_from_weight_decay": ["bias"]}),
    ("adamax_default", "adamax", {}),
    ("adamax_lr", "adamax", {"lr": 0.01}),
    ("adamax_betas_eps_decay", "adamax", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-4, "decay": 0.05}),
    ("adamax_clipnorm_clipvalue", "adamax", {"lr": 0.01, "clipnorm": 1.0, "clipvalue": 0.2}),
    ("adamax_global_clipnorm_weight_decay", "adamax", {"lr": 0.01, "global_clipnorm": 2.0, "weight_decay": 0.1}),
    ("nadam_default", "nadam", {}),
    ("nadam_lr", "nadam", {"lr": 0.01}),
    ("nadam_betas_eps_decay", "nadam", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-4, "decay": 0.05}),
    ("nadam_clipnorm_clipvalue", "nadam", {"lr": 0.01, "clipnorm": 1.0, "clipvalue": 0.2}),
    ("nadam_global_clipnorm_weight_decay", "nadam", {"lr": 0.01, "global_clipnorm": 2.0, "weight_decay": 0.1,
                                                    "exclude_from_weight_decay": ["bias"]}),
    ("lion_default", "lion", {}),
    ("lion_lr", "lion", {"lr": 1e-4}),
    ("lion_betas", "lion", {"lr": 0.01, "beta1": 0.8, "beta2": 0.95}),
    ("lion_clip_decay", "lion", {"lr": 0.01, "clipnorm": 1.0, "clipvalue": 0.2, "decay": 0.1}),
    ("lion_global_clipnorm_weight_decay", "lion", {"lr": 0.01, "global_clipnorm": 2.0, "weight_decay": 0.5,
                                                  "exclude_from_weight_decay": ["bias"]}),
    # A learning-rate schedule evaluated at the steps already made (Keras
    # 3), with the legacy decay on top where given (tf.keras 2).
    ("sgd_momentum_exponential_decay", "sgd", {"momentum": 0.9, "schedule": {
        "class_name": "ExponentialDecay",
        "config": {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5}}}),
    ("adam_cosine_decay_warmup", "adam", {"schedule": {
        "class_name": "CosineDecay",
        "config": {"initial_learning_rate": 0.0, "decay_steps": 4, "warmup_target": 0.05, "warmup_steps": 2}}}),
    ("nadam_piecewise_constant", "nadam", {"clipnorm": 1.0, "schedule": {
        "class_name": "PiecewiseConstantDecay", "config": {"boundaries": [1, 3], "values": [0.05, 0.01, 0.002]}}}),
    ("adagrad_inverse_time_decay_legacy_decay", "adagrad", {"decay": 0.1, "weight_decay": 0.1, "schedule": {
        "class_name": "InverseTimeDecay",
        "config": {"initial_learning_rate": 0.2, "decay_steps": 1, "decay_rate": 0.5, "staircase": True}}}),
    ("lion_cosine_restarts", "lion", {"schedule": {
        "class_name": "CosineDecayRestarts", "config": {"initial_learning_rate": 0.01, "first_decay_steps": 2}}}),
    ("rmsprop_polynomial_decay", "rmsprop", {"schedule": {
        "class_name": "PolynomialDecay", "config": {"initial_learning_rate": 0.01, "decay_steps": 4, "power": 2.0}}}),
]

DEFAULTS = {
    "adam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7},
    "sgd": {"lr": 0.01, "momentum": 0.0},
    "rmsprop": {"lr": 1e-3, "rho": 0.9, "epsilon": 1e-7, "momentum": 0.0},
    "adamw": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7, "weight_decay": 0.004},
    "adagrad": {"lr": 1e-3, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "adadelta": {"lr": 1e-3, "rho": 0.95, "epsilon": 1e-7},
    "adamax": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7},
    "nadam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7},
    "lion": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.99},
}


def sqnorm(g):
    return float((g.double() * g.double()).sum())


def keras_run(kind, opts, init, grads, dtype):
    """Runs len(grads) steps of the Keras rule; returns the weights after each."""
    cfg = dict(DEFAULTS[kind])
    cfg.update(opts)
    params = [p.clone().to(dtype) for p in init]
    n = len(params)
    zeros = lambda: [torch.zeros_like(p) for p in params]
    s1, s2, s3 = zeros(), zeros(), zeros()
    if kind == "adagrad":
        s1 = [torch.full_like(p, cfg["initial_accumulator_value"]) for p in params]
    u_product = 1.0  # Nadam's, optimizer state
    out = []
    for it, step_grads in enumerate(grads):
        gs = [g.to(dtype) for g in step_grads]
        # Norm clipping (factors in float64), then value clipping.
        norms = [math.sqrt(sqnorm(g)) for g in gs]
        if "clipnorm" in cfg:
            c = cfg["clipnorm"]
            factors = [c / max(nm, c) for nm in norms]
        elif "global_clipnorm" in cfg:
            c = cfg["global_clipnorm"]
            gn = math.sqrt(sum(nm * nm for nm in norms))
            factors = [c / gn if gn > c else 1.0] * n
        else:
            factors = [1.0] * n
        gs = [g * f for g, f in zip(gs, factors)]
        if "clipvalue" in cfg:
            cv = cfg["clipvalue"]
            gs = [torch.clamp(g, -cv, cv) for g in gs]
        lr = cfg["lr"]
        if "schedule" in cfg:
            lr = schedule_lr(cfg["schedule"]["class_name"], cfg["schedule"]["config"], it)
        if cfg.get("decay", 0) > 0:
            lr = lr * (1.0 / (1.0 + cfg["decay"] * it))
        t = it + 1
        if kind == "nadam":
            u = lambda k: cfg["beta1"] * (1.0 - 0.5 * 0.96 ** k)
            u_t, u_t1 = u(t), u(t + 1)
            u_product = u_product * u_t
            nadam_c = (u_t1, 1.0 - u_product * u_t1, 1.0 - u_t, 1.0 - u_product, 1.0 - cfg["beta2"] ** t)
        wd = cfg.get("weight_decay", 0.0)
        for i in range(n):
            if wd > 0 and not any(x in NAMES[i] for x in cfg.get("exclude_from_weight_decay", [])):
                params[i] = params[i] - params[i] * (lr * wd)
        for i, g in enumerate(gs):
            p = params[i]
            if kind in ("adam", "adamw"):
                b1, b2, eps = cfg["beta1"], cfg["beta2"], cfg["epsilon"]
                lr_t = lr * (math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t))
                m = b1 * s1[i] + (1.0 - b1) * g
                v = b2 * s2[i] + (1.0 - b2) * (g * g)
                s1[i], s2[i] = m, v
                if cfg.get("amsgrad"):
                    v = torch.maximum(s3[i], v)
                    s3[i] = v
                params[i] = p - lr_t * m / (torch.sqrt(v) + eps)
            elif kind == "sgd":
                mu = cfg["momentum"]
                if mu == 0:
                    params[i] = p - lr * g
                else:
                    m = mu * s1[i] - lr * g
                    s1[i] = m
                    if cfg.get("nesterov"):
                        params[i] = p + (mu * m - lr * g)
                    else:
                        params[i] = p + m
            elif kind == "rmsprop":
                rho, eps, mu = cfg["rho"], cfg["epsilon"], cfg["momentum"]
                v = rho * s1[i] + (1.0 - rho) * (g * g)
                s1[i] = v
                if cfg.get("centered"):
                    a = rho * s3[i] + (1.0 - rho) * g
                    s3[i] = a
                    d = v - a * a + eps
                else:
                    d = v + eps
                inc = lr * g / torch.sqrt(d)
                if mu > 0:
                    inc = mu * s2[i] + inc
                    s2[i] = inc
                params[i] = p - inc
            elif kind == "adagrad":
                acc = s1[i] + g * g
                s1[i] = acc
                params[i] = p - lr * g / torch.sqrt(acc + cfg["epsilon"])
            elif kind == "adadelta":
                rho, eps = cfg["rho"], cfg["epsilon"]
                a = rho * s1[i] + (1.0 - rho) * (g * g)
                s1[i] = a
                delta = -(torch.sqrt(s2[i] + eps) * g / torch.sqrt(a + eps))
                s2[i] = rho * s2[i] + (1.0 - rho) * (delta * delta)
                params[i] = p + lr * delta
            elif kind == "adamax":
                b1, b2, eps = cfg["beta1"], cfg["beta2"], cfg["epsilon"]
                lr_t = lr / (1.0 - b1 ** t)
                m = s1[i] + (g - s1[i]) * (1.0 - b1)
                un = torch.maximum(b2 * s2[i], g.abs())
                s1[i], s2[i] = m, un
                params[i] = p - lr_t * m / (un + eps)
            elif kind == "nadam":
                b1, b2, eps = cfg["beta1"], cfg["beta2"], cfg["epsilon"]
                ut1, d1, out_t, d0, bc2 = nadam_c
                m = s1[i] + (g - s1[i]) * (1.0 - b1)
                v = s2[i] + (g * g - s2[i]) * (1.0 - b2)
                s1[i], s2[i] = m, v
                m_hat = ut1 * m / d1 + out_t * g / d0
                params[i] = p - m_hat * lr / (torch.sqrt(v / bc2) + eps)
            elif kind == "lion":
                b1, b2 = cfg["beta1"], cfg["beta2"]
                c = s1[i] * b1 + g * (1.0 - b1)
                params[i] = p - lr * torch.sign(c)
                s1[i] = s1[i] * b2 + g * (1.0 - b2)
            else:
                raise ValueError(kind)
        out.append([p.clone() for p in params])
    return out


def torch_run(make_opt, init, grads):
    """Runs a torch.optim optimizer; make_opt may return (optimizer, make_scheduler)."""
    params = [torch.nn.Parameter(p.clone().double()) for p in init]
    opt = make_opt(params)
    sched = None
    if isinstance(opt, tuple):
        opt, make_sched = opt
        sched = make_sched(opt)
    out = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = g.clone().double()
        opt.step()
        if sched is not None:
            sched.step()
        out.append([p.detach().clone() for p in params])
    return out


def max_rel(a_steps, b_steps):
    worst = 0.0
    for a_ws, b_ws in zip(a_steps, b_steps):
        for a, b in zip(a_ws, b_ws):
            d = (a.double() - b.double()).abs() / b.double().abs().clamp(min=1e-300)
            worst = max(worst, float(d.max()))
    return worst


def check_torch(init, grads):
    checks = [
        ("adam", {"lr": 0.01, "epsilon": 0.0},
         lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=0.0)),
        ("adam", {"lr": 0.01, "epsilon": 0.0, "amsgrad": True},
         lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=0.0, amsgrad=True)),
        ("adam", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "epsilon": 0.0},
         lambda ps: torch.optim.Adam(ps, lr=0.02, betas=(0.8, 0.99), eps=0.0)),
        ("sgd", {"lr": 0.1},
         lambda ps: torch.optim.SGD(ps, lr=0.1)),
        ("sgd", {"lr": 0.05, "momentum": 0.9},
         lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0)),
        ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True},
         lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0, nesterov=True)),
        ("rmsprop", {"lr": 0.01, "epsilon": 0.0},
         lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=0.0)),
        ("rmsprop", {"lr": 0.01, "epsilon": 0.0, "centered": True, "momentum": 0.5},
         lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=0.0, centered=True, momentum=0.5)),
        ("rmsprop", {"lr": 0.01, "epsilon": 0.0, "momentum": 0.9},
         lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=0.0, momentum=0.9)),
        ("adamw", {"lr": 0.01, "epsilon": 0.0, "weight_decay": 0.1},
         lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.999), eps=0.0, weight_decay=0.1)),
        ("adamw", {"lr": 0.01, "epsilon": 0.0, "weight_decay": 0.1, "amsgrad": True},
         lambda ps: torch.optim.AdamW(ps, lr=0.01, eps=0.0, weight_decay=0.1, amsgrad=True)),
        ("adamw", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "epsilon": 0.0, "weight_decay": 0.5,
                   "exclude_from_weight_decay": ["bias"]},
         lambda ps: torch.optim.AdamW([{"params": [p for p, nm in zip(ps, NAMES) if "bias" not in nm]},
                                       {"params": [p for p, nm in zip(ps, NAMES) if "bias" in nm],
                                        "weight_decay": 0.0}],
                                      lr=0.02, betas=(0.8, 0.99), eps=0.0, weight_decay=0.5)),
    ]
    exp_sched = {"class_name": "ExponentialDecay",
                 "config": {"initial_learning_rate": 0.1, "decay_steps": 1, "decay_rate": 0.8}}
    cos_sched = {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.02, "decay_steps": 5}}
    checks += [
        ("adagrad", {"lr": 0.1, "epsilon": 0.0},
         lambda ps: torch.optim.Adagrad(ps, lr=0.1, initial_accumulator_value=0.1, eps=0.0)),
        ("adagrad", {"lr": 0.1, "epsilon": 0.0, "initial_accumulator_value": 0.5},
         lambda ps: torch.optim.Adagrad(ps, lr=0.1, initial_accumulator_value=0.5, eps=0.0)),
        ("adadelta", {"lr": 1.0},
         lambda ps: torch.optim.Adadelta(ps, lr=1.0, rho=0.95, eps=1e-7)),
        ("adadelta", {"lr": 0.5, "rho": 0.9, "epsilon": 1e-4},
         lambda ps: torch.optim.Adadelta(ps, lr=0.5, rho=0.9, eps=1e-4)),
        ("adamax", {"lr": 0.01, "epsilon": 0.0},
         lambda ps: torch.optim.Adamax(ps, lr=0.01, betas=(0.9, 0.999), eps=0.0)),
        ("adamax", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "epsilon": 0.0},
         lambda ps: torch.optim.Adamax(ps, lr=0.02, betas=(0.8, 0.99), eps=0.0)),
        # A schedule is the lr of each step: torch's schedulers stepped once
        # per optimizer step (plain SGD: torch's momentum buffer would keep
        # the past rates out, Keras's keeps them in).
        ("sgd", {"schedule": exp_sched},
         lambda ps: torch.optim.SGD(ps, lr=0.1), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8)),
        ("adam", {"epsilon": 0.0, "schedule": cos_sched},
         lambda ps: torch.optim.Adam(ps, lr=0.02, eps=0.0),
         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5)),
    ]
    report = []
    for kind, opts, make, *sched in checks:
        if sched:
            make = (lambda mk, sc: lambda ps: (mk(ps), sc))(make, sched[0])
        ours = keras_run(kind, opts, init, grads, torch.float64)
        ref = torch_run(make, init, grads)
        r = max_rel(ours, ref)
        report.append({"optimizer": kind, "options": opts, "max_rel_diff": r})
        assert r < 1e-12, (kind, opts, r)
    # With eps > 0 torch's Adam really differs (documented, not a bug).
    ours = keras_run("adam", {"lr": 0.01, "epsilon": 1e-3}, init, grads, torch.float64)
    ref = torch_run(lambda ps: torch.optim.Adam(ps, lr=0.01, eps=1e-3), init, grads)
    report.append({"optimizer": "adam", "options": {"lr": 0.01, "epsilon": 1e-3},
                   "max_rel_diff": max_rel(ours, ref), "note": "eps placement differs: expected to disagree"})
    assert max_rel(ours, ref) > 1e-9
    ours = keras_run("adamw", {"lr": 0.01, "epsilon": 1e-3}, init, grads, torch.float64)
    ref = torch_run(lambda ps: torch.optim.AdamW(ps, lr=0.01, eps=1e-3, weight_decay=0.004), init, grads)
    report.append({"optimizer": "adamw", "options": {"lr": 0.01, "epsilon": 1e-3},
                   "max_rel_diff": max_rel(ours, ref), "note": "eps placement differs: expected to disagree"})
    assert max_rel(ours, ref) > 1e-9
    for kind, opts, make, note in [
        ("adagrad", {"lr": 0.1, "epsilon": 1e-3},
         lambda ps: torch.optim.Adagrad(ps, lr=0.1, initial_accumulator_value=0.1, eps=1e-3),
         "eps placement differs (Keras under the sqrt): expected to disagree"),
        ("adamax", {"lr": 0.01, "epsilon": 1e-3}, lambda ps: torch.optim.Adamax(ps, lr=0.01, eps=1e-3),
         "eps placement differs (torch inside the max): expected to disagree"),
        ("nadam", {"lr": 0.01}, lambda ps: torch.optim.NAdam(ps, lr=0.01, eps=1e-7, momentum_decay=1.0),
         "torch 1.13 multiplies mu twice into mu_product_next (fixed in PyTorch 2.0): expected to disagree; "
         "real Keras (keras_checks) is Nadam's cross-check"),
    ]:
        ours = keras_run(kind, opts, init, grads, torch.float64)
        ref = torch_run(make, init, grads)
        report.append({"optimizer": kind, "options": opts, "max_rel_diff": max_rel(ours, ref), "note": note})
        assert max_rel(ours, ref) > 1e-9
    return report


KERAS_CLASSES = {"sgd": "SGD", "adam": "Adam", "adagrad": "Adagrad", "adadelta": "Adadelta",
                 "adamax": "Adamax", "nadam": "Nadam", "lion": "Lion"}
KERAS_ARGS = {"lr": "learning_rate", "beta1": "beta_1", "beta2": "beta_2"}


def check_keras(init, grads):
    """Runs real Keras 3 (numpy backend, float64 variables) on the same
    weights and gradients, for every new optimizer and for schedules, and
    asserts that the torch-ops rules above agree to 1e-5 relative: the numpy
    backend turns Python-float constants (1-rho, epsilon, the initial
    accumulator, a schedule's rate) into float32 tensors even for float64
    variables, so Keras's float64 steps carry float32 roundings (about 1e-7
    relative). Formula differences are far larger (Nadam's cache 5e-3); the
    torch.optim checks above are the tight (1e-12) ones. Keras 3 has no legacy
    decay and refuses to combine clipping options, so the cases have
    neither."""
    src = os.environ.get("KERAS_SRC", "/tmp/keras-src")
    shims = os.environ.get("KERAS_SHIMS", "/work/shared/keras-env/shims")
    os.environ["KERAS_BACKEND"] = "numpy"
    sys.path[:0] = [src, shims]
    import keras  # noqa: E402
    import numpy as np  # noqa: E402
    keras.config.set_floatx("float64")
    cases = [
        ("adagrad", {"lr": 0.1}), ("adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-3,
                                               "clipnorm": 1.0}),
        ("adagrad", {"lr": 0.1, "global_clipnorm": 2.0, "weight_decay": 0.1}),
        ("adadelta", {"lr": 1.0}), ("adadelta", {"lr": 1.0, "rho": 0.9, "epsilon": 1e-4, "clipvalue": 0.5}),
        ("adadelta", {"lr": 1.0, "global_clipnorm": 2.0, "weight_decay": 0.05, "exclude_from_weight_decay": ["bias"]}),
        ("adamax", {"lr": 0.01}), ("adamax", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-4,
                                              "clipvalue": 0.2}),
        ("adamax", {"lr": 0.01, "global_clipnorm": 2.0, "weight_decay": 0.1}),
        ("nadam", {}), ("nadam", {"lr": 0.01}),
        ("nadam", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-4, "clipnorm": 1.0}),
        ("nadam", {"lr": 0.01, "global_clipnorm": 2.0, "weight_decay": 0.1, "exclude_from_weight_decay": ["bias"]}),
        ("lion", {}), ("lion", {"lr": 0.01, "beta1": 0.8, "beta2": 0.95, "clipvalue": 0.2}),
        ("lion", {"lr": 0.01, "global_clipnorm": 2.0, "weight_decay": 0.5, "exclude_from_weight_decay": ["bias"]}),
    ] + [(kind, opts) for _, kind, opts in CASES if "schedule" in opts and "decay" not in opts
         and not ("clipnorm" in opts and "clipvalue" in opts)]
    report = []
    for kind, opts in cases:
        kw = {}
        for k, v in opts.items():
            if k == "schedule":
                cls = getattr(keras.optimizers.schedules, v["class_name"])
                kw["learning_rate"] = cls(**v["config"])
            elif k != "exclude_from_weight_decay":
                kw[KERAS_ARGS.get(k, k)] = v
        if kind == "rmsprop":
            o = keras.optimizers.RMSprop(**kw)
        else:
            o = getattr(keras.optimizers, KERAS_CLASSES[kind])(**kw)
        names = [n.split("/")[1] for n in NAMES]
        vs = [keras.Variable(p.numpy().copy(), dtype="float64", name=nm) for p, nm in zip(init, names)]
        if "exclude_from_weight_decay" in opts:
            o.exclude_from_weight_decay(var_names=opts["exclude_from_weight_decay"])
        ref = []
        for step_grads in grads:
            o.apply([np.array(g.numpy()) for g in step_grads], vs)
            ref.append([torch.tensor(np.array(v.numpy())) for v in vs])
        ours = keras_run(kind, opts, init, grads, torch.float64)
        r = max_rel(ours, ref)
        tol = 1e-5
        report.append({"optimizer": kind, "options": opts, "max_rel_diff": r})
        assert r < tol, (kind, opts, r)
    return keras.__version__, report


def check_hand_values():
    """docs/SEMANTICS.md §24.10 and §24.11."""
    def run(kind, opts, init, grads):
        init = [torch.tensor(x, dtype=torch.float64) for x in init]
        grads = [[torch.tensor(x, dtype=torch.float64) for x in s] for s in grads]
        return [p.tolist() for p in keras_run(kind, opts, init, grads, torch.float64)[-1]]

    def close(a, b, tol=1e-10):
        flat = lambda x: sum((flat(y) for y in x), []) if isinstance(x, list) else [x]
        fa, fb = flat(a), flat(b)
        assert len(fa) == len(fb) and all(abs(x - y) <= tol for x, y in zip(fa, fb)), (a, b)

    close(run("adam", {}, [[1, 2]], [[[0.1, -0.2]]]), [[0.99900003162, 2.00099998419]])
    close(run("adam", {}, [[1, 2]], [[[0.1, -0.2]], [[0.3, 0.1]]]), [[0.99808225968, 2.00126631746]])
    close(run("adam", {"decay": 0.1}, [[1, 2]], [[[0.1, -0.2]], [[0.3, 0.1]]]),
          [[0.99816569349, 2.00124210534]])
    close(run("adam", {"amsgrad": True}, [[0]], [[[0.5]], [[0]], [[0]]]), [[-0.0021871483]])
    close(run("adam", {}, [[0]], [[[0.5]], [[0]], [[0]]]), [[-0.0021880014]])
    close(run("adam", {"clipnorm": 1}, [[0]], [[[10]], [[0.5]]]), [[-0.0019321738]])
    close(run("adam", {}, [[0]], [[[10]], [[0.5]]]), [[-0.0017063998]])
    g11 = [[[3], [0, 4]]]
    close(run("sgd", {"lr": 0.1, "global_clipnorm": 1}, [[1], [1, 1]], g11), [[0.94], [1, 0.92]])
    close(run("sgd", {"lr": 0.1, "clipnorm": 1}, [[1], [1, 1]], g11), [[0.9], [1, 0.9]])
    close(run("sgd", {"lr": 1, "global_clipnorm": 1, "clipvalue": 0.5}, [[0], [0, 0]], g11),
          [[-0.5], [0, -0.5]])


def main():
    gen = torch.Generator().manual_seed(SEED)
    init = [torch.randn(s, generator=gen, dtype=torch.float64) for s in SHAPES]
    grads = []
    for k in range(STEPS):
        step = []
        for s, scale in zip(SHAPES, GRAD_SCALES):
            step.append(torch.randn(s, generator=gen, dtype=torch.float64) * scale * STEP_SCALES[k])
        grads.append(step)

    check_hand_values()
    torch_report = check_torch(init, grads)
    keras_version, keras_report = check_keras(init, grads)

    cases = []
    for name, kind, opts in CASES:
        entry = {"name": name, "optimizer": kind, "options": opts, "expected": {}}
        for dt_name, dt in (("float64", torch.float64), ("float32", torch.float32)):
            steps = keras_run(kind, opts, init, grads, dt)
            entry["expected"][dt_name] = [[p.double().flatten().tolist() for p in ws] for ws in steps]
        cases.append(entry)

    doc = {
        "generator": "testdata/golden/gen_optimizers.py (PyTorch %s, Keras update rules in torch ops)" % torch.__version__,
        "seed": SEED,
        "network": "Input(3) -> Dense(4) -> Dense(2); weights in Network.Weights order, row-major",
        "shapes": SHAPES,
        "init": [p.flatten().tolist() for p in init],
        "grads": [[g.flatten().tolist() for g in step] for step in grads],
        "torch_optim_checks": torch_report,
        "keras_checks": {"keras": keras_version + " (numpy backend, float64 variables)", "cases": keras_report},
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizers.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", path, "with", len(cases), "cases;", "torch.optim checks:",
          ", ".join("%s %.1e" % (r["optimizer"], r["max_rel_diff"]) for r in torch_report) + ";",
          "Keras %s checks:" % keras_version,
          ", ".join("%s %.1e" % (r["optimizer"], r["max_rel_diff"]) for r in keras_report))


if __name__ == "__main__":
    main()
