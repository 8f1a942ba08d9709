"""Benchmark workloads: each a function as a user writes it, its arguments, and a hand-written
NumPy gradient (the speed limit). Gradients are w.r.t. the positions in ``wrt``."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Workload:
    name: str
    fn: object
    make_args: object               # () -> tuple of arguments
    wrt: tuple
    hand: object                    # (*args) -> tuple of gradients (one per wrt position)
    kind: str = "array"             # "array", "loop" or "scalar": which SPEC target applies
    loop: object = None             # optional: the whole training loop, (grad_fn, *args) -> result
    tol: float = 1e-6               # agreement asked of the gradients (float32 workloads: looser)
    others: dict = field(default_factory=dict)


# -- scalars ----------------------------------------------------------------------------------

def poly(x):
    return 2 * x ** 3 - 6 * x ** 2 + x + 1


def poly_hand(x):
    return (6 * x * x - 12 * x + 1,)


def xy(x, y):
    return x * (x + y) ** 2


def xy_hand(x, y):
    s = x + y
    return (s * s + 2 * x * s, 2 * x * s)


# -- elementwise ------------------------------------------------------------------------------

def sin_sum(w, b):
    return np.sum(np.sin(w * 3 + b))


def sin_sum_hand(w, b):
    c = np.cos(w * 3 + b)
    return (3 * c, c)


# -- softmax cross-entropy and MLP --------------------------------------------------------------

def softmax_xent(logits, onehot):
    m = np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(onehot * np.log(p)) / logits.shape[0]


def softmax_xent_hand(logits, onehot):
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    return ((p - onehot) / logits.shape[0],)


def mlp_loss(W1, b1, W2, b2, x, y):
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(y * np.log(p)) / x.shape[0]


def mlp_hand(W1, b1, W2, b2, x, y):
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    dlogits = (p - y) / x.shape[0]
    dW2 = h.T @ dlogits
    db2 = np.sum(dlogits, axis=0)
    dpre = (dlogits @ W2.T) * (1.0 - h * h)
    return (x.T @ dpre, np.sum(dpre, axis=0), dW2, db2)


def relu_mlp(W1, W2, x, y):
    h = np.maximum(x @ W1, 0.0)
    return np.mean((h @ W2 - y) ** 2)


def relu_mlp_hand(W1, W2, x, y):
    z = x @ W1
    h = np.maximum(z, 0.0)
    d = (h @ W2 - y) * (2.0 / y.size)
    return (x.T @ ((d @ W2.T) * (z > 0)), h.T @ d)


def mlp_args(batch, n_in, n_hidden, n_out, seed=0):
    rng = np.random.RandomState(seed)
    y = np.eye(n_out)[rng.randint(0, n_out, batch)]
    return (rng.randn(n_in, n_hidden) * 0.05, np.zeros(n_hidden), rng.randn(n_hidden, n_out) * 0.05,
            np.zeros(n_out), rng.randn(batch, n_in), y)


# -- loops ------------------------------------------------------------------------------------

def rnn(W, U, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h * h)


def rnn_hand(W, U, xs, h0):
    hs = [h0]
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t])
        hs.append(h)
    dW = np.zeros_like(W)
    dU = np.zeros_like(U)
    dh = 2.0 * h
    for t in range(xs.shape[0] - 1, -1, -1):
        da = dh * (1.0 - hs[t + 1] ** 2)
        dW += np.outer(da, hs[t])
        dU += np.outer(da, xs[t])
        dh = W.T @ da
    return (dW, dU)


def logsumexp_loop(a):
    largest = a[0]
    for i in range(1, len(a)):
        if a[i] > largest:
            largest = a[i]
    result = 0.0
    for i in range(len(a)):
        result += np.exp(a[i] - largest)
    return np.log(result) + largest


def logsumexp_loop_hand(a):
    largest = a[0]
    for i in range(1, len(a)):
        if a[i] > largest:
            largest = a[i]
    result = 0.0
    for i in range(len(a)):
        result += np.exp(a[i] - largest)
    da = np.zeros_like(a)
    for i in range(len(a)):
        da[i] = np.exp(a[i] - largest) / result
    return (da,)


def newton_sqrt(x):
    y = x
    i = 0
    while i < 20 and abs(y * y - x) > 1e-12 * x:
        y = 0.5 * (y + x / y)
        i += 1
    return y


def newton_sqrt_hand(x):
    ys = []
    y = x
    i = 0
    while i < 20 and abs(y * y - x) > 1e-12 * x:
        ys.append(y)
        y = 0.5 * (y + x / y)
        i += 1
    dy, dx = 1.0, 0.0
    for y in reversed(ys):
        dx += 0.5 * dy / y
        dy = 0.5 * dy * (1.0 - x / (y * y))
    return (dx + dy,)


def rnn_layer(x, h0, Wx, Wh, b):
    """A course's RNN layer: the time loop writes a hidden-state buffer ``h[:, t, :]``."""
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t, :] @ Wx + prev @ Wh + b)
        h[:, t, :] = prev
    return np.sum(h * h)


def rnn_layer_hand(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t, :] @ Wx + prev @ Wh + b)
        h[:, t, :] = prev
    dh = 2.0 * h
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        ht = h[:, t, :]
        da = (dh[:, t, :] + dprev) * (1.0 - ht * ht)
        dWx += x[:, t, :].T @ da
        dWh += (h[:, t - 1, :] if t > 0 else h0).T @ da
        db += da.sum(axis=0)
        dprev = da @ Wh.T
    return dWx, dWh, db


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_layer(x, h0, Wx, Wh, b):
    """A course's LSTM layer: four gates sliced out of one product, a hidden-state buffer."""
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev_h, prev_c = h0, np.zeros_like(h0)
    for t in range(T):
        a = x[:, t, :] @ Wx + prev_h @ Wh + b
        i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
        o, g = sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
        prev_c = f * prev_c + i * g
        prev_h = o * np.tanh(prev_c)
        h[:, t, :] = prev_h
    return np.sum(h * h)


