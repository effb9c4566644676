"""The Chinese edition (issue 30): its catalogues, its glossary terms, and how it is built.

Offline and fast: the catalogues are read with polib, no book is built. What counts as a message
to translate is :func:`medlab.i18n.needs_translation` (English words outside code, maths,
citation keys and acronyms); each page must have :data:`medlab.i18n.THRESHOLD` of them
translated, so the Chinese edition falls behind by a few paragraphs at most, never a chapter.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polib
import pytest
import yaml

from medlab import i18n

ROOT = Path(__file__).resolve().parent.parent

# Glossary terms that also have another sense: where the regular expression matches
# "<docname>: <English message>", the term is not checked (see i18n.glossary_mismatches).
GLOSSARY_EXCEPTIONS = {
    # outside chapter 10, "rank" is the verb (rank the cases) or a rank order, not a process's
    # rank; in it, "ranks all weights" is the verb and a torchrun agent's node rank is 节点序号
    "Rank": r"^(?!book/10_distributed:)|node rank|\branks (all|the)\b",
    # numeric precision (精度): mixed precision, 16-bit floating point, digits shown
    "Precision": r"mixed precision|floating point|float(16|32)|\d+-bit|precision shown",
    # a deep ensemble is 深度集成 in the Chinese literature
    "Ensemble": r"deep ensemble",
    # "a model answer" is a reference answer (参考答案)
    "Model": r"model answer",
    # the results page quotes failing asserts verbatim (code and its comments stay English)
    "Feature": r"AssertionError",
    # a confidence interval is 置信区间, not a model's confidence (置信度)
    "Confidence": r"confidence interval",
    # "opening" in its everyday sense: the instructors' page, and the opening paragraph or
    # title of a report (chapter 6's TRIPOD+AI checklist), not the morphological opening
    "Opening": r"^book/instructors:|opening (paragraph|section|sentence)|title and opening",
}


def write_catalogue(path: Path, messages: dict[str, str]) -> Path:
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=utf-8", "Language": "zh_CN"}
    for msgid, msgstr in messages.items():
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    return path


def page_messages(n: int, translated: int) -> dict[str, str]:
    return {f"Paragraph number {chr(65 + i // 26)}{chr(65 + i % 26)} of the page.":
            ("第几段。" if i < translated else "") for i in range(n)}


# ----------------------------------------------------------------------------- (a) coverage
def test_what_counts_as_a_message():
    assert i18n.needs_translation("A **data set** is a collection of examples.")
    assert i18n.needs_translation("PSNR, Gaussian")
    for same_in_both in ["0.833 [0.813–0.840]", "09_cancer_diagnosis", "AUC", "CSF, GM, WM",
                         "`medlab.features` (2)", "$\\hat p = 0.01$", "{footcite}`street1993`",
                         "数据集", "1.67e-05", "https://example.org/x"]:
        assert not i18n.needs_translation(same_in_both), same_in_both


def test_every_page_is_translated_above_the_threshold():
    missing = i18n.missing_translations(i18n.LOCALE_DIR)
    assert not missing, ("pages of the Chinese edition below the threshold (run `make locale` "
                         "and translate these):\n" + "\n".join(missing))


@pytest.mark.parametrize("translated, passes", [(94, False), (96, True)])
def test_the_threshold_is_real(tmp_path, translated, passes):
    """94 of 100 messages translated fails and lists the six missing ones; 96 passes."""
    folder = tmp_path / "zh_CN" / "LC_MESSAGES" / "book"
    write_catalogue(folder / "01_concepts.po", page_messages(100, translated))
    write_catalogue(folder / "intro.po", page_messages(10, 10))
    missing = i18n.missing_translations(tmp_path)
    if passes:
        assert missing == []
    else:
        assert missing[0].startswith("zh_CN/LC_MESSAGES/book/01_concepts.po: 94/100")
        assert len([line for line in missing if "untranslated:" in line]) == 6


def test_fuzzy_and_code_only_messages(tmp_path):
    path = write_catalogue(tmp_path / "zh_CN" / "LC_MESSAGES" / "p.po",
                           {"A sentence to translate.": "要翻译的句子。", "AUC": "", "0.91": "",
                            "Another sentence here.": "另一句。"})
    po = polib.pofile(str(path))
    po.find("Another sentence here.").flags.append("fuzzy")
    po.save()
    cov = i18n.coverage(path)
    assert (cov.total, cov.translated, cov.fuzzy) == (2, 1, ["Another sentence here."])


def test_the_untranslated_catalogues_fail(tmp_path):
    """A copy of today's catalogues with every translation removed fails, page by page."""
    copy = shutil.copytree(i18n.LOCALE_DIR, tmp_path / "locale",
                           ignore=shutil.ignore_patterns("*.mo"))
    for path in i18n.catalogues(copy):
        po = polib.pofile(str(path))
        for entry in po:
            entry.msgstr = ""
        po.save()
    missing = i18n.missing_translations(copy)
    pages = [line for line in missing if not line.startswith(" ")]
    counted = [p for p in i18n.catalogues(copy) if i18n.coverage(p).total]
    assert len(pages) == len(counted) > 10


