"""Reading medical image files with validation and clear errors (chapter 2 explains).

DICOM through :mod:`pydicom`, NIfTI through :mod:`nibabel`. The readers check what a
chapter relies on and raise :class:`MedicalFileError` naming the file and what is wrong
(not a DICOM file, a truncated file, a volume with the wrong number of dimensions, a series
with a missing slice), rather than an error from deep inside a library. Also here: a DICOM
series to a 3-D volume with its RAS affine, rescaling CT to Hounsfield units, window/level
presets, and a de-identification helper.

(The module was called ``medlab.io`` before; it is ``medlab.files`` so that it no longer
shadows the standard library's :mod:`io`.)
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np

# the de-identification audit's lists (Table E.1-1 of the standard, 621 rows, a module of its own)
from medlab.ps3_15 import PS3_15_BASIC_PROFILE, PS3_15_TABLE_E1_1  # noqa: F401

#: Window presets as (center, width) in Hounsfield units (chapter 2). Common radiology values;
#: sites and textbooks differ by a few tens of HU.
WINDOWS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "soft tissue": (40.0, 400.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
}


#: Keywords of the attributes :func:`deidentify` keeps (chapter 2): what a reader needs to
#: decode the pixels, place them in space and know how they were acquired; every other
#: attribute is removed (the "keep-list" approach: an attribute nobody thought of goes).
#: Instance UIDs on it are replaced; the Type 2 attributes of :data:`EMPTIED_KEYWORDS` are
#: kept but emptied. A unit test checks that it shares no keyword with
#: :data:`PS3_15_BASIC_PROFILE`.
KEEP_KEYWORDS: tuple[str, ...] = (
    "SpecificCharacterSet", "ImageType", "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID",
    "SeriesInstanceUID", "FrameOfReferenceUID", "Modality", "Manufacturer",
    "ManufacturerModelName", "SeriesNumber", "AcquisitionNumber", "InstanceNumber",
    "PatientPosition", "PatientOrientation", "Laterality", "ImageLaterality", "ViewPosition",
    "PatientIdentityRemoved", "DeidentificationMethod", "BurnedInAnnotation",
    # geometry
    "ImagePositionPatient", "ImageOrientationPatient", "PositionReferenceIndicator",
    "SliceLocation", "SliceThickness", "SpacingBetweenSlices", "PixelSpacing",
    "ImagerPixelSpacing", "PixelSpacingCalibrationType", "EstimatedRadiographicMagnificationFactor",
    "PixelAspectRatio", "GantryDetectorTilt",
    # image pixel module and display
    "SamplesPerPixel", "PhotometricInterpretation", "PlanarConfiguration", "Rows", "Columns",
    "NumberOfFrames", "FrameIncrementPointer", "BitsAllocated", "BitsStored", "HighBit",
    "PixelRepresentation", "PixelPaddingValue", "SmallestImagePixelValue",
    "LargestImagePixelValue", "RescaleIntercept", "RescaleSlope", "RescaleType",
    "WindowCenter", "WindowWidth", "VOILUTFunction", "PresentationLUTShape",
    "LossyImageCompression", "LossyImageCompressionRatio", "LossyImageCompressionMethod",
    "RedPaletteColorLookupTableDescriptor", "GreenPaletteColorLookupTableDescriptor",
    "BluePaletteColorLookupTableDescriptor", "RedPaletteColorLookupTableData",
    "GreenPaletteColorLookupTableData", "BluePaletteColorLookupTableData", "PixelData",
    # acquisition: CT and X-ray
    "KVP", "XRayTubeCurrent", "ExposureTime", "Exposure", "FilterType", "FocalSpots",
    "ConvolutionKernel", "ScanOptions", "DataCollectionDiameter", "ReconstructionDiameter",
    "DistanceSourceToDetector", "DistanceSourceToPatient", "TableHeight",
    # acquisition: MR
    "ScanningSequence", "SequenceVariant", "MRAcquisitionType", "RepetitionTime", "EchoTime",
    "InversionTime", "NumberOfAverages", "ImagingFrequency", "ImagedNucleus", "EchoNumbers",
    "MagneticFieldStrength", "EchoTrainLength", "FlipAngle",
    # ultrasound calibration (PS3.3 C.8.5.5)
    "SequenceOfUltrasoundRegions", "RegionSpatialFormat", "RegionDataType", "RegionFlags",
    "RegionLocationMinX0", "RegionLocationMinY0", "RegionLocationMaxX1", "RegionLocationMaxY1",
    "ReferencePixelX0", "ReferencePixelY0", "PhysicalUnitsXDirection", "PhysicalUnitsYDirection",
    "ReferencePixelPhysicalValueX", "ReferencePixelPhysicalValueY", "PhysicalDeltaX",
    "PhysicalDeltaY",
)

#: Type 2 elements of :data:`PS3_15_BASIC_PROFILE` that a valid file must carry: PS3.15
#: empties them (action Z) instead of removing them.
EMPTIED_KEYWORDS: tuple[str, ...] = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
    "AccessionNumber", "StudyID", "ReferringPhysicianName",
)

#: Values of ``ImageType`` (0008,0008) that mark images which are not slices of a volume,
#: with the reason :func:`sort_slices` gives when it refuses them (chapter 2).
NOT_SLICES: dict[str, str] = {
    "PROJECTION IMAGE": ("a projection (e.g. a maximum-intensity projection of an angiogram) "
                         "sums or maximises along rays through a volume, so each pixel "
                         "stands for a whole line of tissue, not one point"),
    "LOCALIZER": ("a localizer (scout) is a planning view acquired before the series, "
                  "not one of its slices"),
}

#: Date and time elements; removed unless ``deidentify(..., keep_dates=True)``.
_DATE_VRS = ("DA", "DT", "TM")


class MedicalFileError(ValueError):
    """A medical image file that cannot be used; the message names the file and the problem."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def _existing(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise MedicalFileError(path, "is a directory; expected one file")
    return path


