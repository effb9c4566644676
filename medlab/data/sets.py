"""The containers the data loaders return, and the names they share.

``TabularSet`` (a table), ``ImageSet`` (images of one split, real or a labelled stand-in) and
``VolumeSet`` (a labelled volume); the class names of the MedMNIST sets the book uses. Both
:mod:`medlab.data.loaders` and :mod:`medlab.data.standins` build these, so they live apart
from both (neither imports the other's module for them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CLASS_NAMES = {
    "breastmnist": ["malignant", "benign/normal"],
    "pneumoniamnist": ["normal", "pneumonia"],
}
SPLITS = ("train", "val", "test")
TISSUES = ("background", "CSF", "GM", "WM")


@dataclass
class TabularSet:
    """A table: ``X`` (n, d), ``y`` (n,), the column and class names, and its source."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_names: list[str]
    source: str
    description: str = ""


@dataclass
class ImageSet:
    """Images of one split with labels; ``synthetic`` is True for an offline stand-in."""

    images: np.ndarray
    labels: np.ndarray
    split: str
    source: str
    synthetic: bool
    class_names: list[str]
    masks: np.ndarray | None = None  # true lesion masks, known only for a stand-in
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def tag(self) -> str:
        """A label for figure titles and tables: says plainly when the data are synthetic."""
        return f"{self.source} [SYNTHETIC STAND-IN]" if self.synthetic else self.source


@dataclass
class VolumeSet:
    """A 3-D image with a label map, their affine and the voxel spacing in mm."""

    image: np.ndarray
    labels: np.ndarray
    affine: np.ndarray
    spacing: tuple[float, float, float]
    label_names: tuple[str, ...]
    probabilities: dict[str, np.ndarray]
    source: str
