"""The one registry of data that readers download: name → address, hash, licence, citation.

Everything the book needs to build ships inside installed packages; the entries here are
the optional real data sets a reader with a network can use instead of the stand-ins.
"""

from __future__ import annotations

from dataclasses import dataclass

MEDMNIST_CITATION = (
    "Yang, J. et al. MedMNIST v2 - A large-scale lightweight benchmark for 2D and 3D "
    "biomedical image classification. Scientific Data 10, 41 (2023)."
)
MEDMNIST_RECORD = "https://zenodo.org/record/6496656/files/{name}.npz?download=1"


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file: where it is, its MD5, its licence and how to cite it."""

    name: str
    url: str
    md5: str
    licence: str
    citation: str
    description: str
    # which published record the hash belongs to, so the loader can say what it checked
    record: str

    @property
    def filename(self) -> str:
        return f"{self.name}.npz"


def _medmnist(name: str, md5: str, description: str) -> RemoteFile:
    return RemoteFile(
        name=name,
        url=MEDMNIST_RECORD.format(name=name),
        md5=md5,
        licence="CC BY 4.0",
        citation=MEDMNIST_CITATION,
        description=description,
        record="MedMNIST v2.1.0 (Zenodo record 6496656)",
    )


REGISTRY: dict[str, RemoteFile] = {
    f.name: f
    for f in (
        _medmnist("breastmnist", "750601b1f35ba3300ea97c75c52ff8f6",
                  "Breast ultrasound, benign/normal vs malignant, 28x28, 546/78/156"),
        _medmnist("pneumoniamnist", "28209eda62fecd6e6a2d98b1501bb15f",
                  "Paediatric chest X-ray, normal vs pneumonia, 28x28, 4708/524/624"),
        _medmnist("dermamnist", "0744692d530f8e62ec473284d019b0c7",
                  "Dermatoscopy, 7 classes, 28x28x3, 7007/1003/2005"),
    )
}


def get(name: str) -> RemoteFile:
    """The registry entry for ``name``; a clear error lists the known names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"unknown data set {name!r}; the registry knows: {', '.join(sorted(REGISTRY))}"
        ) from None
