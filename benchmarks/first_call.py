"""The first call of ``ad.grad(f)(w, x, y)`` for a ~20-line NumPy function (``loss`` below) in a
fresh process, without the disk cache, with a cold one (an empty ``ADCOMPILER_CACHE_DIR``: the
code is generated and written) and with a warm one (written by an earlier process: read back).
Each figure is the median (and range) of ``--runs`` processes; the time is that of the first
call alone (adcompiler and NumPy imported before), measured inside the process. ``--hot`` also
times a cached call of a small function with the variable unset (``timeit``, best of 7), and
``--root DIR`` imports adcompiler from another checkout (a before/after comparison). Run from
the repository root:

    python benchmarks/first_call.py [--runs 5] [--hot] [--root DIR] [--json out.json]

Results, 2026-12-07, this shared 2-core box (2-core AMD EPYC VM, Linux, Python 3.11.7, NumPy
2.4.6; load average 2.6: other sessions running), ``python benchmarks/first_call.py --runs 5
--hot``, first call of ``ad.grad(loss)(w, x, y)``, median of 5 processes (range):

    no cache      65.4 ms  (61.2-84.0)
    cold cache    71.0 ms  (67.0-77.8)   generated, then written (key, package hash, JSON)
    warm cache     5.7 ms  (5.4-6.3)     read back (~3.5 ms of it: hashing adcompiler's sources)
    cached call of a two-float gradient, variable unset: 0.245 us (0.25-0.26 us before the
    cache's hooks, the same machine: unchanged)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

_HERE = os.path.dirname(os.path.abspath(__file__))


def loss(w, x, y):
    """A two-layer network's regularised loss: 20 lines of NumPy."""
    import numpy as np
    h = np.tanh(x @ w)
    z = h * 0.5 + 1.0
    s = np.sum(z ** 2, axis=1)
    m = np.mean(s)
    e = np.exp(-m)
    r = np.log1p(e)
    p = np.sin(h) * np.cos(h)
    q = np.sum(p) / h.size
    for i in range(3):
        q = q + 0.1 * i * np.sum(h[:, i % h.shape[1]])
    t = np.maximum(z, 0.2)
    u = np.sqrt(t + 1.0)
    v = np.sum(u * y[:, None])
    a = np.abs(w).sum()
    b = (w ** 2).sum()
    return r + q + v * 1e-3 + 1e-2 * a + 1e-3 * b


def child(root: str) -> None:
    """In a fresh process: time the first call, print it (ms) and the disk cache's counts."""
    sys.path.insert(0, os.path.abspath(root))
    import numpy as np

    import adcompiler as ad
    from adcompiler.api import disk_cache
    sys.modules.setdefault("first_call", sys.modules["__main__"])
    w = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
    x = np.linspace(0.0, 2.0, 20).reshape(5, 4)
    y = np.linspace(1.0, 2.0, 5)
    start = time.perf_counter()
    ad.grad(loss)(w, x, y)
    took = time.perf_counter() - start
    print(json.dumps({"ms": took * 1e3, "stats": disk_cache.STATS}))


def run(root: str, cache: str | None) -> dict:
    env = dict(os.environ)
    env.pop("ADCOMPILER_CACHE_DIR", None)
    if cache is not None:
        env["ADCOMPILER_CACHE_DIR"] = cache
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "--root", root],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def hot(root: str) -> float:
    """A cached call of a two-float function (us), the variable unset: best of 7 timeit runs."""
    code = ("import sys, timeit; sys.path[:0] = [%r, %r]; import adcompiler as ad\n"
            "from workloads import xy\n"
            "df = ad.grad(xy, wrt=(0, 1)); df(1.5, 2.0)\n"
            "print(min(timeit.repeat(lambda: df(1.5, 2.0), number=200000, repeat=7)) / 200000"
            " * 1e6)" % (os.path.abspath(root), _HERE))
    env = {k: v for k, v in os.environ.items() if k != "ADCOMPILER_CACHE_DIR"}
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True, env=env).stdout)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--root", default=os.path.join(_HERE, ".."))
    parser.add_argument("--hot", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.child:
        return child(opts.root)
    times: dict = {"no cache": [], "cold cache": [], "warm cache": []}
    with tempfile.TemporaryDirectory() as warm:
        for _ in range(opts.runs):  # (interleaved: a change in the machine's load touches all)
            times["no cache"].append(run(opts.root, None)["ms"])
            with tempfile.TemporaryDirectory() as cold:
                times["cold cache"].append(run(opts.root, cold)["ms"])
            # (written by the process before: an edit of adcompiler meanwhile changes the key)
            run(opts.root, warm)
            out = run(opts.root, warm)
            assert out["stats"]["loaded"] == 1 and out["stats"]["built"] == 0, out
            times["warm cache"].append(out["ms"])
    summary = {k: {"median_ms": statistics.median(v), "min_ms": min(v), "max_ms": max(v),
                   "runs": v} for k, v in times.items()}
    for name, row in summary.items():
        print("%-11s %7.1f ms  (%.1f-%.1f)" % (name, row["median_ms"], row["min_ms"],
                                               row["max_ms"]))
    if opts.hot:
        summary["hot call (us)"] = hot(opts.root)
        print("cached call of a two-float gradient, variable unset: %.3f us"
              % summary["hot call (us)"])
    if opts.json:
        with open(opts.json, "w") as fh:
            json.dump(summary, fh, indent=1)


if __name__ == "__main__":
    main()
