"""A character-level recurrent language model, trained with Adagrad on a few lines of text.

The loss is written as a plain Python loop over time: a tanh recurrence and a softmax
cross-entropy for the next character at each step. adcompiler turns the loop into
backpropagation through time (the hidden states the backward pass needs go on a tape). The
gradient is checked against central finite differences, then the model is trained on windows
of the text and sampled from.

Run: python examples/rnn_language_model.py (ADCOMPILER_EXAMPLES_FAST=1: fewer steps)
"""
import os
import time

import numpy as np

import adcompiler as ad

FAST = os.environ.get("ADCOMPILER_EXAMPLES_FAST", "") not in ("", "0")

TEXT = """the kettle sings before the sun is up,
the cat walks twice around the empty cup,
the garden gate is open to the rain,
and every path goes down to the lane again.
"""


def sequence_loss(params, inputs, targets, h0):
    """Summed cross-entropy of predicting ``targets[t]`` from ``inputs[:t + 1]``, and the last
    hidden state (to carry into the next window)."""
    h = h0
    loss = 0.0
    for t in range(len(inputs)):
        # params["wx"][i] is the one-hot input times the input weights
        h = np.tanh(params["wx"][inputs[t]] + params["wh"] @ h + params["bh"])
        logits = params["wy"] @ h + params["by"]
        shift = np.max(logits)
        log_norm = shift + np.log(np.sum(np.exp(logits - shift)))
        loss = loss + log_norm - logits[targets[t]]
    return loss, h


value_and_gradient = ad.value_and_grad(sequence_loss, has_aux=True)


def init_params(rng, vocab, hidden):
    return {"wx": 0.1 * rng.randn(vocab, hidden), "wh": 0.1 * rng.randn(hidden, hidden),
            "bh": np.zeros(hidden), "wy": 0.1 * rng.randn(vocab, hidden), "by": np.zeros(vocab)}


def finite_difference_check(params, inputs, targets, h0, eps=1e-6):
    (_, _), gradient = value_and_gradient(params, inputs, targets, h0)
    rng = np.random.RandomState(2)
    rows = []
    for name in ("wx", "wh", "bh", "wy", "by"):
        for _ in range(2):
            index = tuple(rng.randint(n) for n in params[name].shape)
            if name == "wx":  # an input weight of a character the window uses
                index = (inputs[rng.randint(len(inputs))], index[1])
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[name][index] += eps
            down[name][index] -= eps
            numeric = (sequence_loss(up, inputs, targets, h0)[0]
                       - sequence_loss(down, inputs, targets, h0)[0]) / (2 * eps)
            rows.append((name, index, gradient[name][index], numeric))
            assert abs(gradient[name][index] - numeric) < 1e-7 + 1e-5 * abs(numeric), rows[-1]
    return rows


def sample(params, h, first, n, rng, chars, temperature=0.7):
    """``n`` characters drawn from the model, starting from character index ``first``."""
    out = [first]
    for _ in range(n):
        h = np.tanh(params["wx"][out[-1]] + params["wh"] @ h + params["bh"])
        logits = (params["wy"] @ h + params["by"]) / temperature
        p = np.exp(logits - logits.max())
        out.append(rng.choice(len(p), p=p / p.sum()))
    return "".join(chars[i] for i in out)


def main():
    chars = sorted(set(TEXT))
    index_of = {c: i for i, c in enumerate(chars)}
    data = [index_of[c] for c in TEXT]
    vocab, hidden, window = len(chars), 48, 25
    print("text: %d characters, %d distinct; hidden size %d, windows of %d"
          % (len(data), vocab, hidden, window))
    rng = np.random.RandomState(0)
    params = init_params(rng, vocab, hidden)

    rows = finite_difference_check(params, data[:window], data[1:window + 1], np.zeros(hidden))
    print("gradient vs central differences:")
    for name, index, exact, numeric in rows[::2]:
        print("  d loss / d %s%s: adcompiler %+.8f, finite differences %+.8f"
              % (name, list(index), exact, numeric))

    steps = 400 if FAST else 3000
    memory = {k: np.full_like(v, 1e-8) for k, v in params.items()}  # Adagrad's sums of squares
    rate = 0.1
    h = np.zeros(hidden)
    position = 0
    smooth = np.log(vocab) * window  # the loss of a uniform guess
    first_smooth = None
    start = time.perf_counter()
    for step in range(steps):
        if position + window + 1 > len(data):
            position, h = 0, np.zeros(hidden)
        inputs = data[position:position + window]
        targets = data[position + 1:position + window + 1]
        (loss, h), gradient = value_and_gradient(params, inputs, targets, h)
        for k in params:
            g = np.clip(gradient[k], -5.0, 5.0)
            memory[k] += g * g
            params[k] = params[k] - rate * g / np.sqrt(memory[k])
        smooth = 0.9 * smooth + 0.1 * loss
        first_smooth = smooth if first_smooth is None else first_smooth
        position += window
        if step % (steps // 5) == 0 or step == steps - 1:
            print("step %4d  smoothed loss per character %.3f" % (step, smooth / window))
    seconds = time.perf_counter() - start
    print("%d Adagrad steps in %.2f s (%.1f ms per window of %d characters)"
          % (steps, seconds, 1000 * seconds / steps, window))
    assert smooth < 0.8 * first_smooth, (first_smooth, smooth)
    print("sample:")
    print(sample(params, np.zeros(hidden), index_of["t"], 120, np.random.RandomState(3), chars))


if __name__ == "__main__":
    main()
