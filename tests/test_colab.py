"""The Colab path: set-up cells, Colab links, and the set-up cell on a kernel without medlab."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml

import medlab
from medlab import bench, colab

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
HTML = Path(os.environ.get("MEDLAB_HTML_DIR", BOOK / "_build" / "html"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def book_notebooks() -> list[Path]:
    skip = {"_build", ".ipynb_checkpoints"}
    return sorted(p for p in BOOK.rglob("*.ipynb") if not skip & set(p.parts))


def toc_notebooks() -> list[str]:
    """The notebooks of _toc.yml as docnames (book/01_concepts), in reading order."""
    return [p.relative_to(ROOT).with_suffix("").as_posix() for p in bench.toc_notebooks(ROOT)]


def colab_url(docname: str) -> str:
    """The Colab address the book theme builds for ``docname`` (e.g. book/01_concepts)."""
    repo = CONFIG["repository"]["url"].rstrip("/")
    org_repo = repo.split("github.com/")[1]
    branch = CONFIG["repository"].get("branch", "main")
    base = CONFIG["launch_buttons"]["colab_url"].strip("/")
    prefix = CONFIG["repository"].get("path_to_book", "").strip("/")
    path = f"{prefix}/{docname}.ipynb" if prefix else f"{docname}.ipynb"
    return f"{base}/github/{org_repo}/blob/{branch}/{path}"


# ----------------------------------------------------------------------------- set-up cells
def test_setup_source_uses_the_configured_repository():
    repo = CONFIG["repository"]["url"].rstrip("/")
    assert repo.startswith("https://github.com/"), "Colab buttons need a GitHub repository"
    assert colab.repository_url() == repo
    source = colab.setup_source()
    assert f'"medlab[book] @ git+{repo}@v{medlab.__version__}"' in source, \
        "the set-up cell must install release v<medlab.__version__> of _config.yml's repository"
    assert colab.setup_source("https://github.com/someone/else") != source
    assert "@v9.9.9\"" in colab.setup_source(version="9.9.9")
    compile(source, "<set-up cell>", "exec")
    # what a student reads, and what the chapters rely on, stays as it was
    assert source.endswith("device = medlab.setup(seed=0)\n"
                           "SEED = medlab.seed()  # 0, or $MEDLAB_SEED: every random choice "
                           "below derives from it")


def test_release_tag_is_the_package_version():
    """The set-up cells install tag v<medlab.__version__>: pyproject.toml must agree with it."""
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["version"] == medlab.__version__, "pyproject.toml and medlab/__init__.py differ"


@pytest.mark.parametrize("path", book_notebooks(), ids=lambda p: p.name)
def test_first_code_cell_is_the_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    first = colab.first_code_cell(nb)
    assert first is not None, f"{path.name}: no code cell"
    assert first.source == colab.setup_source(), (
        f"{path.name}: first code cell differs from medlab.colab.setup_source(); "
        "run `python -m medlab.colab sync`")
    assert colab.SETUP_TAG in first.metadata.get("tags", []), f"{path.name}: tag missing"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", path.name


def check_colab_metadata(nb, name: str) -> None:
    assert nb.metadata.get("accelerator") == "GPU", (
        f"{name}: notebook metadata lacks accelerator: GPU (Colab would open it on a CPU); "
        "run `python -m medlab.colab sync`")
    colab_meta = nb.metadata.get("colab")
    assert isinstance(colab_meta, dict) and isinstance(colab_meta.get("provenance"), list), \
        f"{name}: notebook metadata lacks colab.provenance; run `python -m medlab.colab sync`"
    assert colab_meta.get("gpuType") == colab.COLAB_METADATA["colab"]["gpuType"], name


@pytest.mark.parametrize("path", book_notebooks(), ids=lambda p: p.name)
def test_every_notebook_opens_on_a_colab_gpu(path):
    check_colab_metadata(nbformat.read(path, as_version=4), path.name)


def test_sync_writes_setup_cells_and_colab_metadata(tmp_path):
    """sync on a copy of the book: every check above passes there, the rest is untouched."""
    import copy
    import shutil

    originals = {p.name: nbformat.read(p, as_version=4) for p in book_notebooks()
                 if p.parent == BOOK}
    assert originals, "no notebooks in book/"
    for name in originals:
        shutil.copy(BOOK / name, tmp_path / name)
    # a notebook with Colab keys of its own (kept), and one without a code cell (gets one)
    nb = copy.deepcopy(originals[sorted(originals)[0]])
    nb.metadata["colab"] = {"provenance": [{"file_id": "x"}], "toc_visible": True}
    nbformat.write(nb, tmp_path / "with_colab_keys.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T")]),
                   tmp_path / "no_code.ipynb")
    (tmp_path / "_build").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "_build" / "skipped.ipynb")

    changed = colab.sync(tmp_path)
    assert tmp_path / "_build" / "skipped.ipynb" not in changed
    assert nbformat.read(tmp_path / "_build" / "skipped.ipynb", as_version=4).metadata == {}
    for path in sorted(tmp_path.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        first = colab.first_code_cell(nb)
        assert first.source == colab.setup_source(), path.name
        assert colab.SETUP_TAG in first.metadata["tags"], path.name
        check_colab_metadata(nb, path.name)
        nbformat.validate(nb)
        if path.name in originals:  # nothing else changed: other cells, other metadata
            old = originals[path.name]
            old_first = colab.first_code_cell(old)
            assert [c for c in nb.cells if c is not first] == \
                [c for c in old.cells if c is not old_first], path.name
            assert {k: v for k, v in nb.metadata.items() if k not in ("accelerator", "colab")} \
                == {k: v for k, v in old.metadata.items() if k not in ("accelerator", "colab")}
    kept = nbformat.read(tmp_path / "with_colab_keys.ipynb", as_version=4).metadata.colab
    assert kept["provenance"] == [{"file_id": "x"}] and kept["toc_visible"] is True
    assert colab.sync(tmp_path) == [], "a second sync must change nothing"


def test_every_notebook_is_in_the_toc_or_reported():
    """A notebook outside _toc.yml gets no page and no Colab link: say which."""
    listed = {f"{f}.ipynb" for f in bench.toc_files(ROOT)}
    missing = [p.relative_to(ROOT).as_posix() for p in book_notebooks()
               if p.relative_to(ROOT).as_posix() not in listed]
    if missing:
        pytest.skip(f"not (yet) in _toc.yml, so without a page: {', '.join(missing)}")


# ----------------------------------------------------------------------------- Colab links
def test_colab_url_is_built_from_config():
    repo = CONFIG["repository"]["url"].rstrip("/")
    url = colab_url("book/01_concepts")
    assert url == (f"https://colab.research.google.com/github/{repo.split('github.com/')[1]}"
                   f"/blob/{CONFIG['repository'].get('branch', 'main')}/book/01_concepts.ipynb")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def page_links(html_file: Path) -> list[str]:
    parser = _Links()
    parser.feed(html_file.read_text(encoding="utf-8"))
    return parser.hrefs


@pytest.mark.parametrize("docname", toc_notebooks())
def test_colab_link_of_each_notebook_page(docname):
    expected = colab_url(docname)
    target = expected.split("/blob/", 1)[1].split("/", 1)[1]
    path_to_book = CONFIG["repository"].get("path_to_book", "").strip("/")
    assert (ROOT / path_to_book / target).exists(), f"the Colab link points at {target}: missing"
    page = HTML / f"{docname}.html"
    if not page.exists():
        pytest.skip(f"{page} not built; the expected link {expected} was checked against the tree")
    colab_links = [h for h in page_links(page) if "colab.research.google.com" in h]
    assert colab_links, f"{page.name}: no Colab button"
    assert set(colab_links) == {expected}, f"{page.name}: {colab_links} != {expected}"


# ----------------------------------------------------------------------------- no medlab
# Run the set-up cell in a fresh interpreter where medlab cannot be imported: the editable
# install's finder is taken off sys.meta_path and the repository off sys.path. `pip` is a fake
# (subprocess.run is patched): it records the command and "installs" medlab by putting the
# finder back, or (mode "fail") fails as a real pip does without a network: return code 1,
# and CalledProcessError when the caller passed check=True. No network, nothing installed. Only `python -m pip install` is faked: every
# other command goes to the real subprocess.run, because libraries call it too (matplotlib
# runs `fc-list` when it builds its font cache, which a new machine does on first import;
# the test runs with an empty MPLCONFIGDIR so that it always does).
RUNNER = textwrap.dedent("""
    import importlib, importlib.util, json, subprocess, sys
    from pathlib import Path

    root, mode = Path(sys.argv[1]).resolve(), sys.argv[2]
    hide = mode in ("hide", "fail")
    hidden = [f for f in sys.meta_path  # the editable install's finder (a class or not)
              if hide and "medlab" in (f if isinstance(f, type) else type(f)).__module__]
    for f in hidden:
        sys.meta_path.remove(f)
    if hide:
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != root]
    importlib.invalidate_caches()
    real_find_spec, installed = importlib.util.find_spec, []
    if hide and real_find_spec("medlab") is not None:
        # a regular (not editable) install: hide it from the cell's own test
        def find_spec(name, package=None):
            if name == "medlab" and not installed:
                return None
            return real_find_spec(name, package)
        importlib.util.find_spec = find_spec
    before = importlib.util.find_spec("medlab") is None
    calls, real_run = [], subprocess.run

    def fake_run(cmd, *args, **kwargs):
        if not (isinstance(cmd, (list, tuple)) and list(cmd[1:4]) == ["-m", "pip", "install"]):
            return real_run(cmd, *args, **kwargs)
        calls.append(list(cmd))
        if mode == "fail":  # what subprocess.run returns (or raises) when pip fails
            print("ERROR: fake pip: could not reach the repository", file=sys.stderr)
            if kwargs.get("check"):
                raise subprocess.CalledProcessError(1, cmd)
            return subprocess.CompletedProcess(cmd, 1)
        sys.path.append(str(root))  # what a real install would make importable
        installed.append(True)
        importlib.invalidate_caches()
        return subprocess.CompletedProcess(cmd, 0)

    subprocess.run = fake_run
    namespace = {}
    exec(compile(sys.stdin.read(), "<set-up cell>", "exec"), namespace)
    print(json.dumps({"absent_before": before, "calls": calls,
                      "device": str(namespace["device"]),
                      "medlab_file": namespace["medlab"].__file__}))
