"""Checks of chapter 2's exercises (medical image files); see :mod:`medlab.teach`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from medlab.teach import exercise_check


def _series_folder(name: str) -> Path:
    from medlab.files import testdata_path

    return Path(testdata_path("CT_small.dcm")).parent / "dicomdirtests" / name


@lru_cache(maxsize=1)
def _ct2_contiguous_affine() -> tuple:
    import pydicom

    from medlab.files import series_affine

    slices = [pydicom.dcmread(p) for p in _series_folder("77654033/CT2").iterdir()]
    slices.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    return tuple(map(tuple, series_affine(slices[1:])))


@exercise_check("ch02-ct2-missing", right=[161, 161.0],
                wrong=[162, 0, 3, "many"])
def ct2_missing(answer):
    """Number of slices missing in the gap of the CT2 series (spacing from IPP)."""
    value = float(answer)
    if value == 162:
        return "162 is the number of 1.25 mm steps across the gap; the slices between its " \
               "two ends are one fewer"
    if value in (0, 3, 4):
        return "sort the slices along the normal and compare each IPP difference to the " \
               "regular spacing"
    if value != 161:
        return "not the count: (gap / regular spacing) - 1, with both from IPP differences"
    return None


_CT2_RAS = [[-0.488281, 0, 0, 125.0], [0, -0.488281, 0, 128.100006],
            [0, 0, 1.25, 103.019997], [0, 0, 0, 1]]


@exercise_check("ch02-ct2-affine", right=[_CT2_RAS],
                wrong=[np.eye(4), "affine", np.diag([-1, -1, 1, 1]) @ np.array(_CT2_RAS)])
def ct2_affine(answer):
    """The 4x4 RAS affine of the three contiguous slices of CT2."""
    try:
        given = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return "give a 4x4 array of numbers"
    if given.shape != (4, 4):
        return f"give a 4x4 matrix, got shape {given.shape}"
    want = np.array(_ct2_contiguous_affine())
    if np.allclose(given, want, atol=1e-3):
        return None
    if np.allclose(np.diag([-1, -1, 1, 1]) @ given, want, atol=1e-3):
        return "this is DICOM's LPS affine; NIfTI's RAS+ flips the signs of the first two rows"
    if np.allclose(given[:3, :3], want[:3, :3], atol=1e-3):
        return "the directions are right; the last column is the first slice's position " \
               "(the lowest along the normal), in RAS"
    return "not this series' affine: columns are row direction x column spacing, column " \
           "direction x row spacing, the step between slices, and the first position"


@exercise_check("ch02-mr700-step", right=[16.35, 16.4, 16.3],
                wrong=[81.8, 25.7, 51.4, 0.0])
def mr700_step(answer):
    """Angle in degrees between the normals of consecutive MR700 projection images."""
    value = float(answer)
    if abs(value - 81.8) < 0.5:
        return "that is the angle between the first and the last slice; divide by the " \
               "number of steps"
    if abs(value - 16.35) > 0.2:
        return "not the step: sort by InstanceNumber, take n = row x column direction of " \
               "each slice and the angle arccos(|n_k . n_k+1|)"
    return None


def _image_type_values(answer) -> list[str]:
    if isinstance(answer, str):
        return [v.strip().upper() for v in answer.replace("/", "\\").split("\\")]
    try:
        return [str(v).strip().upper() for v in answer]
    except TypeError:
        return [str(answer).strip().upper()]


@exercise_check("ch02-mr700-kind", right=["PROJECTION IMAGE", ["DERIVED", "SECONDARY",
                                                             "PROJECTION IMAGE"]],
                wrong=["DERIVED", "SECONDARY", "AXIAL", "ORIGINAL\\PRIMARY\\AXIAL", 3])
def mr700_kind(answer):
    """The ImageType value of MR700 that says its images are not slices of a volume."""
    values = _image_type_values(answer)
    if "PROJECTION IMAGE" in values:
        return None
    if "LOCALIZER" in values:
        return "a localizer is a planning scout; MR700's files say something else"
    if "DERIVED" in values or "SECONDARY" in values:
        return "DERIVED and SECONDARY say the image was computed after the acquisition, " \
               "which a reformatted slice is too; which value says what a pixel stands for?"
    return "read ImageType (0008,0008) of the MR700 files: its third value names the kind " \
           "of image"


_RG1_LEFT_BY_LIST = {"TimezoneOffsetFromUTC", "StudyDescription", "ImageComments",
                     "DataSetTrailingPadding"}


@exercise_check("ch02-rg1-audit", right=[sorted(_RG1_LEFT_BY_LIST)],
                wrong=[[], ["PatientName", "PatientID"], ["StudyDescription"]])
def rg1_audit(answer):
    """What the PS3.15 audit finds in RG1_UNCR after the chapter's scrub by a keyword list."""
    try:
        given = {str(v) for v in answer}
    except TypeError:
        return "give the list that medlab.files.identifying_elements returned"
    if given == _RG1_LEFT_BY_LIST:
        return None
    if not given:
        return "an empty audit is the keep-list scrub (medlab.files.deidentify); audit the " \
               "file scrubbed by the keyword list"
    if "PatientName" in given or "InstitutionName" in given:
        return "that is the original file (or a pseudonymised one); audit the scrubbed copy"
    missing = sorted(_RG1_LEFT_BY_LIST - given)
    if missing:
        return f"{len(missing)} attribute(s) of the audit missing: run identifying_elements " \
               f"on the scrubbed dataset and give its whole list"
    return "more than the audit finds: give exactly the list identifying_elements returns"


__all__ = ["ct2_missing", "ct2_affine", "mr700_step", "mr700_kind", "rg1_audit"]
