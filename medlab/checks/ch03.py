"""Checks of chapter 3's exercises (preprocessing); see :mod:`medlab.teach`."""

from __future__ import annotations

import functools
import math

from medlab.teach import as_number, exercise_check


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


_SIGMA_RICIAN = 0.05  # the noise level of each channel in section 3.4's simulation


@exercise_check("ch03-rician-sigma", right=[0.05, 0.0502, 0.0494],
                wrong=[0.0627, 0.0328, 0.039, 0.0025, 5.0])
def rician_sigma(answer):
    """The noise level sigma of section 3.4's Rician MR slice, estimated from its background."""
    value = as_number(answer, "sigma")
    sigma = _SIGMA_RICIAN
    if abs(value / (sigma * math.sqrt(math.pi / 2)) - 1) < 0.04:
        return ("that is the background's mean itself; a Rayleigh variable's mean is "
                "sigma times sqrt(pi / 2): solve for sigma")
    if abs(value / (sigma * math.sqrt(2 - math.pi / 2)) - 1) < 0.04:
        return ("that is the background's spread; a Rayleigh variable's standard deviation is "
                "sigma times sqrt(2 - pi / 2), not sigma")
    if abs(value / sigma**2 - 1) < 0.1:
        return "that looks like a variance; give the standard deviation sigma"
    if abs(value / (100 * sigma) - 1) < 0.04:
        return "give sigma as a fraction of the maximum intensity, not in per cent"
    if abs(value / sigma - 1) > 0.04:
        return ("not the simulated noise level; use the background voxels (the template is 0 "
                "there) and the mean of a Rayleigh distribution")
    return None


@functools.lru_cache(maxsize=1)
def label_resampling_dice() -> tuple[float, float, float]:
    """Dice of CSF, GM and WM between order-1 (rounded) and order-0 resampling, 2 -> 3 mm.

    The labels are chapter 3's ``tissue_volume``: the MNI152 template's most probable tissue
    in its brain mask (0 outside, 1 CSF, 2 GM, 3 WM), resampled with ``scipy.ndimage.zoom``.
    """
    import numpy as np
    from nilearn.datasets import (
        load_mni152_brain_mask,
        load_mni152_gm_template,
        load_mni152_wm_template,
    )
    from scipy import ndimage as ndi

    from medlab.metrics import dice_per_class

    brain = load_mni152_brain_mask(resolution=2).get_fdata() > 0.5
    gm = load_mni152_gm_template(resolution=2).get_fdata()[brain]
    wm = load_mni152_wm_template(resolution=2).get_fdata()[brain]
    tissue = np.zeros(brain.shape, int)
    tissue[brain] = np.argmax(np.stack([np.clip(1 - gm - wm, 0, 1), gm, wm]), axis=0) + 1
    order0 = ndi.zoom(tissue, 2 / 3, order=0)
    order1 = np.rint(ndi.zoom(tissue.astype(float), 2 / 3, order=1)).astype(int)
    return tuple(float(d) for d in dice_per_class(order1, order0, 4))


def _not_a_dice(value: float, right: float) -> str | None:
    """What is wrong with ``value`` as a Dice coefficient (given in per cent, or out of
    [0, 1]), or None when it is one."""
    if 0 <= value <= 1:
        return None
    if 0 <= value <= 100 and abs(value / 100 - right) < 0.005:
        return "give the Dice coefficient as a fraction between 0 and 1, not in per cent"
    return "a Dice coefficient lies between 0 and 1"


@exercise_check("ch03-label-resampling", wrong=[1.0, 0.0, 75.8])
def label_resampling(answer):
    """Dice of the CSF label (1) between linear (rounded) and nearest-neighbour resampling."""
    value = as_number(answer, "the Dice coefficient")
    csf, gm, wm = label_resampling_dice()
    if (problem := _not_a_dice(value, csf)) is not None:
        return problem
    if abs(value - 1) < 1e-9:
        return ("the two resamplings do not agree everywhere: compare order=1 (rounded) with "
                "order=0, not one of them with itself")
    for name, other in (("gray matter", gm), ("white matter", wm)):
        if abs(value - other) < 0.002 and abs(value - csf) > 0.002:
            return f"that is the Dice of {name}; the exercise asks for CSF (label 1)"
    if abs(value - csf) > 0.005:
        return ("not the CSF Dice of the two resamplings; zoom by 2/3 with order 0 and with "
                "order 1 (rounded with np.rint), then compare label 1")
    return None


@functools.lru_cache(maxsize=1)
def inverted_mask_dice() -> float:
    """Dice of chapter 3's Invertd exercise: a 3 mm mask (z > 0) brought back to 2 mm.

    The template's brain goes through section 3.3's dictionary pipeline (smooth, 3 mm, mask,
    z-score); ``z > 0`` is inverted with ``Invertd`` (nearest neighbour) and compared with
    the same threshold at 2 mm, ``(t1 > t1[brain].mean()) & brain``.
    """
    import numpy as np
    from monai.data import MetaTensor
    from monai.transforms import (
        Compose,
        GaussianSmoothd,
        Invertd,
        MaskIntensityd,
        NormalizeIntensityd,
        Orientationd,
        Spacingd,
    )
    from nilearn.datasets import load_mni152_brain_mask, load_mni152_template

    mni = load_mni152_template(resolution=2)
    t1 = mni.get_fdata()
    brain = load_mni152_brain_mask(resolution=2).get_fdata() > 0.5
    pipeline = Compose([
        Orientationd(keys=["image", "mask"], axcodes="RAS",
                     labels=(("L", "R"), ("P", "A"), ("I", "S"))),
        GaussianSmoothd(keys="image", sigma=0.75),
        Spacingd(keys=["image", "mask"], pixdim=(3.0, 3.0, 3.0), mode=("bilinear", "nearest")),
        MaskIntensityd(keys="image", mask_key="mask"),
        NormalizeIntensityd(keys="image", nonzero=True)])
    out = pipeline({"image": MetaTensor((t1 * brain).astype(np.float32)[None], affine=mni.affine),
                    "mask": MetaTensor(brain.astype(np.float32)[None], affine=mni.affine)})
    out["pred"] = (out["image"] > 0).float()
    back = Invertd(keys="pred", transform=pipeline, orig_keys="mask",
                   nearest_interp=True)(out)["pred"]
    pred = np.asarray(back[0]) > 0.5
    truth = (t1 > t1[brain].mean()) & brain
    return float(2 * (pred & truth).sum() / (pred.sum() + truth.sum()))


@exercise_check("ch03-invert", wrong=[1.0, 0.0, 87.2, -0.5])
def invert(answer):
    """Dice of the inverted 3 mm mask against the same threshold on the 2 mm grid."""
    value = as_number(answer, "the Dice coefficient")
    right = inverted_mask_dice()
    if (problem := _not_a_dice(value, right)) is not None:
        return problem
    if abs(value - 1) < 1e-9:
        return ("the round trip through 3 mm loses detail, so the masks cannot agree "
                "everywhere: compare the inverted mask with the threshold on the 2 mm template")
    if abs(value - right) > 0.005:
        return ("not the Dice of the inverted mask; invert 'pred' with Invertd(keys='pred', "
                "transform=mr_pipeline, orig_keys='mask', nearest_interp=True)")
    return None
