"""scipy.signal's convolutions as people use them: a convolutional layer written from scratch
with correlate2d over channels, and a 1-D smoothing filter; each in every mode against finite
differences."""
import numpy as np
import pytest
from conftest import check_all_modes

sig = pytest.importorskip("scipy.signal")

RNG = np.random.RandomState(3)
IMAGES = RNG.randn(2, 6, 6)  # (channels, height, width)


def conv_layer(kernels, bias):
    """Two output maps, each the sum over input channels of a valid cross-correlation."""
    maps = []
    for k in range(kernels.shape[0]):
        out = np.zeros((4, 4)) + bias[k]
        for c in range(IMAGES.shape[0]):
            out = out + sig.correlate2d(IMAGES[c], kernels[k, c], mode="valid")
        maps.append(np.maximum(out, 0.0))
    return np.sum(np.stack(maps) ** 2)


def smoothed_residual(signal, window):
    smooth = sig.convolve(signal, window / np.sum(window), mode="same")
    return np.sum((signal - smooth) ** 2)


def test_a_convolutional_layer_from_scratch():
    check_all_modes(conv_layer, [RNG.randn(2, 2, 3, 3), np.array([0.1, -0.2])], wrt=(0, 1))


def test_a_smoothing_filter():
    check_all_modes(smoothed_residual, [RNG.randn(12), np.array([1.0, 2.0, 1.5])], wrt=(0, 1))
