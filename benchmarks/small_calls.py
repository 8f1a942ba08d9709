"""Small calls: the fixed cost of a cached gradient call (dispatch, argument checks, the helpers
of scalar and small-array code) and of second derivatives, as ratios to hand-written NumPy
gradients timed side by side in one process. Run from the repository root:

    python benchmarks/small_calls.py [--rounds 15] [--json out.json] [--root DIR]

Every case is first checked against its hand-written counterpart. The timings interleave: each
round times a batch of calls of every function of every case in turn, so a change in the
machine's load touches all alike; the tables give the median over the rounds and the range
(min-max) of the per-round ratio. ``--root DIR`` imports adcompiler from another checkout
(the same cases on an older commit, for a before/after comparison).
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workloads import mlp_hand, mlp_loss, poly, xy, xy_hand  # noqa: E402

_HERE = os.path.dirname(os.path.abspath(__file__))


# -- the cases --------------------------------------------------------------------------------

def poly_hand(x):  # (workloads.poly_hand returns a tuple)
    return 6 * x * x - 12 * x + 1


def poly_second_hand(x):
    return 12 * x - 12


def trig(x, y):
    return math.sin(x) * math.exp(y) + x / y


def trig_hand(x, y):
    e = math.exp(y)
    return (math.cos(x) * e + 1.0 / y, math.sin(x) * e - x / (y * y))


def affine_relu(params, X, y):
    h = np.maximum(0, X @ params["W1"] + params["b1"])
    scores = h @ params["W2"] + params["b2"]
    return 0.5 * np.sum((scores - y) ** 2)


def affine_relu_hand(params, X, y):
    a = X @ params["W1"] + params["b1"]
    h = np.maximum(0, a)
    d = h @ params["W2"] + params["b2"] - y
    dh = (d @ params["W2"].T) * (a > 0)
    return {"W1": X.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ d, "b2": d.sum(axis=0)}


def energy(x):
    return np.sum(np.sin(x) * x ** 2) + np.sum(x) ** 2 + np.mean(np.exp(-x))


def energy_grad_hand(x):
    s, c = np.sin(x), np.cos(x)
    return c * x * x + 2.0 * x * s + 2.0 * np.sum(x) - np.exp(-x) / x.size


def _energy_diagonal(x):
    s, c = np.sin(x), np.cos(x)
    return -x * x * s + 4.0 * x * c + 2.0 * s + np.exp(-x) / x.size


def energy_hessian_hand(x):
    h = np.full((x.size, x.size), 2.0)
    h[np.diag_indices(x.size)] += _energy_diagonal(x)
    return h


def energy_hvp_hand(x, v):
    return _energy_diagonal(x) * v + 2.0 * np.sum(v)


def cases(ad):
    """(name, target ratio or None, [(label, callable)], check): the first callable is the
    reference the others are divided by; ``check`` compares their results."""
    rng = np.random.RandomState(0)
    params = {"W1": rng.randn(4, 5), "b1": rng.randn(5), "W2": rng.randn(5, 3),
              "b2": rng.randn(3)}
    X, Y = rng.randn(2, 4), rng.randn(2, 3)

    def mlp(batch, width):
        args = (rng.randn(width, width) * 0.1, np.zeros(width), rng.randn(width, 10) * 0.1,
                np.zeros(10), rng.randn(batch, width), np.eye(10)[rng.randint(0, 10, batch)])
        return args

    m1, m16 = mlp(1, 64), mlp(16, 64)
    x10, v10 = rng.randn(10), rng.randn(10)
    g_poly = ad.grad(poly)
    g_xy = ad.grad(xy, wrt=(0, 1))
    g_trig = ad.grad(trig, wrt=(0, 1))
    g_layer = ad.grad(affine_relu)
    g_mlp = ad.grad(mlp_loss, wrt=(0, 1, 2, 3))
    g_energy = ad.grad(energy)
    hess = ad.hessian(energy)
    hess_reverse = ad.hessian(energy, mode="reverse")
    hvp = ad.hvp(energy)
    g_g_poly = ad.grad(ad.grad(poly))
    return [
        ("poly (scalar)", 1.5, [("hand", lambda: poly_hand(2.0)),
                                ("adcompiler", lambda: g_poly(2.0))]),
        ("x*(x+y)**2 (scalar)", 1.5, [("hand", lambda: xy_hand(3.0, -1.0)),
                                      ("adcompiler", lambda: g_xy(3.0, -1.0))]),
        ("sin(x)*exp(y)+x/y (scalar)", 1.5, [("hand", lambda: trig_hand(0.3, 1.2)),
                                             ("adcompiler", lambda: g_trig(0.3, 1.2))]),
        ("affine/relu, dict params, batch 2", None,
         [("hand", lambda: affine_relu_hand(params, X, Y)),
          ("adcompiler", lambda: g_layer(params, X, Y))]),
        ("MLP 64-64-10 batch 1", 1.1, [("hand", lambda: mlp_hand(*m1)),
                                       ("adcompiler", lambda: g_mlp(*m1))]),
        ("MLP 64-64-10 batch 16", 1.1, [("hand", lambda: mlp_hand(*m16)),
                                        ("adcompiler", lambda: g_mlp(*m16))]),
        ("poly'' (grad of grad, scalar)", None, [("hand", lambda: poly_second_hand(2.0)),
                                                 ("adcompiler", lambda: g_g_poly(2.0))]),
        ("hessian n=10", None, [("hand", lambda: energy_hessian_hand(x10)),
                                ("adcompiler", lambda: hess(x10))]),
        ("hessian n=10, mode=reverse", None, [("hand", lambda: energy_hessian_hand(x10)),
                                              ("adcompiler", lambda: hess_reverse(x10))]),
        ("hvp n=10 (vs hand hvp)", None, [("hand", lambda: energy_hvp_hand(x10, v10)),
                                          ("adcompiler", lambda: hvp(x10, v10))]),
        ("hvp n=10 (vs own gradient)", 1.5, [("adcompiler grad", lambda: g_energy(x10)),
                                             ("adcompiler hvp", lambda: hvp(x10, v10))]),
        ("hand hvp n=10 (vs hand gradient)", None,
         [("hand grad", lambda: energy_grad_hand(x10)),
          ("hand hvp", lambda: energy_hvp_hand(x10, v10))]),
    ]


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return np.allclose(a, b, rtol=1e-8, atol=1e-10)


def check(all_cases):
    for name, _, fns, in all_cases:
        if "vs" in name:  # (a gradient against an hvp: different values)
            continue
        first = fns[0][1]()
        for label, fn in fns[1:]:
            if not _same(first, fn()):
                raise SystemExit("WRONG: %s: %s differs from %s" % (name, label, fns[0][0]))


def _number(fn, seconds):
    """Calls per batch so that one batch takes about ``seconds``."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t0 >= seconds / 4:
            return max(1, int(n * seconds / (time.perf_counter() - t0)))
        n *= 2


