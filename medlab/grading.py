"""Graded assignments from the chapters: otter-grader master notebooks (the instructors' page).

``python -m medlab.teach assign book/01_concepts.ipynb assignments/`` turns a chapter into an
`otter-grader <https://otter-grader.readthedocs.io>`_ *master notebook* (Otter Assign's v1
format), then runs ``otter assign`` on it, which writes the student notebook and the
autograder (``autograder/<name>-autograder_*.zip``) that ``otter run`` and ``otter grade``
(Docker, Gradescope) use. The book's own sphinx-exercise markup stays the one source:

- every ``{exercise}`` becomes a question, its text the prompt;
- an exercise whose text shows ``medlab.teach.check("chNN-name", answer)`` is graded
  automatically: a **public** test (the book's check, which students can run while they work)
  and a **hidden** test comparing ``answer`` with the value of the instructor's solution,
  computed when the assignment is made. The hidden values live only in the master notebook and
  the autograder zip, not in the ``medlab`` package;
- an exercise without a check is a manually graded question, its solution (code or prose) in
  the master notebook for the grader;
- the chapter's hidden assert cells (they check the text's claims and reveal answers) go.

``python -m medlab.teach grade autograder.zip submissions/ grades.csv`` runs ``otter run`` on
each submitted notebook (no Docker needed) and writes one row per student.
"""

from __future__ import annotations

import ast
import copy
import csv
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

from medlab.markup import (
    SETUP_TAG,
    SOLUTION_BLOCK,
    SOLUTION_END,
    SOLUTION_START,
    cell_tags,
    is_hidden_check,
    solution_label,
)

_EXERCISE = re.compile(
    r"^[ \t]*(?P<fence>:{3,}|`{3,})[ \t]*\{exercise\}[ \t]*(?P<title>[^\n]*)\n"
    r"(?P<body>.*?)^[ \t]*(?P=fence)[ \t]*$\n?", re.MULTILINE | re.DOTALL)
_LABEL = re.compile(r"^:label:[ \t]*(\S+)[ \t]*\n?", re.MULTILINE)
_OPTION = re.compile(r"^:[\w-]+:.*\n?", re.MULTILINE)
_CHECK_CALL = re.compile(r"medlab\.teach\.check\(\s*[\"'](ch\d\d-[\w-]+)[\"']\s*,\s*")
_SOLUTION_FOR = re.compile(r"^[ \t]*(`{3,}|:{3,})[ \t]*\{solution\}[ \t]*(\S+)", re.MULTILINE)


