"""IBSI's digital phantom and its reference feature values (chapter 4).

The Image Biomarker Standardisation Initiative (IBSI; Zwanenburg et al., Radiology 2020) checks
radiomics software against a 5 x 4 x 4 voxel phantom whose features were computed by hand and
agreed by many teams. The phantom is small enough to write out here, so that the check needs no
download.

Source: ``ibsi_1_digital_phantom/nifti`` of https://github.com/theibsi/data_sets (design by Alex
Zwanenburg; licensed under Creative Commons Attribution 4.0). The reference values are those of
the IBSI reference manual (https://ibsi.readthedocs.io, chapter "Image features", rows "dig.
phantom"), given there to three significant digits, with the feature's IBSI code.
"""

from __future__ import annotations

import numpy as np

# intensities, indexed [z, y, x] (4 slices of 4 x 5 voxels); the 9 is the one excluded voxel
# inside the region of interest
_IMAGE = [
    [[1, 4, 4, 1, 1], [1, 4, 6, 1, 1], [4, 1, 6, 4, 1], [4, 4, 6, 4, 1]],
    [[1, 4, 4, 1, 1], [1, 1, 6, 1, 1], [1, 1, 3, 1, 1], [4, 4, 6, 1, 1]],
    [[1, 4, 4, 1, 1], [1, 1, 1, 1, 1], [1, 1, 9, 1, 1], [1, 1, 6, 1, 1]],
    [[1, 4, 4, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 6, 1, 1]],
]
# region of interest: 74 of the 80 voxels
_MASK = [
    [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
    [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [0, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
    [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 1, 1], [1, 1, 1, 1, 1]],
    [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
]
SPACING_MM = (2.0, 2.0, 2.0)  # (z, y, x)

# IBSI reference values of the digital phantom: name -> (IBSI code, value). Intensity
# statistics are computed on the 74 voxels of the region; "energy" is IBSI's sum of squares.
# The GLCM value is "3D, averaged": one matrix per each of the 13 directions at distance 1,
# the feature averaged over them (PyRadiomics' default aggregation).
REFERENCE = {
    "mean": ("Q4LE", 2.15),
    "variance": ("ECT3", 3.05),
    "skewness": ("KE2A", 1.08),
    "excess kurtosis": ("IPH6", -0.355),
    "median": ("Y12H", 1.0),
    "minimum": ("1GSF", 1.0),
    "10th percentile": ("QG58", 1.0),
    "90th percentile": ("8DWT", 4.0),
    "maximum": ("84IY", 6.0),
    "interquartile range": ("SALO", 3.0),
    "range": ("2OJQ", 5.0),
    "energy": ("N8CA", 567.0),
    "GLCM joint maximum (3D, averaged)": ("GYBY", 0.503),
}


def digital_phantom() -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """IBSI's digital phantom: ``(image, mask, spacing_mm)``, arrays indexed [z, y, x].

    ``image`` is float64 (grey levels 1, 3, 4, 6 in the region, 9 in one excluded voxel),
    ``mask`` is boolean (74 voxels), the voxels are 2 mm cubes.
    """
    return (np.asarray(_IMAGE, dtype=np.float64), np.asarray(_MASK, dtype=bool), SPACING_MM)


def agrees(value: float, reference: float) -> bool:
    """True when ``value`` rounds to ``reference`` at the three significant digits IBSI
    publishes (an exact match for integer-valued references)."""
    if reference == round(reference) and abs(reference) < 100:
        return abs(value - reference) < 1e-9
    digits = 3 - int(np.floor(np.log10(abs(reference)))) - 1
    return round(float(value), digits) == reference
