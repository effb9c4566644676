"""medlab: the helper package of *medlab*, an executable textbook on medical image analysis.

Only what two or more chapters share, or what would distract a reader, lives here; each
function's docstring names the chapter that explains it. Modules are imported lazily so
that ``import medlab`` stays fast and does not pull in torch until a chapter needs it.
"""

from importlib import import_module

__version__ = "0.1.0"

_SUBMODULES = {
    "colab", "conformal", "config", "data", "distributed", "explain", "features", "files", "grading", "interactive",
    "metrics", "models", "segmentation",
    "progress", "results", "signals", "teach", "train", "viz",
}


def __getattr__(name):
    if name in _SUBMODULES:
        return import_module(f"medlab.{name}")
    if name in {"setup", "seed", "device", "seed_everything", "by_scale", "scale", "smoke_run"}:
        return getattr(import_module("medlab.config"), name)
    raise AttributeError(f"module 'medlab' has no attribute {name!r}")


__all__ = sorted(_SUBMODULES | {"setup", "seed", "device", "seed_everything", "by_scale", "scale", "smoke_run"})