def _src(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _call_argument(text: str, start: int) -> str:
    """The second argument of a ``check(...)`` call whose first argument ends at ``start``."""
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return text[start:i].strip()
            depth -= 1
        i += 1
    raise ValueError(f"unclosed medlab.teach.check( call: {text[start - 40:start + 40]!r}")


def check_calls(text: str) -> list[tuple[str, str]]:
    """``[(check name, answer expression)]`` of every ``medlab.teach.check`` call in ``text``."""
    return [(m.group(1), _call_argument(text, m.end())) for m in _CHECK_CALL.finditer(text)]


def _assigned_names(code: str) -> set[str]:
    try:
        tree = ast.parse("\n".join(ln for ln in code.splitlines()
                                   if not ln.lstrip().startswith(("%", "!"))))
    except SyntaxError:
        return set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names |= {n.name for n in ast.walk(tree)
              if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    names |= {(a.asname or a.name).split(".")[0] for n in ast.walk(tree)
              if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names}
    return names


def _target_names(expr: str) -> set[str] | None:
    """The names of ``expr`` when it can be assigned to (``x`` or ``a, b``), else None."""
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Tuple) and all(isinstance(e, ast.Name) for e in node.elts):
        return {e.id for e in node.elts}
    return None


def _positive_checks(nb) -> dict[str, str]:
    """Check name -> the expression the chapter's hidden assert cells say is right."""
    found = {}
    for cell in nb.cells:
        if not is_hidden_check(cell):
            continue
        src = _src(cell)
        for m in re.finditer(r"^[ \t]*assert[ \t]+(?=medlab\.teach\.check\()", src, re.MULTILINE):
            name, expr = check_calls(src[m.end():])[0]  # the call may span several lines
            found.setdefault(name, " ".join(expr.split()))
    return found


def _new(nbformat, kind: str, source: str, **metadata):
    cell = {"raw": nbformat.v4.new_raw_cell, "markdown": nbformat.v4.new_markdown_cell,
            "code": nbformat.v4.new_code_cell}[kind](source)
    cell.metadata.update(metadata)
    return cell


def _yaml_block(header: str, config: dict) -> str:
    import yaml

    return f"# {header}\n" + yaml.safe_dump(config, sort_keys=False, allow_unicode=True).strip()


def _exercises(nb, where: str) -> list[dict]:
    """Each exercise of ``nb`` with its prompt, checks and solution, in reading order."""
    cells = nb.cells
    out, i = [], 0
    while i < len(cells):
        cell, src = cells[i], _src(cells[i])
        if cell.cell_type != "markdown" or not _EXERCISE.search(src):
            i += 1
            continue
        for m in _EXERCISE.finditer(src):
            body = m.group("body")
            label_m = _LABEL.search(body)
            if not label_m:
                raise ValueError(f"{where}: exercise {m.group('title')!r} has no :label:")
            out.append({"cell": i, "label": label_m.group(1), "title": m.group("title").strip(),
                        "text": _OPTION.sub("", body).strip(), "checks": check_calls(body),
                        "code": [], "prose": []})
        i += 1
    # solutions: {solution-start} LABEL ... {solution-end} blocks and {solution} LABEL blocks
    by_label = {ex["label"]: ex for ex in out}
    inside = None
    for j, cell in enumerate(cells):
        src = _src(cell)
        if cell.cell_type == "markdown" and SOLUTION_START.search(src):
            inside = by_label.get(solution_label(src))
            if inside is None:
                raise ValueError(f"{where}: cell {j} opens a solution for {solution_label(src)!r}, "
                                 "which is no exercise's label")
            continue
        if cell.cell_type == "markdown" and SOLUTION_END.search(src):
            inside = None
            continue
        if inside is not None:
            (inside["code"] if cell.cell_type == "code" else inside["prose"]).append(src)
            continue
        if cell.cell_type == "markdown":
            for block in SOLUTION_BLOCK.finditer(src):
                m = _SOLUTION_FOR.search(block.group(0))
                if m and m.group(2) in by_label:
                    text = _OPTION.sub("", block.group(0).split("\n", 1)[1])
                    text = re.sub(r"^[ \t]*(`{3,}|:{3,})[ \t]*$", "", text, flags=re.MULTILINE)
                    by_label[m.group(2)]["prose"].append(text.strip())
    return out


def master_notebook(nb, *, name: str, requirements: list[str], points: int = 2,
                    where: str = "notebook"):
    """The otter master notebook of chapter ``nb`` (not modified) and its graded answers.

    Returns ``(master, answers)``: ``answers`` is ``[(check name, answer expression)]``, the
    expressions whose solution values :func:`reference_values` computes for the hidden tests.
    The hidden tests hold a placeholder until :func:`fill_hidden_tests` writes the values.
    Raises ``ValueError`` on an exercise without a label or a solution for no exercise.
    """
    import nbformat

    exercises = _exercises(nb, where)
    if not exercises:
        raise ValueError(f"{where}: no {{exercise}} blocks to turn into questions")
    right = _positive_checks(nb)
    by_cell: dict[int, list[dict]] = {}
    for ex in exercises:
        by_cell.setdefault(ex["cell"], []).append(ex)

    config = {
        "name": name,
        "requirements": requirements,
        "overwrite_requirements": False,
        "init_cell": False,  # ours follows the set-up cell, which installs otter on Colab
        "export_cell": False,
        "check_all_cell": False,
        "generate": {"pdf": False, "filtering": False},
        "solutions_pdf": False,
        "template_pdf": False,
        "run_tests": True,
        "tests": {"files": False, "ok_format": True},
    }
    cells = [_new(nbformat, "raw", _yaml_block("ASSIGNMENT CONFIG", config))]
    answers: list[tuple[str, str]] = []
    inside = False  # within a {solution-start} ... {solution-end} block (it goes with its question)
    for j, cell in enumerate(nb.cells):
        src = _src(cell)
        if cell.cell_type == "markdown" and SOLUTION_START.search(src):
            inside = not SOLUTION_END.search(src)
            continue
        if cell.cell_type == "markdown" and SOLUTION_END.search(src):
            inside = False
            continue
        if inside or is_hidden_check(cell):
            continue
        if j in by_cell:
            rest = SOLUTION_BLOCK.sub("", _EXERCISE.sub("\n", src)).strip()
            if rest:
                cells.append(_new(nbformat, "markdown", rest))
            for ex in by_cell[j]:
                cells.extend(_question(nbformat, ex, right, points, answers))
            continue
        if cell.cell_type == "markdown":
            stripped = SOLUTION_BLOCK.sub("", src)
            if not stripped.strip():
                continue
            cell = copy.deepcopy(cell)
            cell.source = stripped
        else:
            cell = copy.deepcopy(cell)
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
        if cell.cell_type == "code" and SETUP_TAG in cell_tags(cell):
            cells.append(_new(nbformat, "code", "# Initialize Otter (the grader of this "
                              f"assignment)\nimport otter\n\ngrader = otter.Notebook(\"{name}.ipynb\")"))
    master = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(nb.metadata))
    master.nbformat_minor = max(nb.get("nbformat_minor", 5), 5)
    for cell in master.cells:
        cell["id"] = uuid.uuid4().hex[:8]
    return master, answers


