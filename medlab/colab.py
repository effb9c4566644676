"""The set-up cell every chapter starts with, kept in one place.

The cell installs medlab when it is missing (as on Colab), then calls :func:`medlab.setup`.
It installs the release ``v<medlab.__version__>`` of the repository, never its moving ``main``,
and when that install fails it says what to run by hand and stops with a short message.
The repository address lives in ``_config.yml`` (``repository.url``), which also feeds the
book's Colab buttons. ``python -m medlab.colab sync`` rewrites every notebook's first code
cell from :data:`SETUP_TEMPLATE` and sets the notebook metadata Colab reads
(:data:`COLAB_METADATA`: open on a GPU runtime); ``tests/test_colab.py`` checks they agree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from medlab.markup import SETUP_TAG

ROOT = Path(__file__).resolve().parent.parent

SETUP_TEMPLATE = '''\
# Set-up, the same in every chapter: install medlab when it is missing (as on
# Colab), then seed, set the plot style and pick the device (a GPU if present).
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("medlab") is None:  # as on Colab: install the book's release
    MEDLAB = "medlab[book] @ git+{repo}@v{version}"
    if subprocess.run([sys.executable, "-m", "pip", "install", "-q", MEDLAB]).returncode != 0:
        print("Installing medlab failed (see pip's error above): no network, or the "
              "repository or its release tag is unreachable.\\nRun this in a new cell, "
              f'then run this cell again:\\n    !pip install "{{MEDLAB}}"\\n'
              "This chapter cannot continue without medlab.")
        raise SystemExit("medlab is not installed: see the message above.")
import medlab

device = medlab.setup(seed=0)
SEED = medlab.seed()  # 0, or $MEDLAB_SEED: every random choice below derives from it'''

# What Colab reads in a notebook's metadata: open it on a GPU runtime (a T4 on the free tier).
COLAB_METADATA = {"accelerator": "GPU", "colab": {"provenance": [], "gpuType": "T4"}}


def repository_url(config_path: str | Path = ROOT / "_config.yml") -> str:
    """The repository address from ``_config.yml`` (the one place it is set)."""
    import yaml

    path = Path(config_path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no _config.yml; cannot read repository.url")
    config = yaml.safe_load(path.read_text())
    try:
        return config["repository"]["url"].rstrip("/")
    except (KeyError, TypeError, AttributeError):
        raise ValueError(f"{path}: expected a `repository: url:` entry") from None


def setup_source(repo: str | None = None, version: str | None = None) -> str:
    """The exact source of the set-up cell: it installs release ``v<version>`` of ``repo``.

    Defaults: ``_config.yml``'s ``repository.url`` and ``medlab.__version__``.
    """
    from medlab import __version__

    return SETUP_TEMPLATE.format(repo=repo or repository_url(), version=version or __version__)


def set_colab_metadata(nb) -> bool:
    """Put :data:`COLAB_METADATA` into ``nb.metadata``, keeping Colab's other keys (and its
    ``provenance`` when there is one); returns True when that changed the notebook."""
    before = (nb.metadata.get("accelerator"), nb.metadata.get("colab"))
    colab_meta = {"provenance": [], **(nb.metadata.get("colab") or {}),
                  **{k: v for k, v in COLAB_METADATA["colab"].items() if k != "provenance"}}
    nb.metadata["accelerator"] = COLAB_METADATA["accelerator"]
    nb.metadata["colab"] = colab_meta
    return (nb.metadata["accelerator"], colab_meta) != before


def first_code_cell(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            return cell
    return None


def sync(book_dir: str | Path = ROOT / "book") -> list[Path]:
    """Rewrite the set-up cell and the Colab metadata of every notebook under ``book_dir``.

    Returns the files it changed (none on a second run).
    """
    import nbformat

    source = setup_source()
    changed = []
    for path in sorted(Path(book_dir).rglob("*.ipynb")):
        if "_build" in path.parts or ".ipynb_checkpoints" in path.parts:
            continue
        nb = nbformat.read(path, as_version=4)
        cell = first_code_cell(nb)
        if cell is None:
            cell = nbformat.v4.new_code_cell(source)
            nb.cells.insert(1 if nb.cells else 0, cell)
        dirty = set_colab_metadata(nb)
        if cell.source != source or SETUP_TAG not in cell.metadata.get("tags", []):
            cell.source = source
            cell.metadata["tags"] = sorted(set(cell.metadata.get("tags", [])) | {SETUP_TAG})
            dirty = True
        if dirty:
            nbformat.write(nb, path)
            changed.append(path)
    return changed


if __name__ == "__main__":
    if sys.argv[1:] != ["sync"]:
        sys.exit("usage: python -m medlab.colab sync")
    for p in sync():
        print(f"updated {p}")
