"""Student copies and exercise checks (medlab.teach), on small notebooks and on the real book."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from medlab import teach
from medlab.colab import setup_source

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
SETUP = setup_source()


def code(source, tags=(), outputs=()):
    cell = new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    cell.outputs = list(outputs)
    return cell


def small_notebook():
    """A chapter in miniature, with every kind of solution the book uses."""
    stdout = new_output("stream", name="stdout", text="42\n")
    return new_notebook(cells=[
        new_markdown_cell("# 9. A chapter\n\nWhy it matters."),
        code(SETUP, tags=["medlab-setup"]),
        code("x = 41 + 1\nprint(x)", outputs=[stdout]),
        code("assert x == 42", tags=["remove-cell"]),
        code("import warnings\nwarnings.simplefilter('ignore')", tags=["remove-cell"]),
        code("1 / 0", tags=["raises-exception"]),
        new_markdown_cell(":::{exercise} Prose\n:label: ch09-ex-prose\nExplain.\n:::"),
        new_markdown_cell(":::{solution} ch09-ex-prose\n:class: dropdown\nSECRET-PROSE.\n:::"),
        new_markdown_cell("```{exercise} Mixed\n:label: ch09-ex-mixed\nAsk.\n```\n\n"
                          "````{solution} ch09-ex-mixed\n:class: dropdown\nSECRET-MIXED\n"
                          "```python\ncode_in_solution()\n```\n````\nText after."),
        new_markdown_cell(":::{exercise} Code\n:label: ch09-ex-code\nWrite it.\n:::"),
        new_markdown_cell("```{solution-start} ch09-ex-code\n:class: dropdown\n```"),
        new_markdown_cell("SECRET-GATED-PROSE"),
        code("secret_one = 1"),
        code("secret_two = 2", outputs=[stdout]),
        new_markdown_cell("```{solution-end}\n```"),
        new_markdown_cell(":::{exercise} Words only, gated\n:label: ch09-ex-words\nSay.\n:::"),
        new_markdown_cell(":::{solution-start} ch09-ex-words\n:class: dropdown\n:::"),
        new_markdown_cell("SECRET-WORDS"),
        new_markdown_cell(":::{solution-end}\n:::"),
        code("import medlab.teach\nassert medlab.teach.check('ch09-x', secret_one)",
             tags=["remove-cell"]),
        new_markdown_cell("## Summary\n- done"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})


def all_text(nb) -> str:
    return "\n".join(c.source for c in nb.cells)


# ----------------------------------------------------------------------------- small notebooks
def test_student_copy_of_a_small_notebook():
    nb = small_notebook()
    before = nbformat.writes(nb)
    student, summary = teach.student_notebook(nb)
    assert nbformat.writes(nb) == before, "the source notebook must not be modified"
    nbformat.validate(student)
    text = all_text(student)
    for secret in ("SECRET", "secret_one", "secret_two", "code_in_solution", "{solution",
                   "assert x == 42", "check('ch09-x'"):
        assert secret not in text, secret
    assert summary == {"solutions": 4, "stubs": 1, "hidden_checks": 2}
    stubs = [c for c in student.cells if c.source == teach.STUB_SOURCE]
    assert len(stubs) == 1 and stubs[0].cell_type == "code"
    assert stubs[0].metadata["medlab"]["exercise"] == "ch09-ex-code"
    # the stub sits where the solution was: after its exercise
    exercise_at = next(i for i, c in enumerate(student.cells) if "ch09-ex-code" in c.source
                       and c.cell_type == "markdown")
    assert student.cells[exercise_at + 1] is stubs[0]
    # what stays: exercises, the mixed cell's own text, hidden set-up, deliberate errors
    for kept in ("ch09-ex-prose", "ch09-ex-mixed", "Text after.", "warnings.simplefilter",
                 "1 / 0", "## Summary"):
        assert kept in text, kept
    code_cells = [c for c in student.cells if c.cell_type == "code"]
    assert code_cells[0].source == SETUP and "medlab-setup" in code_cells[0].metadata["tags"]
    assert all(c.outputs == [] and c.execution_count is None for c in code_cells)
    assert student.metadata["medlab"]["student_copy"] is True
    assert len({c.id for c in student.cells}) == len(student.cells)


def test_a_notebook_without_set_up_cell_gets_one_first():
    nb = new_notebook(cells=[new_markdown_cell("# Title"), code("x = 1")])
    student, summary = teach.student_notebook(nb)
    first = next(c for c in student.cells if c.cell_type == "code")
    assert first.source == SETUP and summary["setup_inserted"]
    nbformat.validate(student)


def test_an_old_format_notebook_stays_valid():
    nb = small_notebook()
    nb.nbformat_minor = 4
    for cell in nb.cells:
        cell.pop("id", None)
    nbformat.validate(nb)
    student, _ = teach.student_notebook(nb)
    nbformat.validate(student)


@pytest.mark.parametrize("cells, message", [
    (["```{solution-start} ch09-a\n```", "x"], "never closed"),
    (["```{solution-end}\n```"], "no {solution-start}"),
    (["```{solution-start} a\n```", "```{solution-start} b\n```", "```{solution-end}\n```"],
     "not closed"),
])
def test_broken_markers_are_errors(cells, message):
    nb = new_notebook(cells=[new_markdown_cell(s) for s in cells])
    with pytest.raises(ValueError, match=re.escape(message)):
        teach.student_notebook(nb, where="nb.ipynb")


def test_has_assert():
    assert teach.has_assert("x = 1\nassert x")
    assert teach.has_assert("%time y = 2\nassert y == 2")
    assert not teach.has_assert("x = 'assert'\nprint(x)")
    assert teach.has_assert("assert (")  # not valid Python: fall back to the text


def test_write_student_copies_and_command_line(tmp_path, capsys):
    book, out = tmp_path / "book", tmp_path / "out"
    (book / "sub").mkdir(parents=True)
    nbformat.write(small_notebook(), book / "09_small.ipynb")
    nbformat.write(small_notebook(), book / "sub" / "10_other.ipynb")
    (book / "_build").mkdir()
    nbformat.write(small_notebook(), book / "_build" / "skip.ipynb")
    assert teach.main(["student", str(book), str(out)]) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.ipynb"))
    assert written == ["09_small.ipynb", "sub/10_other.ipynb"]
    assert "4 solutions removed, 1 stub cells" in capsys.readouterr().out
    nbformat.validate(nbformat.read(out / "09_small.ipynb", as_version=4))
    assert teach.main(["student", str(tmp_path / "nowhere"), str(out)]) == 1
    assert "not a directory" in capsys.readouterr().err
    with pytest.raises(ValueError, match="overwrite the book"):
        teach.write_student_copies(book, book)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .ipynb"):
        teach.write_student_copies(tmp_path / "empty", out)


# ----------------------------------------------------------------------------- the real book
def book_notebooks() -> list[Path]:
    skip = {"_build", ".ipynb_checkpoints"}
    return sorted(p for p in BOOK.rglob("*.ipynb") if not skip & set(p.parts))


def solution_code(nb) -> list[str]:
    """Sources of the code cells between solution markers in the original notebook."""
    found, inside = [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "{solution-start}" in cell.source:
            inside = True
        elif cell.cell_type == "markdown" and "{solution-end}" in cell.source:
            inside = False
        elif inside and cell.cell_type == "code" and cell.source.strip():
            found.append(cell.source)
    return found


@pytest.mark.parametrize("path", book_notebooks(), ids=lambda p: p.name)
def test_student_copy_of_the_book(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    student, summary = teach.student_notebook(nb, where=path.name)
    nbformat.validate(student)
    target = tmp_path / path.name
    nbformat.write(student, target)
    student = nbformat.read(target, as_version=4)
    nbformat.validate(student)
    # no solution survives: neither its directive, nor its code, nor the asserts that check it
    for cell in student.cells:
        assert "{solution" not in cell.source, f"{path.name}: solution text left: {cell.source[:80]}"
        assert not teach.is_hidden_check(cell), f"{path.name}: hidden check left"
    student_sources = {c.source for c in student.cells}
    for source in solution_code(nb):
        assert source not in student_sources, f"{path.name}: solution code left: {source[:80]}"
    # exercises stay, each code solution became a stub, the set-up cell comes first
    assert all_text(student).count("{exercise") == all_text(nb).count("{exercise")
    n_stubs = sum(c.source == teach.STUB_SOURCE for c in student.cells)
    assert n_stubs == summary["stubs"]
    first = next(c for c in student.cells if c.cell_type == "code")
    assert first.source == SETUP and "medlab-setup" in first.metadata.get("tags", [])
    assert "setup_inserted" not in summary, f"{path.name} has no set-up cell"
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


# ----------------------------------------------------------------------------- checks
@pytest.fixture
def scratch_checks():
    """Register throw-away checks, and forget them afterwards."""
    before = dict(teach._CHECKS), dict(teach._EXAMPLES)
    yield
    teach._CHECKS.clear()
    teach._CHECKS.update(before[0])
    teach._EXAMPLES.clear()
    teach._EXAMPLES.update(before[1])


def test_check_says_right_and_wrong_in_one_line(scratch_checks, capsys):
    @teach.exercise_check("ch99-answer", right=[42], wrong=[41, "x"])
    def _answer(a):
        return teach.expect_number(a, 42, what="the answer", rtol=0)

    assert teach.check("ch99-answer", 42) is True
    assert capsys.readouterr().out == "✓ ch99-answer: correct.\n"
    assert teach.check("ch99-answer", 41) is False
    out = capsys.readouterr().out
    assert out == "✗ ch99-answer: the answer is too low.\n" and "42" not in out
    assert teach.examples("ch99-answer") == ([42], [41, "x"])


def test_check_hides_what_an_assertion_error_says(scratch_checks, capsys):
    import numpy as np

    @teach.exercise_check("ch99-array")
    def _array(a):
        np.testing.assert_allclose(a, [0.123456, 0.654321])

    assert teach.check("ch99-array", [0.0, 0.0]) is False
    out = capsys.readouterr().out
    assert "AssertionError" in out and "0.123" not in out and out.count("\n") == 1


def test_check_reports_a_malformed_answer_and_collapses_lines(scratch_checks):
    @teach.exercise_check("ch99-form")
    def _form(a):
        if not isinstance(a, int):
            raise TypeError(f"expected an int, got {type(a).__name__}\nmore detail")
        return "wrong,\nsaid on\ntwo lines."

    assert teach.feedback("ch99-form", "x") == ("the answer could not be checked: "
                                                "expected an int, got str.")
    assert teach.feedback("ch99-form", 3) == "wrong, said on two lines."


def test_a_nan_answer_is_always_wrong(scratch_checks):
    import numpy as np

    @teach.exercise_check("ch99-lenient")
    def _lenient(a):
        if abs(float(a) - 1.0) > 0.1:  # NaN compares false: this alone would accept it
            return "the value is off."

    for nan in (float("nan"), np.float32("nan"), np.array(np.nan), np.array([np.nan])):
        assert teach.feedback("ch99-lenient", nan).startswith("the answer is NaN")
    assert teach.feedback("ch99-lenient", 1.0) is None
    assert teach.feedback("ch99-lenient", np.array([np.nan, 1.0])) is not None  # the check's say


def test_check_errors():
    with pytest.raises(ValueError, match="ch01-f1"):
        teach.exercise_check("nohyphen")
    with pytest.raises(KeyError, match="no check named 'ch98-nothing'"):
        teach.check("ch98-nothing", 1)


def test_expect_number_and_shape():
    import numpy as np

    assert teach.expect_number(1.01, 1.0, rtol=0.02) is None
    assert teach.expect_number(2, 1.0) == "the value is too high."
    assert teach.expect_number("abc", 1.0, what="the mean") == (
        "the mean should be a single number, got a str.")
    assert "NaN" in teach.expect_number(float("nan"), 1.0)
    assert teach.expect_shape(np.zeros((2, 3)), (2, 3)) is None
    assert "shape (3,)" in teach.expect_shape(np.zeros(3), (2, 3))
    assert "got a list" in teach.expect_shape([1], (1,))


def test_as_number_reads_one_finite_number_and_names_the_answer():
    import numpy as np

    assert teach.as_number("0.25", "F1") == 0.25
    assert teach.as_number(np.float32(2.0)) == 2.0 and type(teach.as_number(3)) is float
    with pytest.raises(ValueError, match=r"^F1 should be a single number, got str$"):
        teach.as_number("abc", "F1")
    with pytest.raises(ValueError, match=r"^the length should be a single number, got list$"):
        teach.as_number([1, 2], "the length")
    for bad in (float("inf"), -np.inf, float("nan")):
        with pytest.raises(ValueError, match=r"^the value should be finite$"):
            teach.as_number(bad)
    # the chapters' checks report it as the reason (ch01 and ch04 use it)
    assert teach.feedback("ch04-contrast", "abc") == (
        "the answer could not be checked: the contrast should be a single number, got str.")
    assert teach.feedback("ch01-f1", float("inf")) == (
        "the answer could not be checked: F1 should be finite.")


GARBAGE = [None, "not an answer", object(), float("nan")]
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def real_checks() -> list[str]:
    return sorted(teach.load_all_checks())


def one_sentence(message: str) -> bool:
    return "\n" not in message and len(message) <= 240 and len(SENTENCE_END.findall(message)) <= 1


@pytest.mark.parametrize("name", real_checks())
def test_every_check_rejects_garbage_in_one_sentence(name, capsys):
    for answer in GARBAGE:
        assert teach.check(name, answer) is False, f"{name} accepted {answer!r}"
        out = capsys.readouterr().out
        assert out.startswith(f"✗ {name}: ") and out.count("\n") == 1, out
        assert one_sentence(out.split(": ", 1)[1].strip()), out


def _spellings(value) -> set[str]:
    if isinstance(value, float):
        return {repr(value), f"{value:.2f}", f"{value:.3f}", f"{value:.4f}"}
    if isinstance(value, int | str):
        return {str(value)}
    return set()


@pytest.mark.parametrize("name", [n for n in real_checks() if any(teach.examples(n))])
def test_registered_examples_of_every_check(name, capsys):
    right, wrong = teach.examples(name)
    for answer in right:
        assert teach.check(name, answer) is True, f"{name}: right answer {answer!r} rejected"
    capsys.readouterr()
    spoilers = set().union(*(_spellings(r) for r in right)) if right else set()
    for answer in wrong:
        assert teach.check(name, answer) is False, f"{name}: wrong answer {answer!r} accepted"
        message = capsys.readouterr().out.split(": ", 1)[1].strip()
        assert one_sentence(message), message
        leaked = {s for s in spoilers if len(s) > 1 and s in message}
        assert not leaked, f"{name}: feedback {message!r} reveals {leaked}"
