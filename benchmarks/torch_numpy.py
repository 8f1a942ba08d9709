"""Just enough of the NumPy namespace on PyTorch tensors to run the benchmark workloads, as
written, in PyTorch eager mode (``np.sum(x, axis=1, keepdims=True)`` becomes ``torch.sum(x,
dim=1, keepdim=True)``). Used only by benchmarks/run.py when torch is installed."""
import types

import torch


def _reduction(fn):
    def reduce(a, axis=None, keepdims=False):
        if axis is None:
            return fn(a)
        return fn(a, dim=axis, keepdim=keepdims)
    return reduce


np_on_torch = types.SimpleNamespace(
    sum=_reduction(torch.sum), mean=_reduction(torch.mean), max=_reduction(torch.amax),
    exp=torch.exp, log=torch.log, sin=torch.sin, cos=torch.cos, tanh=torch.tanh,
    zeros_like=torch.zeros_like, dot=torch.dot, outer=torch.outer)


def torch_grad(fn, wrt):
    """``fn``'s gradient by PyTorch autograd, called with NumPy arguments like the other columns:
    the arguments become float64 tensors (sharing memory) and the gradients come back as arrays."""
    import numpy as np

    def grad(*args):
        tensors = [torch.from_numpy(a) if isinstance(a, np.ndarray) else
                   torch.tensor(a, dtype=torch.float64) if isinstance(a, float) else a
                   for a in args]
        leaves = [tensors[p].detach().requires_grad_() for p in wrt]
        for p, leaf in zip(wrt, leaves):
            tensors[p] = leaf
        grads = torch.autograd.grad(fn(*tensors), leaves)
        out = tuple(g.numpy() for g in grads)
        return out if len(wrt) > 1 else out[0]
    return grad
