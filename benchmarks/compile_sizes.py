"""Generation time of a gradient against the size of the function (issue 18, point 3).

Four families of generated NumPy functions, each at several sizes: straight-line code (a mix of
elementwise math, matrix products, reductions and indexing), the chain
``x_i = x_{i-1} + 0.001 * np.sin(x_{i-1})``, a sequence of independent ``for`` loop blocks, and
loop nests of depth 1..10. For each size the time to generate the gradient (cache cleared, timed
like ``run.compile_times``: the ``_build`` of the derived function) is the median of a few
repeats; the growth exponent is the log-log slope between the two largest sizes and the
least-squares slope over all sizes. Each family's gradient is checked against central finite
differences at one size, so the sweep also shows the code it times is right.

    python benchmarks/compile_sizes.py [--quick] [--family straight,chain,blocks,nests]
                                       [--repeats N] [--clock wall|cpu]
"""
import argparse
import linecache
import math
import statistics
import time

import numpy as np

import adcompiler as ad

SIZES = {"straight": [30, 100, 300, 1000, 3000], "chain": [125, 250, 500, 1000, 2000],
         "blocks": [10, 30, 100, 300], "nests": [1, 2, 4, 6, 8, 10]}
QUICK_SIZES = {"straight": [30, 100, 300, 1000], "chain": [125, 250, 500],
               "blocks": [10, 30, 100], "nests": [1, 2, 4, 6, 8, 10]}
UNIT = {"straight": "lines", "chain": "statements", "blocks": "blocks", "nests": "depth"}


def straight(n):
    """``n`` lines of vector code on ``w`` (4 x 4) and ``x`` (4,); every value is read later."""
    body = ["v0 = x * 1.0", "s0 = np.sum(x)"]
    for i in range(1, n - 1):
        prev, far = "v%d" % (i - 1), "v%d" % max(0, i - 1 - (i * 7) % 5)
        body.append([
            "v%d = np.tanh(%s) * 0.5 + %s * 0.25" % (i, prev, far),
            "v%d = w @ %s * 0.1 + %s" % (i, prev, far),
            "v%d = %s + 0.01 * np.sum(%s * %s)" % (i, prev, prev, far),
            "v%d = %s - 0.1 * %s[::-1] + 0.05 * %s[1]" % (i, prev, far, prev),
            "v%d = np.exp(-%s * %s) + np.sin(%s)" % (i, prev, prev, far),
            "v%d = np.maximum(%s, -1.0) * np.mean(%s)" % (i, prev, far),
        ][i % 6])
    body.append("return np.sum(v%d) + s0" % (n - 2))
    return body, ("w", "x")


def chain(n):
    body = ["x0 = x"] + ["x%d = x%d + 0.001 * np.sin(x%d)" % (i, i - 1, i - 1)
                         for i in range(1, n + 1)]
    return body + ["return np.sum(x%d)" % n], ("w", "x")


def blocks(k):
    """``k`` independent loop blocks of four lines, each adding its result to ``total``."""
    body = ["total = 0.0"]
    for b in range(k):
        body += ["s%d = x * %s" % (b, 1.0 + 0.01 * b),
                 "for i%d in range(3):" % b,
                 "    s%d = np.sin(s%d) * w[%d] + 0.1 * x" % (b, b, b % 4),
                 "total = total + np.sum(s%d)" % b]
    return body + ["return total"], ("w", "x")


def nests(depth):
    """Loops nested ``depth`` deep, four lines a level (two before the inner loop, one after),
    two iterations each."""
    head, tail = ["s = x * 1.0", "t = 0.0"], []
    for d in range(depth):
        pad = "    " * d
        head += [pad + "for i%d in range(2):" % d,
                 pad + "    s = s * w[%d] + 0.1 * np.sin(s)" % (d % 4),
                 pad + "    t = t + np.sum(s) * 0.01"]
        tail.insert(0, pad + "    s = s - 0.05 * np.tanh(s)")
    return head + tail + ["return np.sum(s) + t"], ("w", "x")