HIDDEN_PLACEHOLDER = "__MEDLAB_REFERENCE__"


def _question(nbformat, ex: dict, right: dict, points: int, answers: list) -> list:
    qname = ex["label"].replace("-", "_")
    graded = bool(ex["checks"])
    header = {"name": qname, "points": points * len(ex["checks"]) if graded else points}
    if not graded:
        header["manual"] = True
    cells = [_new(nbformat, "raw", _yaml_block("BEGIN QUESTION", header)),
             _new(nbformat, "markdown", f"**Exercise ({ex['label']}): {ex['title']}**\n\n"
                                        f"{ex['text']}")]
    solution_code = "\n".join(ex["code"])
    cells.append(_new(nbformat, "raw", "# BEGIN SOLUTION"))
    if graded:
        lines = [ln for ln in solution_code.splitlines()
                 if not re.match(r"\s*(ok\s*=\s*)?medlab\.teach\.check\(", ln)]
        assigned = _assigned_names("\n".join(lines))
        extra = []
        for check, placeholder in ex["checks"]:
            targets = _target_names(placeholder)
            solved_by = [e for c, e in check_calls(solution_code) if c == check]
            reference = solved_by[0] if solved_by else right.get(check)
            if targets and not targets <= assigned:
                if reference is None or reference == placeholder:
                    raise ValueError(f"exercise {ex['label']}: the solution never defines "
                                     f"{placeholder!r} and no hidden assert checks {check!r}")
                extra.append(f"{placeholder} = {reference}")
            answers.append((check, placeholder))
        body = "\n".join(lines).strip()
        code = ("# BEGIN SOLUTION\n" + body + "\n# END SOLUTION\n" if body else "")
        code += "\n".join(f"{ln}  # SOLUTION" for ln in extra)
        cells.append(_new(nbformat, "code", code.strip()))
    else:
        for code in ex["code"]:
            cells.append(_new(nbformat, "code", f"# BEGIN SOLUTION\n{code}\n# END SOLUTION"))
        prose = "\n\n".join(p for p in ex["prose"] if p.strip())
        if prose or not ex["code"]:
            cells.append(_new(nbformat, "markdown", prose or "_(answer in words)_"))
    cells.append(_new(nbformat, "raw", "# END SOLUTION"))
    if graded:
        cells.append(_new(nbformat, "raw", "# BEGIN TESTS"))
        for check, placeholder in ex["checks"]:
            cells.append(_new(nbformat, "code",
                              f"import medlab.teach\n"
                              f"problem = medlab.teach.feedback({check!r}, {placeholder})\n"
                              f"assert problem is None, problem"))
            cells.append(_new(nbformat, "code",
                              f"# HIDDEN\nfrom medlab.grading import same_answer\n"
                              f"assert same_answer({placeholder}, {HIDDEN_PLACEHOLDER}), "
                              f"{check!r}"))
        cells.append(_new(nbformat, "raw", "# END TESTS"))
    cells.append(_new(nbformat, "raw", "# END QUESTION"))
    return cells


