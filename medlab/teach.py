"""For instructors and students: exercise checks and student copies of the chapters.

Checks
    A chapter's checks live in ``medlab/checks/chNN.py``; each is a function registered with
    :func:`exercise_check` that returns ``None`` for a right answer or one sentence saying what
    is wrong, without revealing the answer. A student calls
    ``medlab.teach.check("ch03-otsu", answer)``. :func:`expect_number` and
    :func:`expect_shape` write such sentences for the common cases; :func:`as_number` reads
    an answer as one finite number for checks that compare it with known wrong answers. A check may register
    example answers (``exercise_check(name, right=[...], wrong=[...])``): ``tests/test_teach.py``
    then checks that the right ones pass and the wrong ones fail without naming a right one.

Student copies
    ``python -m medlab.teach student book/ out/`` writes every chapter notebook of ``book/``
    to ``out/`` without its solutions (see :func:`student_notebook` for exactly what goes) and
    without outputs; the set-up cell stays the first code cell. The instructors' page of the
    book explains how to hand the copies out.
"""

from __future__ import annotations

import argparse
import copy
import math
import numbers
import sys
import uuid
from collections.abc import Callable, Iterable
from importlib import import_module
from pathlib import Path

from medlab.markup import (
    SETUP_TAG,
    SOLUTION_BLOCK,
    SOLUTION_END,
    SOLUTION_START,
    cell_tags,
    has_assert,  # noqa: F401 (part of this module's interface: medlab.teach.has_assert)
    is_hidden_check,
    solution_label,
)

_CHECKS: dict[str, Callable] = {}
_EXAMPLES: dict[str, tuple[list, list]] = {}

STUB_SOURCE = "# your code here"
STUB_TAG = "medlab-stub"
STUDENT_NOTE = (
    "> **Student copy.** The solutions are removed; each exercise that asks for code has an "
    "empty cell marked `# your code here`. Where an exercise shows a call to "
    "`medlab.teach.check(...)`, run it to see whether your answer is right."
)


# ----------------------------------------------------------------------------- checks
def exercise_check(name: str, *, right: Iterable = (), wrong: Iterable = ()):
    """Register ``fn(answer) -> str | None`` as the check of exercise ``name``.

    ``right`` and ``wrong`` are optional example answers that the test suite feeds to the check.
    """
    if not name or "-" not in name:
        raise ValueError(f"exercise_check: name must look like 'ch01-f1', got {name!r}")

    def register(fn):
        _CHECKS[name] = fn
        right_l, wrong_l = list(right), list(wrong)
        if right_l or wrong_l:
            _EXAMPLES[name] = (right_l, wrong_l)
        return fn

    return register


def _load(name: str) -> Callable:
    if name not in _CHECKS:
        chapter = name.split("-", 1)[0]
        try:
            import_module(f"medlab.checks.{chapter}")
        except ModuleNotFoundError:
            pass
    if name not in _CHECKS:
        known = ", ".join(sorted(_CHECKS)) or "none loaded"
        raise KeyError(f"no check named {name!r} (known: {known})")
    return _CHECKS[name]


def _one_sentence(text) -> str:
    """Collapse a check's message to one line (a check must say one thing)."""
    return " ".join(str(text).split())


def feedback(name: str, answer) -> str | None:
    """The check's verdict on ``answer``: ``None`` when right, else one sentence.

    A scalar NaN is wrong whatever the check says (comparisons with NaN are all false, so
    ``if abs(x - expected) > tol: return "wrong"`` would let it pass). A check that raises
    makes the answer wrong. A ``ValueError`` or ``TypeError`` is reported
    with its message (checks raise them to say the answer has the wrong form); any other
    exception by its type only, since its message (an ``AssertionError`` from
    ``numpy.testing``, say) may quote the expected value.
    """
    fn = _load(name)
    if _is_nan(answer):  # NaN slips through tests like `abs(x - expected) > tol`
        return "the answer is NaN (not a number): look for a division by zero or an empty selection."
    try:
        problem = fn(answer)
    except (ValueError, TypeError) as exc:  # a malformed answer is a wrong answer, said plainly
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        problem = (f"the answer could not be checked: {first}." if first else
                   f"the answer could not be checked ({type(exc).__name__}).")
    except Exception as exc:
        problem = (f"the answer could not be checked ({type(exc).__name__}); is it the kind of "
                   f"object the exercise asks for?")
    return _one_sentence(problem) if problem else None


def _is_nan(answer) -> bool:
    """True for a scalar NaN (a float, a NumPy scalar or 0-d array, a one-element tensor)."""
    if isinstance(answer, str | bytes | bool):
        return False
    if isinstance(answer, numbers.Real) or getattr(answer, "shape", None) in ((), (1,)):
        try:
            value = answer.item() if hasattr(answer, "item") else answer
            return math.isnan(float(value))
        except (TypeError, ValueError):
            return False
    return False