# ----------------------------------------------------------------------------- (b) glossary
def test_glossary_pairs_are_read_from_the_glossary_page():
    pairs = i18n.glossary_pairs()
    assert len(pairs) > 150 and ("Dataset", "数据集") in pairs
    assert all(re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[\u4e00-\u9fff]", en)
               for en, zh in pairs)
    assert i18n.glossary_forms("Benign / malignant", "良性 / 恶性") == [
        ("Benign", ["良性"]), ("malignant", ["恶性"])]
    assert i18n.glossary_forms("Precision", "精确率（查准率）") == [
        ("Precision", ["查准率", "精确率", "精确率（查准率）"])]
    assert "DICOM" in i18n.glossary_forms("DICOM", "医学数字成像和通信标准")[0][1]


def test_translations_use_the_glossary_terms():
    mismatches = i18n.glossary_mismatches(exceptions=GLOSSARY_EXCEPTIONS)
    assert not mismatches, ("translations that do not use the glossary's Chinese term (use it, "
                            "or add a justified exception to GLOSSARY_EXCEPTIONS):\n"
                            + "\n".join(mismatches))


def test_the_glossary_check_finds_a_wrong_term(tmp_path):
    folder = tmp_path / "zh_CN" / "LC_MESSAGES" / "book"
    write_catalogue(folder / "ch.po", {
        "Split the data set by patient to avoid data leakage.": "按患者划分以避免数据泄露。",
        "Data leakage inflates the score.": "数据泄漏会抬高评分。",
        "We compute it in `data_leakage()`.": "我们在 `data_leakage()` 中计算。",
        "Training uses mixed precision.": "训练使用混合精度。",
    })
    mismatches = i18n.glossary_mismatches(tmp_path, exceptions=GLOSSARY_EXCEPTIONS)
    assert len(mismatches) == 1 and "'Data leakage' -> 数据泄漏" in mismatches[0], mismatches


def test_glossary_exceptions_name_real_terms():
    terms = {en for pair in i18n.glossary_pairs() for en, _ in i18n.glossary_forms(*pair)}
    assert set(GLOSSARY_EXCEPTIONS) <= terms, set(GLOSSARY_EXCEPTIONS) - terms


# ----------------------------------------------------------------------------- (c) one execution
def makefile_recipe(target: str) -> list[str]:
    make = (ROOT / "Makefile").read_text()
    block = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n|#.*\n)*)", make, re.M)
    assert block, f"Makefile: no target {target}"
    return [line.strip() for line in block.group(1).splitlines() if line.startswith("\t")]


