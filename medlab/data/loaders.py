"""Loaders for the book's data sets: one function each, arrays plus what they are.

Real data that ships inside installed packages (no download ever):
- :func:`load_wdbc`: the Wisconsin diagnostic breast cancer table (scikit-learn);
- :func:`load_mni152_tissue`: the MNI152 2009 T1 template with a CSF/GM/WM label map (nilearn).
Data that readers may download: :func:`load_medmnist` (hash-checked, cached), which falls back
to a clearly labelled synthetic stand-in when offline.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from medlab.data import standins
from medlab.data.download import DownloadError, fetch
from medlab.data.registry import get
from medlab.data.sets import (  # noqa: F401 (loaders re-exports them)
    CLASS_NAMES,
    SPLITS,
    TISSUES,
    ImageSet,
    TabularSet,
    VolumeSet,
)


def load_wdbc() -> TabularSet:
    """Wisconsin diagnostic breast cancer data: 569 aspirates, 30 nuclear features.

    Labels are 1 for malignant and 0 for benign (scikit-learn stores the opposite; we flip it
    so that "positive" means disease, as a clinician reads it). Chapters 1, 5, 9 and 11.
    """
    from sklearn.datasets import load_breast_cancer

    raw = load_breast_cancer()
    y = (raw.target == 0).astype(np.int64)  # sklearn: 0 = malignant
    return TabularSet(
        X=np.asarray(raw.data, dtype=np.float64),
        y=y,
        feature_names=list(raw.feature_names),
        target_names=["benign", "malignant"],
        source="Wisconsin diagnostic breast cancer (UCI, via scikit-learn)",
        description=raw.DESCR,
    )


def load_mni152_tissue(resolution: int = 2) -> VolumeSet:
    """The MNI152 2009 T1 template and a label map of background, CSF, GM and WM.

    The labels come from nilearn's tissue probability maps: inside the brain mask, each voxel
    takes the most probable of CSF, GM and WM, with CSF = 1 - GM - WM (clipped to [0, 1]).
    It is a template (an average of 152 brains), not a patient. Chapter 7 explains.
    """
    if resolution not in (1, 2):
        raise ValueError(f"load_mni152_tissue: resolution must be 1 or 2 (mm), got {resolution!r}")
    from nilearn import datasets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t1 = datasets.load_mni152_template(resolution=resolution)
        gm = datasets.load_mni152_gm_template(resolution=resolution)
        wm = datasets.load_mni152_wm_template(resolution=resolution)
        mask = datasets.load_mni152_brain_mask(resolution=resolution)
    image = np.asarray(t1.get_fdata(), dtype=np.float32)
    p_gm = np.clip(np.asarray(gm.get_fdata(), dtype=np.float32), 0, 1)
    p_wm = np.clip(np.asarray(wm.get_fdata(), dtype=np.float32), 0, 1)
    brain = np.asarray(mask.get_fdata()) > 0.5
    p_csf = np.clip(1.0 - p_gm - p_wm, 0, 1) * brain
    probs = np.stack([p_csf, p_gm, p_wm])
    labels = np.where(brain, probs.argmax(0) + 1, 0).astype(np.int64)
    spacing = tuple(float(s) for s in t1.header.get_zooms()[:3])
    return VolumeSet(
        image=image, labels=labels, affine=np.asarray(t1.affine), spacing=spacing,
        label_names=TISSUES, probabilities={"CSF": p_csf, "GM": p_gm, "WM": p_wm},
        source=f"MNI152 2009 template, {resolution} mm (nilearn)",
    )


OFFLINE_MODES = ("standin", "error")
_ANNOUNCED: set[str] = set()


def offline_mode(offline: str | None = None) -> str:
    """What a loader does when real data cannot be fetched: ``"standin"`` or ``"error"``.

    ``offline`` wins when given; otherwise ``$MEDLAB_OFFLINE`` (for whoever builds the book
    online and wants the real data or a failure, never a silent stand-in); default
    ``"standin"``.
    """
    value = offline if offline is not None else (
        os.environ.get("MEDLAB_OFFLINE", "").strip().lower() or "standin")
    if value not in OFFLINE_MODES:
        where = "offline" if offline is not None else "MEDLAB_OFFLINE"
        raise ValueError(f"load_medmnist: {where} must be one of {OFFLINE_MODES}, got {value!r}")
    return value


def announce_standin(name: str, reason: str, cache: str) -> str:
    """Say loudly, once per data set and process, that a stand-in replaces ``name``.

    In a notebook the warning is a visible box in the output (not stderr, which the strict
    build refuses); elsewhere it is a :class:`UserWarning`. Returns the message.
    """
    message = (f"{name}: the real data set could not be fetched, so this run uses medlab's "
               f"SYNTHETIC STAND-IN (not patients). Why: {reason} To use the real data, run "
               f"`python -m medlab.data fetch {name}` on a machine with a network (or copy the "
               f"file into {cache}), then rerun. Set MEDLAB_OFFLINE=error to fail instead.")
    if name in _ANNOUNCED:
        return message
    _ANNOUNCED.add(name)
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        import html

        from IPython.display import HTML, display

        display(HTML('<div class="admonition warning" style="border-left:4px solid #e69500;'
                     'background:#fff4e0;padding:0.5em 1em;margin:0.5em 0">'
                     '<p class="admonition-title"><b>⚠ Synthetic stand-in data</b></p>'
                     f"<p>{html.escape(message)}</p></div>"),
                metadata={"medlab": "standin-warning"})
    else:
        warnings.warn(message, UserWarning, stacklevel=3)
    return message


def load_medmnist(name: str, split: str = "train", *, offline: str | None = None,
                  cache_dir=None, url=None, seed: int = 0) -> ImageSet:
    """One split of a MedMNIST v2 data set (28×28), without the ``medmnist`` package.

    The ``.npz`` comes from the official record through :func:`medlab.data.fetch` (MD5
    checked, cached under ``MEDLAB_DATA``). When it cannot be fetched (no network, an HTTP
    error, a timeout, a bad checksum), ``offline="standin"`` returns the book's synthetic
    stand-in of the same shape and class balance, marked ``synthetic=True``, and says so
    loudly (:func:`announce_standin`); ``offline="error"`` raises :class:`DownloadError`.
    ``offline=None`` takes ``$MEDLAB_OFFLINE`` (default ``"standin"``). Chapters 6 and 8.
    """
    if split not in SPLITS:
        raise ValueError(f"load_medmnist: split must be one of {SPLITS}, got {split!r}")
    mode = offline_mode(offline)
    entry = get(name)
    try:
        path = fetch(entry, cache_dir=cache_dir, url=url, progress=False)
    except DownloadError as exc:
        if mode == "error":
            raise
        if name not in standins.STANDINS:
            raise DownloadError(f"{exc} (and medlab has no stand-in for {name!r})") from exc
        from medlab.config import data_dir

        cache = cache_dir if cache_dir is not None else data_dir()
        announce_standin(name, _short_reason(exc), str(cache))
        return standins.STANDINS[name](split=split, seed=seed, reason=str(exc))
    return _read_medmnist_npz(path, name, split)


def _short_reason(exc: Exception) -> str:
    cause = exc.__cause__
    while cause is not None and cause.__cause__ is not None:
        cause = cause.__cause__
    text = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
    text = " ".join(text.split())
    return (text[:240] + "…" if len(text) > 240 else text).rstrip(".") + "."


def _read_medmnist_npz(path, name: str, split: str) -> ImageSet:
    with np.load(path) as npz:
        keys = (f"{split}_images", f"{split}_labels")
        missing = [k for k in keys if k not in npz.files]
        if missing:
            raise ValueError(f"{path}: not a MedMNIST file, missing keys {missing} "
                             f"(found {sorted(npz.files)})")
        images = np.asarray(npz[keys[0]])
        labels = np.asarray(npz[keys[1]]).reshape(-1).astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(f"{path}: {len(images)} images but {len(labels)} labels in {split}")
    entry = get(name)
    return ImageSet(
        images=images, labels=labels, split=split, source=f"{name} ({entry.record})",
        synthetic=False, class_names=CLASS_NAMES.get(name, [str(c) for c in np.unique(labels)]),
        info={"licence": entry.licence, "citation": entry.citation, "md5": entry.md5},
    )
