#!/usr/bin/python3
"""Golden values for kerago's learning-rate schedules (train/optimizers).

Run from the repository root with Debian's Python, PyTorch and real Keras 3
(numpy backend, see /work/shared/keras-env/README.md):

    PYTHONPATH=/tmp/keras-src:/work/shared/keras-env/shims KERAS_BACKEND=numpy \\
        /usr/bin/python3 testdata/golden/gen_schedules.py

It writes testdata/golden/schedules.json: for every case, a schedule as
Keras serializes it ({"class_name", "config"}) and its learning rate at
many steps, twice:
  * "keras": real Keras 3's keras.optimizers.schedules.<Class>(**config)(step).
    Keras computes in the dtype of initial_learning_rate, float32, so these
    carry float32 roundings.
  * "reference": the same formulas (keras/src/optimizers/schedules/
    learning_rate_schedule.py) in float64 (schedule_lr below, which
    gen_optimizers.py also uses for its optimizer-with-schedule cases).
The script asserts that the two agree to 1e-4 relative (float32 roundings,
the worst, 3e-5, at 0.97^1000)
at every step, and cross-checks the reference against
torch.optim.lr_scheduler where a PyTorch schedule is the same function:
  * ExponentialDecay with decay_steps=1 is ExponentialLR(gamma=decay_rate),
    with decay_steps=k and staircase StepLR(step_size=k, gamma=decay_rate);
  * CosineDecay (alpha=0, no warmup) is CosineAnnealingLR(T_max=decay_steps,
    eta_min=0) up to decay_steps (then Keras stays at the end value, torch
    rises again), and with alpha, eta_min = alpha*initial_learning_rate;
  * CosineDecayRestarts with t_mul=1 or 2 and m_mul=1 is
    CosineAnnealingWarmRestarts(T_0=first_decay_steps, T_mult=t_mul);
  * PolynomialDecay (no cycle) is PolynomialLR(total_iters, power) with
    end_learning_rate=0 (torch 1.13 has it);
  * PiecewiseConstantDecay with values lr*gamma^i is MultiStepLR with
    milestones boundaries+1 (Keras switches after the step equal to the
    boundary, torch at the milestone).
torch's schedulers are stepped once per step and read with get_last_lr();
these comparisons must agree to 1e-12 relative (torch's chainable forms
compound roundings).
"""

import json
import math
import os

STEPS = list(range(0, 41)) + [49, 50, 51, 69, 70, 71, 99, 100, 101, 150, 1000]