def _plain(value):
    """An answer as JSON: numbers, strings and (nested) lists of them."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    raise TypeError(f"an answer of type {type(value).__name__} cannot be stored in a test")


NOT_A_VALUE = "__medlab: not a value__"


def _reference(value):
    """An answer as JSON, or :data:`NOT_A_VALUE` for answers that are not data (a function)."""
    try:
        return _plain(value)
    except TypeError:
        return NOT_A_VALUE


def same_answer(answer, reference, *, rtol: float = 1e-3, atol: float = 1e-6) -> bool:
    """True when ``answer`` equals ``reference`` (numbers within ``rtol``/``atol``; strings
    case-insensitively; a string and a sequence of letters compare letter by letter)."""
    import numpy as np

    try:
        answer = _plain(answer)
    except TypeError:
        return False
    if isinstance(reference, str) or isinstance(answer, str):
        def letters(v):
            return "".join(str(x) for x in v).upper() if isinstance(v, list) else str(v).upper()
        return letters(answer) == letters(reference)
    try:
        a, r = np.asarray(answer, dtype=float), np.asarray(reference, dtype=float)
    except (TypeError, ValueError):
        return answer == reference
    return a.shape == r.shape and bool(np.allclose(a, r, rtol=rtol, atol=atol))


def solution_notebook(master):
    """The master notebook as the instructor's solution runs it (without the raw cells, the
    hidden tests and the grader, which needs the notebook's file)."""
    import nbformat

    cells = [copy.deepcopy(c) for c in master.cells if c.cell_type != "raw"
             and HIDDEN_PLACEHOLDER not in _src(c) and "otter.Notebook(" not in _src(c)]
    nb = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(master.metadata))
    nb.nbformat_minor = master.nbformat_minor
    return nb


def reference_values(master, answers, *, cwd: Path, timeout: int = 900) -> dict[str, object]:
    """Run the instructor's solution and return each graded answer's value (check name ->
    value), read from one cell appended at the end."""
    import nbformat
    from nbclient import NotebookClient

    nb = solution_notebook(master)
    probe = "import json as _json\nfrom medlab.grading import _reference as _p\nprint(_json.dumps({"
    probe += ", ".join(f"{check!r}: _p({expr})" for check, expr in answers) + "}))"
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    for cell in nb.cells:
        cell.setdefault("id", uuid.uuid4().hex[:8])
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    return json.loads(out.strip().splitlines()[-1])


def fill_hidden_tests(master, values: dict[str, object]):
    """Write the solution values into the hidden tests of ``master`` (in place). An answer that
    is not data (a function) is checked by the chapter's check instead, hidden."""
    for cell in master.cells:
        src = _src(cell)
        if HIDDEN_PLACEHOLDER in src:
            check = re.search(r"\), '([^']+)'\s*$", src).group(1)
            if values[check] == NOT_A_VALUE:  # a function, say: the hidden test runs the check
                answer = re.search(r"same_answer\((.*), " + HIDDEN_PLACEHOLDER, src).group(1)
                cell.source = (f"# HIDDEN\nimport medlab.teach\n"
                               f"assert medlab.teach.feedback({check!r}, {answer}) is None")
            else:
                cell.source = src.replace(HIDDEN_PLACEHOLDER, repr(values[check]))
    return master


def requirements_for_autograder() -> list[str]:
    """What the autograder installs: the book's medlab release (see ``_config.yml``)."""
    from medlab import __version__
    from medlab.colab import repository_url

    return [f"medlab[book] @ git+{repository_url()}@v{__version__}"]


