"""Translated notebooks from .po catalogues (medlab.i18n_notebooks): a synthetic notebook and
catalogue (fast, offline), and the book's own catalogues read the way Sphinx wrote them."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import polib
import pytest

# the book's toolchain: MyST's parser finds the blocks (Colab-like jobs without it skip, saying so)
pytest.importorskip("myst_parser", reason="myst-parser (the book's toolchain) is not installed")

from medlab import i18n_notebooks as i18n  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"

MARKDOWN = """\
(sec-demo)=
# 1. A demo chapter

A **data set** is a collection of examples; we write the inputs as $X$
and call `load_wdbc()` to get one.

- the **training set** fits the parameters;
- the **test set** is looked at once,
  at the end.
- a third item nobody translated.

| metric | what it asks |
|---|---|
| recall | of the sick, how many are found? |

:::{exercise} A title
:label: demo-ex
Compute the *F1* score by hand.
:::
"""
CODE = 'x = 1  # a comment, "quoted"\nprint(x)\n'

TRANSLATIONS = {  # msgid as Sphinx's gettext builder writes it -> msgstr
    "1. A demo chapter": "1. 一个示例章节",
    "A **data set** is a collection of examples; we write the inputs as $X$ and call "
    "`load_wdbc()` to get one.": "**数据集**是样本的集合；我们把输入记作 $X$，并调用 `load_wdbc()` 得到一个。",
    "the **training set** fits the parameters;": "**训练集**用于拟合参数；",
    "of the sick, how many are found?": "患病者中有多少被找到？",
    "Compute the *F1* score by hand.": "手工计算 *F1* 分数。",
}
FUZZY = {"the **test set** is looked at once, at the end.": "**测试集**只看一次（模糊）。"}
UNTRANSLATED = ["a third item nobody translated.", "metric", "what it asks", "recall"]


def write_po(path: Path, translated: dict[str, str], fuzzy: dict[str, str],
             empty: list[str]) -> Path:
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=utf-8", "Language": "zh_CN"}
    for msgid, msgstr in translated.items():
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    for msgid, msgstr in fuzzy.items():
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr, flags=["fuzzy"]))
    for msgid in empty:
        po.append(polib.POEntry(msgid=msgid, msgstr=""))
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    return path


@pytest.fixture
def book(tmp_path):
    """A source folder with book/demo.ipynb and locale/zh_CN/LC_MESSAGES/book/demo.po."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["accelerator"] = "GPU"
    nb.cells = [nbformat.v4.new_markdown_cell(MARKDOWN), nbformat.v4.new_code_cell(CODE)]
    nb.cells[1].metadata["tags"] = ["medlab-setup"]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    (tmp_path / "book").mkdir()
    nbformat.write(nb, tmp_path / "book" / "demo.ipynb")
    write_po(tmp_path / "locale" / "zh_CN" / "LC_MESSAGES" / "book" / "demo.po",
             TRANSLATIONS, FUZZY, UNTRANSLATED)
    return tmp_path


def run(book: Path, *extra: str) -> tuple[int, Path]:
    out = book / "out"
    code = i18n.main(["--locale", str(book / "locale"), "--lang", "zh_CN", "--out", str(out),
                      "--srcdir", str(book), *extra, str(book / "book" / "demo.ipynb")])
    return code, out / "book" / "demo.ipynb"


def test_blocks_are_replaced_by_their_translation(book, capsys):
    code, target = run(book)
    assert code == 0 and target.exists()
    md = nbformat.read(target, as_version=4).cells[0].source
    assert "# 1. 一个示例章节\n" in md  # heading, its marker kept
    assert "**数据集**是样本的集合；我们把输入记作 $X$，并调用 `load_wdbc()` 得到一个。\n" in md
    assert "- **训练集**用于拟合参数；\n" in md  # list item, its marker kept
    assert "| 患病者中有多少被找到？ |" in md  # table cell, its pipes kept
    assert "\n手工计算 *F1* 分数。\n" in md  # directive body
    for english in ("A **data set**", "the **training set**", "of the sick", "by hand"):
        assert english not in md
    # fuzzy and empty entries are not used: those blocks stay in English, and are counted
    assert "- the **test set** is looked at once,\n  at the end.\n" in md
    assert "- a third item nobody translated.\n" in md
    printed = capsys.readouterr().out
    assert "book/demo: 5/10 blocks translated (50%)" in printed