def test_the_chinese_build_reuses_the_english_execution_cache():
    make = (ROOT / "Makefile").read_text()
    output = re.search(r"^JB_BUILD := .*jupyter-book build \. --path-output (\S+)", make, re.M)
    assert output, "Makefile: JB_BUILD must build with --path-output"
    # MyST-NB's default cache is <outdir>/../.jupyter_cache, i.e. <path-output>/_build/...
    assert i18n.EXECUTION_CACHE == ROOT / output.group(1) / "_build" / ".jupyter_cache"
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert not config.get("execute", {}).get("cache"), \
        "_config.yml sets execute.cache: then set medlab.i18n.EXECUTION_CACHE to the same path"
    assert config["execute"]["execute_notebooks"] == "cache"
    overrides = i18n.zh_overrides(i18n.LOCALE_DIR)
    assert overrides["nb_execution_mode"] == "cache"
    assert Path(overrides["nb_execution_cache_path"]) == i18n.EXECUTION_CACHE
    import importlib.util
    spec = importlib.util.spec_from_file_location("book_conftest", ROOT / "book" / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    if "MEDLAB_NB_CACHE" not in __import__("os").environ:
        assert Path(conftest.CACHE).resolve() == i18n.EXECUTION_CACHE.resolve(), \
            "nbval stores the executed notebooks where both builds look"


@pytest.mark.parametrize("target, zh", [("book", "-m medlab.i18n build"),
                                        ("build-strict", "-m medlab.i18n build --strict")])
def test_make_builds_the_chinese_edition_after_the_english_one(target, zh):
    recipe = makefile_recipe(target)
    english = [i for i, line in enumerate(recipe) if line.startswith("$(JB_BUILD)")]
    chinese = [i for i, line in enumerate(recipe) if line.endswith(zh)]
    assert english and chinese and english[0] < chinese[0], recipe


def test_the_chinese_build_refuses_to_execute(tmp_path, monkeypatch, capsys):
    """Without the English build's cache it stops before Sphinx starts, naming the chapters."""
    monkeypatch.setattr(i18n, "EXECUTION_CACHE", tmp_path / "no-cache")

    def no_sphinx(*args, **kwargs):
        raise AssertionError("Sphinx ran although no chapter was cached")

    monkeypatch.setattr(i18n, "sphinx_build", no_sphinx)
    assert i18n.build() == 1
    err = capsys.readouterr().err
    assert "book/01_concepts.ipynb" in err and "make book" in err


def test_numbered_headings_survive_translation(tmp_path):
    """ "1. 基本概念" would parse as a list item and Sphinx would keep the English heading."""
    source = tmp_path / "locale"
    write_catalogue(source / "zh_CN" / "LC_MESSAGES" / "book" / "01_concepts.po",
                    {"1. Concepts": "1. 基本概念", "1.1 A data set": "1.1 数据集"})
    copied = i18n.copy_catalogues(source, tmp_path / "build")
    po = polib.pofile(str(copied / "zh_CN" / "LC_MESSAGES" / "book" / "01_concepts.po"))
    assert po.find("1. Concepts").msgstr == "1\\. 基本概念"
    assert po.find("1.1 A data set").msgstr == "1.1 数据集"


def test_language_switch_is_on_every_page():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx = config["sphinx"]
    assert "medlab-language-switch.html" in \
        sphinx["config"]["html_theme_options"]["article_header_end"]
    assert sphinx.get("recursive_update") is True, "else html_theme_options drops the buttons"
    template = (ROOT / "_templates" / "medlab-language-switch.html").read_text()
    assert "pathto('zh_CN/' ~ pagename ~ file_suffix, 1)" in template
    assert "pathto('../' ~ pagename ~ file_suffix, 1)" in template


def test_tidy_drops_false_format_flags_and_copies_untranslatable(tmp_path):
    """English with "27 % of" gets Babel's python-format flag, which makes msgfmt reject the
    Chinese; the refresh drops it, and msgfmt then accepts the catalogue. In the same pass a
    message with nothing to translate (a number, code) gets its own text, fuzzy or empty, while
    a translator's own form of one ("AUC") is kept and prose stays untranslated."""
    import subprocess

    path = write_catalogue(tmp_path / "zh_CN" / "LC_MESSAGES" / "book" / "x.po",
                           {"27 % of the cases are malignant.": "27 % 的病例为恶性。",
                            "0.912 [0.85–0.95]": "", "`dice_per_class`": "`old`",
                            "AUC": "曲线下面积（AUC）", "A new sentence.": ""})
    po = polib.pofile(str(path))
    po[0].flags.append("python-format")
    po[2].flags.append("fuzzy")
    po.append(polib.POEntry(msgid="0.912 [0.85–0.95]", msgstr="0.912 [0.85–0.95]", obsolete=True))
    po.save()
    if shutil.which("msgfmt"):
        check = ["msgfmt", "--check-format", "-o", "/dev/null", str(path)]
        assert subprocess.run(check, capture_output=True).returncode != 0
    assert i18n.tidy_catalogues(tmp_path) == (1, 2)
    po = {e.msgid: e for e in polib.pofile(str(path))}
    assert "python-format" not in po["27 % of the cases are malignant."].flags
    assert po["0.912 [0.85–0.95]"].msgstr == "0.912 [0.85–0.95]"
    assert po["`dice_per_class`"].msgstr == "`dice_per_class`"
    assert not po["`dice_per_class`"].fuzzy
    assert po["AUC"].msgstr == "曲线下面积（AUC）" and po["A new sentence."].msgstr == ""
    assert not [e for e in polib.pofile(str(path)) if e.obsolete]  # the revived number's old copy
    if shutil.which("msgfmt"):
        assert subprocess.run(check, capture_output=True).returncode == 0
    assert i18n.tidy_catalogues(tmp_path) == (0, 0)
