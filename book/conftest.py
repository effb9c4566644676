"""Share notebook execution between nbval, the book build and the benchmark.

``pytest --nbval-lax book`` executes every chapter once. This plugin then

1. stores each notebook whose cells all passed, with the outputs nbval received, in the
   build's execution cache (``book/_build/.jupyter_cache``): ``jupyter-book build`` with
   ``execute_notebooks: cache`` finds the unchanged notebook there and renders the stored
   outputs instead of executing it again (a notebook with a failing cell is not stored, so
   the build executes it and reports the failure);
2. collects only the chapters listed in ``_toc.yml``, never the copies a build leaves under
   ``book/_build`` (rendered sources, executed notebooks), so each chapter runs once;
3. measures each notebook's wall time and its kernel's CPU time, collects the figures the
   chapter recorded with :func:`medlab.results.record`, and writes them to
   ``book/_build/results/run.json`` (``python -m medlab.bench --from-run`` turns that file
   into the "Results and timings" table).
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

BUILD = Path(__file__).parent / "_build"
CACHE = Path(os.environ.get("MEDLAB_NB_CACHE", BUILD / ".jupyter_cache"))
RESULTS = BUILD / "results"

_outputs: dict[str, dict[int, list]] = defaultdict(dict)
_failed: dict[str, list[dict]] = defaultdict(list)
_ncells: dict[str, int] = {}
_clock: dict[str, dict] = {}


@functools.cache
def _toc_chapters() -> frozenset[Path]:
    from medlab.bench import toc_notebooks

    return frozenset(p.resolve() for p in toc_notebooks(BUILD.parent.parent))


def pytest_ignore_collect(collection_path, config):
    """Collect the chapters of ``_toc.yml`` only: not ``_build``, checkpoints or drafts."""
    path = Path(collection_path).resolve()
    if path.is_dir():
        return True if path.name in {"_build", ".ipynb_checkpoints"} else None
    if path.suffix == ".ipynb":
        return True if path not in _toc_chapters() else None
    return None


def pytest_configure(config):
    # set before any kernel starts, so that kernels inherit it
    RESULTS.mkdir(parents=True, exist_ok=True)
    for old in RESULTS.glob("ch*.json"):
        old.unlink()
    os.environ["MEDLAB_RESULTS_DIR"] = str(RESULTS)
    # a kernel started with MPLBACKEND=Agg would show no figures, and the cached notebooks
    # (which the build renders) would have none: let the kernel use its inline backend
    os.environ.pop("MPLBACKEND", None)


def _kernel_cpu_seconds(item) -> float | None:
    """User+system CPU of the notebook's kernel and its reaped children (Linux /proc)."""
    try:
        pid = item.parent.kernel.km.provisioner.process.pid
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        return ticks / os.sysconf("SC_CLK_TCK")
    except Exception:
        return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if type(item).__name__ == "IPyNbCell":
        _clock.setdefault(str(item.parent.fspath), {"start": time.perf_counter()})
    yield
    if type(item).__name__ == "IPyNbCell":
        entry = _clock[str(item.parent.fspath)]
        entry["end"] = time.perf_counter()
        cpu = _kernel_cpu_seconds(item)
        if cpu is not None:
            entry["cpu"] = cpu


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if type(item).__name__ != "IPyNbCell":
        return
    report = outcome.get_result()
    path = str(item.parent.fspath)
    if report.failed:
        _failed[path].append(_failure(item, report))
    elif report.when == "call":
        _outputs[path][item.cell_num] = list(item.test_outputs or [])


def _failure(item, report) -> dict:
    """The failing cell's index (among code cells, as nbval counts), error and last line."""
    from medlab.bench import _last_line

    text = report.longreprtext or ""
    match = None
    for line in reversed(text.splitlines()):
        stripped = _last_line(line)
        if stripped and not set(stripped) <= set("-=_ "):
            match = stripped
            break
    ename, _, message = (match or "error").partition(":")
    tags = item.cell.get("metadata", {}).get("tags", []) if hasattr(item, "cell") else []
    return {"cell": item.cell_num, "ename": ename.strip(), "message": message.strip(),
            "assert": "remove-cell" in tags and "assert" in getattr(item.cell, "source", "")}


def pytest_collection_finish(session):
    for item in session.items:
        if type(item).__name__ == "IPyNbCell":
            path = str(item.parent.fspath)
            _ncells[path] = _ncells.get(path, 0) + 1


def _store(path: str, outputs: dict[int, list]) -> None:
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    nb = nbformat.read(path, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for i, cell in enumerate(code_cells):
        cell.execution_count = i + 1
        cell.outputs = []
        for out in outputs[i]:
            out = nbformat.NotebookNode(dict(out))
            if out.output_type == "execute_result":
                out.execution_count = i + 1
            cell.outputs.append(out)
    nbformat.validate(nb)
    cache = get_cache(str(CACHE))
    cache.cache_notebook_bundle(CacheBundleIn(nb, uri=path, data={"source": "nbval"}),
                                check_validity=False, overwrite=True)


def _write_run() -> None:
    from medlab.bench import error_summary

    chapters = {}
    for path, clock in sorted(_clock.items()):
        stem = Path(path).stem
        figures_file = RESULTS / f"ch{stem[:2]}.json"
        chapters[stem] = {
            "wall_s": round(clock.get("end", clock["start"]) - clock["start"], 1),
            "cpu_s": round(clock["cpu"], 1) if "cpu" in clock else None,
            "error": error_summary(_failed.get(path, [])),
            "errors": _failed.get(path, []),
            "figures": json.loads(figures_file.read_text()) if figures_file.exists() else {},
        }
    (RESULTS / "run.json").write_text(json.dumps({"chapters": chapters}, indent=1) + "\n")


def pytest_sessionfinish(session, exitstatus):
    for path, outs in _outputs.items():
        if path in _failed or len(outs) != _ncells.get(path, -1):
            continue  # not every cell ran and passed: let the build execute it
        try:
            _store(path, outs)
        except Exception as exc:  # the build will simply execute the notebook itself
            print(f"\nbook/conftest.py: could not cache {path}: {exc}")
    if _clock:
        _write_run()
