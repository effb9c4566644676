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




# ----------------------------------------------------------------------------- ch02-tensor
#: The target of exercise ch02-ex-tensor: voxel spacing in mm in (D, H, W) order (between
#: slices, between rows, between columns) and the HU window (the soft-tissue preset,
#: centre 40, width 400).
TENSOR_SPACING: tuple[float, float, float] = (2.0, 1.0, 1.0)
TENSOR_WINDOW: tuple[float, float] = (-160.0, 240.0)

#: File names of the exercise folder, in the order the CT5N slices are copied (lowest slice
#: first): file-name order is neither the order along the normal nor its reverse.
_SCRAMBLED = ("IM0004.dcm", "IM0001.dcm", "IM0006.dcm", "IM0002.dcm", "IM0005.dcm")
_STRAY = "IM0003.dcm"      # the lowest slice of CT2: another series, 100 mm lower
_LOCALIZER = "IM0000.dcm"  # a coronal scout that shares CT5N's SeriesInstanceUID


def tensor_exercise_folder(folder=None) -> Path:
    """Write the DICOM folder of exercise ch02-ex-tensor and return its path.

    The five slices of pydicom's ``CT5N`` series under scrambled file names, one slice of
    the ``CT2`` series (another ``SeriesInstanceUID``) and a localizer: a copy of one CT5N
    slice turned coronal, with ``ImageType`` ORIGINAL\\PRIMARY\\LOCALIZER, a new
    ``SOPInstanceUID`` and CT5N's ``SeriesInstanceUID``. ``folder`` must be empty or absent;
    by default a new temporary folder. Deterministic: no seed.
    """
    import tempfile

    import pydicom
    from pydicom.uid import generate_uid

    folder = Path(folder) if folder is not None else Path(
        tempfile.mkdtemp(prefix="medlab-ch02-tensor-"))
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise ValueError(f"tensor_exercise_folder: {folder} is not empty; give a new folder")
    ct5n = sorted((pydicom.dcmread(p) for p in _series_folder("98892001/CT5N").iterdir()),
                  key=lambda ds: float(ds.ImagePositionPatient[2]))
    for name, ds in zip(_SCRAMBLED, ct5n):
        ds.save_as(folder / name)
    ct2 = min((pydicom.dcmread(p) for p in _series_folder("77654033/CT2").iterdir()),
              key=lambda ds: float(ds.ImagePositionPatient[2]))
    ct2.save_as(folder / _STRAY)
    scout = ct5n[2].copy()
    scout.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    scout.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
    scout.SOPInstanceUID = generate_uid(entropy_srcs=["medlab ch02-tensor localizer"])
    scout.file_meta.MediaStorageSOPInstanceUID = scout.SOPInstanceUID
    scout.InstanceNumber = 1
    scout.save_as(folder / _LOCALIZER)
    return folder


