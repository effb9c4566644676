"""The project's own files: dependencies agree, notebooks follow the book's anatomy."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

from medlab import bench

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def _requirements():
    return [ln.strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]


def test_environment_yml_lists_the_same_dependencies():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert sorted(pip_section) == sorted(_requirements())


def test_torch_is_a_range_and_nothing_pulls_cuda_extras():
    reqs = _requirements()
    torch_req = next(r for r in reqs if re.match(r"torch\b", r) and not r.startswith("torchao"))
    assert torch_req.startswith("torch>=") and "==" not in torch_req
    names = {re.split(r"[<>=!\[ ]", r)[0].lower() for r in reqs}
    assert not names & {"torchvision", "medmnist"}
    assert any(r.startswith("jupyter-book>=1.0.4,<2") for r in reqs)


def test_book_extra_covers_what_chapters_import():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!\[ ]", r)[0].lower()
                for r in meta["dependencies"] + meta["optional-dependencies"]["book"]}
    build_only = {"jupyter-book", "sphinx-exercise", "sphinxcontrib-bibtex", "nbval",
                  "pytest", "ruff", "ipykernel", "nbclient", "sphinx-mathjax-offline",
                  "playwright", "selenium", "sphinx-intl", "polib"}
    needed = {re.split(r"[<>=!\[ ]", r)[0].lower() for r in _requirements()} - build_only
    assert needed <= declared, needed - declared


def _lock():
    """requirements.lock as {name: (version, number of hashes)}."""
    text = (ROOT / "requirements.lock").read_text()
    pins = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = re.match(r"([A-Za-z0-9_.\-]+(?:\[[^\]]*\])?)==([^\s;\\]+)", block)
        if m:
            name = re.sub(r"[-_.]+", "-", m.group(1).split("[")[0]).lower()
            pins[name] = (m.group(2), block.count("--hash=sha256:"))
    return pins


def test_lock_pins_every_requirement_within_its_range_with_hashes():
    from packaging.requirements import Requirement

    pins = _lock()
    assert len(pins) > 50, "requirements.lock looks empty"
    assert "torch" not in pins, "torch is installed first from the CPU build, not from the lock"
    assert not [n for n in pins if n.startswith("nvidia-") and n != "nvidia-nccl-cu12"], (
        "CUDA packages in the lock: resolve torch from the CPU build (make upgrade)")
    for name, (version, hashes) in pins.items():
        assert hashes >= 1, f"{name}=={version} has no --hash in requirements.lock"
    for line in _requirements():
        req = Requirement(line)
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        if name == "torch":
            continue
        assert name in pins, f"{line} is not in requirements.lock (run make upgrade)"
        assert req.specifier.contains(pins[name][0], prereleases=True), (
            f"requirements.lock has {name}=={pins[name][0]}, outside {line}")


def test_makefile_installs_the_lock_with_hashes_and_can_refresh_it():
    make = (ROOT / "Makefile").read_text()
    assert "--require-hashes --no-deps -r $(LOCK)" in make
    assert re.search(r"^upgrade:", make, re.MULTILINE) and "uv pip compile requirements.txt" in make
    assert ("$(STAMP): requirements.txt requirements.lock requirements-radiomics.txt "
            "requirements-radiomics.lock pyproject.toml") in make
    # PyRadiomics' setup.py imports numpy: built without isolation, after the lock
    assert ("--require-hashes --no-deps --no-build-isolation -r requirements-radiomics.lock"
            in make)
    assert "--no-build-isolation -r requirements-radiomics.txt" in make


def test_no_source_release_that_needs_help_is_in_a_plain_install():
    """`pip install -r requirements.txt` and `pip install "medlab[book]"` work on a machine with
    no wheel cached: PyRadiomics, whose isolated build fails, is only in its own files."""
    import tomllib

    assert not [r for r in _requirements() if r.lower().startswith("pyradiomics")]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for extra, reqs in {"core": project["dependencies"],
                        **project["optional-dependencies"]}.items():
        assert not [r for r in reqs if r.lower().startswith("pyradiomics")], extra
    assert "pyradiomics" not in _lock()
    radiomics = (ROOT / "requirements-radiomics.lock").read_text()
    assert re.search(r"^pyradiomics==3\.0\.1 \\\n\s+--hash=sha256:", radiomics, re.MULTILINE)
    assert "pyradiomics" in (ROOT / "requirements-radiomics.txt").read_text()


def test_toc_lists_every_chapter_and_only_existing_files():
    toc_files = set(bench.toc_files(ROOT))
    for f in toc_files:
        assert any((ROOT / f"{f}{ext}").exists() for ext in (".md", ".ipynb")), f
    for nb in NOTEBOOKS:
        assert f"book/{nb.stem}" in toc_files, f"{nb.name} is not in _toc.yml"


def test_toc_files_walks_parts_chapters_and_sections_in_reading_order(tmp_path):
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\n"
        "root: book/intro\n"
        "parts:\n"
        "  - caption: One\n"
        "    chapters:\n"
        "      - file: book/01_a\n"
        "        sections:\n"
        "          - file: book/01_a_more.md\n"
        "            sections:\n"
        "              - file: book/01_a_deeper\n"
        "          - url: https://example.org\n"
        "      - file: book/02_b.ipynb\n"
        "  - caption: Two\n"
        "    chapters:\n"
        "      - file: book/appendix/glossary\n")
    assert bench.toc_files(tmp_path) == [
        "book/intro", "book/01_a", "book/01_a_more", "book/01_a_deeper", "book/02_b",
        "book/appendix/glossary"]
    # a toc without parts, and one given by its own path
    (tmp_path / "other.yml").write_text("root: intro\nchapters:\n  - file: ch1\n  - file: ch2\n")
    assert bench.toc_files(tmp_path, "other.yml") == ["intro", "ch1", "ch2"]
    # toc_notebooks keeps the entries that are notebooks, in the toc's order
    (tmp_path / "book" / "appendix").mkdir(parents=True)
    for name in ("02_b", "01_a_deeper", "appendix/glossary"):
        (tmp_path / "book" / f"{name}.ipynb").write_text("{}")
    assert bench.toc_notebooks(tmp_path) == [tmp_path / "book" / f"{n}.ipynb"
                                             for n in ("01_a_deeper", "02_b", "appendix/glossary")]


def test_toc_files_errors_name_the_toc(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "_toc.yml"))):
        bench.toc_files(tmp_path)
    bad = {"list.yml": "- file: a\n", "noroot.yml": "chapters:\n  - file: a\n",
           "broken.yml": "root: [unclosed\n", "badfile.yml": "root: intro\nchapters:\n  - file: 3\n"}
    for name, text in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=re.escape(str(tmp_path / name))):
            bench.toc_files(tmp_path, name)


def test_bench_lists_notebooks_in_reading_order():
    names = [p.stem for p in bench.toc_notebooks()]
    assert names == sorted(names) and set(names) == {p.stem for p in NOTEBOOKS}


def test_bench_table_formats_figures_and_errors():
    table = bench.markdown_table({
        "machine": "2 cores", "date": "2026-01-01",
        "chapters": {"01_concepts": {"wall_s": 1.0, "cpu_s": 2.0, "error": None,
                                     "figures": {"F1": {"value": 0.91234, "unit": "",
                                                        "note": ""}}},
                     "02_x": {"wall_s": 1.0, "cpu_s": 1.0, "error": "boom", "figures": {}}},
        "robustness": {"seeds": [0, 1], "threads": [1], "chapters": {"01_concepts": {
            "figures": {"F1": {"median": 0.9, "min": 0.85, "max": 0.95, "n": 2}}}}}})
    assert "| 01_concepts | F1 | 0.912 | 0.900 [0.850–0.950] |" in table
    assert "**failed**: boom" in table
    piped = bench.markdown_table({"machine": "2 cores", "date": "2026-01-01", "chapters": {
        "07_x": {"wall_s": 1.0, "cpu_s": 1.0, "error": None, "figures": {
            "U-Net |volume error| CSF": {"value": 12.5, "unit": "%"}}}}})
    row = next(line for line in piped.splitlines() if line.startswith("| 07_x | U-Net"))
    assert "U-Net \\|volume error\\| CSF" in row
    assert len(row.replace("\\|", "").split("|")) == 7  # five cells: the name is one of them


def _run(seed, threads, value, errors=()):
    return {"seed": seed, "threads": threads, "wall_s": 10.0 + seed, "errors": list(errors),
            "figures": {"F1": {"value": value, "unit": ""}, "data": {"value": "synthetic"}}}


def test_spread_and_robustness_table_name_failing_cells():
    runs = [_run(0, 1, 0.9), _run(1, 1, 0.8),
            _run(2, 1, 0.7, [{"cell": 12, "ename": "AssertionError", "message": "T = 1.3",
                              "assert": True}])]
    spread = bench.spread(runs)
    assert spread == {"F1": {"median": 0.8, "min": 0.7, "max": 0.9, "n": 3, "unit": ""}}
    table = bench.robustness_table({"robustness": {
        "date": "2026-01-01", "machine": "2 cores", "seeds": [0, 1, 2], "threads": [1],
        "wall_s": 600, "chapters": {"11_x": {"runs": runs, "figures": spread}}}})
    assert "design seed 2, 1 thr: assert cell 12: AssertionError: T = 1.3" in table
    assert "3 design settings" in table and "| 11_x | 3 | 0 | 11 [10–12] |" in table
    assert "No robustness run" in bench.robustness_table({"chapters": {}})
    noted = bench.robustness_table({"robustness": {
        "date": "2026-01-01", "machine": "2 cores", "seeds": [0], "threads": [1], "wall_s": 60,
        "note": "Run on a loaded machine.", "chapters": {"11_x": {"runs": runs[:1], "figures": {}}}}})
    assert "min of wall time in all. Run on a loaded machine." in noted


def test_cell_errors_skip_expected_errors_and_mark_assert_cells():
    nb = nbformat.v4.new_notebook()
    error = {"output_type": "error", "ename": "AssertionError", "evalue": "x is 1\n",
             "traceback": []}
    nb.cells = [nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("assert x == 2, 'x is 1'",
                                          metadata={"tags": ["remove-cell"]}),
                nbformat.v4.new_markdown_cell("text"),
                nbformat.v4.new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]}),
                nbformat.v4.new_code_cell("y")]
    nb.cells[1].outputs = [nbformat.NotebookNode(error)]
    nb.cells[3].outputs = [nbformat.NotebookNode({**error, "ename": "ZeroDivisionError"})]
    nb.cells[4].outputs = [nbformat.NotebookNode(
        {**error, "ename": "NameError", "evalue": "\x1b[0;31mname 'y' is not defined"})]
    errors = bench.cell_errors(nb)
    assert errors == [
        {"cell": 1, "ename": "AssertionError", "message": "x is 1", "assert": True},
        {"cell": 3, "ename": "NameError", "message": "name 'y' is not defined", "assert": False}]
    assert bench.error_summary(errors) == "assert cell 1: AssertionError: x is 1 (+1 more cells)"
    assert bench.error_summary([]) is None


def test_run_notebook_records_the_failing_cell_under_a_setting(tmp_path):
    """A real kernel, with the seed and thread count of a robustness run in its environment."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
                    "import os\nseed = int(os.environ['MEDLAB_SEED'])\n"
                    "threads = os.environ['OMP_NUM_THREADS']"),
                nbformat.v4.new_code_cell("assert seed != 2, f'fails under seed {seed}'",
                                          metadata={"tags": ["remove-cell"]}),
                nbformat.v4.new_code_cell("print(threads)"),
                nbformat.v4.new_code_cell("assert seed < 2", metadata={"tags": ["remove-cell"]})]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    ok = bench.run_notebook(path, tmp_path, env={"MEDLAB_SEED": 1, "OMP_NUM_THREADS": 1})
    assert ok["errors"] == [] and ok["error"] is None
    bad = bench.run_notebook(path, tmp_path, env={"MEDLAB_SEED": 2, "OMP_NUM_THREADS": 1})
    assert bad["errors"] == [{"cell": 1, "ename": "AssertionError",
                              "message": "fails under seed 2", "assert": True},
                             {"cell": 3, "ename": "AssertionError",  # no message: its line
                              "message": "assert seed < 2", "assert": True}]


