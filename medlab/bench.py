"""The benchmark: execute each chapter, time it, and collect the figures it recorded.

``python -m medlab.bench [book/NN_name.ipynb ...]`` runs the given notebooks (default: all in
``_toc.yml``), writes ``book/appendix/results.json`` and the markdown table that the book's
"Results and timings" page includes. Timings are measured here and never asserted in tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

from medlab.config import _cuda_available

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "book" / "appendix"


def toc_files(root: Path = ROOT, toc: str | Path = "_toc.yml") -> list[str]:
    """Every file listed in the book's table of contents, in reading order.

    The ``root`` page comes first, then each ``file:`` entry of the parts, chapters and
    sections, depth first. Each is a path relative to ``root`` (the repository) without
    suffix, as the toc writes it (``"book/intro"``); a ``.md`` or ``.ipynb`` suffix written in
    the toc is dropped. ``toc`` is relative to ``root`` unless absolute. Raises
    ``FileNotFoundError`` when the toc is missing and ``ValueError`` when it is not a
    jupyter-book toc (no ``root:`` page, a ``file:`` that is not a path); both name the toc.
    The benchmark (``python -m medlab.bench``) and the tests of the book read it.
    """
    import yaml

    path = Path(root) / toc
    if not path.is_file():
        raise FileNotFoundError(f"table of contents not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("root"), str) or not data["root"]:
        raise ValueError(f"{path}: expected a jupyter-book table of contents with a "
                         f"'root:' page, got {type(data).__name__}")
    files = [data["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                if not isinstance(node["file"], str) or not node["file"]:
                    raise ValueError(f"{path}: 'file:' must be a path, got {node['file']!r}")
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({key: value for key, value in data.items() if key != "root"})
    return [f.removesuffix(".md").removesuffix(".ipynb") for f in files]


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """Notebooks listed in ``_toc.yml``, in reading order (see :func:`toc_files`)."""
    return [root / f"{f}.ipynb" for f in toc_files(root) if (root / f"{f}.ipynb").exists()]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_notebook(path: Path, results_dir: Path, timeout: int = 1200) -> dict:
    """Execute one notebook in a fresh kernel; returns its wall and CPU seconds."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env_before = dict(os.environ)
    os.environ.update({"MEDLAB_RESULTS_DIR": str(results_dir), "MEDLAB_PROGRESS": "text",
                       "MEDLAB_STATIC_WIDGETS": "1"})
    cpu0, t0 = _children_cpu(), time.perf_counter()
    error = None
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_error_names=[],
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except Exception as exc:  # the benchmark reports a failing chapter and goes on
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    return {"wall_s": round(time.perf_counter() - t0, 1),
            "cpu_s": round(_children_cpu() - cpu0, 1), "error": error,
            "stderr_cells": stderr_cells(nb)}


def stderr_cells(nb) -> list[int]:
    """Indices of code cells that printed to stderr: the rendered page would show them."""
    bad = []
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        if any(o.get("output_type") == "stream" and o.get("name") == "stderr"
               for o in cell.get("outputs", [])):
            bad.append(i)
    return bad


def markdown_table(results: dict) -> str:
    lines = [f"Measured on {results['machine']} on {results['date']} "
             f"(CPU time is the kernel's, with the worker processes it started).", "",
             "| chapter | wall time (s) | CPU time (s) | recorded figures |",
             "|---|---:|---:|---|"]
    for name, row in results["chapters"].items():
        figures = "; ".join(
            f"{k}: {_fmt(v['value'])}{(' ' + v['unit']) if v['unit'] else ''}"
            for k, v in row["figures"].items()) or "—"
        if row.get("error"):
            figures = f"**failed**: {row['error']}"
        cpu = "—" if row.get("cpu_s") is None else row["cpu_s"]
        lines.append(f"| {name} | {row['wall_s']} | {cpu} | {figures} |")
    return "\n".join(lines) + "\n"


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.2e}" if value and abs(value) < 1e-3 else f"{value:.3f}"
    return str(value)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m medlab.bench", description=__doc__)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--from-run", type=Path, metavar="RUN_JSON",
                        help="take the timings and figures of a `make test` run "
                             "(book/_build/results/run.json) instead of executing again")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or toc_notebooks()
    out_json = args.out / "results.json"
    previous = json.loads(out_json.read_text()) if out_json.exists() else {"chapters": {}}
    chapters = dict(previous.get("chapters", {}))
    if args.from_run:
        if not args.from_run.exists():
            parser.error(f"{args.from_run}: no such file; run `make test` first")
        chapters.update(json.loads(args.from_run.read_text())["chapters"])
        notebooks = []
    for path in notebooks:
        if not path.exists():
            parser.error(f"{path}: no such notebook")
        with tempfile.TemporaryDirectory() as tmp:
            print(f"running {path.name} ...", flush=True)
            row = run_notebook(path, Path(tmp))
            figures = {}
            for f in sorted(Path(tmp).glob("*.json")):
                figures.update(json.loads(f.read_text()))
        row["figures"] = figures
        chapters[path.stem] = row
        print(f"  {row['wall_s']} s wall, {row['cpu_s']} s CPU, {len(figures)} figures"
              + (f", ERROR {row['error']}" if row["error"] else "")
              + (f", stderr in code cells {row['stderr_cells']}" if row["stderr_cells"] else ""),
              flush=True)
    order = [p.stem for p in toc_notebooks()]
    chapters = dict(sorted(chapters.items(),
                           key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))
    results = {
        "date": dt.date.today().isoformat(),
        "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}, Python "
                   f"{platform.python_version()}, "
                   f"{'a GPU' if _cuda_available() else 'no GPU'}",
        "chapters": chapters,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "results_table.md").write_text(markdown_table(results))
    print(f"wrote {out_json} and results_table.md")
    return 1 if any(r.get("error") for r in chapters.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