def check(name: str, answer) -> bool:
    """Check a student's answer to exercise ``name``; prints one line and returns True/False."""
    problem = feedback(name, answer)
    if problem:
        print(f"✗ {name}: {problem}")
        return False
    print(f"✓ {name}: correct.")
    return True


def load_all_checks() -> dict[str, Callable]:
    """Import every ``medlab/checks/chNN.py`` and return the registered checks by name."""
    for path in sorted((Path(__file__).parent / "checks").glob("ch*.py")):
        import_module(f"medlab.checks.{path.stem}")
    return dict(_CHECKS)


def examples(name: str) -> tuple[list, list]:
    """The (right, wrong) example answers registered with check ``name`` (may be empty)."""
    _load(name)
    return _EXAMPLES.get(name, ([], []))


def as_number(answer, what: str = "the value") -> float:
    """``answer`` as one finite float, for checks that compare it with several wrong answers.

    Raises ``ValueError`` ("<what> should be a single number, got <type>" or "<what> should
    be finite"), which :func:`feedback` reports as the reason the answer is wrong. Used by the
    chapters' checks (see ``medlab/checks/ch01.py`` and ``ch04.py``).
    """
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise ValueError(f"{what} should be a single number, got {type(answer).__name__}") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} should be finite")
    return value


def expect_number(answer, expected: float, *, what: str = "the value", rtol: float = 0.02,
                  atol: float = 0.0) -> str | None:
    """A ready-made check of a number: says 'too high' / 'too low', never the number itself.

    Used by the chapters' checks (see ``medlab/checks``).
    """
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return f"{what} should be a single number, got a {type(answer).__name__}."
    if math.isnan(value):
        return f"{what} is NaN: look for a division by zero or an empty selection."
    if math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
        return None
    return f"{what} is too {'high' if value > expected else 'low'}."


def expect_shape(answer, shape: tuple, *, what: str = "the array") -> str | None:
    """A ready-made check of an array's shape (the shape is part of the question, not the answer)."""
    got = getattr(answer, "shape", None)
    if got is None:
        return f"{what} should be an array with a shape, got a {type(answer).__name__}."
    if tuple(got) != tuple(shape):
        return f"{what} has shape {tuple(got)}, not the shape the exercise asks for."
    return None


# ----------------------------------------------------------------------------- student copies
def _stub(nbformat, label: str):
    cell = nbformat.v4.new_code_cell(STUB_SOURCE)
    cell.metadata["tags"] = [STUB_TAG]
    if label:
        cell.metadata["medlab"] = {"exercise": label}
    return cell


def student_notebook(nb, *, where: str = "notebook"):
    """A student copy of notebook ``nb`` (not modified); returns ``(copy, summary)``.

    What goes:
    - markdown ``{solution}`` blocks (``` or ::: fences); a cell left empty goes with them;
    - everything from a ``{solution-start}`` marker cell to its ``{solution-end}`` marker
      cell, markers included; each such block that held code becomes one stub cell
      ``# your code here`` (tagged ``medlab-stub``);
    - hidden assert cells (code tagged ``remove-cell`` or ``remove-input`` holding an
      ``assert``): they check the text's claims and the solutions, and would reveal answers;
    - every output and execution count.
    The set-up cell (tagged ``medlab-setup``) stays the first code cell; if a notebook has none,
    one is inserted from :func:`medlab.colab.setup_source`. A short note after the title says
    this is a student copy. Raises ``ValueError`` on an unclosed or unopened marker.
    """
    import nbformat

    out = copy.deepcopy(nb)
    cells = []
    summary = {"solutions": 0, "stubs": 0, "hidden_checks": 0}
    inside, block_label, block_has_code, start_index = False, "", False, -1
    for i, cell in enumerate(out.cells):
        src = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        is_md = cell.cell_type == "markdown"
        if is_md and SOLUTION_START.search(src):
            if inside:
                raise ValueError(f"{where}: cell {i} opens a solution while the one opened in "
                                 f"cell {start_index} is not closed ({{solution-end}} missing)")
            if SOLUTION_END.search(src):  # start and end in one cell: nothing in between
                summary["solutions"] += 1
                continue
            inside, block_label, block_has_code, start_index = True, solution_label(src), False, i
            continue
        if is_md and SOLUTION_END.search(src):
            if not inside:
                raise ValueError(f"{where}: cell {i} closes a solution that no "
                                 f"{{solution-start}} cell opened")
            inside = False
            summary["solutions"] += 1
            if block_has_code:
                cells.append(_stub(nbformat, block_label))
                summary["stubs"] += 1
            continue
        if inside:
            block_has_code = block_has_code or cell.cell_type == "code"
            continue
        if is_md:
            stripped, n = SOLUTION_BLOCK.subn("", src)
            if n:
                summary["solutions"] += n
                if not stripped.strip():
                    continue
                cell.source = stripped
        if is_hidden_check(cell):
            summary["hidden_checks"] += 1
            continue
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    if inside:
        raise ValueError(f"{where}: the solution opened in cell {start_index} is never closed "
                         f"(add a markdown cell with {{solution-end}})")

    code = [c for c in cells if c.cell_type == "code"]
    if not code or SETUP_TAG not in cell_tags(code[0]):
        from medlab.colab import setup_source

        setup = nbformat.v4.new_code_cell(setup_source())
        setup.metadata["tags"] = [SETUP_TAG]
        first_code = cells.index(code[0]) if code else len(cells)
        cells.insert(min(first_code, 1 if cells and cells[0].cell_type == "markdown" else 0),
                     setup)
        summary["setup_inserted"] = True
    note = nbformat.v4.new_markdown_cell(STUDENT_NOTE)
    note.metadata["tags"] = ["medlab-student-note"]
    cells.insert(1 if cells and cells[0].cell_type == "markdown" else 0, note)
    out.cells = cells
    out.metadata.setdefault("medlab", {})["student_copy"] = True
    if out.get("nbformat_minor", 0) < 5:  # new cells carry ids, which need format 4.5
        out.nbformat_minor = 5
    seen = set()
    for cell in out.cells:
        if not cell.get("id") or cell["id"] in seen:
            cell["id"] = uuid.uuid4().hex[:8]
        seen.add(cell["id"])
    return out, summary


