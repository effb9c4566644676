"""Synthetic stand-ins for downloadable data sets, used when the network is missing.

Each stand-in has the shape and class balance of the real data set and is labelled
``synthetic=True``; its figures and tables say so. ``STANDINS`` maps a registry name to a
function ``(split, seed, reason) -> ImageSet``; the generators live in their own modules
(``standin_breast.py``: chapter 6, ``standin_chest.py``: chapter 8) and load lazily.
"""

from __future__ import annotations

from importlib import import_module

CLASS_NAMES = {
    "breastmnist": ["malignant", "benign/normal"],
    "pneumoniamnist": ["normal", "pneumonia"],
}

_MODULES = {"breastmnist": "medlab.data.standin_breast",
            "pneumoniamnist": "medlab.data.standin_chest"}


class _Lazy(dict):
    def __contains__(self, name):
        return name in _MODULES

    def __getitem__(self, name):
        if name not in _MODULES:
            raise KeyError(f"no stand-in for {name!r}; stand-ins exist for {sorted(_MODULES)}")
        return import_module(_MODULES[name]).load_standin


STANDINS = _Lazy()