def test_markup_and_structure_are_kept(book):
    _, target = run(book)
    md = nbformat.read(target, as_version=4).cells[0].source
    for line in ("(sec-demo)=", ":::{exercise} A title", ":label: demo-ex", ":::", "|---|---|"):
        assert f"\n{line}\n" in f"\n{md}\n", f"lost the line {line!r}"
    parser = i18n.markdown_parser(["colon_fence", "dollarmath"])
    shape = [(t.type, t.tag, t.info) for t in parser.parse(MARKDOWN) if t.type != "inline"]
    assert [(t.type, t.tag, t.info) for t in parser.parse(md) if t.type != "inline"] == shape


def test_code_cells_and_metadata_are_byte_identical(book):
    _, target = run(book)
    source = json.loads((book / "book" / "demo.ipynb").read_text())
    copy = json.loads(target.read_text())
    assert copy["cells"][1] == source["cells"][1]
    assert copy["cells"][1]["source"] == source["cells"][1]["source"]
    assert "".join(copy["cells"][1]["source"]) == CODE
    assert copy["metadata"] == source["metadata"]
    assert copy["cells"][0]["source"] != source["cells"][0]["source"]


def test_untranslated_blocks_are_listed_in_reading_order(book):
    parser = i18n.markdown_parser(["colon_fence", "dollarmath"])
    stats = i18n.Stats()
    messages = i18n.load_catalogue(book / "locale/zh_CN/LC_MESSAGES/book/demo.po")
    assert set(messages) == set(TRANSLATIONS), "fuzzy or empty entries were loaded"
    i18n.translate_markdown(MARKDOWN, messages, parser, stats)
    assert stats.untranslated == ["the **test set** is looked at once, at the end.",
                                  "a third item nobody translated.", *UNTRANSLATED[1:]]
    assert (stats.translated, stats.blocks) == (5, 10)


def test_a_missing_catalogue_names_the_file(book, capsys):
    (book / "locale/zh_CN/LC_MESSAGES/book/demo.po").unlink()
    expected = book / "locale" / "zh_CN" / "LC_MESSAGES" / "book" / "demo.po"
    with pytest.raises(FileNotFoundError, match="demo.po"):
        i18n.load_catalogue(expected)
    code, target = run(book)
    assert code == 1 and not target.exists()
    assert str(expected) in capsys.readouterr().err


def test_a_notebook_outside_the_source_folder_is_refused(book, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "x.ipynb"
    with pytest.raises(ValueError, match="--srcdir"):
        i18n.docname(elsewhere, book)


# ----------------------------------------------------------------------------- the real book
def chapter_notebooks() -> list[Path]:
    return sorted((ROOT / "book").glob("[0-9]*.ipynb"))


@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.stem)
def test_blocks_are_found_as_sphinx_extracted_them(path):
    """The tool finds the messages of the chapter's catalogue in its notebook (all of them on a
    fresh catalogue). A change in how Sphinx or MyST writes messages would drop this to near
    zero; paragraphs edited since the last catalogue refresh only cost themselves (the
    catalogue tests, not this one, ask for that refresh)."""
    po_path = i18n.catalogue_path(LOCALE, "zh_CN", i18n.docname(path))
    if not po_path.exists():
        pytest.skip(f"{po_path} not there yet")
    msgids = {e.msgid for e in polib.pofile(str(po_path)) if not e.obsolete}
    everything = {m: "译" for m in msgids}
    stats = i18n.Stats()
    parser = i18n.markdown_parser()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            i18n.translate_markdown(cell.source, everything, parser, stats)
    prose = {m for m in msgids if not m.startswith("\n")}  # display math is not counted
    assert stats.translated >= 0.5 * len(prose), (
        f"{path.name}: only {stats.translated} of {len(prose)} catalogue messages found; "
        f"not found, e.g.: {stats.untranslated[:3]}")
