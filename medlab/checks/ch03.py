"""Checks of chapter 3's exercises (preprocessing); see :mod:`medlab.teach`."""

from __future__ import annotations

import math

from medlab.teach import exercise_check


def _otsu_microaneurysms() -> float:
    from skimage import data, filters

    return float(filters.threshold_otsu(data.microaneurysms()))


@exercise_check("ch03-otsu", right=[93, 93.0], wrong=[93 / 255, 128, 0])
def otsu(answer):
    """Otsu's threshold of ``skimage.data.microaneurysms()`` in its own gray levels (0-255)."""
    value = float(answer)
    right = _otsu_microaneurysms()
    if 0 < value < 1 and abs(value * 255 - right) < 1.5:
        return "that is on a 0-1 scale; give it in the image's gray levels (0-255)"
    if abs(value - right) > 1.0:
        return "not Otsu's threshold of this image; compute it on the uint8 image itself"
    return None


@exercise_check("ch03-gamma", right=[0.5], wrong=[2.0, 1.0, 0.25])
def gamma(answer):
    """The gamma that maps a normalised intensity of 0.25 to 0.5 (out = in ** gamma)."""
    value = float(answer)
    right = math.log(0.5) / math.log(0.25)
    if abs(value - 1 / right) < 1e-3:
        return "that brightens the other way round: out = in ** gamma, solve for gamma"
    if abs(value - right) > 1e-3:
        return "raise the input to the power gamma, set it equal to the target, take logarithms"
    return None


@exercise_check("ch03-psnr", right=[30.0], wrong=[60.0, 3.0, 0.001])
def psnr(answer):
    """PSNR in dB of an image whose mean squared error is 0.001 on a data range of 1."""
    value = float(answer)
    right = 10 * math.log10(1 / 0.001)
    if abs(value - 20 * math.log10(1 / 0.001)) < 1e-3:
        return "the MSE is already a squared error: use 10 log10, not 20 log10"
    if abs(value - right) > 0.01:
        return "PSNR = 10 log10(data_range² / MSE), in decibels"
    return None
