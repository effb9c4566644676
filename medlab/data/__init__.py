"""Data sets of the book: registry, verified downloads, loaders and offline stand-ins.

``python -m medlab.data fetch all`` downloads every registered file ahead of time.
"""

from medlab.data.download import DownloadError, fetch, md5sum
from medlab.data.loaders import (
    SPLITS,
    TISSUES,
    ImageSet,
    TabularSet,
    VolumeSet,
    load_medmnist,
    load_mni152_tissue,
    load_wdbc,
)
from medlab.data.registry import REGISTRY, RemoteFile

__all__ = [
    "REGISTRY", "SPLITS", "TISSUES", "DownloadError", "ImageSet", "RemoteFile", "TabularSet",
    "VolumeSet", "fetch", "load_medmnist", "load_mni152_tissue", "load_wdbc", "md5sum",
]