def assign(chapter: str | Path, out_dir: str | Path, *, points: int = 2, run_otter: bool = True,
           run_tests: bool = False) -> dict:
    """Write ``out_dir/<stem>/master.ipynb`` for one chapter and, with ``run_otter``, run
    ``otter assign`` on it into ``out_dir/<stem>/dist``. Returns a summary dict."""
    import nbformat

    chapter, out_dir = Path(chapter), Path(out_dir)
    if not chapter.is_file():
        raise FileNotFoundError(f"{chapter}: no such chapter notebook")
    nb = nbformat.read(chapter, as_version=4)
    name = re.sub(r"[^A-Za-z0-9_]", "_", chapter.stem)
    master, answers = master_notebook(nb, name=name, requirements=requirements_for_autograder(),
                                      points=points, where=str(chapter))
    here = out_dir / chapter.stem
    here.mkdir(parents=True, exist_ok=True)
    values = reference_values(master, answers, cwd=here) if answers else {}
    fill_hidden_tests(master, values)
    if not run_tests:
        master.cells[0].source = master.cells[0].source.replace("run_tests: true",
                                                                "run_tests: false")
    nbformat.validate(master)
    master_path = here / f"{name}.ipynb"
    nbformat.write(master, master_path)
    summary = {"master": master_path, "graded": [c for c, _ in answers], "values": values,
               "questions": sum("# BEGIN QUESTION" in _src(c) for c in master.cells)}
    if run_otter:
        dist = here / "dist"
        proc = subprocess.run([sys.executable, "-m", "otter", "assign", master_path.name, "dist"],
                              cwd=here, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"otter assign failed on {master_path}:\n{proc.stdout}\n{proc.stderr}")
        summary["student"] = dist / "student" / f"{name}.ipynb"
        summary["autograder"] = sorted((dist / "autograder").glob("*-autograder_*.zip"))[-1]
        summary["solution"] = dist / "autograder" / f"{name}.ipynb"
    return summary


def run_submission(autograder: str | Path, submission: str | Path, out_dir: str | Path) -> dict:
    """Grade one submitted notebook with ``otter run`` (no Docker); returns
    ``{"score": .., "possible": .., "tests": {question: score}}``."""
    autograder, submission, out_dir = Path(autograder), Path(submission), Path(out_dir)
    for path, what in ((autograder, "autograder zip"), (submission, "submitted notebook")):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such {what}")
    out_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "otter", "run", "--no-logo", "-a",
                           str(autograder.resolve()), "-o", str(out_dir.resolve()),
                           str(submission.resolve())], capture_output=True, text=True)
    results = out_dir / "results.json"
    if proc.returncode != 0 or not results.exists():
        raise RuntimeError(f"otter run failed on {submission}:\n{proc.stdout}\n{proc.stderr}")
    data = json.loads(results.read_text())
    # otter's results: one entry per question with score/max_score, plus a "Public Tests"
    # summary without points
    tests = {t["name"]: float(t.get("score") or 0) for t in data.get("tests", [])
             if t.get("max_score") is not None}
    possible = sum(float(t["max_score"]) for t in data.get("tests", [])
                   if t.get("max_score") is not None)
    return {"score": sum(tests.values()), "possible": possible, "tests": tests}


def grade(autograder: str | Path, submissions: str | Path, csv_path: str | Path) -> list[dict]:
    """Grade every ``*.ipynb`` in ``submissions`` and write one CSV row per file."""
    submissions, csv_path = Path(submissions), Path(csv_path)
    files = sorted(submissions.glob("*.ipynb")) if submissions.is_dir() else [submissions]
    if not files:
        raise FileNotFoundError(f"{submissions}: no submitted .ipynb notebooks")
    rows = []
    for path in files:
        result = run_submission(autograder, path, csv_path.parent / "otter_runs" / path.stem)
        rows.append({"submission": path.name, "score": result["score"],
                     "possible": result["possible"], **result["tests"]})
    fields = list(dict.fromkeys(k for row in rows for k in row))
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return rows


__all__ = ["assign", "check_calls", "fill_hidden_tests", "grade", "master_notebook",
           "reference_values", "run_submission", "same_answer", "solution_notebook"]
