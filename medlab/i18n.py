"""The Chinese edition (简体中文): build it, refresh its catalogues, and measure its translation.

The book is translated with Sphinx's own gettext workflow: every page (and every markdown cell
of every notebook) has a catalogue ``locale/zh_CN/LC_MESSAGES/<docname>.po``; the Chinese edition
is the same sources built with ``language = zh_CN``. Run from the repository root (the Makefile
does):

``python -m medlab.i18n build [--strict]``
    Builds the Chinese edition after the English one (``make book``, ``make build-strict``) into
    ``book/_build/html/zh_CN/``, with the same page paths as the English pages. It executes no
    notebook: the English build's execution cache (:data:`EXECUTION_CACHE`) holds every chapter,
    and the build stops *before* Sphinx starts, naming the chapters, if one is missing (a
    missing chapter would otherwise be executed again). ``--strict`` is the ``-W -n
    --keep-going`` build of ``make build-strict``.
``python -m medlab.i18n update``
    Refreshes the catalogues after the English prose changed (``make locale``): a gettext build
    with execution off, then ``sphinx-intl update``; changed messages become fuzzy, new ones
    untranslated.
``python -m medlab.i18n status [--counts]``
    Lists the fuzzy and untranslated messages of each catalogue, with counts.

Jupyter Book's ``jupyter-book build`` has no ``-D`` option and writes its HTML to
``<path-output>/_build/html``; this module calls Jupyter Book's own Sphinx entry point
(:func:`jupyter_book.sphinx.build_sphinx`, which reads ``_config.yml`` exactly as the CLI
does) with the overrides of the Chinese edition (:func:`zh_overrides`). Sphinx runs in
``book/_build/zh_CN`` (its doctrees and MyST-NB's ``jupyter_execute`` folder stay out of the
published HTML) and its HTML is then copied into the English one's ``zh_CN/`` folder. The
catalogues are read from a copy in ``book/_build/zh_CN/locale`` (Sphinx writes the compiled
``.mo`` files beside the ``.po`` files, and ``locale/`` holds sources only).

What counts as a message to translate (:func:`needs_translation`): a message with English
words in it. A message of numbers, code, maths, citation keys, acronyms or Chinese only reads
the same in both editions (most cells of the results tables), so it is neither counted nor
required; a proper name or a term that stays English is *copied* into the ``msgstr``, so
that a reviewer can tell "stays English" from "not translated yet".
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from medlab.i18n_notebooks import colab_branch

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "zh_CN"
LOCALE_DIR = ROOT / "locale"
# where `jupyter-book build . --path-output book` (the Makefile's JB_BUILD) writes: HTML in
# BUILD/html, and MyST-NB's execution cache in BUILD/.jupyter_cache (the folder above the HTML,
# MyST-NB's default; book/conftest.py stores nbval's executed notebooks there too)
BUILD = ROOT / "book" / "_build"
EXECUTION_CACHE = BUILD / ".jupyter_cache"
ZH_BUILD = BUILD / LANGUAGE          # the Chinese build's own Sphinx folders
ZH_HTML = BUILD / "html" / LANGUAGE  # where its pages are published, beside the English ones
SEARCH_DICTIONARY = ZH_BUILD / "search-terms.txt"  # the glossary's Chinese terms, for jieba
GETTEXT = BUILD / "gettext"          # the message templates (.pot) of `update`
GLOSSARY = ROOT / "book" / "appendix" / "glossary.md"
THRESHOLD = 0.95                     # share of messages that must be translated (tests/test_i18n.py)

# The theme's words that _config.yml sets in English (Jupyter Book's default search text, the
# footer) and that no catalogue translates; the theme's and sphinx-exercise's other words
# ("Exercise", "Solution", "Contents", "Search") come from their own zh_CN catalogues.
ZH_THEME_OPTIONS = {
    "search_bar_text": "搜索本书……",
    "extra_footer": "<p>代码采用 MIT 许可；文字采用 CC BY 4.0 许可。数据沿用各自的许可（见引言）。</p>\n",
}


# ----------------------------------------------------------------------------- configuration
def zh_overrides(locale_dir: Path) -> dict:
    """The Sphinx settings of the Chinese edition, on top of ``_config.yml``.

    ``nb_execution_mode`` stays ``cache`` and ``nb_execution_cache_path`` is the English build's
    cache, so the code, outputs and figures are those of the English build.
    """
    overrides = {
        "language": LANGUAGE,
        "locale_dirs": [str(locale_dir)],
        "gettext_compact": False,  # one catalogue per page, as locale/ holds them
        "nb_execution_mode": "cache",
        "nb_execution_cache_path": str(EXECUTION_CACHE),
        # the Colab button opens the translated notebooks that the publishing workflow pushes
        # to their own branch (medlab.i18n_notebooks); the English edition's opens main
        "html_theme_options": {**ZH_THEME_OPTIONS, "repository_branch": colab_branch(LANGUAGE)},
        # jieba splits the Chinese text for the search index; its dictionary alone cuts
        # 数据集 into 数据 + 集, and a reader searching 数据集 would find nothing
        "html_search_options": {"dict": str(SEARCH_DICTIONARY)},
    }
    title = zh_title(locale_dir)
    if title:
        overrides["html_title"] = title
    return overrides


def zh_title(locale_dir: Path = LOCALE_DIR) -> str | None:
    """``_config.yml``'s title with the introduction's translated heading ("medlab: <heading>")."""
    import polib
    import yaml

    title = yaml.safe_load((ROOT / "_config.yml").read_text()).get("title", "")
    prefix, _, heading = title.partition(": ")
    intro = Path(locale_dir) / LANGUAGE / "LC_MESSAGES" / "book" / "intro.po"
    if not heading or not intro.exists():
        return None
    entry = polib.pofile(str(intro)).find(heading)
    if entry is None or not entry.msgstr or entry.fuzzy:
        return None
    # "medlab：医学图像分析：…" would have two colons
    return f"{prefix} · {entry.msgstr}" if "：" in entry.msgstr else f"{prefix}：{entry.msgstr}"


def write_search_dictionary(path: Path = SEARCH_DICTIONARY) -> list[str]:
    """A jieba user dictionary of the glossary's Chinese terms, so that search finds them whole.

    ``jieba.cut_for_search`` still indexes their parts (数据集: 数据, 数据集).
    """
    words = set()
    for _, chinese in glossary_pairs():
        words.update(w for w in re.split(r"[\s/（）()、，,]+", chinese)
                     if re.search(r"[\u4e00-\u9fff]", w))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{w} 1000\n" for w in sorted(words)), encoding="utf-8")
    return sorted(words)


def sphinx_build(builder: str, outdir: Path, overrides: dict, *, strict: bool = False,
                 fresh: bool = False, doctrees: Path | None = None) -> int:
    """Jupyter Book's Sphinx build of the repository (as ``jupyter-book build .`` runs it).

    Its doctrees go to ``doctrees`` (default ``<outdir>/.doctrees``): never the English build's,
    which another builder or other settings would make Sphinx reject or read again.
    """
    from jupyter_book.sphinx import build_sphinx

    confoverrides = {"external_toc_path": (ROOT / "_toc.yml").as_posix(),
                     "latex_individualpages": False, **overrides}
    if strict:
        confoverrides["nitpicky"] = True
    result = build_sphinx(ROOT, outdir, noconfig=True, path_config=str(ROOT / "_config.yml"),
                          confoverrides=confoverrides, builder=builder,
                          doctreedir=doctrees or Path(outdir) / ".doctrees",
                          warningiserror=strict, keep_going=strict, freshenv=fresh)
    return result if isinstance(result, int) else 1


# ----------------------------------------------------------------------------- the build
def uncached_notebooks(cache_path: Path = EXECUTION_CACHE) -> list[str]:
    """The chapters of ``_toc.yml`` that the execution cache does not hold in their current form.

    MyST-NB (``execute_notebooks: cache``) looks a notebook up with jupyter-cache's
    ``match_cache_notebook`` (a hash of its code cells and kernel) and executes it when that
    fails; this asks the same question before the build, so the Chinese build never executes.
    """
    import nbformat

    from medlab.bench import toc_notebooks

    notebooks = toc_notebooks(ROOT)
    if not Path(cache_path, "global.db").exists():
        return [p.relative_to(ROOT).as_posix() for p in notebooks]
    from jupyter_cache import get_cache  # the book's toolchain, there when a cache is

    cache = get_cache(str(cache_path))
    missing = []
    for path in notebooks:
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            missing.append(path.relative_to(ROOT).as_posix())
    return missing


def copy_catalogues(source: Path, target: Path) -> Path:
    """Copy the ``.po`` files to ``target``, where Sphinx compiles ``.mo`` files beside them.

    A numbered heading's translation ("1. 基本概念") is written with an escaped dot ("1\\.
    基本概念") on the way: Sphinx parses a translation as markdown, where "1. " starts a list,
    and it would drop the translated heading silently and keep the English one. Files are
    written only when they changed, so Sphinx re-reads only the pages whose catalogue changed.
    """
    import polib

    source, target = Path(source), Path(target)
    if not (source / LANGUAGE / "LC_MESSAGES").is_dir():
        raise FileNotFoundError(f"{source}: no {LANGUAGE}/LC_MESSAGES folder of catalogues")
    keep = {p.relative_to(source) for p in source.rglob("*.po")}
    for old in target.rglob("*.po") if target.exists() else []:
        if old.relative_to(target) not in keep:  # a page that was removed
            old.unlink()
            old.with_suffix(".mo").unlink(missing_ok=True)
    for rel in sorted(keep):
        po = polib.pofile(str(source / rel))
        for entry in po:
            if re.match(r"\d+\. ", entry.msgid) and re.match(r"\d+\. ", entry.msgstr):
                entry.msgstr = re.sub(r"^(\d+)\. ", r"\1\\. ", entry.msgstr)
        text = str(po)
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists() or dest.read_text(encoding="utf-8") != text:
            dest.write_text(text, encoding="utf-8")
    return target


def build(strict: bool = False, locale_dir: Path = LOCALE_DIR) -> int:
    """Build the Chinese edition into :data:`ZH_HTML`; 0 on success (see the module docstring)."""
    from medlab.buildcheck import failures

    missing = uncached_notebooks(EXECUTION_CACHE)  # read now: tests point it elsewhere
    if missing:
        print(f"medlab.i18n: the execution cache {EXECUTION_CACHE} does not hold these chapters "
              f"as they are now, and the Chinese build would execute them again:\n  "
              + "\n  ".join(missing)
              + "\nBuild the English edition first (make book), and fix any chapter that fails "
                "there.", file=sys.stderr)
        return 1
    start = time.perf_counter()
    catalogues = copy_catalogues(Path(locale_dir), ZH_BUILD / "locale")
    write_search_dictionary()
    status = sphinx_build("html", ZH_BUILD / "html", zh_overrides(catalogues), strict=strict,
                          doctrees=ZH_BUILD / ".doctrees")
    if status:
        print(f"medlab.i18n: the Chinese build failed (Sphinx status {status})", file=sys.stderr)
        return status
    problems = failures(ZH_BUILD)  # the pages show what jupyter_execute holds: no tracebacks
    if problems:
        print("medlab.i18n: chapters with an error in the Chinese build:\n  "
              + "\n  ".join(problems), file=sys.stderr)
        return 1
    if ZH_HTML.exists():
        shutil.rmtree(ZH_HTML)
    shutil.copytree(ZH_BUILD / "html", ZH_HTML, ignore=shutil.ignore_patterns(".buildinfo"))
    print(f"The Chinese edition is in {ZH_HTML.relative_to(ROOT)}/index.html "
          f"(built in {time.perf_counter() - start:.0f} s, no notebook executed)")
    return 0


def update(locale_dir: Path = LOCALE_DIR) -> int:
    """Extract the messages (execution off) and merge them into the catalogues."""
    status = sphinx_build("gettext", GETTEXT, {"nb_execution_mode": "off",
                                               "gettext_compact": False,
                                               # one catalogue per page says where a message is;
                                               # line numbers would change every catalogue at
                                               # every edit (notebook cells count as 10000s)
                                               "gettext_location": False,
                                               "gettext_uuid": False}, fresh=True)
    if status:
        print(f"medlab.i18n: the gettext build failed (Sphinx status {status})", file=sys.stderr)
        return status
    status = subprocess.call([sys.executable, "-m", "sphinx_intl", "update", "-p", str(GETTEXT),
                              "-l", LANGUAGE, "-d", str(locale_dir)])
    if status == 0:
        tidy_catalogues(locale_dir)
    return status


def tidy_catalogues(locale_dir: Path = LOCALE_DIR) -> tuple[int, int]:
    """What ``update`` does to the merged catalogues, in one pass over each ``.po`` file.

    - Drop the ``python-format`` flag that the extraction sets on every English message with a
      "%" followed by a letter ("27 % of", "99 % saturated"). Sphinx never %-formats its
      messages, and with the flag ``msgfmt --check-format`` rejects any translation that does
      not repeat the false format codes.
    - Give every untranslated or fuzzy message that needs no translation (numbers, code, maths:
      the benchmark's tables change them at every run) its own text as translation; a fuzzy one
      got another number's text from gettext's fuzzy matching. A translation already given
      (曲线下面积（AUC） for "AUC") is kept.
    - Drop an obsolete (``#~``) entry whose message is active again (a number that left a
      results table and came back): msgfmt rejects the duplicate definition.

    Returns (flags dropped, messages copied)."""
    import polib

    flags = copied = 0
    for path in catalogues(locale_dir):
        po = polib.pofile(str(path))
        active = {(e.msgctxt, e.msgid) for e in po if not e.obsolete}
        stale = [e for e in po if e.obsolete and (e.msgctxt, e.msgid) in active]
        for entry in stale:
            po.remove(entry)
        changed = bool(stale)
        for entry in po:
            if "python-format" in entry.flags:
                entry.flags.remove("python-format")
                flags += 1
                changed = True
            if entry.obsolete or needs_translation(entry.msgid):
                continue
            if not entry.msgstr or entry.fuzzy:  # a translator's own form is kept
                entry.msgstr = entry.msgid
                if entry.fuzzy:
                    entry.flags.remove("fuzzy")
                copied += 1
                changed = True
        if changed:
            po.save()
    return flags, copied


# ----------------------------------------------------------------------------- measuring
_NOT_PROSE = [
    r"\{[\w:-]+\}`[^`]*`",         # roles: {footcite}`key`, {ref}`label`, {term}`...`
    r"`[^`]*`",                     # inline code
    r"\$\$.*?\$\$|\$[^$]*\$",       # maths
    r"\\[a-zA-Z]+",                 # LaTeX commands left over
    r"https?://\S+|www\.\S+",       # addresses
    r"\S+@\S+",                     # e-mail addresses
    r"\b\w*[_\d]\w*\b",             # identifiers and numbers: 09_cancer_diagnosis, 1.67e-05, x2
    r"\b[A-Z][A-Z0-9-]+s?\b",       # acronyms: AUC, CSF, ROC, CNNs
]


def needs_translation(msgid: str) -> bool:
    """Whether a message has English prose in it (see the module docstring).

    >>> needs_translation("0.833 [0.813–0.840]"), needs_translation("AUC, `dice_per_class`")
    (False, False)
    >>> needs_translation("PSNR, Gaussian"), needs_translation("数据集")
    (True, False)
    """
    text = msgid
    for pattern in _NOT_PROSE:
        text = re.sub(pattern, " ", text, flags=re.S)
    return re.search(r"[A-Za-z]{2,}", text) is not None


@dataclass
class Coverage:
    """The translation state of one catalogue (counted messages only)."""

    path: Path
    total: int = 0
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)

    @property
    def translated(self) -> int:
        return self.total - len(self.untranslated) - len(self.fuzzy)

    @property
    def share(self) -> float:
        return self.translated / self.total if self.total else 1.0


def catalogues(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    folder = Path(locale_dir) / LANGUAGE / "LC_MESSAGES"
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no catalogues (run `make locale`)")
    return sorted(folder.rglob("*.po"))


def coverage(path: Path) -> Coverage:
    """Counted, untranslated and fuzzy messages of one ``.po`` file (obsolete ones ignored)."""
    import polib

    result = Coverage(Path(path))
    for entry in polib.pofile(str(path)):
        if entry.obsolete or not needs_translation(entry.msgid):
            continue
        result.total += 1
        if entry.fuzzy:  # Sphinx does not use fuzzy translations
            result.fuzzy.append(entry.msgid)
        elif not entry.msgstr.strip():
            result.untranslated.append(entry.msgid)
    return result


def missing_translations(locale_dir: Path = LOCALE_DIR, threshold: float = THRESHOLD) -> list[str]:
    """One line per page translated below ``threshold``, then its untranslated messages."""
    lines = []
    for path in catalogues(locale_dir):
        cov = coverage(path)
        if cov.share < threshold:
            name = path.relative_to(Path(locale_dir)).as_posix()
            lines.append(f"{name}: {cov.translated}/{cov.total} translated ({cov.share:.1%}), "
                         f"below {threshold:.0%}; missing:")
            lines += [f"    fuzzy: {one_line(m)}" for m in cov.fuzzy]
            lines += [f"    untranslated: {one_line(m)}" for m in cov.untranslated]
    return lines


def one_line(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def status(locale_dir: Path = LOCALE_DIR, counts_only: bool = False) -> int:
    """Print each catalogue's counts and its fuzzy and untranslated messages; 0 always."""
    total = translated = 0
    for path in catalogues(locale_dir):
        cov = coverage(path)
        total, translated = total + cov.total, translated + cov.translated
        name = path.relative_to(Path(locale_dir)).as_posix()
        print(f"{name}: {cov.translated}/{cov.total} translated ({cov.share:.0%}), "
              f"{len(cov.fuzzy)} fuzzy, {len(cov.untranslated)} untranslated")
        if not counts_only:
            for msgid in cov.fuzzy:
                print(f"    fuzzy:        {one_line(msgid)}")
            for msgid in cov.untranslated:
                print(f"    untranslated: {one_line(msgid)}")
    share = translated / total if total else 1.0
    print(f"all catalogues: {translated}/{total} messages translated ({share:.1%}; "
          f"the tests require {THRESHOLD:.0%} of each page)")
    return 0


# ----------------------------------------------------------------------------- the glossary
def glossary_pairs(path: Path = GLOSSARY) -> list[tuple[str, str]]:
    """``(English, 中文)`` of each entry of the glossary page's ``{glossary}`` block.

    An entry is a run of term lines (an English one, then a Chinese one) followed by its
    indented definition.
    """
    text = Path(path).read_text(encoding="utf-8")
    block = re.search(r"```\{glossary\}\n(.*?)\n```", text, re.S)
    if not block:
        raise ValueError(f"{path}: no ```{{glossary}} block")
    pairs, terms = [], []
    for line in block.group(1).splitlines():
        if not line.strip() or line.startswith(":"):
            terms = [] if not line.strip() else terms
            continue
        if line[0].isspace():  # the definition closes the entry's terms
            english = [t for t in terms if not re.search(r"[\u4e00-\u9fff]", t)]
            chinese = [t for t in terms if re.search(r"[\u4e00-\u9fff]", t)]
            if len(english) != 1 or len(chinese) != 1:
                raise ValueError(f"{path}: glossary entry {terms} is not one English and "
                                 f"one Chinese term")
            pairs.append((english[0], chinese[0]))
            terms = []
        else:
            terms.append(line.strip())
    return pairs


# ----------------------------------------------------------------------------- Sphinx extension
def _translate_toc_captions_transform():
    from sphinx import addnodes
    from sphinx.locale import init as init_locale
    from sphinx.transforms import SphinxTransform
    from sphinx.util.i18n import docname_to_domain

    class TranslateTocCaptions(SphinxTransform):
        """Translate the part captions of ``_toc.yml`` ("Foundations", "Case studies").

        sphinx-external-toc inserts the root page's toctrees (priority 100) after Sphinx's
        Locale transform (20) has translated that page, so their captions, which the gettext
        build extracts into the root page's catalogue, would stay English. This applies the
        root page's catalogue to them, as Locale does to a toctree written in the page.
        """

        default_priority = 101

        def apply(self, **kwargs) -> None:
            if not self.config.language or self.config.language == "en":
                return
            toctrees = [n for n in self.document.findall(addnodes.toctree)
                        if n.get("rawcaption")]
            if not toctrees:
                return
            domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
            dirs = [str(Path(self.env.srcdir, d)) for d in self.config.locale_dirs]
            catalog, has_catalog = init_locale(dirs, self.config.language, domain)
            if not has_catalog:
                return
            for node in toctrees:
                original = node["rawcaption"]
                translated = catalog.gettext(original)
                if translated and translated != original:
                    node.apply_translated_message(original, translated)

    return TranslateTocCaptions


def _exercise_titles_transform():
    from sphinx.transforms import SphinxTransform

    class TranslatableExerciseTitles(SphinxTransform):
        """Make the titles of sphinx-exercise's exercises translatable ("F1 by hand").

        ``:::{exercise} F1 by hand`` puts its argument into an ``exercise_subtitle`` node that
        has no source, and Sphinx extracts and translates only nodes with a source: the titles
        would be missing from the catalogues and stay English. This gives them the source and
        line of their exercise, before Locale (20) runs and before the gettext build extracts.
        """

        default_priority = 15

        def apply(self, **kwargs) -> None:
            try:
                from sphinx_exercise.nodes import exercise_subtitle
            except ImportError:
                return
            for node in self.document.findall(exercise_subtitle):
                if not node.source:
                    owner = node.parent.parent if node.parent is not None else None
                    node.source = self.document["source"]
                    node.line = getattr(owner, "line", None) or 1

    class RegisterTranslatedExercises(SphinxTransform):
        """Give sphinx-exercise the translated exercise, for the titles of its solutions.

        sphinx-exercise keeps a copy of each exercise, made when the directive ran (before
        Locale translated it), and titles the solution "Solution to Exercise 2 (F1 by hand)"
        from that copy; this replaces the copy with the translated exercise.
        """

        default_priority = 21  # after Locale (20)

        def apply(self, **kwargs) -> None:
            registry = getattr(self.env, "sphinx_exercise_registry", None)
            if not registry or not self.config.language or self.config.language == "en":
                return
            from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node

            for node in self.document.findall(
                    lambda n: isinstance(n, exercise_node | exercise_enumerable_node)):
                entry = registry.get(node.get("label"))
                if entry and entry.get("docname") == self.env.docname:
                    entry["node"] = node.deepcopy()

    return TranslatableExerciseTitles, RegisterTranslatedExercises


def _extract_exercise_titles(app, doctree) -> None:
    """gettext builds: add the exercise titles to the page's catalogue.

    sphinx-exercise's post-transforms flatten the titles into plain text before the gettext
    builder extracts its messages, so they are taken here, when the page is read (`update`
    re-reads every page for that reason).
    """
    if app.builder.name != "gettext":
        return
    from sphinx.util.i18n import docname_to_domain

    try:
        from sphinx_exercise.nodes import exercise_subtitle
    except ImportError:
        return
    domain = docname_to_domain(app.env.docname, app.config.gettext_compact)
    from sphinx.builders.gettext import MsgOrigin

    for node in doctree.findall(exercise_subtitle):
        origin = MsgOrigin(node.source or app.env.doc2path(app.env.docname), node.line or 1)
        app.builder.catalogs[domain].add(node.astext(), origin)


def setup(app):
    """Sphinx extension (``_config.yml``): the Chinese edition's fixes to Sphinx's i18n."""
    app.add_transform(_translate_toc_captions_transform())
    for transform in _exercise_titles_transform():
        app.add_transform(transform)
    app.connect("doctree-read", _extract_exercise_titles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def glossary_forms(english: str, chinese: str) -> list[tuple[str, list[str]]]:
    """``[(English term, accepted Chinese forms)]`` of one glossary entry.

    "Benign / malignant" + "良性 / 恶性" are two terms; "Quantization" + "量化（int8 量化）"
    accepts 量化（int8 量化） and 量化; "Precision" + "精确率（查准率）" accepts 精确率 and 查准率.
    A name or acronym (two capitals or more: DICOM, NIfTI) may also stay as it is.
    """
    en_parts = [p.strip() for p in english.split(" / ")]
    zh_parts = [p.strip() for p in chinese.split(" / ")]
    if len(en_parts) > 1 and len(en_parts) == len(zh_parts):
        pairs = list(zip(en_parts, zh_parts))
    else:
        pairs = [(english, chinese)]
    result = []
    for en, zh in pairs:
        forms = {zh, re.split(r"[（(]", zh)[0].strip()}
        if len(re.findall(r"[A-Z]", en)) >= 2:
            forms.add(en)
        forms.update(inner for inner in re.findall(r"[（(]([^）)]*)[）)]", zh)
                     if re.fullmatch(r"[\u4e00-\u9fff]+", inner))
        result.append((en, sorted(forms - {""})))
    return result


def term_pattern(english: str) -> re.Pattern:
    """The English term as whole words, any case, singular or plural."""
    words = [re.escape(w) for w in re.split(r"[\s-]+", english.strip())]
    return re.compile(r"(?<![\w-])" + r"[\s-]+".join(words) + r"(?:s|es)?(?![\w-])", re.I)


def glossary_mismatches(locale_dir: Path = LOCALE_DIR, glossary: Path = GLOSSARY,
                        exceptions: dict | None = None) -> list[str]:
    """Translated messages whose English has a glossary term and whose Chinese lacks its form.

    ``exceptions`` maps an English term to a regular expression: where it matches
    ``"<docname>: <English message>"`` (case-insensitive), the term has another sense and is
    not checked ("mixed precision" is not the metric precision). The glossary page's own term lines are not checked (they are the pairs), nor
    are terms inside inline code or maths (``medlab.features``, ``\\text{precision}``).
    """
    import polib

    exceptions = exceptions or {}
    forms = [(en, zh, term_pattern(en)) for pair in glossary_pairs(glossary)
             for en, zh in glossary_forms(*pair)]
    terms = {t for pair in glossary_pairs(glossary) for t in pair}
    problems = []
    for path in catalogues(locale_dir):
        docname = path.relative_to(Path(locale_dir) / LANGUAGE / "LC_MESSAGES")
        docname = docname.with_suffix("").as_posix()
        for entry in polib.pofile(str(path)):
            if entry.obsolete or entry.fuzzy or not entry.msgstr.strip() or entry.msgid in terms:
                continue
            prose = re.sub(r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$", " ", entry.msgid, flags=re.S)
            for en, zh, pattern in forms:
                if not pattern.search(prose):
                    continue
                if en in exceptions and re.search(exceptions[en], f"{docname}: {prose}", re.I):
                    continue
                if not any(form in entry.msgstr for form in zh):
                    problems.append(f"{docname}: {en!r} -> {' / '.join(zh)} missing in "
                                    f"{one_line(entry.msgstr, 60)!r} "
                                    f"(English: {one_line(entry.msgid, 60)!r})")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m medlab.i18n", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--locale-dir", type=Path, default=LOCALE_DIR,
                        help="the catalogues (default: locale/ of the repository)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub_build = sub.add_parser("build", help="build the Chinese edition (no notebook executes)")
    sub_build.add_argument("--strict", action="store_true", help="-W -n --keep-going")
    sub.add_parser("update", help="refresh the catalogues after the English text changed")
    sub_status = sub.add_parser("status", help="list fuzzy and untranslated messages")
    sub_status.add_argument("--counts", action="store_true", help="counts only")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            return build(strict=args.strict, locale_dir=args.locale_dir)
        if args.command == "update":
            return update(args.locale_dir)
        return status(args.locale_dir, counts_only=args.counts)
    except (FileNotFoundError, ValueError) as exc:
        print(f"medlab.i18n: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
