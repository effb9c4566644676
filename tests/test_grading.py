"""Tests of medlab.grading: otter-grader master notebooks from the book's exercise markup, and
the round trip otter assign -> otter run on a solved and an unsolved notebook."""

import csv
import shutil
from pathlib import Path

import nbformat
import pytest

from medlab import grading

ROOT = Path(__file__).resolve().parent.parent


def _chapter(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99. A chapter")]
    setup = nbformat.v4.new_code_cell("import medlab\nSEED = 0")
    setup.metadata["tags"] = ["medlab-setup"]
    nb.cells.append(setup)
    for kind, src, *tags in cells:
        cell = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(src)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    return nb


EXERCISES = [
    ("code", "data = [1, 2, 3]"),
    ("markdown", ":::{exercise} Sum it\n:label: ch99-ex-sum\nAdd the numbers and check with\n"
                 "`medlab.teach.check(\"ch99-sum\", total)`.\n:::"),
    ("markdown", "```{solution-start} ch99-ex-sum\n:class: dropdown\n```"),
    ("code", "total = sum(data)\nok = medlab.teach.check(\"ch99-sum\", total)"),
    ("markdown", "```{solution-end}\n```"),
    ("markdown", ":::{exercise} Why\n:label: ch99-ex-why\nSay why in one sentence.\n:::\n\n"
                 ":::{solution} ch99-ex-why\n:class: dropdown\nBecause it is secret-answer.\n:::"),
    ("markdown", ":::{exercise} By hand\n:label: ch99-ex-hand\nCompute 2/8 by hand and check "
                 "with `medlab.teach.check(\"ch99-hand\", your_value)`.\n:::"),
    ("code", "assert medlab.teach.check(\"ch99-hand\", 2 / 8)\nassert total == 6", "remove-cell"),
]


def test_master_notebook_turns_exercises_into_questions():
    nb = _chapter(EXERCISES)
    master, answers = grading.master_notebook(nb, name="ch99", requirements=["medlab"])
    text = "\n".join(c.source for c in master.cells)
    assert master.cells[0].cell_type == "raw" and "# ASSIGNMENT CONFIG" in master.cells[0].source
    assert text.count("# BEGIN QUESTION") == 3 and text.count("# END QUESTION") == 3
    assert answers == [("ch99-sum", "total"), ("ch99-hand", "your_value")]
    # the solution of the graded exercise is masked, the by-hand answer comes from the assert
    assert "# BEGIN SOLUTION\ntotal = sum(data)\n# END SOLUTION" in text
    assert "your_value = 2 / 8  # SOLUTION" in text
    # a question without a check is graded by hand and keeps its prose solution for the grader
    assert "manual: true" in text and "Because it is secret-answer." in text
    # public test = the book's check; hidden test = the value, filled in later
    assert "medlab.teach.feedback('ch99-sum', total)" in text
    assert text.count(grading.HIDDEN_PLACEHOLDER) == 2
    # the chapter's hidden asserts and the sphinx markers are gone; the grader follows set-up
    assert "assert total == 6" not in text and "solution-start" not in text
    setup = next(i for i, c in enumerate(master.cells) if "medlab-setup" in c.metadata.get("tags", []))
    assert "otter.Notebook(\"ch99.ipynb\")" in master.cells[setup + 1].source
    grading.fill_hidden_tests(master, {"ch99-sum": 6, "ch99-hand": 0.25})
    text = "\n".join(c.source for c in master.cells)
    assert "same_answer(total, 6)" in text and "same_answer(your_value, 0.25)" in text
    nbformat.validate(master)


def test_master_notebook_errors_name_the_problem():
    with pytest.raises(ValueError, match="no {exercise} blocks"):
        grading.master_notebook(_chapter([("code", "x = 1")]), name="x", requirements=[])
    with pytest.raises(ValueError, match="has no :label:"):
        grading.master_notebook(_chapter([("markdown", ":::{exercise} T\nText.\n:::")]),
                                name="x", requirements=[])
    orphan = [("markdown", ":::{exercise} T\n:label: ch99-ex-a\nText.\n:::"),
              ("markdown", "```{solution-start} ch99-ex-b\n```"), ("code", "y = 2"),
              ("markdown", "```{solution-end}\n```")]
    with pytest.raises(ValueError, match="ch99-ex-b"):
        grading.master_notebook(_chapter(orphan), name="x", requirements=[])
    undefined = [("markdown", ":::{exercise} T\n:label: ch99-ex-a\n"
                              "`medlab.teach.check(\"ch99-a\", answer)`\n:::")]
    with pytest.raises(ValueError, match="never defines 'answer'"):
        grading.master_notebook(_chapter(undefined), name="x", requirements=[])


def test_a_function_answer_is_graded_by_its_check_in_the_hidden_test():
    cells = [("markdown", ":::{exercise} Split\n:label: ch99-ex-f\n"
                          "`medlab.teach.check(\"ch99-f\", my_split)`\n:::"),
             ("markdown", "```{solution-start} ch99-ex-f\n```"),
             ("code", "def my_split(n):\n    return n // 2"),
             ("markdown", "```{solution-end}\n```")]
    master, answers = grading.master_notebook(_chapter(cells), name="x", requirements=[])
    assert answers == [("ch99-f", "my_split")]
    grading.fill_hidden_tests(master, {"ch99-f": grading._reference(lambda n: n)})
    hidden = [c.source for c in master.cells if c.source.startswith("# HIDDEN")]
    assert hidden == ["# HIDDEN\nimport medlab.teach\n"
                      "assert medlab.teach.feedback('ch99-f', my_split) is None"]


@pytest.mark.parametrize("chapter", sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb")))
def test_every_chapter_makes_a_master_notebook(chapter):
    nb = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)
    master, answers = grading.master_notebook(nb, name=chapter, requirements=["medlab"])
    nbformat.validate(master)
    assert sum("# BEGIN QUESTION" in c.source for c in master.cells) >= 3
    assert answers, f"{chapter}: no exercise is graded automatically"


@pytest.mark.parametrize(("answer", "reference", "same"), [
    (0.6, 0.6, True), (0.6004, 0.6, True), (0.61, 0.6, False), ((1, 2), [1, 2], True),
    ((1, 2), [1, 2, 3], False), (("L", "A", "S"), "LAS", True), ("las", "LAS", True),
    ("RAS", "LAS", False), (object(), 1.0, False), (float("nan"), 0.6, False),
])
def test_same_answer(answer, reference, same):
    assert grading.same_answer(answer, reference) is same


def test_check_calls_reads_nested_arguments():
    text = 'x\nmedlab.teach.check("ch02-hu-range", (low, high)) and medlab.teach.check("ch11-ece", f(a, [1, 2]))'
    assert grading.check_calls(text) == [("ch02-hu-range", "(low, high)"),
                                         ("ch11-ece", "f(a, [1, 2])")]


def test_grade_refuses_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no submitted .ipynb"):
        grading.grade(tmp_path / "a.zip", tmp_path, tmp_path / "g.csv")
    (tmp_path / "s.ipynb").write_text("{}")
    with pytest.raises(FileNotFoundError, match="no such autograder zip"):
        grading.grade(tmp_path / "a.zip", tmp_path, tmp_path / "g.csv")


# The round trip on two real chapters: a few notebook executions each (about a minute on 2 cores).
@pytest.mark.parametrize("chapter", ["01_concepts", "04_features"])
def test_otter_round_trip_scores_solved_above_unsolved(chapter, tmp_path, monkeypatch):
    pytest.importorskip("otter")
    monkeypatch.setenv("MEDLAB_PROGRESS", "text")
    monkeypatch.setenv("MEDLAB_STATIC_WIDGETS", "1")
    summary = grading.assign(ROOT / "book" / f"{chapter}.ipynb", tmp_path / "out")
    assert summary["graded"], f"{chapter}: no exercise has a check to grade"
    for key in ("student", "autograder", "solution"):
        assert summary[key].is_file(), key
    # the hidden values are in the autograder, not in what students get
    student = summary["student"].read_text()
    assert "same_answer" not in student and "# BEGIN SOLUTION" not in student
    subs = tmp_path / "submissions"
    subs.mkdir()
    shutil.copy(summary["solution"], subs / "solved.ipynb")
    shutil.copy(summary["student"], subs / "unsolved.ipynb")
    rows = grading.grade(summary["autograder"], subs, tmp_path / "grades.csv")
    by_name = {r["submission"]: r for r in rows}
    solved, unsolved = by_name["solved.ipynb"], by_name["unsolved.ipynb"]
    assert solved["possible"] > 0 and solved["score"] == solved["possible"]
    assert unsolved["score"] < solved["score"]
    with (tmp_path / "grades.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [r["submission"] for r in table] == ["solved.ipynb", "unsolved.ipynb"]
