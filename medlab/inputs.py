"""Checks of the class probabilities and labels that several modules take (explain, conformal).

Each returns the input as a NumPy array or raises ValueError naming the argument and what was
expected.
"""

from __future__ import annotations

import numpy as np


def class_probabilities(probs, name: str = "probs", *, sum_to_one: bool = True) -> np.ndarray:
    """``probs`` as an (n, k) float array, k >= 2, finite and non-negative; with
    ``sum_to_one`` every row must also sum to 1 (within 1e-4)."""
    p = np.asarray(probs, dtype=float)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"{name} must be an (n, k) array of class probabilities with k >= 2, "
                         f"got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} must hold finite probabilities (no NaN or inf)")
    if sum_to_one and (np.any(p < -1e-9) or not np.allclose(p.sum(1), 1.0, atol=1e-4)):
        raise ValueError(f"{name}: every row must be non-negative and sum to 1")
    if np.any(p < -1e-9):
        raise ValueError(f"{name} must hold non-negative probabilities")
    return p


def class_labels(labels, n: int, k: int, name: str = "labels") -> np.ndarray:
    """``labels`` as n whole numbers in 0..k-1 (an int array)."""
    y = np.asarray(labels)
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or (n and (y.min() < 0 or y.max() >= k)):
        raise ValueError(f"{name} must be whole numbers in 0..{k - 1}")
    return y.astype(int)