""")


def run_cell_process(source: str, cwd: Path, mode: str) -> subprocess.CompletedProcess:
    """Run the set-up cell under RUNNER; mode "hide" (no medlab), "keep" or "fail" (pip fails)."""
    # an empty matplotlib config/cache dir: the font cache is built, as on a new machine
    (cwd / "mplconfig").mkdir(exist_ok=True)
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONNOUSERSITE": "1",
           "MPLCONFIGDIR": str(cwd / "mplconfig")}
    return subprocess.run([sys.executable, "-c", RUNNER, str(ROOT), mode], input=source,
                          cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def run_setup_cell(source: str, cwd: Path, hide: bool = True) -> dict:
    proc = run_cell_process(source, cwd, "hide" if hide else "keep")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_setup_cell_installs_medlab_when_it_is_absent(tmp_path):
    result = run_setup_cell(colab.setup_source(), tmp_path)
    repo = colab.repository_url()
    assert result["absent_before"] is True
    assert result["calls"] == [[sys.executable, "-m", "pip", "install", "-q",
                                f"medlab[book] @ git+{repo}@v{medlab.__version__}"]]
    assert result["device"] == "cpu" or result["device"].startswith("cuda")
    assert Path(result["medlab_file"]).name == "__init__.py"


def test_setup_cell_does_not_install_when_medlab_is_present(tmp_path):
    result = run_setup_cell(colab.setup_source(), tmp_path, hide=False)
    assert result["absent_before"] is False and result["calls"] == []


def test_setup_cell_stops_with_instructions_when_pip_fails(tmp_path):
    """No network, repository gone, tag missing: a plain instruction, no CalledProcessError."""
    proc = run_cell_process(colab.setup_source(), tmp_path, "fail")
    spec = f"medlab[book] @ git+{colab.repository_url()}@v{medlab.__version__}"
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output  # SystemExit with a message: exit status 1
    assert "ERROR: fake pip" in proc.stderr  # pip's own error stays visible
    assert f'!pip install "{spec}"' in proc.stdout, "the command to run by hand is missing"
    assert "Installing medlab failed" in proc.stdout
    assert "cannot continue" in proc.stdout
    assert proc.stderr.rstrip().endswith("medlab is not installed: see the message above.")
    assert "Traceback" not in output and "CalledProcessError" not in output, output
    # the cell stopped before `import medlab`: the runner's summary was never printed
    assert '"device"' not in proc.stdout
