#!/usr/bin/python3
"""PyTorch reference for `kerago bench`: the same training workloads (shapes,
batch sizes, Adam, random data), trained for --steps steps after a warm-up,
repeated over the same batches until the measurement lasts at least a
second (as kerago bench does), printing lines in kerago's format:

  workload=mlp samples_per_s=... ms_per_step=... allocs_per_step=0 peak_heap_mb=... threads=1

the same predict workload (the mlp and cnn models in eval mode under
torch.inference_mode: latency of calls of 1 and of 32 samples, at least
40×--steps calls and a second of calls, at most 50,000,
then the throughput of 1, 2 and 4 Python threads sharing the model):

  workload=predict model=mlp samples=1 calls=... p50_us=... p99_us=... allocs_per_call=0 threads=1
  workload=predict model=mlp samples=32 goroutines=2 samples_per_s=... threads=1

plus the float32 matrix-product rate of torch.mm at 128, 256, 512 and 1024:

  gemm size=512 gflops=... threads=1

For PyTorch at its best, run it without this machine's OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE pins, with ATEN_CPU_CAPABILITY=avx512, and with glibc's
malloc told to keep freed memory (MALLOC_MMAP_THRESHOLD_=33554432
MALLOC_TRIM_THRESHOLD_=4000000000 MALLOC_TOP_PAD_=268435456), as compare.sh
does. Without the last three, glibc may hand PyTorch's large freed buffers
back to the kernel, and every step then pays a page fault per 4 KiB page
on reuse (about 11 µs each on this project's VM): measured on 2026-12-01,
cnn training 1,100 instead of 6,800 samples/s, mlp 66,000 instead of
130,000, gru 3,900 instead of 8,100.

It installs nothing: run it with Debian's /usr/bin/python3 and python3-torch
(apt-get install python3-torch libopenblas0-pthread). Each thread count runs
in its own process with OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set. allocs_per_step is not
measured for PyTorch and printed as 0; peak_heap_mb is the process's peak
resident set.
"""
import argparse
import math
import os
import resource
import subprocess
import sys
import threading
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(784, 128), nn.Linear(128, 10)

    def forward(self, x):
        return self.b(F.relu(self.a(x)))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)
        self.d = nn.Linear(64, 10)

    def forward(self, x):  # x: (N, 1, 28, 28)
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.relu(self.c2(x))
        return self.d(x.mean(dim=(2, 3)))


class GRUNet(nn.Module):
    def __init__(self, bidirectional):
        super().__init__()
        self.rnn = nn.GRU(32, 64, batch_first=True, bidirectional=bidirectional)
        self.d = nn.Linear(128 if bidirectional else 64, 1)

    def forward(self, x):
        _, h = self.rnn(x)  # h: (directions, N, 64)
        h = torch.cat(list(h), dim=1)
        return self.d(h).squeeze(1)


class LSTMNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(32, 64, batch_first=True)
        self.d = nn.Linear(64, 1)

    def forward(self, x):
        _, (h, _) = self.rnn(x)
        return self.d(h[0]).squeeze(1)


class Article(nn.Module):
    """Embedding(5000, 64) → bidirectional GRU(128) over 40 steps → l2
    normalize → max over time → Linear(256, 10), as kerago's article."""

    def __init__(self):
        super().__init__()
        self.e = nn.Embedding(5000, 64)
        self.rnn = nn.GRU(64, 128, batch_first=True, bidirectional=True)
        self.d = nn.Linear(256, 10)

    def forward(self, x):
        h, _ = self.rnn(self.e(x))
        return self.d(F.normalize(h, dim=-1).amax(dim=1))


WORKLOADS = {
    "mlp": (128, MLP, lambda n: torch.randn(n, 784), lambda n: torch.randint(0, 10, (n,)), "ce"),
    "cnn": (64, CNN, lambda n: torch.randn(n, 1, 28, 28), lambda n: torch.randint(0, 10, (n,)), "ce"),
    "gru": (64, lambda: GRUNet(False), lambda n: torch.randn(n, 50, 32), lambda n: torch.randint(0, 2, (n,)).float(), "bce"),
    "bigru": (64, lambda: GRUNet(True), lambda n: torch.randn(n, 50, 32), lambda n: torch.randint(0, 2, (n,)).float(), "bce"),
    "lstm": (64, LSTMNet, lambda n: torch.randn(n, 50, 32), lambda n: torch.randint(0, 2, (n,)).float(), "bce"),
    "article": (64, Article, lambda n: torch.randint(1, 5000, (n, 40)), lambda n: torch.randint(0, 10, (n,)), "ce"),
}


