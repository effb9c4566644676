"""Checks of chapter 2's exercises (medical image files); see :mod:`medlab.teach`."""

from __future__ import annotations

from medlab.teach import exercise_check


@exercise_check("ch02-hu-range", right=[(-896, 1167), (-896.0, 1167.0)],
                wrong=[(128, 2191), (1167, -896), (-1000, 1000)])
def hu_range(answer):
    """(lowest, highest) Hounsfield unit in CT_small.dcm."""
    low, high = (float(v) for v in answer)
    if low > high:
        return "give the lowest value first, then the highest"
    if abs(low - 128) < 1 and abs(high - 2191) < 1:
        return "these are the stored values; apply the rescale slope and intercept first"
    if abs(low - (-896)) > 0.5 or abs(high - 1167) > 0.5:
        return "not the range of the rescaled image; check slope, intercept and min/max"
    return None


@exercise_check("ch02-fov-ml", right=[270.6], wrong=[33825, 270600, 27.06])
def fov_ml(answer):
    """Volume of the field of view of nibabel's anatomical.nii, in millilitres."""
    value = float(answer)
    voxels = 33 * 41 * 25
    if abs(value - voxels) < 1:
        return "that is the number of voxels; multiply by the volume of one voxel"
    if abs(value - voxels * 8.0) < 1:
        return "that is in cubic millimetres; 1 ml is 1000 mm³"
    if abs(value - voxels * 8.0 / 1000) > 0.05:
        return "not the volume: shape times voxel size (from the header), in ml"
    return None


@exercise_check("ch02-axcodes", right=[("L", "A", "S"), "LAS"],
                wrong=[("R", "A", "S"), "LA", ("L", "P", "S")])
def axcodes(answer):
    """Orientation codes of nibabel's anatomical.nii, e.g. ('R', 'A', 'S')."""
    codes = tuple(str(c).upper() for c in answer)
    if len(codes) != 3:
        return "give three letters, one for each voxel axis"
    if codes == ("R", "A", "S"):
        return "RAS is the canonical orientation, not this file's; ask nibabel.aff2axcodes"
    if codes != ("L", "A", "S"):
        return "not the codes of this affine; use nibabel.aff2axcodes(img.affine)"
    return None


__all__ = ["hu_range", "fov_ml", "axcodes"]
