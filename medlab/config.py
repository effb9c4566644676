"""Settings every chapter shares: data directory, run size, device and seeds.

The first code cell of each chapter calls :func:`setup` (see ``book/intro.md``).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

SCALES = ("cpu", "gpu")


def data_dir() -> Path:
    """Cache directory for downloaded data: ``$MEDLAB_DATA`` or the user's cache folder."""
    env = os.environ.get("MEDLAB_DATA")
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("medlab"))


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def scale() -> str:
    """The size of the runs: ``"gpu"`` when a GPU is present, else ``"cpu"``.

    ``MEDLAB_SCALE=cpu`` (or ``gpu``) overrides the choice. The built book shows the CPU run.
    """
    value = os.environ.get("MEDLAB_SCALE", "").strip().lower()
    if value:
        if value not in SCALES:
            raise ValueError(f"MEDLAB_SCALE must be one of {SCALES}, got {value!r}")
        return value
    return "gpu" if _cuda_available() else "cpu"


def smoke_run() -> bool:
    """True in a smoke run (``MEDLAB_SMOKE=1``): the loops are cut short, nothing else changes.

    The smoke run (``make smoke``) executes every chapter at ``MEDLAB_SCALE=gpu`` on the CPU,
    so that every GPU-scale shape, batch size and code path runs without a GPU; only epochs,
    steps and sample counts that carry a ``smoke=`` value in :func:`by_scale` are cut. A
    chapter's claim about what a long schedule reaches is checked only when ``smoke_run()`` is
    False; a claim that holds by construction is checked in the smoke run too.
    """
    value = os.environ.get("MEDLAB_SMOKE", "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValueError(f"MEDLAB_SMOKE must be 0 or 1, got {value!r}")


_NO_SMOKE = object()


def by_scale(cpu, gpu, smoke=_NO_SMOKE):
    """Pick a setting by run size: ``epochs = by_scale(cpu=20, gpu=200, smoke=1)``.

    One code path for every machine: only the numbers change (chapter 1 explains). ``smoke``
    is the value for the smoke run (``MEDLAB_SMOKE=1``, see :func:`smoke_run`), at either scale:
    give it to epoch, step and sample counts only, never to a shape or a batch size, so that
    the smoke run keeps every code path of the scale it runs at.
    """
    if smoke is not _NO_SMOKE and smoke_run():
        return smoke
    return gpu if scale() == "gpu" else cpu


def device():
    """The torch device to train on: CUDA when present, else the CPU."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch so that a chapter gives the same numbers each run."""
    random.seed(seed)
    import numpy as np

    np.random.seed(seed)  # noqa: NPY002 (the global generator that libraries use)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


_SEED: int | None = None


def _env_seed() -> int | None:
    value = os.environ.get("MEDLAB_SEED", "").strip()
    if not value:
        return None
    try:
        seed = int(value)
    except ValueError:
        raise ValueError(f"MEDLAB_SEED must be a non-negative integer, got {value!r}") from None
    if seed < 0:
        raise ValueError(f"MEDLAB_SEED must be a non-negative integer, got {value!r}")
    return seed


def seed() -> int:
    """The chapter's seed: the one :func:`setup` used, else ``$MEDLAB_SEED``, else 0.

    Every random choice of a chapter (splits, initial weights, noise) derives from it, so that
    ``MEDLAB_SEED=1`` reruns the whole chapter under another draw; the robustness run
    (``python -m medlab.bench --seeds 0 1 2``) checks that the chapter's claims survive.
    """
    if _SEED is not None:
        return _SEED
    env = _env_seed()
    return 0 if env is None else env


def setup(seed: int = 0, *, quiet: bool = False):
    """Set up a chapter: seed everything, apply the book's plot style, report the device.

    ``$MEDLAB_SEED``, when set, replaces ``seed`` (the set-up cell stays the same in every
    chapter; :func:`seed` returns the one in use). Returns the torch device (or ``None`` when
    torch is not installed).
    """
    global _SEED
    from medlab import __version__
    from medlab.viz import use_style

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"setup: seed must be a non-negative integer, got {seed!r}")
    env = _env_seed()
    origin = ""
    if env is not None:
        seed, origin = env, " (from MEDLAB_SEED)"
    _SEED = seed
    seed_everything(seed)
    use_style()
    try:
        dev = device()
    except ImportError:
        dev = None
    if not quiet:
        smoke = " | smoke run: loops cut" if smoke_run() else ""
        print(f"medlab {__version__} | device: {dev} | scale: {scale()} | seed: {seed}{origin}"
              f"{smoke}")
    return dev