# --------------------------------------------------------------------------- DICOM


def _expected_pixel_bytes(ds) -> int:
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    bits = int(ds.BitsAllocated)
    n_bits = int(ds.Rows) * int(ds.Columns) * frames * samples * bits
    return (n_bits + 7) // 8


def read_dicom(path, *, pixels: bool = True):
    """Read a DICOM file with pydicom and check it (chapter 2).

    Raises :class:`MedicalFileError` when the file is not DICOM, when it holds no image
    although ``pixels=True``, or when its pixel data are shorter than the header says
    (a truncated file). Returns the :class:`pydicom.dataset.FileDataset`.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    path = _existing(path)
    size = path.stat().st_size
    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError:
        head = path.read_bytes()[:12]
        raise MedicalFileError(
            path, f"not a DICOM file: no 'DICM' marker at byte 128 (the file has {size} bytes "
            f"and starts with {head!r}). If it is an old headerless DICOM file, try "
            f"pydicom.dcmread(path, force=True).") from None
    except (EOFError, OSError, ValueError, KeyError) as exc:
        raise MedicalFileError(
            path, f"corrupt or truncated DICOM file ({size} bytes): pydicom stopped with "
            f"{type(exc).__name__}: {exc}") from None
    if not pixels:
        return ds
    if "PixelData" not in ds:
        raise MedicalFileError(
            path, f"no pixel data: the file ({size} bytes) is truncated or holds no image "
            f"(modality {ds.get('Modality', 'unknown')!r}, e.g. a plan or report)")
    if not ds.file_meta.TransferSyntaxUID.is_compressed:
        expected, found = _expected_pixel_bytes(ds), len(ds.PixelData)
        if found < expected:
            raise MedicalFileError(
                path, f"truncated DICOM: the pixel data hold {found} bytes but the header "
                f"describes {ds.Rows}x{ds.Columns} pixels x {ds.get('NumberOfFrames', 1)} "
                f"frame(s) x {ds.get('SamplesPerPixel', 1)} sample(s) at {ds.BitsAllocated} "
                f"bits = {expected} bytes ({expected - found} missing); the file was probably "
                f"cut short while being copied or sent")
    try:
        ds.pixel_array  # noqa: B018 - decode once, so a broken image fails here, named
    except Exception as exc:  # a decoder error names neither the file nor the fix
        raise MedicalFileError(path, f"pixel data cannot be decoded: {exc}") from None
    return ds


#: PhysicalUnitsXDirection / PhysicalUnitsYDirection code of centimetres (PS3.3 C.8.5.5.1.15).
_US_CM = 3


def _ultrasound_spacing(ds):
    """(row, column) spacing in mm of each ultrasound region measured in cm, or None."""
    regions = ds.get("SequenceOfUltrasoundRegions")
    if not regions:
        return None
    found = tuple((round(10 * float(r.PhysicalDeltaY), 4), round(10 * float(r.PhysicalDeltaX), 4))
                  for r in regions if r.get("PhysicalUnitsXDirection") == _US_CM
                  and r.get("PhysicalUnitsYDirection") == _US_CM)
    return found or None


def dicom_summary(ds) -> dict:
    """The header fields a clinician checks first, as a plain dict (chapter 2).

    Spacing has three homes: ``PixelSpacing`` (in the patient for cross-sectional images; in
    projection radiography, where the file says so, calibrated at the patient),
    ``ImagerPixelSpacing`` (projection radiography: at the detector's front plane, so an
    object in the patient appears larger by ``EstimatedRadiographicMagnificationFactor``)
    and, for ultrasound, ``SequenceOfUltrasoundRegions`` (``PhysicalDeltaX``/``Y`` per
    region, given here in mm for the regions measured in cm).
    """
    def get(keyword):
        value = ds.get(keyword)
        if value is None or value == "":
            return None
        if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
            return tuple(float(v) for v in value)
        if type(value).__name__ in ("DSfloat", "IS", "DSdecimal"):
            return float(value)
        return str(value)

    return {
        "file": Path(ds.filename).name if getattr(ds, "filename", None) else None,
        "modality": get("Modality"),
        "rows x columns": (int(ds.Rows), int(ds.Columns)) if "Rows" in ds else None,
        "frames": int(ds.get("NumberOfFrames", 1) or 1),
        "pixel spacing (mm)": get("PixelSpacing"),
        "imager pixel spacing (mm)": get("ImagerPixelSpacing"),
        "magnification factor": get("EstimatedRadiographicMagnificationFactor"),
        "ultrasound regions (mm per pixel)": _ultrasound_spacing(ds),
        "slice thickness (mm)": get("SliceThickness"),
        "orientation (row, column cosines)": get("ImageOrientationPatient"),
        "position (mm)": get("ImagePositionPatient"),
        "rescale slope": get("RescaleSlope"),
        "rescale intercept": get("RescaleIntercept"),
        "photometric": get("PhotometricInterpretation"),
        "bits stored": get("BitsStored"),
    }


def to_hounsfield(ds) -> np.ndarray:
    """CT pixel values rescaled to Hounsfield units: ``HU = slope * stored + intercept``.

    Chapter 2 derives it. Raises :class:`MedicalFileError` for a non-CT image (HU are a CT
    scale) and when the rescale fields are missing.
    """
    where = getattr(ds, "filename", None) or "<dataset>"
    modality = ds.get("Modality")
    if modality != "CT":
        raise MedicalFileError(where, f"Hounsfield units are defined for CT only; this is "
                                      f"modality {modality!r}")
    if "RescaleSlope" not in ds or "RescaleIntercept" not in ds:
        raise MedicalFileError(where, "CT image without RescaleSlope/RescaleIntercept; "
                                      "cannot convert stored values to HU")
    slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
    return ds.pixel_array.astype(np.float32) * np.float32(slope) + np.float32(intercept)


def window(image, center: float | None = None, width: float | None = None, *,
           preset: str | None = None) -> np.ndarray:
    """Map intensities to [0, 1] through a window (chapter 2): a preset or center and width.

    Values below ``center - width/2`` become 0, above ``center + width/2`` become 1, linear
    in between. Presets: see :data:`WINDOWS`.
    """
    if preset is not None:
        if center is not None or width is not None:
            raise ValueError("window: give either `preset` or `center` and `width`, not both")
        if preset not in WINDOWS:
            raise ValueError(f"window: unknown preset {preset!r}; choose from {sorted(WINDOWS)}")
        center, width = WINDOWS[preset]
    if center is None or width is None:
        raise ValueError("window: give `center` and `width` (in the image's units) or `preset`")
    if not width > 0:
        raise ValueError(f"window: `width` must be positive, got {width}")
    low = center - width / 2.0
    out = (np.asarray(image, dtype=np.float32) - np.float32(low)) / np.float32(width)
    return np.clip(out, 0.0, 1.0)


def identifying_elements(ds) -> list[str]:
    """Audit: keywords (or tags) of non-empty elements that could identify a person (chapter 2).

    Looks at the attributes of the DICOM PS3.15 basic profile (:data:`PS3_15_BASIC_PROFILE`),
    every person-name (PN) element and private elements (counted as one entry), in nested
    sequences too; overlays (60XX) and curve data (50XX) in any group of their range. An
    empty list means none is left. The audit's list is the standard's,
    not the one :func:`deidentify` scrubs by, so a scrub that forgets an attribute fails it.
    It reads the header only: text burned into the pixels and UIDs are beyond it.
    """
    from pydicom.datadict import keyword_for_tag

    found: list[str] = []
    n_private = 0

    def visit(dataset, elem):
        nonlocal n_private
        if elem.value in (None, "", b"") or (elem.VR == "SQ" and len(elem.value) == 0):
            return
        # a repeating group (overlays, 60XX) has a keyword in pydicom's repeater dictionary
        # only; curve data (50XX,XXXX) is listed as a whole group
        keyword = elem.keyword or keyword_for_tag(elem.tag) or str(elem.tag)
        if elem.tag.is_private:
            n_private += 1
        elif (keyword in PS3_15_BASIC_PROFILE or elem.VR == "PN"
              or elem.tag.group & 0xFF01 == 0x5000) and keyword not in found:
            found.append(keyword)

    ds.walk(visit)
    return found + ([f"{n_private} private elements"] if n_private else [])


def _is_instance_uid(value) -> bool:
    """True for UIDs made for one study, series, image or frame of reference (they often
    hold a date and a device number); False for the registered UIDs of DICOM itself."""
    from pydicom.uid import UID

    uid = UID(str(value))
    return uid.name == str(uid)


def deidentify(ds, *, salt: str, pseudonym: str = "", keep_dates: bool = False):
    """A de-identified copy of a DICOM dataset (chapter 2); the input is left unchanged.

    Keeps only the attributes of :data:`KEEP_KEYWORDS` (what decodes, places and describes
    the image) and removes every other one, private elements included: an attribute that no
    list foresaw is removed rather than kept. Within that, it takes the actions of the DICOM
    PS3.15 basic confidentiality profile: the Type 2 elements in :data:`EMPTIED_KEYWORDS`
    (which a valid file must carry) are kept but **emptied** (action Z), PatientName and
    PatientID are set to ``pseudonym`` (empty by default), instance UIDs are **replaced** (U)
    by new ones derived from the old UID and ``salt``, so that the series of one study stay
    linked; PatientIdentityRemoved is set to YES. With ``keep_dates=True`` dates and times
    stay (an audit then lists them). :func:`identifying_elements` audits the result against
    the standard's own list.

    ``salt`` is a secret the caller must give (at least 16 characters, kept away from the
    released data): with a public salt anyone holding an original UID could recompute its
    pseudonym and re-link the released file to the hospital's record. Dates are removed, not
    shifted; a release that needs intervals keeps them by shifting all of a patient's dates by
    one secret offset. The pixels are not touched: text burned into them stays (chapter 2
    shows it), so real releases need a reviewed tool and a check of the pixels.
    """
    from pydicom.uid import generate_uid

    if not isinstance(salt, str) or len(salt) < 16:
        raise ValueError("deidentify: `salt` must be a secret string of at least 16 "
                         "characters (e.g. secrets.token_hex(16)), kept out of the release; "
                         f"got {salt!r}")
    out = copy.deepcopy(ds)
    out.remove_private_tags()

    def scrub(dataset, elem):
        if keep_dates and elem.VR in _DATE_VRS:
            return
        if elem.keyword in EMPTIED_KEYWORDS:
            elem.value = None if elem.VR == "SQ" else ""
        elif elem.keyword not in KEEP_KEYWORDS:
            del dataset[elem.tag]
        elif elem.VR == "UI" and elem.value and not elem.VM > 1 and _is_instance_uid(elem.value):
            elem.value = generate_uid(entropy_srcs=[salt, str(elem.value)])

    out.walk(scrub)
    meta = getattr(out, "file_meta", None)
    if meta is not None and "SOPInstanceUID" in out:
        meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    out.PatientName = pseudonym
    out.PatientID = pseudonym
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = "medlab.files.deidentify: keep-list, PS3.15 basic profile"
    return out


# --------------------------------------------------------------------------- DICOM series


def _vector(ds, keyword, n, where):
    value = ds.get(keyword)
    if value is None or len(value) != n:
        raise MedicalFileError(where, f"{keyword} is missing or does not hold {n} numbers "
                                      f"(found {value!r}); cannot place the slice in space")
    return np.array([float(v) for v in value])


def _series_source(source):
    """A folder, or a list of paths or datasets, as a list of datasets."""
    if isinstance(source, str | os.PathLike):
        folder = Path(source)
        if not folder.is_dir():
            raise MedicalFileError(folder, "expected a folder holding one DICOM series")
        paths = sorted(p for p in folder.iterdir() if p.is_file() and p.name != "DICOMDIR")
        if not paths:
            raise MedicalFileError(folder, "the folder holds no files")
        return [read_dicom(p) for p in paths]
    items = list(source)
    if not items:
        raise ValueError("load_series: `source` is empty; expected a folder, paths or datasets")
    return [item if hasattr(item, "dir") else read_dicom(item) for item in items]


def sort_slices(datasets, *, tolerance: float = 0.01):
    """Sort the slices of one DICOM series along their normal and check the stack (chapter 2).

    The slice normal is the cross product of the row and column directions of
    ``ImageOrientationPatient``; each slice's position along it is ``ImagePositionPatient``
    projected on the normal. Slices are sorted by that position (never by file name or
    ``InstanceNumber``), and the spacing is taken from the position differences, not from
    ``SliceThickness``; the positions must step along the normal (a tilted gantry steps
    sideways too: a sheared grid, refused). Raises :class:`MedicalFileError` for datasets of more than one series,
    images whose ``ImageType`` says they are not slices of a volume (``PROJECTION IMAGE``,
    such as the maximum-intensity projections of an angiogram, or ``LOCALIZER``, a planning
    scout), orientations that differ, different matrix sizes or pixel spacings, two slices at
    one position, slices that step sideways (gantry tilt), or an uneven spacing (a slice
    missing); ``tolerance`` is the relative deviation allowed.

    Returns ``(sorted_datasets, positions_mm, spacing_mm)``.
    """
    datasets = list(datasets)
    if len(datasets) < 2:
        raise ValueError(f"sort_slices: a volume needs at least 2 slices, got {len(datasets)}")
    names = [getattr(ds, "filename", None) or f"dataset {i}" for i, ds in enumerate(datasets)]
    where = str(Path(names[0]).parent) if getattr(datasets[0], "filename", None) else "series"
    uids = {}
    for ds in datasets:
        uids.setdefault(str(ds.get("SeriesInstanceUID", "missing")), []).append(ds)
    if len(uids) > 1:
        parts = ", ".join(f"...{uid[-12:]} ({len(group)} files, "
                          f"{group[0].get('SeriesDescription', group[0].get('Modality', '?'))})"
                          for uid, group in uids.items())
        raise MedicalFileError(where, f"{len(uids)} series mixed in one set of files: {parts}; "
                                      f"load one SeriesInstanceUID at a time (series_uid=...)")
    for value, reason in NOT_SLICES.items():
        hits = [Path(n).name for ds, n in zip(datasets, names)
                if value in [str(v).strip().upper() for v in (ds.get("ImageType") or [])]]
        if hits:
            shown = ", ".join(hits[:3]) + (", ..." if len(hits) > 3 else "")
            raise MedicalFileError(where, f"ImageType of {len(hits)} of {len(datasets)} files "
                                          f"({shown}) is {value}: {reason}; such images can be "
                                          f"neither stacked nor resampled into a volume")
    orientations = np.array([_vector(ds, "ImageOrientationPatient", 6, n)
                             for ds, n in zip(datasets, names)])
    distinct = np.unique(np.round(orientations, 3), axis=0)
    if np.abs(orientations - orientations[0]).max() > tolerance:
        raise MedicalFileError(where, f"ImageOrientationPatient differs between slices "
                                      f"({len(distinct)} distinct orientations in "
                                      f"{len(datasets)} files): tilted, localiser or mixed "
                                      f"slices, not a stack that makes a volume")
    for keyword in ("Rows", "Columns", "PixelSpacing"):
        values = {str(ds.get(keyword)) for ds in datasets}
        if len(values) > 1:
            raise MedicalFileError(where, f"{keyword} differs between slices ({sorted(values)})")
    row_dir, col_dir = orientations[0, :3], orientations[0, 3:]
    normal = np.cross(row_dir, col_dir)
    points = np.array([_vector(ds, "ImagePositionPatient", 3, n)
                       for ds, n in zip(datasets, names)])
    positions = points @ normal
    order = np.argsort(positions, kind="stable")
    positions = positions[order]
    steps = np.diff(positions)
    if steps.min() <= tolerance * max(float(np.median(steps)), 1e-6):
        k = int(np.argmin(steps))
        raise MedicalFileError(where, f"two slices at the same position {positions[k]:.2f} mm "
                                      f"along the normal (duplicates, or several echoes or "
                                      f"time points in one series)")
    spacing = float(np.median(steps))
    sideways = np.linalg.norm(np.diff(points[order], axis=0) - np.outer(steps, normal), axis=1)
    if sideways.max() > tolerance * spacing:
        k = int(np.argmax(sideways))
        angle = float(np.degrees(np.arctan2(sideways[k], steps[k])))
        tilt = datasets[order[k]].get("GantryDetectorTilt")
        raise MedicalFileError(where, f"the slices step {sideways[k]:.2f} mm sideways for "
                                      f"{steps[k]:.2f} mm along the normal ({angle:.1f} degrees "
                                      f"off it; GantryDetectorTilt {tilt!r}): a tilted-gantry "
                                      f"or sheared stack, whose voxels are not boxes; a NIfTI "
                                      f"qform cannot hold the shear. Resample it onto a "
                                      f"regular grid first (dcm2niix does so for tilted CT)")
    uneven = np.abs(steps - spacing) > tolerance * spacing
    if uneven.any():
        k = int(np.argmax(np.abs(steps - spacing)))
        missing = round(steps[k] / spacing) - 1
        raise MedicalFileError(where, f"uneven slice spacing: {steps[k]:.2f} mm between the "
                                      f"slices at {positions[k]:.2f} and {positions[k + 1]:.2f} mm "
                                      f"along the normal, where the others are {spacing:.2f} mm "
                                      f"apart: about {missing} slice(s) missing there")
    return [datasets[i] for i in order], positions, spacing


def series_affine(sorted_datasets) -> np.ndarray:
    """The 4x4 RAS+ affine of a sorted, stacked DICOM series (chapter 2).

    Voxel ``(i, j, k)`` is column ``i`` and row ``j`` of slice ``k``. In DICOM's LPS system
    the columns of the affine are the row direction times the column spacing, the column
    direction times the row spacing, the step between the first and last slice's
    ``ImagePositionPatient`` divided by the number of steps, and the first slice's position;
    NIfTI's RAS+ flips the first two world axes: ``diag(-1, -1, 1, 1) @ A_lps``.
    """
    first, last = sorted_datasets[0], sorted_datasets[-1]
    where = getattr(first, "filename", None) or "series"
    iop = _vector(first, "ImageOrientationPatient", 6, where)
    row_spacing, col_spacing = (float(v) for v in first.PixelSpacing)
    p0 = _vector(first, "ImagePositionPatient", 3, where)
    n = len(sorted_datasets)
    if n > 1:
        step = (_vector(last, "ImagePositionPatient", 3, where) - p0) / (n - 1)
    else:  # one slice: the normal, scaled by the slice thickness
        step = np.cross(iop[:3], iop[3:]) * float(first.get("SliceThickness", 1.0) or 1.0)
    lps = np.eye(4)
    lps[:3, 0] = iop[:3] * col_spacing
    lps[:3, 1] = iop[3:] * row_spacing
    lps[:3, 2] = step
    lps[:3, 3] = p0
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def load_series(source, *, series_uid: str | None = None, tolerance: float = 0.01):
    """A DICOM series (a folder, or a list of paths or datasets) as a NIfTI image (chapter 2).

    Reads every file with :func:`read_dicom`, keeps the series ``series_uid`` when given,
    sorts and checks the slices with :func:`sort_slices`, stacks them as a
    ``(columns, rows, slices)`` float32 array (rescaled with RescaleSlope and
    RescaleIntercept when present: HU for CT) and attaches :func:`series_affine` as both the
    sform and the qform (code 1, scanner coordinates): the two agree because
    :func:`sort_slices` refuses a sheared (tilted) stack, which a qform cannot hold. Raises :class:`MedicalFileError` for
    a series that does not make one regular volume.
    """
    import nibabel as nib

    datasets = _series_source(source)
    if series_uid is not None:
        datasets = [ds for ds in datasets if str(ds.get("SeriesInstanceUID")) == series_uid]
        if not datasets:
            raise ValueError(f"load_series: no file of series_uid {series_uid!r}")
    ordered, _, _ = sort_slices(datasets, tolerance=tolerance)
    slices = []
    for ds in ordered:
        pixels = ds.pixel_array.astype(np.float32)
        if pixels.ndim != 2:
            raise MedicalFileError(getattr(ds, "filename", "series"),
                                   f"expected one 2-D slice per file, got shape {pixels.shape}")
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
        slices.append((pixels * np.float32(slope) + np.float32(intercept)).T)
    volume = np.stack(slices, axis=-1)
    affine = series_affine(ordered)
    img = nib.Nifti1Image(volume, affine)
    img.set_sform(affine, code=1)
    img.set_qform(affine, code=1)
    return img


# --------------------------------------------------------------------------- NIfTI


def read_nifti(path, *, ndim: int | tuple[int, ...] | None = 3):
    """Read a NIfTI file with nibabel and check its number of dimensions (chapter 2).

    ``ndim`` is the number of dimensions the caller expects (3 for a volume, 4 for a time
    series; a tuple allows several; ``None`` skips the check). Raises
    :class:`MedicalFileError` naming the file for a file nibabel cannot read or a shape of
    the wrong dimension.
    """
    import nibabel as nib

    path = _existing(path)
    try:
        img = nib.load(path)
    except Exception as exc:  # nibabel's own errors rarely say which file
        raise MedicalFileError(path, f"not a readable NIfTI image ({type(exc).__name__}: "
                                     f"{exc})") from None
    if not isinstance(img, nib.Nifti1Image | nib.Nifti2Image):
        raise MedicalFileError(path, f"expected a NIfTI image, nibabel read a "
                                     f"{type(img).__name__}")
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and len(img.shape) not in allowed:
        hint = (" (a time series or multi-volume file: take one volume with img.slicer[..., 0], "
                "or read it with ndim=4)" if len(img.shape) == 4 else "")
        want = " or ".join(f"{n}-D" for n in allowed)
        raise MedicalFileError(path, f"expected a {want} image, got {len(img.shape)}-D with "
                                     f"shape {tuple(img.shape)}{hint}")
    return img


def nifti_summary(img) -> dict:
    """Shape, voxel size, orientation codes and field of view of a NIfTI image (chapter 2)."""
    import nibabel as nib

    zooms = tuple(float(z) for z in img.header.get_zooms()[:3])
    return {
        "shape": tuple(int(s) for s in img.shape),
        "voxel size (mm)": zooms,
        "orientation": "".join(nib.aff2axcodes(img.affine)),
        "field of view (mm)": tuple(round(n * z, 2) for n, z in zip(img.shape[:3], zooms)),
        "data type": str(img.get_data_dtype()),
    }


def resample_to_spacing(img, spacing=(1.0, 1.0, 1.0), *, order: int = 1):
    """Resample a 3-D NIfTI image to voxels of ``spacing`` mm, keeping its place in space.

    A thin wrapper of :func:`nibabel.processing.resample_to_output` (chapter 2); ``order``
    is the spline order (0 nearest neighbour for label maps, 1 linear, 3 cubic).
    """
    from nibabel.processing import resample_to_output

    spacing = tuple(float(s) for s in np.broadcast_to(np.asarray(spacing, float), (3,)))
    if min(spacing) <= 0:
        raise ValueError(f"resample_to_spacing: spacing must be positive, got {spacing}")
    if len(img.shape) != 3:
        raise ValueError(f"resample_to_spacing: expected a 3-D image, got shape {img.shape}")
    return resample_to_output(img, voxel_sizes=spacing, order=order)


def testdata_path(name: str) -> str:
    """Path of a test file shipped with pydicom / pydicom-data or nibabel (chapter 2).

    ``"CT_small.dcm"`` etc. come from :func:`pydicom.data.get_testdata_file`;
    ``"nibabel:anatomical.nii"`` from nibabel's ``tests/data``. No download.
    """
    if name.startswith("nibabel:"):
        import nibabel

        path = Path(nibabel.__file__).parent / "tests" / "data" / name.split(":", 1)[1]
        if not path.exists():
            raise FileNotFoundError(f"{path}: not shipped with this nibabel")
        return str(path)
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name, download=False)
    if path is None or not os.path.exists(path):
        raise FileNotFoundError(f"{name}: not among pydicom's (or pydicom-data's) test files")
    return str(path)