def measure(all_cases, rounds, seconds=0.002):
    """Per case and function, the per-call time of every round (interleaved rounds; a round
    times a short batch of each function of a case in turn)."""
    for _, _, fns in all_cases:  # (first calls generate code: not what a batch measures)
        for _, fn in fns:
            for _ in range(3):
                fn()
    numbers = [[_number(fn, seconds) for _, fn in fns] for _, _, fns in all_cases]
    times = [[[] for _ in fns] for _, _, fns in all_cases]
    for _ in range(rounds):
        for (_, _, fns), ns, ts in zip(all_cases, numbers, times):
            for (_, fn), n, t in zip(fns, ns, ts):
                gc.collect()  # (garbage of one function is not collected in another's time)
                t0 = time.perf_counter()
                for _ in range(n):
                    fn()
                t.append((time.perf_counter() - t0) / n)
    return times


def summarise(all_cases, times):
    rows = []
    for (name, target, fns), ts in zip(all_cases, times):
        ref = ts[0]
        for (label, _), t in list(zip(fns, ts))[1:]:
            ratios = [a / b for a, b in zip(t, ref)]
            rows.append({"case": name, "reference": fns[0][0], "label": label,
                         "reference_us": statistics.median(ref) * 1e6,
                         "us": statistics.median(t) * 1e6,
                         "overhead_us": statistics.median(a - b for a, b in zip(t, ref)) * 1e6,
                         "ratio": statistics.median(ratios), "ratio_min": min(ratios),
                         "ratio_max": max(ratios), "target": target})
    return rows


def dispatch_overhead(ad):
    """Median cost of a cached call over calling the generated function directly (scalar
    arguments; dict-of-arrays arguments), in microseconds."""
    out = {}
    rng = np.random.RandomState(1)
    params = {"W1": rng.randn(4, 5), "b1": rng.randn(5), "W2": rng.randn(5, 3),
              "b2": rng.randn(3)}
    X, Y = rng.randn(2, 4), rng.randn(2, 3)
    for label, g, args in [("x*(x+y)**2, two floats", ad.grad(xy, wrt=(0, 1)), (3.0, -1.0)),
                           ("affine/relu, dict of 4 arrays", ad.grad(affine_relu),
                            (params, X, Y))]:
        g(*args)
        direct = g.derived._fns[ad.arguments.kinds_of(args)]
        pair = [lambda: g(*args), lambda: direct(*args)]
        ts = measure([("", None, [(str(i), f) for i, f in enumerate(pair)])], 41)[0]
        out[label] = statistics.median(a - b for a, b in zip(*ts)) * 1e6
    return out


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--json", default=None)
    parser.add_argument("--root", default=os.path.join(_HERE, ".."),
                        help="the checkout whose adcompiler is imported")
    opts = parser.parse_args(argv)
    sys.path.insert(0, os.path.abspath(opts.root))
    import adcompiler as ad
    all_cases = cases(ad)
    check(all_cases)
    rows = summarise(all_cases, measure(all_cases, opts.rounds))
    overhead = dispatch_overhead(ad)
    print("adcompiler from %s, %d rounds" % (os.path.dirname(ad.__file__), opts.rounds))
    print("| case | reference | time | ratio (median) | range | target |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %s %.2f us | %s %.2f us | %.2f | %.2f-%.2f | %s |"
              % (r["case"], r["reference"], r["reference_us"], r["label"], r["us"], r["ratio"],
                 r["ratio_min"], r["ratio_max"],
                 "<= %.2f" % r["target"] if r["target"] else "-"))
    print()
    for label, us in overhead.items():
        print("cached-call overhead over the generated function (%s): %.3f us" % (label, us))
    if opts.json:
        with open(opts.json, "w") as fh:
            json.dump({"date": time.strftime("%Y-%m-%d"), "machine": platform.platform(),
                       "python": platform.python_version(), "numpy": np.__version__,
                       "root": os.path.abspath(opts.root), "rows": rows,
                       "dispatch_overhead_us": overhead}, fh, indent=1)


if __name__ == "__main__":
    main()
