"""The benchmark: execute each chapter, time it, and collect the figures it recorded.

``python -m medlab.bench [book/NN_name.ipynb ...]`` runs the given notebooks (default: all in
``_toc.yml``), writes ``book/appendix/results.json`` and the markdown tables that the book's
"Results and timings" page includes. Timings are measured here and never asserted in tests.

``python -m medlab.bench --robust [notebooks]`` is the robustness run (``make robust``): each
chapter runs under a plan of settings over three dimensions, the seed (``MEDLAB_SEED``), the
thread count (``OMP_NUM_THREADS``) and the CPU kernels torch and oneDNN pick
(``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA``, ``MKL_ENABLE_INSTRUCTIONS``: another CPU
emulated on this one). The plan has two parts: *design* settings, the seeds the claims were
chosen on, and *confirmation* settings, seeds nobody looked at while writing the claims, each
under another thread and kernel setting (see :func:`plan`). Every cell runs even after one
fails, and the results record, for each recorded figure, its median and range over the runs,
and which cells (assert cells above all) failed under which setting. A claim that fails under
one setting is too fragile to print. ``--seeds``/``--threads`` run the plain product instead.

``python -m medlab.bench --smoke [notebooks]`` is the GPU-scale smoke run (``make smoke``):
every chapter at ``MEDLAB_SCALE=gpu`` with ``MEDLAB_SMOKE=1`` on the CPU, so that the GPU
sizes and code paths run here with the long loops cut (:func:`medlab.config.smoke_run`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import statistics
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


# Another CPU, emulated on this one: the kernels torch (ATen) and oneDNN/MKL may use. "machine"
# is whatever this CPU offers (AVX-512 on many servers); "aten-default" is ATen's portable
# kernels (no vector extensions); "avx2" caps oneDNN and MKL at AVX2, as on many laptops.
KERNELS: dict[str, dict[str, str]] = {
    "machine": {},
    "aten-default": {"ATEN_CPU_CAPABILITY": "default"},
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
}
DESIGN_SEEDS = (0, 1, 2)
CONFIRM_SEEDS = (5, 6, 7, 8, 9, 10)


def plan(design=DESIGN_SEEDS, confirm=CONFIRM_SEEDS, threads=(1, 2),
         kernels=tuple(KERNELS)) -> list[dict]:
    """The settings of the robustness run: ``role``, ``seed``, ``threads`` and ``kernel``.

    Design: the book's own setting (the first design seed, the most threads, this machine's
    kernels), then every design seed under a rotating thread and kernel setting. Confirmation:
    each seed under the next thread and kernel setting in turn, so that with 2 thread counts
    and 3 kernel settings six confirmation seeds cover all six pairs once. Every seed, thread
    count and kernel setting appears; the full product is not run (it would take hours).
    Raises ``ValueError`` naming an unknown kernel setting, a negative seed, a thread count
    below 1, or a seed that is both a design and a confirmation seed.
    """
    for k in kernels:
        if k not in KERNELS:
            raise ValueError(f"unknown kernel setting {k!r}: expected one of {list(KERNELS)}")
    if any(s < 0 for s in (*design, *confirm)) or any(t < 1 for t in threads):
        raise ValueError("seeds must be >= 0 and thread counts >= 1")
    if set(design) & set(confirm):
        raise ValueError(f"seeds {sorted(set(design) & set(confirm))} are both design and "
                         f"confirmation seeds: a confirmation seed must be one not looked at")
    if not threads or not kernels:
        raise ValueError("at least one thread count and one kernel setting are needed")
    combos = [(threads[i % len(threads)], kernels[i % len(kernels)])
              for i in range(len(threads) * len(kernels))]
    settings = []
    if design:
        settings.append({"role": "design", "seed": design[0], "threads": max(threads),
                         "kernel": kernels[0]})
    for i, seed in enumerate(design):
        t, k = combos[(i + 1) % len(combos)]
        setting = {"role": "design", "seed": seed, "threads": t, "kernel": k}
        if setting not in settings:
            settings.append(setting)
    for i, seed in enumerate(confirm):
        t, k = combos[i % len(combos)]
        settings.append({"role": "confirm", "seed": seed, "threads": t, "kernel": k})
    return settings


def setting_env(setting: dict) -> dict[str, str]:
    """The environment variables of one robustness setting (seed, threads, kernels)."""
    n = str(setting["threads"])
    return {"MEDLAB_SEED": str(setting["seed"]), "OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n,
            "OPENBLAS_NUM_THREADS": n, **KERNELS[setting.get("kernel", "machine")]}


def setting_label(setting: dict) -> str:
    t = setting["threads"]
    return (f"seed {setting['seed']}, {t} thr"
            + ("" if setting.get("kernel", "machine") == "machine"
               else f", {setting['kernel']} kernels"))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the colour codes of IPython's tracebacks


def _last_line(text: str) -> str:
    text = _ANSI.sub("", text or "").strip()
    return text.splitlines()[-1].strip()[:300] if text else ""


def _failing_line(traceback: list[str]) -> str:
    """The source line IPython marks with ``---->`` (for a bare ``assert`` without message)."""
    for frame in reversed(traceback or []):
        for line in _ANSI.sub("", frame).splitlines():
            if line.lstrip().startswith("---->"):
                return line.split("---->", 1)[1].strip().lstrip("0123456789").strip()[:300]
    return ""


def cell_errors(nb) -> list[dict]:
    """The code cells of an executed notebook that raised, skipping ``raises-exception`` cells.

    Each entry: ``cell`` (index among code cells, as nbval counts them), ``ename``, ``message``
    (the last line of the error) and ``assert`` (True for a hidden claims cell, one tagged
    ``remove-cell`` that holds an ``assert``).
    """
    errors = []
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        tags = cell.get("metadata", {}).get("tags", [])
        if "raises-exception" in tags:
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append({"cell": i, "ename": out.get("ename", ""),
                               "message": _last_line(out.get("evalue", ""))
                               or _failing_line(out.get("traceback", [])),
                               "assert": "remove-cell" in tags and "assert" in cell.source})
                break
    return errors


def error_summary(errors: list[dict]) -> str | None:
    """One line for a table: the first failing cell, its error and message, and how many more."""
    if not errors:
        return None
    more = f" (+{len(errors) - 1} more cells)" if len(errors) > 1 else ""
    return describe_error(errors[0]) + more


def describe_error(err: dict) -> str:
    """One failing cell of :func:`cell_errors` as ``assert cell 12: AssertionError: T = 1.1``."""
    kind = "assert cell" if err.get("assert") else "cell"
    return f"{kind} {err['cell']}: {err['ename']}: {err['message']}"


def run_notebook(path: Path, results_dir: Path, timeout: int = 1200,
                 env: dict | None = None, cwd: Path | None = None) -> dict:
    """Execute one notebook in a fresh kernel; returns its wall and CPU seconds and its errors.

    Every cell runs even when an earlier one failed, so that ``errors`` lists each failing cell
    (see :func:`cell_errors`); a cell that times out, or a kernel that dies, ends the run and is
    reported as such. ``env`` adds environment variables for the kernel (``MEDLAB_SEED``,
    ``OMP_NUM_THREADS``...). ``cwd`` is the kernel's working folder (default: the notebook's
    folder; the smoke run gives an empty one, as on Colab). The kernel finds this Python's ``bin`` first on its ``PATH``, so
    the benchmark works when started as ``.venv/bin/python -m medlab.bench`` without an
    activated environment.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env_before = dict(os.environ)
    os.environ.update({"MEDLAB_RESULTS_DIR": str(results_dir), "MEDLAB_PROGRESS": "text",
                       "MEDLAB_STATIC_WIDGETS": "1",
                       "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                                os.environ.get("PATH", "")])})
    os.environ.update({k: str(v) for k, v in (env or {}).items()})
    os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend draws the figures
    current = {"cell": None}
    code_index = {id(c): i for i, c in enumerate(c for c in nb.cells if c.cell_type == "code")}

    def on_cell_start(cell, cell_index, **kwargs):
        current["cell"] = code_index.get(id(cell))

    cpu0, t0 = _children_cpu(), time.perf_counter()
    fatal = None
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                       on_cell_start=on_cell_start,
                       resources={"metadata": {"path": str(cwd or path.parent)}}).execute()
    except Exception as exc:  # a timeout or a dead kernel: report it and go on
        name = type(exc).__name__
        what = (f"timed out after {timeout} s" if "Timeout" in name
                else _last_line(str(exc)) or "the kernel stopped")
        fatal = {"cell": current["cell"], "ename": name, "message": what, "assert": False}
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    errors = cell_errors(nb)
    if fatal is not None:
        errors.append(fatal)
    return {"wall_s": round(time.perf_counter() - t0, 1),
            "cpu_s": round(_children_cpu() - cpu0, 1), "error": error_summary(errors),
            "errors": errors, "stderr_cells": stderr_cells(nb)}


def stderr_cells(nb) -> list[int]:
    """Indices of code cells that printed to stderr: the rendered page would show them."""
    bad = []
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        if any(o.get("output_type") == "stream" and o.get("name") == "stderr"
               for o in cell.get("outputs", [])):
            bad.append(i)
    return bad


VERSIONED = ("torch", "monai", "scikit-learn", "scikit-image", "numpy", "jupyter-book")


def versions() -> dict[str, str]:
    """Versions of Python and of the libraries whose release changes a chapter's numbers."""
    from importlib import metadata

    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine() -> str:
    """A one-line description of this machine: cores, CPU model, GPU."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPU cores ({model}, {platform.machine()}), "
            f"{'a GPU' if _cuda_available() else 'no GPU'}")


def spread(runs: list[dict]) -> dict:
    """Per recorded figure: median, min, max and count over the runs (numbers only)."""
    names: dict[str, list] = {}
    units: dict[str, str] = {}
    for run in runs:
        for name, entry in run.get("figures", {}).items():
            value = entry.get("value")
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            names.setdefault(name, []).append(value)
            units[name] = entry.get("unit", "")
    return {name: {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
                   "n": len(vals), "unit": units[name]}
            for name, vals in names.items()}


def _fmt(value):
    if isinstance(value, float) and value.is_integer() and abs(value) >= 10:
        return f"{value:.0f}"  # a count or an HU value, not a fraction
    if isinstance(value, float):
        return f"{value:.2e}" if value and abs(value) < 1e-3 else f"{value:.3f}"
    return str(value)


def _cell(text) -> str:
    """Text for a markdown table cell: a "|" inside it (a figure named "|volume error| CSF")
    would otherwise end the cell."""
    return str(text).replace("|", "\\|")


def _versions_line(results: dict) -> str:
    v = results.get("versions") or {}
    return ", ".join(f"{k} {val}" for k, val in v.items())


def markdown_table(results: dict) -> str:
    """The "Results and timings" tables: timings, figures with their spread, robustness."""
    robust = (results.get("robustness") or {}).get("chapters", {})
    if not results.get("chapters"):
        return "No benchmark run recorded yet: `make bench` makes one.\n"
    lines = [f"Measured on {results['machine']} on {results['date']}"
             + (f" with {_versions_line(results)}" if results.get("versions") else "")
             + " (CPU time is the kernel's, with the worker processes it started).", "",
             "| chapter | wall time (s) | CPU time (s) | status |", "|---|---:|---:|---|"]
    for name, row in results["chapters"].items():
        cpu = "—" if row.get("cpu_s") is None else row["cpu_s"]
        status = (f"**failed**: {_cell(row['error'])}" if row.get("error")
                  else "ran, every check passed")
        lines.append(f"| {name} | {row['wall_s']} | {cpu} | {status} |")
    meta = results.get("robustness") or {}
    n_runs = len(_settings_of(meta))
    lines += ["", "| chapter | figure | this run | median [min–max] over the robustness run "
              "| unit |", "|---|---|---:|---:|---|"]
    for name, row in results["chapters"].items():
        spreads = robust.get(name, {}).get("figures", {})
        for fig, entry in row.get("figures", {}).items():
            s = spreads.get(fig)
            rng = (f"{_fmt(s['median'])} [{_fmt(s['min'])}–{_fmt(s['max'])}]"
                   + (f" ({s['n']} of {n_runs} runs)" if n_runs and s["n"] != n_runs else "")
                   if s else "—")
            lines.append(f"| {name} | {_cell(fig)} | {_cell(_fmt(entry['value']))} | {rng} | "
                         f"{_cell(entry.get('unit') or '')} |")
    return "\n".join(lines) + "\n"


def _settings_of(meta: dict) -> list[dict]:
    """The settings a robustness record ran: its plan, or (older records) seeds x threads."""
    if meta.get("settings"):
        return meta["settings"]
    return [{"role": "design", "seed": s, "threads": t, "kernel": "machine"}
            for s in meta.get("seeds", []) for t in meta.get("threads", [])]


def robustness_table(results: dict) -> str:
    """The robustness run: settings, time, and every cell that failed under some setting."""
    meta = results.get("robustness")
    if not meta:
        return ("No robustness run recorded yet: `make robust` (or `python -m medlab.bench "
                "--robust`) makes one.\n")
    settings = _settings_of(meta)
    by_role = {role: [setting_label(x) for x in settings if x.get("role", "design") == role]
               for role in ("design", "confirm")}
    described = "; ".join(
        f"{len(labels)} {name} settings ({'; '.join(labels)})"
        for name, labels in (("design", by_role["design"]),
                             ("confirmation", by_role["confirm"])) if labels)
    lines = [f"Robustness run of {meta['date']} on {meta['machine']}"
             + (f" with {_versions_line(meta)}" if meta.get("versions") else "")
             + f": {described}; {meta.get('wall_s', 0) / 60:.0f} min of wall time in all."
             + (f" {meta['note']}" if meta.get("note") else ""), "",
             "| chapter | design runs | confirmation runs | wall time (s), median [min–max] "
             "| failing cells |", "|---|---:|---:|---:|---|"]
    for name, row in meta["chapters"].items():
        runs = row["runs"]
        walls = [r["wall_s"] for r in runs]
        fails = [f"{r.get('role', 'design')} {setting_label(r)}: {error_summary(r['errors'])}"
                 for r in runs if r.get("errors")]
        n_design = sum(r.get("role", "design") == "design" for r in runs)
        wall = (f"{statistics.median(walls):.0f} [{min(walls):.0f}–{max(walls):.0f}]"
                if walls else "—")
        lines.append(f"| {name} | {n_design} | {len(runs) - n_design} | {wall} | "
                     f"{'<br>'.join(map(_cell, fails)) if fails else 'none: every assert passed'} |")
    return "\n".join(lines) + "\n"


def _run_with_figures(path: Path, env: dict | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        row = run_notebook(path, Path(tmp), env=env)
        figures = {}
        for f in sorted(Path(tmp).glob("*.json")):
            figures.update(json.loads(f.read_text()))
    row["figures"] = figures
    return row


def _order(chapters: dict) -> dict:
    order = [p.stem for p in toc_notebooks()]
    return dict(sorted(chapters.items(),
                       key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))


def _write(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "results.json.tmp"
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    tmp.replace(out / "results.json")
    (out / "results_table.md").write_text(markdown_table(results))
    (out / "robustness_table.md").write_text(robustness_table(results))


def robustness(notebooks: list[Path], settings: list[dict], out: Path, results: dict) -> int:
    """Run each notebook under every setting of a plan (see :func:`plan`); record spreads and
    failing cells. Chapters run before under the same plan keep their runs."""
    previous = results.get("robustness") or {}
    same = _settings_of(previous) == settings
    meta = {"date": dt.date.today().isoformat(), "machine": machine(), "versions": versions(),
            "settings": settings,
            "chapters": dict(previous.get("chapters", {})) if same else {}}
    results["robustness"] = meta
    failed = 0
    for path in notebooks:
        runs = []
        for setting in settings:
            print(f"running {path.name}: {setting['role']} {setting_label(setting)} ...",
                  flush=True)
            row = _run_with_figures(path, setting_env(setting))
            runs.append({**setting, "wall_s": row["wall_s"],
                         "cpu_s": row["cpu_s"], "errors": row["errors"],
                         "figures": {k: {"value": v["value"], "unit": v.get("unit", "")}
                                     for k, v in row["figures"].items()}})
            print(f"  {row['wall_s']} s wall" + (f", FAILED {row['error']}"
                                                 if row["error"] else ", every cell passed"),
                  flush=True)
        failed += any(r["errors"] for r in runs)
        meta["chapters"][path.stem] = {"runs": runs, "figures": spread(runs)}
        meta["chapters"] = _order(meta["chapters"])
        # the wall time of one full run: every chapter's runs, whether run now or kept
        meta["wall_s"] = round(sum(r["wall_s"] for ch in meta["chapters"].values()
                                   for r in ch["runs"]), 1)
        _write(results, out)
    print(f"wrote {out / 'results.json'}, results_table.md and robustness_table.md")
    return 1 if failed else 0


def merge_robustness(results: dict, others: list[dict]) -> dict:
    """Add the chapters of other robustness records (run in parallel) to ``results``.

    Every record must have run the same settings; a chapter in several records keeps the last.
    The total wall time is recomputed as the sum of every run. Raises ``ValueError`` when a
    record has no robustness run or ran other settings.
    """
    if not others:
        return results
    settings = _settings_of(others[0].get("robustness") or {})
    meta = results.get("robustness") or {}
    chapters = dict(meta.get("chapters", {})) if _settings_of(meta) == settings else {}
    for i, other in enumerate(others):
        rob = other.get("robustness")
        if not rob:
            raise ValueError(f"record {i + 1} holds no robustness run")
        if _settings_of(rob) != settings:
            raise ValueError(f"record {i + 1} ran other settings than record 1")
        chapters.update(rob["chapters"])
        meta = {**rob, **{k: v for k, v in meta.items() if k == "note"}}
    meta["settings"] = settings
    meta["chapters"] = _order(chapters)
    meta["wall_s"] = round(sum(r["wall_s"] for ch in chapters.values() for r in ch["runs"]), 1)
    results["robustness"] = meta
    return results


SMOKE_ENV = {"MEDLAB_SCALE": "gpu", "MEDLAB_SMOKE": "1"}


def smoke(notebooks: list[Path]) -> int:
    """The GPU-scale smoke run: every chapter at ``MEDLAB_SCALE=gpu``, ``MEDLAB_SMOKE=1``.

    Each chapter runs alone in a fresh kernel whose working folder is an empty temporary one
    (as on Colab), with every cell run even after a failure. Any failing cell fails the run,
    and each is printed with its chapter, cell and message. Returns the number of failed
    chapters (0: every chapter ran). Nothing is written to ``book/appendix``.
    """
    failed = 0
    for path in notebooks:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"smoke run of {path.name} (GPU scale, loops cut) ...", flush=True)
            row = run_notebook(path, Path(tmp), env=SMOKE_ENV, cwd=Path(tmp))
        if row["errors"]:
            failed += 1
            for e in row["errors"]:
                print(f"  FAILED {path.name} {describe_error(e)}", flush=True)
        else:
            print(f"  {row['wall_s']} s wall, every cell passed", flush=True)
    print(f"smoke run: {len(notebooks) - failed} of {len(notebooks)} chapters ran at GPU "
          f"scale without an error")
    return failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m medlab.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--from-run", type=Path, metavar="RUN_JSON",
                        help="take the timings and figures of a `make test` run "
                             "(book/_build/results/run.json) instead of executing again")
    parser.add_argument("--robust", action="store_true",
                        help="robustness run: design and confirmation settings over seeds, "
                             "threads and CPU kernels (see plan())")
    parser.add_argument("--design-seeds", type=int, nargs="*", default=list(DESIGN_SEEDS))
    parser.add_argument("--confirm-seeds", type=int, nargs="*", default=list(CONFIRM_SEEDS))
    parser.add_argument("--kernels", nargs="+", default=list(KERNELS), choices=list(KERNELS))
    parser.add_argument("--seeds", type=int, nargs="+", metavar="SEED",
                        help="instead of the plan: each of these seeds...")
    parser.add_argument("--threads", type=int, nargs="+", metavar="N",
                        help="... under each of these thread counts (default: 1 2)")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="RESULTS_JSON",
                        help="take the robustness runs of chapters from other results.json "
                             "files (runs made in parallel under the same plan)")
    parser.add_argument("--smoke", action="store_true",
                        help="GPU-scale smoke run: MEDLAB_SCALE=gpu MEDLAB_SMOKE=1, loops cut")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or toc_notebooks()
    for path in notebooks:
        if not path.exists():
            parser.error(f"{path}: no such notebook")
    if args.smoke:
        return 1 if smoke(notebooks) else 0
    out_json = args.out / "results.json"
    previous = json.loads(out_json.read_text()) if out_json.exists() else {"chapters": {}}
    if args.merge:
        try:
            merge_robustness(previous, [json.loads(f.read_text()) for f in args.merge])
        except (OSError, ValueError) as exc:
            parser.error(str(exc))
        _write(previous, args.out)
        print(f"merged {len(args.merge)} robustness records into {out_json}")
        return 0
    if args.seeds is not None or args.threads is not None:
        seeds, threads = args.seeds or [0, 1, 2], args.threads or [1, 2]
        if any(s < 0 for s in seeds) or any(t < 1 for t in threads):
            parser.error("--seeds must be >= 0 and --threads >= 1")
        settings = [{"role": "design", "seed": s, "threads": t, "kernel": "machine"}
                    for s in seeds for t in threads]
        return robustness(notebooks, settings, args.out, previous)
    if args.robust:
        try:
            settings = plan(args.design_seeds, args.confirm_seeds, kernels=args.kernels)
        except ValueError as exc:
            parser.error(str(exc))
        return robustness(notebooks, settings, args.out, previous)
    chapters = dict(previous.get("chapters", {}))
    if args.from_run:
        if not args.from_run.exists():
            parser.error(f"{args.from_run}: no such file; run `make test` first")
        chapters.update(json.loads(args.from_run.read_text())["chapters"])
        notebooks = []
    for path in notebooks:
        print(f"running {path.name} ...", flush=True)
        row = _run_with_figures(path)
        chapters[path.stem] = row
        print(f"  {row['wall_s']} s wall, {row['cpu_s']} s CPU, {len(row['figures'])} figures"
              + (f", ERROR {row['error']}" if row["error"] else "")
              + (f", stderr in code cells {row['stderr_cells']}" if row["stderr_cells"] else ""),
              flush=True)
    results = {**previous, "date": dt.date.today().isoformat(), "machine": machine(),
               "versions": versions(), "chapters": _order(chapters)}
    _write(results, args.out)
    print(f"wrote {out_json}, results_table.md and robustness_table.md")
    return 1 if any(r.get("error") for r in chapters.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
