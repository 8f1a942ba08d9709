"""A small neural network trained on scikit-learn's handwritten digits, with Adam.

The 8x8 digit images (1797 of them, bundled with scikit-learn: no download) are classified by a
one-hidden-layer MLP. The parameters are a dict; ``ad.value_and_grad(loss, has_aux=True)``
returns the loss, the accuracy computed beside it (not differentiated) and a dict of gradients,
checked against central finite differences before training. The loss curves are written to a
PNG with matplotlib.

Run: python examples/classifier_digits.py [--out curve.png]
(needs scikit-learn; matplotlib for the plot; ADCOMPILER_EXAMPLES_FAST=1: fewer epochs)
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

import adcompiler as ad

FAST = os.environ.get("ADCOMPILER_EXAMPLES_FAST", "") not in ("", "0")


def loss_and_accuracy(params, images, onehot):
    """Mean cross-entropy of a tanh MLP's softmax output, and the accuracy as auxiliary data."""
    hidden = np.tanh(images @ params["w1"] + params["b1"])
    logits = hidden @ params["w2"] + params["b2"]
    shift = np.max(logits, axis=1, keepdims=True)
    log_probs = logits - shift - np.log(np.sum(np.exp(logits - shift), axis=1, keepdims=True))
    loss = -np.mean(np.sum(onehot * log_probs, axis=1))
    accuracy = np.mean(np.argmax(logits, axis=1) == np.argmax(onehot, axis=1))
    return loss, accuracy


step_value_and_grad = ad.value_and_grad(loss_and_accuracy, has_aux=True)


def init_params(rng, n_in, n_hidden, n_out):
    return {"w1": rng.randn(n_in, n_hidden) / np.sqrt(n_in), "b1": np.zeros(n_hidden),
            "w2": rng.randn(n_hidden, n_out) / np.sqrt(n_hidden), "b2": np.zeros(n_out)}


def check_against_finite_differences(params, images, onehot, eps=1e-6):
    """A few gradient entries of each parameter against central differences of the loss."""
    _, gradient = step_value_and_grad(params, images, onehot)
    rng = np.random.RandomState(1)
    worst = 0.0
    for name, value in params.items():
        for _ in range(3):
            index = tuple(rng.randint(n) for n in value.shape)
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[name][index] += eps
            down[name][index] -= eps
            numeric = (loss_and_accuracy(up, images, onehot)[0]
                       - loss_and_accuracy(down, images, onehot)[0]) / (2 * eps)
            error = abs(gradient[name][index] - numeric)
            assert error < 1e-6 + 1e-5 * abs(numeric), (name, index, gradient[name][index],
                                                        numeric)
            worst = max(worst, error)
    return worst


class Adam:
    """Adam over a dict of arrays (Kingma and Ba's defaults)."""

    def __init__(self, params, rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        self.rate, self.beta1, self.beta2, self.eps = rate, beta1, beta2, eps
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def update(self, params, gradient):
        self.t += 1
        new = {}
        for k in params:
            self.m[k] = self.beta1 * self.m[k] + (1 - self.beta1) * gradient[k]
            self.v[k] = self.beta2 * self.v[k] + (1 - self.beta2) * gradient[k] ** 2
            m_hat = self.m[k] / (1 - self.beta1 ** self.t)
            v_hat = self.v[k] / (1 - self.beta2 ** self.t)
            new[k] = params[k] - self.rate * m_hat / (np.sqrt(v_hat) + self.eps)
        return new


def plot(train_curve, test_curve, path):
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no plot written (pip install matplotlib)")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    epochs = np.arange(1, len(train_curve) + 1)
    ax.plot(epochs, train_curve, label="train")
    ax.plot(epochs, test_curve, label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_yscale("log")
    ax.set_title("MLP on sklearn digits (gradients by adcompiler)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("loss curves written to", path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="PNG path for the loss curves (default: a temp dir)")
    parser.add_argument("--epochs", type=int, default=4 if FAST else 30)
    options = parser.parse_args(argv)
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        print("skipped: this example needs scikit-learn (pip install scikit-learn)")
        return 0

    digits = load_digits()
    images, labels = digits.data / 16.0, digits.target
    rng = np.random.RandomState(0)
    order = rng.permutation(len(labels))
    n_test = len(labels) // 5
    test, train = order[:n_test], order[n_test:]
    onehot = np.eye(10)[labels]
    print("digits: %d training and %d test images of %d pixels, 10 classes"
          % (len(train), len(test), images.shape[1]))

    params = init_params(rng, images.shape[1], 32, 10)
    worst = check_against_finite_differences(params, images[train[:50]], onehot[train[:50]])
    print("gradient vs central differences on 12 entries: max abs error %.1e" % worst)

    initial_loss = loss_and_accuracy(params, images[train], onehot[train])[0]
    optimizer = Adam(params, rate=0.01)
    batch = 64
    train_curve, test_curve = [], []
    start = time.perf_counter()
    for epoch in range(options.epochs):
        shuffled = rng.permutation(train)
        for first in range(0, len(shuffled), batch):
            rows = shuffled[first:first + batch]
            _, gradient = step_value_and_grad(params, images[rows], onehot[rows])
            params = optimizer.update(params, gradient)
        train_loss, train_acc = loss_and_accuracy(params, images[train], onehot[train])
        test_loss, test_acc = loss_and_accuracy(params, images[test], onehot[test])
        train_curve.append(train_loss)
        test_curve.append(test_loss)
        if epoch == 0 or (epoch + 1) % max(1, options.epochs // 6) == 0 \
                or epoch + 1 == options.epochs:
            print("epoch %3d  train loss %.4f  test loss %.4f  test accuracy %.3f"
                  % (epoch + 1, train_loss, test_loss, test_acc))
    seconds = time.perf_counter() - start
    steps = options.epochs * -(-len(train) // batch)
    print("%d Adam steps in %.2f s (%.2f ms per step, gradient included)"
          % (steps, seconds, 1000 * seconds / steps))
    print("final test accuracy: %.3f (train %.3f)" % (test_acc, train_acc))
    assert train_curve[-1] < 0.25 * initial_loss, (initial_loss, train_curve[-1])
    assert test_acc > (0.85 if options.epochs < 10 else 0.93), test_acc

    path = options.out or os.path.join(tempfile.mkdtemp(prefix="adcompiler_digits_"),
                                       "digits_loss.png")
    plot(train_curve, test_curve, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