# The most calls a latency case measures: each case runs at least
# 40 x --steps calls and at least MIN_TIME of calls (as kerago bench does).
PREDICT_MAX_CALLS = 50000


def predict(steps, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(3)
    calls = 40 * steps
    for name in ("mlp", "cnn"):
        _, make, xf, _, _ = WORKLOADS[name]
        model = make().eval()
        for n in (1, 32):
            x = xf(n)
            with torch.inference_mode():
                for _ in range(calls // 10 + 10):
                    model(x)
                lat = []
                begin = time.perf_counter()
                while len(lat) < PREDICT_MAX_CALLS and (len(lat) < calls or time.perf_counter() - begin < MIN_TIME):
                    t = time.perf_counter_ns()
                    model(x)
                    lat.append((time.perf_counter_ns() - t) / 1e3)
            lat.sort()
            q = lambda f: lat[min(max(int(f * len(lat) + 0.5) - 1, 0), len(lat) - 1)]
            print(f"workload=predict model={name} samples={n} calls={len(lat)} p50_us={q(0.5):.1f} p99_us={q(0.99):.1f} "
                  f"allocs_per_call=0 threads={threads}", flush=True)
        x = xf(32)
        for g in (1, 2, 4):
            window = steps * 0.02
            counts = [0] * g

            def loop(i):
                start = time.perf_counter()
                with torch.inference_mode():
                    while time.perf_counter() - start < window:
                        model(x)
                        counts[i] += 32

            start = time.perf_counter()
            ts = [threading.Thread(target=loop, args=(i,)) for i in range(g)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            elapsed = time.perf_counter() - start
            print(f"workload=predict model={name} samples=32 goroutines={g} samples_per_s={sum(counts) / elapsed:.1f} "
                  f"threads={threads}", flush=True)


# The least time a training figure measures, in seconds.
MIN_TIME = 1.0


def run(name, steps, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    batch, make, xf, yf, loss = WORKLOADS[name]
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    lossf = nn.CrossEntropyLoss() if loss == "ce" else nn.BCEWithLogitsLoss()
    warm = 5
    x, y = xf(batch * (steps + warm)), yf(batch * (steps + warm))

    def step(i):
        xb, yb = x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]
        opt.zero_grad()
        lossf(model(xb), yb).backward()
        opt.step()

    for i in range(warm):
        step(i)
    # One pass over the steps batches; under MIN_TIME, the measurement is
    # that many passes again (as kerago bench does).
    passes = 1
    while True:
        start = time.perf_counter()
        for _ in range(passes):
            for i in range(warm, warm + steps):
                step(i)
        elapsed = time.perf_counter() - start
        if passes > 1 or elapsed >= MIN_TIME:
            break
        passes = math.ceil(MIN_TIME / elapsed)
    steps *= passes
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"workload={name} samples_per_s={steps * batch / elapsed:.1f} ms_per_step={elapsed * 1e3 / steps:.2f} "
          f"allocs_per_step=0 peak_heap_mb={peak:.1f} threads={threads}", flush=True)


def gemm(size, threads, reps):
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b)
    elapsed = time.perf_counter() - start
    print(f"gemm size={size} gflops={2 * size ** 3 * reps / elapsed / 1e9:.1f} threads={threads}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", default="all", choices=["all", "predict", "gemm"] + list(WORKLOADS))
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    args = p.parse_args()
    counts = [int(v) for v in args.threads.split(",")]
    if len(counts) > 1:
        # One process per thread count: OpenBLAS fixes its pool at start-up
        # from OPENBLAS_NUM_THREADS and ignores torch.set_num_threads.
        for t in counts:
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(t), OMP_NUM_THREADS=str(t))
            subprocess.run([sys.executable, __file__, "--workload", args.workload, "--steps", str(args.steps),
                            "--threads", str(t)], env=env, check=True)
        return
    t = counts[0]
    names = list(WORKLOADS) + ["predict", "gemm"] if args.workload == "all" else [args.workload]
    for n in names:
        if n == "predict":
            predict(args.steps, t)
        elif n == "gemm":
            for size, reps in ((128, 2000), (256, 400), (512, 60), (1024, 10)):
                gemm(size, t, reps)
        else:
            run(n, args.steps, t)


if __name__ == "__main__":
    main()
