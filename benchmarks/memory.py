"""Tape memory with and without ad.checkpoint on an RNN-like loop (peak traced by tracemalloc).

    python benchmarks/memory.py
"""
import os
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import adcompiler as ad  # noqa: E402


def cell(h, x, w, u):
    a = h @ w
    b = x @ u
    z = np.tanh(a + b)
    return z * 0.5 + np.sin(z) * 0.5


remat_cell = ad.checkpoint(cell)


def rnn_plain(w, u, xs):
    h = np.zeros((xs.shape[1], w.shape[0]))
    for t in range(xs.shape[0]):
        h = cell(h, xs[t], w, u)
    return np.sum(h * h)


def rnn_checkpointed(w, u, xs):
    h = np.zeros((xs.shape[1], w.shape[0]))
    for t in range(xs.shape[0]):
        h = remat_cell(h, xs[t], w, u)
    return np.sum(h * h)


def measure(fn, args):
    grad = ad.grad(fn, wrt=(0, 1))
    grad(*args)  # generate the code outside the measurement
    tracemalloc.start()
    t0 = time.perf_counter()
    result = grad(*args)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, elapsed, result


def main():
    rng = np.random.RandomState(0)
    batch, hidden, steps = 256, 128, 100
    args = (rng.randn(hidden, hidden) * 0.05, rng.randn(hidden, hidden) * 0.05,
            rng.randn(steps, batch, hidden))
    plain = measure(rnn_plain, args)
    ckpt = measure(rnn_checkpointed, args)
    for a, b in zip(plain[2], ckpt[2]):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    print("RNN-like loop, batch %d, hidden %d, %d steps, gradient w.r.t. both weight matrices"
          % (batch, hidden, steps))
    print("| variant | peak traced memory | time |")
    print("|---|---|---|")
    print("| plain | %.1f MB | %.1f ms |" % (plain[0] / 1e6, plain[1] * 1e3))
    print("| checkpoint(cell) | %.1f MB | %.1f ms |" % (ckpt[0] / 1e6, ckpt[1] * 1e3))


if __name__ == "__main__":
    main()
