"""Checkpointing: trade recomputation for memory in the gradient of a deep chain.

A residual network of ``depth`` layers on a long vector: the gradient code keeps, for the
backward pass, what each layer computed (a few arrays per layer, so memory grows with the depth
times the layer's intermediates). ``ad.checkpoint(layer)`` makes calls to ``layer`` keep only
their arguments; the backward pass runs the layer's forward again, then its backward.
Checkpointing segments of ``k`` layers keeps one input per segment, plus the recomputed
intermediates of a segment or two during the backward pass: with ``k`` near sqrt(depth), memory
grows like sqrt(depth) instead of depth.

The peak memory of each gradient call is measured with ``tracemalloc`` (NumPy reports its array
buffers to it); the three gradients agree to rounding, and with finite differences.

Run: python examples/checkpointing.py (ADCOMPILER_EXAMPLES_FAST=1: a smaller network)
"""
import os
import time
import tracemalloc

import numpy as np

import adcompiler as ad

FAST = os.environ.get("ADCOMPILER_EXAMPLES_FAST", "") not in ("", "0")


def layer(h, w):
    """One residual layer: several intermediates the size of ``h``."""
    a = np.sin(w[0] * h)
    b = np.tanh(a + w[1] * h)
    c = np.exp(-b ** 2)
    return h + 0.1 * c * a


def segment(h, ws):
    for i in range(ws.shape[0]):
        h = layer(h, ws[i])
    return h


layer_checkpointed = ad.checkpoint(layer)
segment_checkpointed = ad.checkpoint(segment)


def network(h, ws, k):
    for i in range(ws.shape[0]):
        h = layer(h, ws[i])
    return np.sum(h ** 2)


def network_checkpoint_layers(h, ws, k):
    for i in range(ws.shape[0]):
        h = layer_checkpointed(h, ws[i])
    return np.sum(h ** 2)


def network_checkpoint_segments(h, ws, k):
    for start in range(0, ws.shape[0], k):
        h = segment_checkpointed(h, ws[start:start + k])
    return np.sum(h ** 2)


def measure(gradient, args):
    """(gradient, peak bytes allocated during the call, seconds of a call without tracing)."""
    gradient(*args)  # the first call generates and compiles the code: not measured
    tracemalloc.start()
    result = gradient(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    start = time.perf_counter()
    gradient(*args)
    return result, peak, time.perf_counter() - start


def main():
    depth, width = (64, 5000) if FAST else (256, 5000)
    k = int(round(np.sqrt(depth)))
    rng = np.random.RandomState(0)
    h = rng.randn(width)
    ws = np.column_stack([1.0 + 0.3 * rng.randn(depth), 0.5 * rng.randn(depth)])
    args = (h, ws, k)
    print("a residual chain of %d layers on a vector of %d floats (%.2f MB per array)"
          % (depth, width, h.nbytes / 1e6))
    print("%-38s %12s %10s" % ("gradient w.r.t. (h, ws)", "peak memory", "time"))
    results = {}
    for label, fn in (("no checkpoint", network),
                      ("ad.checkpoint(layer)", network_checkpoint_layers),
                      ("ad.checkpoint(segment of %d layers)" % k, network_checkpoint_segments)):
        gradient = ad.grad(fn, wrt=(0, 1))
        results[label], peak, seconds = measure(gradient, args)
        print("%-38s %9.1f MB %8.1f ms" % (label, peak / 1e6, 1000 * seconds))
        results[label] += (peak,)

    (dh, dws, plain_peak), *others = results.values()
    for other_dh, other_dws, peak in others:
        np.testing.assert_allclose(other_dh, dh, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(other_dws, dws, rtol=1e-12, atol=1e-12)
        assert peak < 0.4 * plain_peak, (peak, plain_peak)
    print("the three gradients agree (rtol 1e-12); checkpointing used %.0f%% and %.0f%% of the "
          "memory" % tuple(100.0 * peak / plain_peak for _, _, peak in others))

    eps = 1e-6
    for index in ((0, 0), (depth // 2, 1), (depth - 1, 0)):
        up, down = ws.copy(), ws.copy()
        up[index] += eps
        down[index] -= eps
        numeric = (network(h, up, k) - network(h, down, k)) / (2 * eps)
        print("d loss / d ws%s: %.8f, finite differences %.8f" % (list(index), dws[index],
                                                                   numeric))
        assert abs(dws[index] - numeric) < 1e-6 * max(1.0, abs(numeric))

    print("\nthe checkpointed gradient stores (input, weights) per layer and recomputes:")
    code = ad.source(network_checkpoint_layers, wrt=(0, 1), args=args).splitlines()
    start = next(i for i, line in enumerate(code) if "reversed" in line)
    print("\n".join(code[start:start + 6]))


if __name__ == "__main__":
    main()
