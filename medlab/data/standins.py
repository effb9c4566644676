"""Synthetic stand-ins for downloadable data sets, used when the network is missing.

Each stand-in has the shape and class balance of the real data set and is labelled
``synthetic=True``; its figures and tables say so. ``STANDINS`` maps a registry name to a
function ``(split, seed, reason) -> ImageSet``; the generators live in their own modules
(``standin_breast.py``: chapter 6, ``standin_chest.py``: chapter 8) and load lazily. Both
start with :func:`split_labels` and end with :func:`standin_set`.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

from medlab.data.sets import CLASS_NAMES, ImageSet

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


_SPLIT_INDEX = {"train": 0, "val": 1, "test": 2}  # one random stream per split


def split_labels(split: str, sizes: dict[str, tuple[int, int]], seed: int, stream: int):
    """The random generator and the shuffled labels of one split of a stand-in.

    ``sizes`` maps each split to its ``(count of label 0, count of label 1)``; ``stream``
    keeps one stand-in's random numbers apart from another's. The generator is seeded with
    ``[seed, split index, stream]``, so each split has its own stream and shares no image
    with the others. Raises ``ValueError`` for a split not in ``sizes``.
    """
    if split not in sizes:
        raise ValueError(f"load_standin: split must be one of {tuple(sizes)}, "
                         f"got {split!r}")
    n0, n1 = sizes[split]
    n = n0 + n1
    rng = np.random.default_rng([int(seed), _SPLIT_INDEX[split], stream])
    labels = np.array([0] * n0 + [1] * n1, dtype=np.int64)[rng.permutation(n)]
    return rng, labels


def standin_set(name: str, split: str, images, labels, masks, *, source: str, seed: int,
                reason: str, imitates: str, render_size: int, **info):
    """The :class:`~medlab.data.ImageSet` of a stand-in of registry data set ``name``.

    Marked ``synthetic=True``, with the class names of the real data set; ``info`` holds
    ``reason`` (why the real data were not used), ``seed``, ``imitates``, ``render_size``
    and then the keyword arguments ``info``, in that order.
    """
    return ImageSet(
        images=images, labels=labels, split=split, source=source, synthetic=True,
        class_names=list(CLASS_NAMES[name]), masks=masks,
        info={"reason": reason, "seed": int(seed), "imitates": imitates,
              "render_size": render_size, **info},
    )