FAMILIES = {"straight": straight, "chain": chain, "blocks": blocks, "nests": nests}


def define(family, size):
    """The generated function, its source registered with linecache (read by the compiler)."""
    body, params = FAMILIES[family](size)
    name = "%s_%d" % (family, size)
    source = "def %s(%s):\n%s\n" % (name, ", ".join(params),
                                    "\n".join("    " + line for line in body))
    filename = "<compile_sizes %s>" % name
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"np": np}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name], len(source.splitlines())


def arguments():
    rng = np.random.RandomState(0)
    return rng.randn(4) * 0.5, rng.randn(4) * 0.5


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]


def generation_time(fn, args):
    """Seconds to generate ``fn``'s gradient with respect to its second argument."""
    ad.api.clear_cache()
    derived = ad.grad(fn, wrt=1).derived
    t0 = clock()
    derived._build(tuple(map(ad.arguments.kind_of, args)), args)
    return clock() - t0


def check_gradient(fn, args):
    """The largest error of the gradient against central differences along a random direction."""
    ad.api.clear_cache()
    grad = ad.grad(fn, wrt=1)(*args)
    w, x = args
    direction = np.random.RandomState(1).randn(*x.shape)
    eps = 1e-6
    numeric = (fn(w, x + eps * direction) - fn(w, x - eps * direction)) / (2 * eps)
    return abs(float(np.dot(grad, direction)) - numeric) / max(1.0, abs(numeric))


def sweep(family, sizes, repeats):
    rows = []
    for size in sizes:
        fn, lines = define(family, size)
        times = [generation_time(fn, arguments())]
        while len(times) < repeats and sum(times) < 20.0:  # (big sizes: fewer repeats)
            times.append(generation_time(fn, arguments()))
        rows.append((size, lines, statistics.median(times), len(times)))
        print("  %s %5d (%5d lines): %10.1f ms  (median of %d)"
              % (family, size, lines, rows[-1][2] * 1e3, len(times)), flush=True)
    return rows


def exponents(rows):
    """Log-log slope of time against source lines: between the two largest sizes, and overall."""
    xs = [math.log(r[1]) for r in rows]
    ys = [math.log(r[2]) for r in rows]
    top = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    mx, my = statistics.mean(xs), statistics.mean(ys)
    overall = sum((a - mx) * (b - my) for a, b in zip(xs, ys)) / sum((a - mx) ** 2 for a in xs)
    return top, overall


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one repeat")
    parser.add_argument("--family", default=",".join(FAMILIES), help="comma-separated families")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per size (default 3)")
    parser.add_argument("--clock", choices=CLOCKS, default="wall",
                        help="cpu: this process's CPU time (steadier on a shared machine)")
    args = parser.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]
    sizes = QUICK_SIZES if args.quick else SIZES
    repeats = args.repeats or (1 if args.quick else 3)
    results = {}
    for family in args.family.split(","):
        fn, _ = define(family, sizes[family][1])
        error = check_gradient(fn, arguments())
        print("%s: gradient at size %d against finite differences: relative error %.1e%s"
              % (family, sizes[family][1], error, "" if error < 1e-6 else "  WRONG"), flush=True)
        results[family] = sweep(family, sizes[family], repeats)
    print()
    print("| family | size | source lines | generation ms | ms per line |")
    print("|---|---|---|---|---|")
    for family, rows in results.items():
        for size, lines, t, _ in rows:
            print("| %s | %d %s | %d | %.1f | %.2f |"
                  % (family, size, UNIT[family], lines, t * 1e3, t * 1e3 / lines))
    print()
    print("| family | exponent (two largest) | exponent (all sizes) |")
    print("|---|---|---|")
    for family, rows in results.items():
        top, overall = exponents(rows)
        print("| %s | %.2f | %.2f |" % (family, top, overall))


if __name__ == "__main__":
    main()