def _resample_window(hu_dhw, spacing_dhw, origin_lps, direction_lps):
    """medlab's pipeline after the volume: SimpleITK linear resampling, then the window."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(np.ascontiguousarray(hu_dhw, dtype=np.float32))
    image.SetSpacing(tuple(float(s) for s in spacing_dhw[::-1]))
    image.SetOrigin(tuple(float(v) for v in origin_lps))
    image.SetDirection(tuple(float(v) for v in np.asarray(direction_lps).ravel()))
    new_xyz = tuple(float(s) for s in TENSOR_SPACING[::-1])
    size = [int(round(n * old / new))
            for n, old, new in zip(image.GetSize(), image.GetSpacing(), new_xyz)]
    out = sitk.Resample(image, size, sitk.Transform(), sitk.sitkLinear, image.GetOrigin(),
                        new_xyz, image.GetDirection(), -1000.0, sitk.sitkFloat32)
    low, high = TENSOR_WINDOW
    scaled = (np.clip(sitk.GetArrayFromImage(out), low, high) - low) / (high - low)
    return scaled[None].astype(np.float32)


@lru_cache(maxsize=1)
def _tensor_references() -> dict:
    """The right tensor and the tensors of typical mistakes, from medlab.files.load_series."""
    import itertools

    import pydicom

    from medlab.files import load_series

    folder = _series_folder("98892001/CT5N")
    img = load_series(folder)  # (columns, rows, slices), HU, RAS affine
    hu = np.asarray(img.dataobj, dtype=np.float32).transpose(2, 1, 0)  # (D, H, W)
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ img.affine
    spacing = np.linalg.norm(lps[:3, :3], axis=0)[::-1]  # (D, H, W)
    direction = lps[:3, :3] / spacing[::-1]
    origin = lps[:3, 3]
    refs = {"right": _resample_window(hu, spacing, origin, direction)}
    stored = []
    for ds in sorted((pydicom.dcmread(p) for p in folder.iterdir()),
                     key=lambda ds: float(ds.ImagePositionPatient[2])):
        stored.append(ds.pixel_array.astype(np.float32))
    refs["no rescale"] = _resample_window(np.stack(stored), spacing, origin, direction)
    refs["rows and columns swapped"] = _resample_window(hu.transpose(0, 2, 1), spacing, origin,
                                                        direction)
    refs["slice order"] = [
        _resample_window(hu[list(p)], spacing, origin, direction)
        for p in itertools.permutations(range(hu.shape[0])) if list(p) != sorted(p)]
    return refs


def _tensor_and_spacing(answer):
    try:
        tensor, spacing = answer
    except (TypeError, ValueError):
        raise ValueError("give the pair (tensor, spacing) that your function returns") from None
    if hasattr(tensor, "detach"):  # a torch tensor
        tensor = tensor.detach().cpu().numpy()
    if not hasattr(tensor, "shape") or not hasattr(tensor, "dtype"):
        raise ValueError(f"the tensor should be a NumPy array or torch tensor, got "
                         f"{type(tensor).__name__}")
    try:
        spacing = tuple(float(s) for s in spacing)
    except (TypeError, ValueError):
        raise ValueError("the spacing should be three numbers in mm, in (D, H, W) order") from None
    return tensor, spacing


def _close(a, b) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, atol=0.02))


@exercise_check("ch02-tensor", right=[], wrong=[(np.zeros((1, 2, 2, 2)), (2.0, 1.0, 1.0)),
                                                 (np.zeros((2, 2, 2)), (1.0, 1.0, 2.0))])
def tensor(answer):
    """The model-ready tensor of the CT5N folder: (C, D, H, W) float32 in [0, 1], and spacing."""
    tensor, spacing = _tensor_and_spacing(answer)
    want = _tensor_references()["right"]
    if len(spacing) != 3:
        return f"the spacing should hold 3 numbers (D, H, W), got {len(spacing)}"
    if np.allclose(spacing, TENSOR_SPACING[::-1]) and not np.allclose(spacing, TENSOR_SPACING):
        return "the spacing is in (x, y, z) order; give it in the tensor's (D, H, W) order"
    if not np.allclose(spacing, TENSOR_SPACING, atol=1e-3):
        return "the spacing is not the one the exercise asks to resample to (in mm, D, H, W)"
    if tensor.ndim != 4 or tensor.shape[0] != 1:
        return f"expected a (C, D, H, W) tensor with one channel, got shape {tuple(tensor.shape)}"
    if tensor.dtype != np.float32:
        return f"the tensor should be float32, got {tensor.dtype}"
    values = np.asarray(tensor, dtype=np.float64)
    if not np.isfinite(values).all() or values.min() < -1e-6 or values.max() > 1 + 1e-6:
        return "values outside [0, 1]: clip to the HU window, then scale it to [0, 1]"
    if tensor.shape != want.shape:
        if tensor.shape[1:] == tuple(want.shape[i] for i in (3, 2, 1)):
            return "the axes are in (W, H, D) order; a model expects (C, D, H, W)"
        if tensor.shape[1] > want.shape[1]:
            return "more slices than the series spans: keep one SeriesInstanceUID and drop " \
                   "the localizer (ImageType)"
        return f"shape {tuple(tensor.shape)} is not that of the series resampled to the " \
               f"stated spacing (size = round(n x old spacing / new spacing) per axis)"
    refs = _tensor_references()
    if _close(values, want):
        return None
    if any(_close(values, r) for r in refs["slice order"]):
        return "the slices are in the wrong order: sort them by position along the slice " \
               "normal, not by file name or InstanceNumber"
    if _close(values, refs["no rescale"]):
        return "these are stored values, not HU: apply RescaleSlope and RescaleIntercept " \
               "before the window"
    if _close(values, refs["rows and columns swapped"]):
        return "rows and columns are swapped: H is the row index, W the column index"
    return "the shape is right but the values differ from medlab's pipeline: check the HU " \
           "window, the linear interpolation and the origin of the grid"

__all__ = ["ct2_missing", "ct2_affine", "mr700_step", "mr700_kind", "rg1_audit", "tensor",
           "tensor_exercise_folder", "TENSOR_SPACING", "TENSOR_WINDOW"]
