"""Realistic numerical programs (optimisation losses, simulations, small networks) used as an
end-to-end regression suite."""
import math

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))

def logistic_loss(w, b, X, y):
    p = sigmoid(X @ w + b)
    eps = 1e-9
    return -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))

def kmeans_loss(centers, X):
    d = np.sum((X[:, None, :] - centers[None, :, :]) ** 2, axis=-1)
    assign = np.argmin(d, axis=1)
    return np.sum((X - centers[assign]) ** 2)

def heat(u0, alpha):
    u = u0.copy()
    for step in range(20):
        lap = u[2:] - 2 * u[1:-1] + u[:-2]
        u[1:-1] = u[1:-1] + alpha * lap
    return np.sum(u ** 2)

def pair_energy(x):
    diff = x[:, None, :] - x[None, :, :]
    r2 = np.sum(diff ** 2, axis=-1) + np.eye(x.shape[0])
    inv = 1.0 / r2
    e = 0.0
    n = x.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            e += inv[i, j] ** 3 - inv[i, j] ** 6
    return e

def gauss_nll(mu, L, x):
    cov = L @ L.T + np.eye(L.shape[0])
    sign, logdet = np.linalg.slogdet(cov)
    r = x - mu
    return 0.5 * (logdet + r @ np.linalg.solve(cov, r))

def pendulum(theta0, omega0, g):
    theta, omega = theta0, omega0
    dt = 0.01
    for _ in range(100):
        omega = omega - g * math.sin(theta) * dt
        theta = theta + omega * dt
    return theta ** 2 + 0.1 * omega ** 2

def converge(x):
    y = np.zeros_like(x)
    it = 0
    while True:
        y_new = 0.5 * (y + np.cos(x) - 0.1 * y ** 2)
        it += 1
        if np.max(np.abs(y_new - y)) < 1e-10 or it > 200:
            y = y_new
            break
        y = y_new
    return np.sum(y * x)

def net(params, X, y):
    h = X
    for k in range(2):
        W = params["W%d" % k]
        b = params["b%d" % k]
        h = np.maximum(h @ W + b, 0.0) if k == 0 else h @ W + b
    return np.mean((h[:, 0] - y) ** 2)

def softmax_rows(z):
    z = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)

def attention(Q, K, V):
    s = Q @ K.T / np.sqrt(Q.shape[1])
    a = softmax_rows(s)
    out = a @ V
    return np.sum(out ** 2)

def printing(x):
    y = x * 2.0
    print("y =", y, f"{y:.3f}" if np.ndim(y) == 0 else "")
    return y * y
def step(h, w):
    return np.tanh(h * w)

def p1(x, w):
    # subroutine in a loop with a branch choosing between two updates
    h = x
    for i in range(4):
        if np.sum(h) > 0:
            h = step(h, w) * 1.1
        else:
            h = h - 0.3 * step(h, w * 2.0)
    return np.sum(h ** 2)

def p2(a):
    # in-place conditional updates, break out of nested loops via flag
    out = np.zeros_like(a)
    done = False
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if a[i, j] > 1.5:
                done = True
                break
            if a[i, j] > 0:
                out[i, j] = a[i, j] ** 2
            else:
                out[i, j] += np.sin(a[i, j])
        if done:
            break
    return np.sum(out * a)

def p3(x):
    # while loop with array state and early return
    y = x
    k = 0
    while k < 10:
        y = y * 0.9 + np.cos(y) * 0.1
        if np.max(y) > 5.0:
            return np.sum(y)
        k += 1
    return np.sum(y * y)

def p4(xs, w):
    # nested function capturing a loop variable and accumulating in a list
    outs = []
    for i in range(len(xs)):
        def f(v):
            return v * w + i
        outs.append(f(xs[i]) ** 2)
    return sum(outs)

def p5(x):
    # continue with accumulators in both branches and a running max
    best = x[0]
    total = 0.0
    for i in range(1, len(x)):
        if x[i] < 0:
            total = total - x[i]
            continue
        if x[i] > best:
            best = x[i]
        total = total + x[i] * best
    return total + best

def p6(W, x):
    # matrix iterations with a conditional rescale
    v = x
    for it in range(5):
        v = W @ v
        n = np.linalg.norm(v)
        if n > 2.0:
            v = v / n
    return np.sum(v)

def p7(x, y):
    # tuple returns from a helper in a loop, unpacked
    a, b = x, y
    for i in range(3):
        a, b = swap_mix(a, b)
    return a * b

def swap_mix(u, v):
    return v + 0.5 * u, u * v


SCALE = np.array([1.0, 2.0, 0.5])

def q1(x):
    y = x[:, np.newaxis] * x[np.newaxis, :]
    return np.sum(y[::-1, ::2] * 1.5) + np.sum(x[..., None] ** 2)

def q2(x):
    y = x.copy()
    y[y < 0] = 0.0
    y[x > 1.0] *= 2.0
    return np.sum(y ** 2 + x * SCALE)

def q3(x):
    s = 0.0
    for i, v in enumerate(x, start=1):
        s = s + v * i
    for v in reversed(list(x)):
        s = s * 0.9 + v
    return s

