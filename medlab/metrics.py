"""Metrics the chapters share: a clinician's classification summary, bootstrap intervals,
segmentation overlap (Dice, HD95) and calibration error.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np


def _check_same_length(y_true, y_other, name="y_pred"):
    y_true, y_other = np.asarray(y_true), np.asarray(y_other)
    if len(y_true) != len(y_other):
        raise ValueError(f"y_true has {len(y_true)} entries but {name} has {len(y_other)}")
    if len(y_true) == 0:
        raise ValueError("y_true is empty")
    return y_true, y_other


def classification_summary(y_true, y_pred, y_score=None) -> dict[str, float]:
    """Accuracy, sensitivity (recall), specificity, precision, F1 and, given scores, ROC AUC
    and PR AUC, for a binary problem whose positive class is 1 (chapter 1 defines each)."""
    from sklearn import metrics as skm

    y_true, y_pred = _check_same_length(y_true, y_pred)
    tn, fp, fn, tp = skm.confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    out = {
        "accuracy": (tp + tn) / len(y_true),
        "sensitivity": tp / (tp + fn) if tp + fn else float("nan"),
        "specificity": tn / (tn + fp) if tn + fp else float("nan"),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "F1": skm.f1_score(y_true, y_pred, zero_division=0),
    }
    if y_score is not None:
        _, y_score = _check_same_length(y_true, y_score, "y_score")
        out["ROC AUC"] = skm.roc_auc_score(y_true, y_score)
        out["PR AUC"] = skm.average_precision_score(y_true, y_score)
    return {k: float(v) for k, v in out.items()}


def bootstrap_ci(y_true, y_other, metric: Callable, *, n_boot: int = 1000,
                 alpha: float = 0.05, seed: int = 0) -> tuple[float, float, float]:
    """Point estimate and percentile bootstrap interval ``(value, low, high)`` of
    ``metric(y_true, y_other)``, resampling cases with replacement (chapter 5)."""
    y_true, y_other = _check_same_length(y_true, y_other, "the second argument")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    rng = np.random.default_rng(seed)
    n = len(y_true)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        if len(np.unique(y_true[idx])) < 2:  # AUC and friends need both classes
            continue
        values.append(metric(y_true[idx], y_other[idx]))
    if not values:
        raise ValueError("bootstrap_ci: every resample held a single class")
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(metric(y_true, y_other)), float(low), float(high)


def format_ci(value: float, low: float, high: float, digits: int = 3) -> str:
    """``0.912 [0.880, 0.940]``."""
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def dice_per_class(pred, target, num_classes: int, *, include_background: bool = False):
    """Dice overlap of each class between two integer label maps of the same shape.

    A class absent from both maps gives NaN. Chapter 7 defines Dice = 2|A∩B| / (|A|+|B|).
    """
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"dice_per_class: pred shape {pred.shape} != target shape {target.shape}")
    first = 0 if include_background else 1
    out = []
    for c in range(first, num_classes):
        a, b = pred == c, target == c
        denom = a.sum() + b.sum()
        out.append(float(2.0 * np.logical_and(a, b).sum() / denom) if denom else float("nan"))
    return np.array(out)


def hd95_per_class(pred, target, num_classes: int, *, spacing=None):
    """95th-percentile Hausdorff distance per foreground class (MONAI), in mm when
    ``spacing`` is given, else in voxels. Inputs: integer label maps (2-D or 3-D)."""
    import torch
    from monai.metrics import compute_hausdorff_distance
    from monai.networks.utils import one_hot

    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"hd95_per_class: pred shape {pred.shape} != target shape {target.shape}")
    p = one_hot(torch.as_tensor(pred)[None, None].long(), num_classes)
    t = one_hot(torch.as_tensor(target)[None, None].long(), num_classes)
    with warnings.catch_warnings():
        # MONAI 1.5+ warns about an argument it passes to itself (always_return_as_numpy)
        warnings.filterwarnings("ignore", message=".*always_return_as_numpy.*",
                                category=FutureWarning)
        hd = compute_hausdorff_distance(p, t, include_background=False, percentile=95,
                                        spacing=spacing)
    return hd.numpy().reshape(-1)


def expected_calibration_error(y_true, probs, n_bins: int = 15) -> float:
    """Expected calibration error of predicted probabilities (chapter 11).

    ``probs`` is (n,) for the positive class of a binary problem or (n, k) for k classes:
    confidence is the top probability, and ECE is the bin-weighted |accuracy - confidence|.
    """
    y_true = np.asarray(y_true)
    probs = np.asarray(probs, dtype=float)
    if probs.ndim == 1:
        probs = np.stack([1 - probs, probs], axis=1)
    _check_same_length(y_true, probs, "probs")
    conf = probs.max(1)
    correct = (probs.argmax(1) == y_true).astype(float)
    edges = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - conf[in_bin].mean())
    return float(ece)
