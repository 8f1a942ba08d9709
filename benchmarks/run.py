"""Benchmark: generated gradients against hand-written NumPy gradients (and autograd / JAX /
PyTorch eager when installed). Run from the repository root:

    python benchmarks/run.py [--quick] [--only TEXT] [--json benchmarks/results.json]

Every gradient is first checked against the hand-written one and against central finite
differences along a random direction; a wrong gradient is reported as WRONG and not timed.
Ratios are to the hand-written gradient in the same process (best of several repeats).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import timeit
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workloads import workloads  # noqa: E402

import adcompiler as ad  # noqa: E402

TARGETS = {"array": 1.10, "loop": 1.30, "scalar": 2.0}


def best_time(fn, repeat=5, min_time=0.2):
    """Seconds per call: best of ``repeat`` runs of an auto-ranged number of calls."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    number = max(1, int(number * min_time / 0.2))
    return min(timer.repeat(repeat=repeat, number=number)) / number


def best_times(fns, repeat=5, min_time=0.2):
    """``best_time`` of several functions measured in turns (one run of each per round), so a
    change in the machine's load touches all of them alike."""
    timers = [timeit.Timer(fn) for fn in fns]
    numbers = [max(1, int(t.autorange()[0] * min_time / 0.2)) for t in timers]
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, (timer, number) in enumerate(zip(timers, numbers)):
            best[i] = min(best[i], timer.timeit(number) / number)
    return best


def as_tuple(g, many):
    return tuple(g) if many else (g,)


def close(a, b, tol=1e-6):
    return all(np.allclose(np.asarray(x, dtype=float), np.asarray(y, dtype=float), rtol=tol,
                           atol=tol * 1e-2)
               for x, y in zip(a, b))


def directional_check(w, grads, eps=1e-6):
    """Central finite difference of f along a random direction vs <grad, direction> (a float32
    workload's function evaluated in float64, its gradient held to the workload's tolerance)."""
    args = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == np.float32 else a
            for a in w.make_args()]
    rng = np.random.RandomState(1)
    dirs = [rng.randn(*np.shape(args[p])) if np.ndim(args[p]) else rng.randn() for p in w.wrt]
    hi, lo = list(args), list(args)
    for p, d in zip(w.wrt, dirs):
        hi[p] = args[p] + eps * d
        lo[p] = args[p] - eps * d
    fd = (w.fn(*hi) - w.fn(*lo)) / (2 * eps)
    dot = sum(float(np.sum(np.asarray(g) * d)) for g, d in zip(grads, dirs))
    return abs(fd - dot) <= max(1e-5, w.tol) * max(1.0, abs(fd))


def rebind(fn, module):
    """``fn`` with its global ``np`` replaced (run the same source on autograd.numpy /
    jax.numpy)."""
    glb = dict(fn.__globals__)
    glb["np"] = module
    return types.FunctionType(fn.__code__, glb, fn.__name__, fn.__defaults__, fn.__closure__)


def frameworks():
    found = {}
    try:
        import autograd
        import autograd.numpy as anp
        found["autograd"] = lambda w: autograd.grad(rebind(w.fn, anp), list(w.wrt)
                                                    if len(w.wrt) > 1 else w.wrt[0])
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        found["jax"] = lambda w: jax.grad(rebind(w.fn, jnp), argnums=w.wrt if len(w.wrt) > 1
                                          else w.wrt[0])
        found["jax+jit"] = lambda w: jax.jit(jax.grad(rebind(w.fn, jnp), argnums=w.wrt
                                                      if len(w.wrt) > 1 else w.wrt[0]))
    except ImportError:
        pass
    try:
        from torch_numpy import np_on_torch, torch_grad
        found["pytorch"] = lambda w: torch_grad(rebind(w.fn, np_on_torch), w.wrt)
    except ImportError:
        pass
    return found


def selected(only=None):
    """The workloads (those whose name has the text ``only``, when given)."""
    return [w for w in workloads() if not only or only.lower() in w.name.lower()]


