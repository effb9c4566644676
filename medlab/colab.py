"""The set-up cell every chapter starts with, kept in one place.

The cell installs medlab when it is missing (as on Colab), then calls :func:`medlab.setup`.
The repository address lives in ``_config.yml`` (``repository.url``), which also feeds the
book's Colab buttons. ``python -m medlab.colab sync`` rewrites every notebook's first code
cell from :data:`SETUP_TEMPLATE`; ``tests/test_notebooks.py`` checks they agree.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETUP_TAG = "medlab-setup"

SETUP_TEMPLATE = '''\
# Set-up, the same in every chapter: install medlab when it is missing (as on
# Colab), then seed, set the plot style and pick the device (a GPU if present).
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("medlab") is None:
    REPO = "{repo}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    f"medlab[book] @ git+{{REPO}}"], check=True)
import medlab

device = medlab.setup(seed=0)
SEED = medlab.seed()  # 0, or $MEDLAB_SEED: every random choice below derives from it'''


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


def setup_source(repo: str | None = None) -> str:
    """The exact source of the set-up cell for this repository."""
    return SETUP_TEMPLATE.format(repo=repo or repository_url())


def first_code_cell(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            return cell
    return None


def sync(book_dir: str | Path = ROOT / "book") -> list[Path]:
    """Rewrite the set-up cell of every notebook under ``book_dir``; returns changed files."""
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
        if cell.source != source or SETUP_TAG not in cell.metadata.get("tags", []):
            cell.source = source
            cell.metadata["tags"] = sorted(set(cell.metadata.get("tags", [])) | {SETUP_TAG})
            nbformat.write(nb, path)
            changed.append(path)
    return changed


if __name__ == "__main__":
    if sys.argv[1:] != ["sync"]:
        sys.exit("usage: python -m medlab.colab sync")
    for p in sync():
        print(f"updated {p}")
