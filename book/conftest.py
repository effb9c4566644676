"""Share notebook execution between nbval and the book build.

``pytest --nbval-lax book`` executes every chapter. When all of a notebook's cells pass, this
plugin stores the executed notebook (its outputs as nbval received them) in the build's
execution cache, ``book/_build/.jupyter_cache``. ``jupyter-book build`` with
``execute_notebooks: cache`` then finds a notebook whose code is unchanged and renders the
stored outputs instead of executing it a second time. A notebook with a failing cell is not
stored, so the build executes it again and reports the failure.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("MEDLAB_NB_CACHE", Path(__file__).parent / "_build" / ".jupyter_cache"))

_outputs: dict[str, dict[int, list]] = defaultdict(dict)
_failed: set[str] = set()
_ncells: dict[str, int] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if type(item).__name__ != "IPyNbCell":
        return
    report = outcome.get_result()
    path = str(item.parent.fspath)
    if report.when == "call":
        if report.failed:
            _failed.add(path)
        else:
            _outputs[path][item.cell_num] = list(item.test_outputs or [])
    elif report.when == "setup" and report.failed:
        _failed.add(path)


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


def pytest_sessionfinish(session, exitstatus):
    for path, outs in _outputs.items():
        if path in _failed or len(outs) != _ncells.get(path, -1):
            continue  # not every cell ran and passed: let the build execute it
        try:
            _store(path, outs)
        except Exception as exc:  # the build will simply execute the notebook itself
            print(f"\nbook/conftest.py: could not cache {path}: {exc}")