CASES = [
    ("exponential", "ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}),
    ("exponential_staircase", "ExponentialDecay",
     {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.8, "staircase": True}),
    ("exponential_step1", "ExponentialDecay", {"initial_learning_rate": 0.05, "decay_steps": 1, "decay_rate": 0.97}),
    ("piecewise", "PiecewiseConstantDecay", {"boundaries": [5, 12, 30], "values": [1.0, 0.5, 0.1, 0.01]}),
    ("piecewise_one", "PiecewiseConstantDecay", {"boundaries": [0], "values": [0.3, 0.2]}),
    ("inverse_time", "InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5}),
    ("inverse_time_staircase", "InverseTimeDecay",
     {"initial_learning_rate": 0.2, "decay_steps": 4, "decay_rate": 1.5, "staircase": True}),
    ("polynomial", "PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 30}),
    ("polynomial_power", "PolynomialDecay",
     {"initial_learning_rate": 0.1, "decay_steps": 25, "end_learning_rate": 0.001, "power": 0.5}),
    ("polynomial_cycle", "PolynomialDecay",
     {"initial_learning_rate": 0.1, "decay_steps": 8, "end_learning_rate": 0.01, "power": 2.0, "cycle": True}),
    ("cosine", "CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 30}),
    ("cosine_alpha", "CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 20, "alpha": 0.1}),
    ("cosine_warmup", "CosineDecay",
     {"initial_learning_rate": 0.0, "decay_steps": 30, "alpha": 0.05, "warmup_target": 0.2, "warmup_steps": 10}),
    ("cosine_warmup_from", "CosineDecay",
     {"initial_learning_rate": 0.01, "decay_steps": 15, "warmup_target": 0.1, "warmup_steps": 4}),
    ("cosine_warmup_ignored", "CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 20, "warmup_steps": 5}),
    ("restarts", "CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10}),
    ("restarts_tmul1", "CosineDecayRestarts",
     {"initial_learning_rate": 0.1, "first_decay_steps": 8, "t_mul": 1.0, "m_mul": 0.5, "alpha": 0.1}),
    ("restarts_tmul15", "CosineDecayRestarts",
     {"initial_learning_rate": 0.05, "first_decay_steps": 6, "t_mul": 1.5, "m_mul": 0.8, "alpha": 0.02}),
]

DEFAULTS = {
    "ExponentialDecay": {"staircase": False},
    "InverseTimeDecay": {"staircase": False},
    "PiecewiseConstantDecay": {},
    "PolynomialDecay": {"end_learning_rate": 0.0001, "power": 1.0, "cycle": False},
    "CosineDecay": {"alpha": 0.0, "warmup_target": None, "warmup_steps": 0},
    "CosineDecayRestarts": {"t_mul": 2.0, "m_mul": 1.0, "alpha": 0.0},
}


def schedule_lr(class_name, config, step):
    """Keras 3's schedule class_name(**config) at step, in float64."""
    c = dict(DEFAULTS[class_name])
    c.update(config)
    s = float(step)
    if class_name in ("ExponentialDecay", "InverseTimeDecay"):
        p = s / c["decay_steps"]
        if c["staircase"]:
            p = math.floor(p)
        if class_name == "ExponentialDecay":
            return c["initial_learning_rate"] * c["decay_rate"] ** p
        return c["initial_learning_rate"] / (1.0 + c["decay_rate"] * p)
    if class_name == "PiecewiseConstantDecay":
        for b, v in zip(c["boundaries"], c["values"]):
            if step <= b:
                return v
        return c["values"][-1]
    if class_name == "PolynomialDecay":
        ds = float(c["decay_steps"])
        if c["cycle"]:
            if s != 0:
                ds = ds * math.ceil(s / c["decay_steps"])
        else:
            s = min(s, ds)
        return (c["initial_learning_rate"] - c["end_learning_rate"]) * (1.0 - s / ds) ** c["power"] + \
            c["end_learning_rate"]

    def cosine(frac, alpha, m=1.0):
        return (1.0 - alpha) * (0.5 * m * (1.0 + math.cos(math.pi * frac))) + alpha

    if class_name == "CosineDecay":
        ds = float(c["decay_steps"])
        if c["warmup_target"] is None:
            return c["initial_learning_rate"] * cosine(min(s, ds) / ds, c["alpha"])
        ws, target = float(c["warmup_steps"]), c["warmup_target"]
        s = min(s, ds + ws)
        if s < ws:
            return (target - c["initial_learning_rate"]) * (s / ws) + c["initial_learning_rate"]
        return target * cosine((s - ws) / ds, c["alpha"])
    if class_name == "CosineDecayRestarts":
        f = s / c["first_decay_steps"]
        tm = c["t_mul"]
        if tm == 1.0:
            i = math.floor(f)
            f -= i
        else:
            i = math.floor(math.log(1.0 - f * (1.0 - tm)) / math.log(tm))
            f = (f - (1.0 - tm ** i) / (1.0 - tm)) / tm ** i
        return c["initial_learning_rate"] * cosine(f, c["alpha"], c["m_mul"] ** i)
    raise ValueError(class_name)


def keras_values(class_name, config, steps):
    import keras
    cls = getattr(keras.optimizers.schedules, class_name)
    sched = cls(**config)
    # The config Keras serializes must be the one given (plus its name).
    ser = keras.optimizers.schedules.serialize(sched)
    assert ser["class_name"] == class_name, ser
    for k, v in config.items():
        assert ser["config"][k] == v, (k, ser)
    return [float(sched(st)) for st in steps]


def torch_checks():
    import torch

    def run(make_sched, lr, n):
        p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        opt = torch.optim.SGD([p], lr=lr)
        sched = make_sched(opt)
        out = []
        for _ in range(n):
            out.append(sched.get_last_lr()[0])
            opt.step()
            sched.step()
        return out

    S = torch.optim.lr_scheduler
    checks = [
        ("ExponentialDecay", {"initial_learning_rate": 0.05, "decay_steps": 1, "decay_rate": 0.97}, 0.05,
         lambda o: S.ExponentialLR(o, gamma=0.97), 200),
        ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.8, "staircase": True},
         0.1, lambda o: S.StepLR(o, step_size=7, gamma=0.8), 200),
        ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 30}, 0.1,
         lambda o: S.CosineAnnealingLR(o, T_max=30), 31),
        ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 20, "alpha": 0.1}, 0.1,
         lambda o: S.CosineAnnealingLR(o, T_max=20, eta_min=0.01), 21),
        ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 8, "t_mul": 1.0}, 0.1,
         lambda o: S.CosineAnnealingWarmRestarts(o, T_0=8, T_mult=1), 100),
        ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10}, 0.1,
         lambda o: S.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2), 150),
        ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 25, "end_learning_rate": 0.0,
                             "power": 0.5}, 0.1, lambda o: S.PolynomialLR(o, total_iters=25, power=0.5), 60),
        ("PiecewiseConstantDecay", {"boundaries": [5, 12, 30], "values": [0.1, 0.05, 0.025, 0.0125]}, 0.1,
         lambda o: S.MultiStepLR(o, milestones=[6, 13, 31], gamma=0.5), 60),
    ]
    report = []
    for cls, cfg, lr, make, n in checks:
        ref = [schedule_lr(cls, cfg, k) for k in range(n)]
        got = run(make, lr, n)
        worst = max(abs(a - b) / max(abs(a), 1e-300) for a, b in zip(ref, got))
        report.append({"class_name": cls, "config": cfg, "steps": n,
                       "torch": type(make(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr))).__name__,
                       "max_rel_diff": worst})
        assert worst < 1e-12, (cls, cfg, worst)
    return report


def main():
    cases = []
    worst_keras = 0.0
    for name, cls, cfg in CASES:
        ref = [schedule_lr(cls, cfg, k) for k in STEPS]
        ker = keras_values(cls, cfg, STEPS)
        for k, a, b in zip(STEPS, ref, ker):
            d = abs(a - b) / max(abs(a), 1e-300)
            worst_keras = max(worst_keras, d)
            assert d < 1e-4, (name, k, a, b)
        cases.append({"name": name, "schedule": {"class_name": cls, "config": cfg},
                      "reference": ref, "keras": ker})
    report = torch_checks()
    import keras
    import torch
    doc = {
        "generator": "testdata/golden/gen_schedules.py (Keras %s numpy backend, PyTorch %s)" % (
            keras.__version__, torch.__version__),
        "steps": STEPS,
        "keras_vs_reference_max_rel_diff": worst_keras,
        "torch_lr_scheduler_checks": report,
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schedules.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", path, "with", len(cases), "cases; keras float32 vs float64 reference max rel diff %.2e;" % worst_keras,
          "torch checks:", ", ".join("%s %.1e" % (r["class_name"], r["max_rel_diff"]) for r in report))


if __name__ == "__main__":
    main()