def lstm_layer_hand(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev_h, prev_c = h0, np.zeros_like(h0)
    cache = []
    for t in range(T):
        a = x[:, t, :] @ Wx + prev_h @ Wh + b
        i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
        o, g = sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
        c = f * prev_c + i * g
        tc = np.tanh(c)
        cache.append((prev_h, prev_c, i, f, o, g, tc))
        prev_h, prev_c = o * tc, c
        h[:, t, :] = prev_h
    dh = 2.0 * h
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext_h, dnext_c = np.zeros_like(h0), np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        ph, pc, i, f, o, g, tc = cache[t]
        dnh = dh[:, t, :] + dnext_h
        dc = dnext_c + dnh * o * (1.0 - tc * tc)
        dnext_c = dc * f
        da = np.hstack((dc * g * i * (1.0 - i), dc * pc * f * (1.0 - f),
                        dnh * tc * o * (1.0 - o), dc * i * (1.0 - g * g)))
        dWx += x[:, t, :].T @ da
        dWh += ph.T @ da
        db += da.sum(axis=0)
        dnext_h = da @ Wh.T
    return dWx, dWh, db


T_C = np.array([0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0])
T_U = np.array([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4])


def regression_loss(params, t_u, t_c):
    t_p = params[0] * t_u + params[1]
    return np.mean((t_p - t_c) ** 2)


def regression_hand(params, t_u, t_c):
    r = params[0] * t_u + params[1] - t_c
    n = t_u.shape[0]
    return (np.array([2.0 * np.dot(r, t_u) / n, 2.0 * np.sum(r) / n]),)


def training_loop(grad_fn, params, t_u, t_c):
    for _ in range(5000):
        params = params - 1e-2 * grad_fn(params, t_u, t_c)
    return params


def workloads():
    rng = np.random.RandomState(0)
    w25 = np.linspace(0, 2 * np.pi, 25)
    w6 = rng.randn(10 ** 6)
    logits = rng.randn(64, 10)
    onehot = np.eye(10)[rng.randint(0, 10, 64)]
    T, H = 50, 32
    rnn_args = (rng.randn(H, H) * 0.2, rng.randn(H, H) * 0.2, rng.randn(T, H), np.zeros(H))
    lse_args = (rng.randn(100),)
    N, T2, D, H2 = 8, 20, 16, 32
    layer_args = (rng.randn(N, T2, D), rng.randn(N, H2) * 0.1, rng.randn(D, H2) * 0.2,
                  rng.randn(H2, H2) * 0.2, rng.randn(H2) * 0.1)
    lstm_args = (rng.randn(N, T2, D), rng.randn(N, H2) * 0.1, rng.randn(D, 4 * H2) * 0.2,
                 rng.randn(H2, 4 * H2) * 0.2, rng.randn(4 * H2) * 0.1)
    mlp4, mlp64 = mlp_args(4, 784, 256, 10), mlp_args(64, 784, 256, 10)
    mlp64_f32 = tuple(a.astype(np.float32) for a in mlp64)
    relu_f32 = (mlp64_f32[0], mlp64_f32[2], mlp64_f32[4], rng.randn(64, 10).astype(np.float32))
    return [
        Workload("poly (scalar)", poly, lambda: (2.0,), (0,), poly_hand, "scalar"),
        Workload("x*(x+y)**2 (scalar)", xy, lambda: (3.0, -1.0), (0, 1), xy_hand, "scalar"),
        Workload("sum(sin(3w+b)) n=25", sin_sum, lambda: (w25, w25.copy()), (0, 1), sin_sum_hand),
        Workload("sum(sin(3w+b)) n=1e6", sin_sum, lambda: (w6, w6.copy()), (0, 1), sin_sum_hand),
        Workload("softmax xent 64x10", softmax_xent, lambda: (logits, onehot), (0,),
                 softmax_xent_hand),
        Workload("MLP batch 4 (tiny)", mlp_loss, lambda: mlp4, (0, 1, 2, 3), mlp_hand),
        Workload("MLP batch 64 784-256-10", mlp_loss, lambda: mlp64, (0, 1, 2, 3), mlp_hand),
        Workload("MLP batch 64, float32", mlp_loss, lambda: mlp64_f32, (0, 1, 2, 3), mlp_hand,
                 tol=1e-3),
        Workload("ReLU MLP batch 64, float32", relu_mlp, lambda: relu_f32, (0, 1), relu_mlp_hand,
                 tol=1e-3),
        Workload("RNN T=50 hidden 32", rnn, lambda: rnn_args, (0, 1), rnn_hand, "loop"),
        Workload("RNN layer, h[:, t, :] buffer, 8x20x32", rnn_layer, lambda: layer_args,
                 (2, 3, 4), rnn_layer_hand, "loop"),
        Workload("LSTM layer, h[:, t, :] buffer, 8x20x32", lstm_layer, lambda: lstm_args,
                 (2, 3, 4), lstm_layer_hand, "loop"),
        Workload("logsumexp loop n=100", logsumexp_loop, lambda: lse_args, (0,),
                 logsumexp_loop_hand, "loop"),
        Workload("Newton sqrt (while)", newton_sqrt, lambda: (7.0,), (0,), newton_sqrt_hand,
                 "loop"),
        Workload("linreg 5000-step training", regression_loss,
                 lambda: (np.array([1.0, 0.0]), 0.1 * T_U, T_C),
                 (0,), regression_hand, "loop", loop=training_loop),
    ]