def helper_kw(a, *, scale=2.0, shift=np.zeros(3)):
    return a * scale + shift

def q4(x):
    return np.sum(helper_kw(x) ** 2) + np.sum(helper_kw(x, scale=0.5) * x)

def tree(x, depth):
    if depth == 0:
        return np.tanh(x)
    left = tree(x * 0.5, depth - 1)
    right = tree(x + 0.1, depth - 1)
    return left * right + x

def q5(x):
    return np.sum(tree(x, 3))

def q6(x):
    n = len(x)
    out = 0.0
    for i in range(n - 1, -1, -1):
        j = (i * 2 + 1) % n
        k = i // 2
        out = out + x[j] * x[k] - math.cos(x[i])
    return out

def q7(x):
    pieces = []
    for i in range(3):
        pieces.append(x[i:i + 2] * (i + 1))
    z = np.concatenate(pieces)
    return np.sum(z ** 2) + np.prod(z[:2])

def q8(x, w=np.array([0.5, -0.5])):
    return np.sum(np.outer(x, w) ** 2)


def r1(x, n=2):
    if np.ndim(x) != 1:
        raise ValueError("x must be a vector, got %d dims" % np.ndim(x))
    tmp = x * 2.0
    y = tmp ** n
    del tmp
    return float(np.sum(y)) + np.mean(x, 0) + x.mean(0)


def r3(x):
    d = np.zeros(0)
    if x.shape[-1] > 2 and len(x.shape) == 1:
        d = x[1:] - x[:-1]
    return np.sum(d ** 2) + np.asarray(x, dtype=float)[0]


def safe_log_ratio(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(y > 0, np.log(x / np.abs(y)), 0.0)
        s = np.sum(r * x)
    return s


def dict_keys_loop(params, x):
    total = 0.0
    for name in params:
        total = total + np.sum(params[name] * x) ** 2
    return total


def logistic_expit(w, x, y):
    from scipy.special import expit, xlogy
    p = expit(x @ w)
    return -np.mean(xlogy(y, p) + xlogy(1.0 - y, 1.0 - p))


def scipy_cross_entropy(logits, labels):
    import scipy.special as sp
    logp = sp.log_softmax(logits, axis=1)
    return -np.mean(logp[np.arange(len(labels)), labels]) + 0.01 * sp.logsumexp(logits)


WAVE_XS = np.linspace(0.0, 1.0, 21)
WAVE_PROBES = [5, 10, 15]


def wave_leapfrog(c, amp, nt=12):
    """1-D wave equation by leapfrog: a stencil written into a scratch buffer, the three buffers
    rotated by a tuple swap, probes recorded by an index list."""
    dx = WAVE_XS[1] - WAVE_XS[0]
    u = amp * np.exp(-((WAVE_XS - 0.3) / 0.1) ** 2)
    u_prev = u.copy()
    u_next = np.empty_like(u)
    rec = []
    for _ in range(nt):
        r2 = (c * 0.5) ** 2
        u_next[1:-1] = 2 * u[1:-1] - u_prev[1:-1] + r2[1:-1] * (u[2:] - 2 * u[1:-1] + u[:-2])
        u_next[0] = 0.0
        u_next[-1] = 0.0
        u_prev, u, u_next = u, u_next, u_prev
        rec.append(u[WAVE_PROBES])
    return np.sum(np.array(rec) ** 2) / dx


def rnn_loss_and_clipped_grads(tokens, h0, U, V, c):
    """A character-level RNN's fused loss-and-gradient function in the style of course code:
    states kept in dicts keyed by step, a hand-written backward pass whose gradients are
    clipped in place through a list, everything returned as one tuple."""
    onehot, state, prob = {}, {-1: h0.copy()}, {}
    total = 0.0
    for t in range(len(tokens) - 1):
        onehot[t] = np.zeros(U.shape[1])
        onehot[t][tokens[t]] = 1.0
        state[t] = np.tanh(U @ onehot[t] + state[t - 1] + c)
        scores = V @ state[t]
        prob[t] = np.exp(scores) / np.sum(np.exp(scores))
        total -= np.log(prob[t][tokens[t + 1]])
    dU, dV, dc = np.zeros_like(U), np.zeros_like(V), np.zeros_like(c)
    carry = np.zeros_like(h0)
    for t in reversed(range(len(tokens) - 1)):
        dscores = prob[t].copy()
        dscores[tokens[t + 1]] -= 1.0
        dV += np.outer(dscores, state[t])
        dpre = (1.0 - state[t] ** 2) * (V.T @ dscores + carry)
        dU += np.outer(dpre, onehot[t])
        dc += dpre
        carry = dpre
    for grad in [dU, dV, dc]:
        np.clip(grad, -1.0, 1.0, out=grad)
    return total, dU, dV, dc, state[len(tokens) - 2]


def rnn_training_loss(U, V, c):
    loss, dU, dV, dc, last = rnn_loss_and_clipped_grads([0, 2, 1, 3, 2, 0], np.zeros(4), U, V, c)
    return loss