def test_nbval_collects_only_the_chapters_of_the_toc():
    import importlib.util

    spec = importlib.util.spec_from_file_location("book_conftest", ROOT / "book" / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    chapter = ROOT / "book" / "01_concepts.ipynb"
    assert conftest.pytest_ignore_collect(chapter, None) is None
    for copy in (ROOT / "book" / "_build" / "jupyter_execute" / "book" / "01_concepts.ipynb",
                 ROOT / "book" / "_build" / "html" / "_sources" / "book" / "01_concepts.ipynb",
                 ROOT / "book" / "draft.ipynb"):
        assert conftest.pytest_ignore_collect(copy, None) is True


def test_bench_table_without_robustness_run():
    table = bench.markdown_table({
        "machine": "2 cores", "date": "2026-01-01",
        "chapters": {"01_concepts": {"wall_s": 1.0, "cpu_s": 2.0, "error": None,
                                     "figures": {"F1": {"value": 0.91234, "unit": "",
                                                        "note": ""}}},
                     "02_x": {"wall_s": 1.0, "cpu_s": 1.0, "error": "boom", "figures": {}}}})
    assert "| 01_concepts | F1 | 0.912 | — |  |" in table and "**failed**: boom" in table


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_anatomy(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    # committed without outputs
    assert all(not c.outputs and c.execution_count is None for c in code), "outputs committed"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert re.search(r"learning objectives", markdown, re.I)
    assert re.search(r"^## Summary", markdown, re.M)
    # footnote citations: a work may be cited by several chapters without duplicate warnings
    assert "{footbibliography}" in markdown
    assert not re.search(r"\{cite(:\w+)?\}|\{bibliography\}", markdown), "use {footcite}"
    assert len(re.findall(r"\{exercise(-start)?\}", markdown)) >= 3, "fewer than 3 exercises"
    exercises = set(re.findall(r":label: (ch\d\d-ex-[\w-]+)", markdown))
    solved = set(re.findall(r"\{solution(?:-start)?\} (ch\d\d-ex-[\w-]+)", markdown))
    assert exercises and exercises <= solved, f"exercises without solutions: {exercises - solved}"
    # claims are checked in hidden assert cells
    hidden = [c for c in code if "remove-cell" in c.metadata.get("tags", [])]
    assert any("assert" in c.source for c in hidden)
    # ... and never shown: a visible cell made only of asserts (and comments) is a claims cell
    # that lost its tag, and the rendered page would show the reader the book's own checks
    for i, c in enumerate(code):
        lines = [ln for ln in c.source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        tags = c.metadata.get("tags", [])
        if lines and all(ln.startswith(("assert", " ", ")")) for ln in lines) \
                and lines[0].startswith("assert"):
            assert {"remove-cell", "remove-input"} & set(tags), \
                f"code cell {i} holds only asserts but is not tagged remove-cell"
    assert nb.metadata["kernelspec"]["name"] == "python3"