def _notebooks(book_dir: Path) -> list[Path]:
    skip = {"_build", ".ipynb_checkpoints", ".jupyter_cache"}
    return sorted(p for p in book_dir.rglob("*.ipynb") if not skip & set(p.parts))


def write_student_copies(book_dir: str | Path, out_dir: str | Path) -> dict[Path, dict]:
    """Write the student copy of every notebook under ``book_dir`` into ``out_dir``.

    Paths below ``book_dir`` are kept (``book/02_files.ipynb`` -> ``out/02_files.ipynb``).
    Every copy is validated with nbformat before it is written. Returns a summary per file.
    """
    import nbformat

    book_dir, out_dir = Path(book_dir), Path(out_dir)
    if not book_dir.is_dir():
        raise FileNotFoundError(f"{book_dir}: not a directory of chapter notebooks")
    if out_dir.resolve() == book_dir.resolve():
        raise ValueError(f"{out_dir}: the student copies must not overwrite the book")
    paths = _notebooks(book_dir)
    if not paths:
        raise FileNotFoundError(f"{book_dir}: no .ipynb notebooks found")
    done = {}
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        student, summary = student_notebook(nb, where=str(path))
        nbformat.validate(student)
        target = out_dir / path.relative_to(book_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(student, target)
        done[target] = summary
    return done


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m medlab.teach",
        description="Student copies of the chapters (solutions removed), and otter-grader "
                    "assignments.")
    sub = parser.add_subparsers(dest="command", required=True)
    st = sub.add_parser("student", help="write the student copy of every notebook")
    st.add_argument("book_dir", type=Path, help="directory with the chapter notebooks (book/)")
    st.add_argument("out_dir", type=Path, help="where to write the student copies")
    sub.add_parser("checks", help="list the exercise checks")
    asg = sub.add_parser("assign", help="otter-grader assignments from chapters "
                         "(see medlab.grading)")
    asg.add_argument("chapters", type=Path, nargs="+", help="chapter notebooks (book/NN_*.ipynb)")
    asg.add_argument("out_dir", type=Path, help="where to write master notebooks and otter output")
    asg.add_argument("--points", type=int, default=2,
                     help="points per check (graded) or per manual question (default 2)")
    asg.add_argument("--no-otter", action="store_true",
                     help="write the master notebooks only; do not run otter assign")
    grd = sub.add_parser("grade", help="grade submitted notebooks with otter run (no Docker)")
    grd.add_argument("autograder", type=Path, help="the autograder zip otter assign wrote")
    grd.add_argument("submissions", type=Path, help="a folder of .ipynb submissions (or one)")
    grd.add_argument("csv", type=Path, help="the grade table to write")
    args = parser.parse_args(argv)
    if args.command in ("assign", "grade"):
        from medlab import grading

        try:
            if args.command == "grade":
                for row in grading.grade(args.autograder, args.submissions, args.csv):
                    print(f"{row['submission']}: {row['score']:g} / {row['possible']:g}")
                print(f"wrote {args.csv}")
                return 0
            for chapter in args.chapters:
                s = grading.assign(chapter, args.out_dir, points=args.points,
                                   run_otter=not args.no_otter)
                print(f"{chapter}: {s['questions']} questions, graded checks "
                      f"{', '.join(s['graded']) or 'none'} -> {s['master']}")
                if "autograder" in s:
                    print(f"  student notebook {s['student']}\n  autograder {s['autograder']}")
        except (FileNotFoundError, ValueError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.command == "checks":
        # run as a script this module is __main__; the checks register in medlab.teach
        registry = import_module("medlab.teach")
        for name in sorted(registry.load_all_checks()):
            print(name)
        return 0
    try:
        done = write_student_copies(args.book_dir, args.out_dir)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for target, s in done.items():
        print(f"{target}: {s['solutions']} solutions removed, {s['stubs']} stub cells, "
              f"{s['hidden_checks']} hidden check cells removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
