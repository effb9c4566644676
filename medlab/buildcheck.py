"""Fail a book build in which a chapter failed to execute: ``python -m medlab.buildcheck book/_build``.

Jupyter Book renders a chapter whose execution failed with the traceback on its page and no
outputs after it, logs a warning and exits 0. ``make book`` runs this check after the build,
so that such a build fails and the publishing workflow never deploys it. The check reads what
the pages show: the executed notebooks MyST-NB wrote to ``<build>/jupyter_execute`` (a chapter
that Sphinx did not read again keeps the notebook of its last execution, which is also what
its page still shows). Each chapter of ``_toc.yml`` must be there, and none may hold an error
output outside a cell tagged ``raises-exception``. Each failure is printed with the chapter,
the cell (counted among code cells, as nbval and the benchmark count) and the error.
"""

from __future__ import annotations

import sys
from pathlib import Path

from medlab.bench import ROOT, cell_errors, describe_error, toc_files


def failures(build_dir: Path, root: Path = ROOT) -> list[str]:
    """One line per problem: a chapter never executed, or a cell that raised."""
    import nbformat

    build_dir = Path(build_dir)
    executed = build_dir / "jupyter_execute"
    if not build_dir.is_dir():
        raise FileNotFoundError(f"{build_dir}: no such build folder; build the book first")
    problems = []
    for name in toc_files(root):
        if not (root / f"{name}.ipynb").exists():
            continue  # a markdown page: nothing executes
        path = executed / f"{name}.ipynb"
        if not path.exists():
            problems.append(f"{name}.ipynb: no executed notebook in {executed} "
                            f"(the chapter did not execute)")
            continue
        nb = nbformat.read(path, as_version=4)
        problems += [f"{name}.ipynb, {describe_error(err)}" for err in cell_errors(nb)]
    return problems


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m medlab.buildcheck BUILD_DIR   (e.g. book/_build)",
              file=sys.stderr)
        return 2
    try:
        problems = failures(Path(args[0]))
    except (FileNotFoundError, ValueError) as exc:
        print(f"buildcheck: {exc}", file=sys.stderr)
        return 2
    if problems:
        print(f"The book built, but {len(problems)} cell(s) failed; their pages show a "
              f"traceback and nothing after it:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("every chapter executed without an error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
