"""Headline figures a chapter records, for the benchmark and the "Results and timings" page.

A chapter calls ``record("ch01", "test F1", 0.93)``; the value is printed, kept in memory,
and written to ``$MEDLAB_RESULTS_DIR/<chapter>.json`` when that variable is set (the
benchmark, ``python -m medlab.bench``, sets it).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

_RECORDED: dict[str, dict[str, dict]] = {}


def _plain(value):
    """Turn numpy scalars into plain Python numbers; refuse what JSON cannot hold."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"record: value {value!r} is not finite")
        return value
    raise TypeError(f"record: expected a number or a string, got {type(value).__name__}")


def record(chapter: str, name: str, value, *, unit: str = "", note: str = "") -> None:
    """Record one headline figure of a chapter (defined in chapter 1)."""
    if not chapter or not name:
        raise ValueError("record: `chapter` and `name` must be non-empty strings")
    entry = {"value": _plain(value), "unit": unit, "note": note}
    _RECORDED.setdefault(chapter, {})[name] = entry
    out = os.environ.get("MEDLAB_RESULTS_DIR")
    if out:
        path = Path(out) / f"{chapter}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.loads(path.read_text()) if path.exists() else {}
        data[name] = entry
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        tmp.replace(path)


def recorded(chapter: str) -> dict[str, dict]:
    """Everything this kernel recorded for ``chapter`` (name → value, unit, note)."""
    return dict(_RECORDED.get(chapter, {}))


def table(chapter: str):
    """The chapter's recorded figures as a pandas DataFrame, for its summary."""
    import pandas as pd

    rows = [
        {"figure": k, "value": v["value"], "unit": v["unit"], "note": v["note"]}
        for k, v in recorded(chapter).items()
    ]
    return pd.DataFrame(rows, columns=["figure", "value", "unit", "note"])