def run(quick=False, only=None):
    rows = []
    for w in selected(only):
        args = w.make_args()
        many = len(w.wrt) > 1
        row = {"name": w.name, "kind": w.kind}
        hand = w.hand(*args)
        grad_fn = ad.grad(w.fn, wrt=w.wrt if many else w.wrt[0])
        t0 = time.perf_counter()
        mine = as_tuple(grad_fn(*args), many)
        row["first_call_ms"] = (time.perf_counter() - t0) * 1e3
        row["hand_ok"] = directional_check(w, hand)
        row["ok"] = close(mine, hand, w.tol) and directional_check(w, mine) and \
            all(np.asarray(g).dtype == np.asarray(args[p]).dtype for g, p in zip(mine, w.wrt))
        if not row["hand_ok"]:
            row["note"] = "hand-written gradient fails its finite-difference check"
        repeat = 3 if quick else 7
        row["forward_s"] = best_time(lambda: w.fn(*args), repeat)
        if w.loop is not None:
            timed = [lambda: w.loop(lambda *a: w.hand(*a)[0], *args),
                     lambda: w.loop(grad_fn, *args)]
            times = best_times(timed if row["ok"] else timed[:1], repeat=5, min_time=0.05)
        else:
            timed = [lambda: w.hand(*args), lambda: grad_fn(*args)]
            times = best_times(timed if row["ok"] else timed[:1], repeat)
        row["hand_s"], row["adcompiler_s"] = times[0], (times[1] if row["ok"] else None)
        row["ratio"] = row["adcompiler_s"] / row["hand_s"] if row["adcompiler_s"] else None
        row["grad_over_forward"] = (
            row["adcompiler_s"] / row["forward_s"]
            if row["adcompiler_s"] and w.loop is None
            else None
        )
        rows.append(row)
    # Frameworks are imported only now: JAX's thread pool would otherwise compete for the cores
    # while adcompiler and the hand-written gradients are timed.
    others = frameworks()
    for w, row in zip(selected(only), rows):
        args = w.make_args()
        many = len(w.wrt) > 1
        hand = w.hand(*args)
        repeat = 3 if quick else 7
        for label, make in others.items():
            try:
                g = make(w)
                theirs = as_tuple(g(*args), many)
                if not close(theirs, hand, max(1e-5, w.tol)):
                    row[label] = "wrong"
                    continue
                if w.loop is not None:
                    row[label] = best_time(lambda: w.loop(lambda *a: g(*a), *args), repeat=3,
                                           min_time=0.05)
                else:
                    row[label] = best_time(lambda: _block(g(*args)), repeat)
            except Exception as exc:  # a framework that cannot run this program
                row[label] = "n/a (%s)" % type(exc).__name__
    return rows, list(others)


def _block(result):
    for r in (result if isinstance(result, tuple) else (result,)):
        if hasattr(r, "block_until_ready"):
            r.block_until_ready()
    return result


def compile_times():
    """Generation time of each workload's gradient (cache cleared) and of a 30-line function,
    and the overhead of a cached call over calling the generated function directly."""
    import benchmark_thirty
    out = {}
    for w in workloads() + [benchmark_thirty.workload()]:
        args = w.make_args()
        wrt = w.wrt if len(w.wrt) > 1 else w.wrt[0]
        best = float("inf")
        for _ in range(5):
            ad.api.clear_cache()
            g = ad.grad(w.fn, wrt=wrt).derived
            t0 = time.perf_counter()
            g._build(tuple(map(ad.arguments.kind_of, args)), args)
            best = min(best, time.perf_counter() - t0)
        out[w.name] = best * 1e3
    g = ad.grad(benchmark_thirty.tiny)
    g(1.5)
    direct = g.derived._fns[(ad.arguments.kind_of(1.5),)]
    t_cached = best_time(lambda: g(1.5), 7)
    t_direct = best_time(lambda: direct(1.5), 7)
    return out, (t_cached - t_direct) * 1e6, t_direct * 1e6


def fmt_time(s):
    if s is None:
        return "-"
    if isinstance(s, str):
        return s
    if s < 1e-3:
        return "%.2f us" % (s * 1e6)
    if s < 1:
        return "%.3f ms" % (s * 1e3)
    return "%.2f s" % s


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--json", default=None, help="write results as JSON to this file")
    parser.add_argument("--only", default=None, help="the workloads whose name has this text")
    args = parser.parse_args(argv)
    gen, overhead, direct = compile_times()  # before any framework is imported
    rows, others = run(args.quick, args.only)
    head = ["workload", "forward", "hand grad", "adcompiler", "ratio", "target",
            "grad/fwd"] + others
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        ratio = "WRONG" if not r["ok"] else "%.2f" % r["ratio"]
        gf = "%.1f" % r["grad_over_forward"] if r.get("grad_over_forward") else "-"
        cells = [r["name"], fmt_time(r["forward_s"]), fmt_time(r["hand_s"]),
                 fmt_time(r["adcompiler_s"]),
                 ratio, "<= %.2f" % TARGETS[r["kind"]], gf]
        for o in others:
            v = r.get(o)
            cells.append(fmt_time(v) + (" (%.2fx)" % (v / r["hand_s"]) if isinstance(v, float)
                                        else ""))
        print("| " + " | ".join(cells) + " |")
    print()
    print("| generation time (cache cleared) | ms |")
    print("|---|---|")
    for k, v in gen.items():
        print("| %s | %.1f |" % (k, v))
    print()
    print("cached call overhead over the generated function: %.3f us (generated function alone: "
          "%.3f us)"
          % (overhead, direct))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"date": time.strftime("%Y-%m-%d"), "machine": platform.platform(),
                       "python": platform.python_version(), "numpy": np.__version__, "rows": rows,
                       "generation_ms": gen, "cached_call_overhead_us": overhead}, fh, indent=1,
                      default=str)


if __name__ == "__main__":
    main()
