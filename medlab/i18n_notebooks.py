"""Translated copies of the chapter notebooks, made from the book's ``.po`` catalogues.

The Chinese edition's pages are translated by Sphinx at build time; a reader who opens Colab
from such a page should get the notebook in Chinese too. This module writes those notebooks:
each markdown cell's blocks (paragraphs, headings, list items, table cells, figure captions,
directive bodies, display math) replaced by the catalogue's translation, every other cell
(code, raw) byte-identical, the notebook's metadata (Colab's GPU settings,
:data:`medlab.colab.COLAB_METADATA`) kept. The publishing workflow pushes them to their own
branch, which the Chinese build's Colab button opens (.github/workflows/book.yml)::

    python -m medlab.i18n_notebooks --locale locale --lang zh_CN --out DIR book/*.ipynb

It finds each block as Sphinx's gettext builder does: the notebook's markdown is parsed with
MyST's own markdown-it parser (the extensions of ``_config.yml``); a block's message is its
inline source with line breaks made spaces (``rawsource.replace("\\n", " ").strip()``, as
``sphinx.util.nodes.extract_messages`` reads myst-parser's nodes); the token's line map says
where it sits in the cell, and only that span is replaced, so list markers, indentation,
table pipes and directive fences stay as they were. Fuzzy and empty entries are not used: such
a block stays in English and is counted, as is a block the catalogue lacks.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Directives whose body is not markdown: Sphinx does not translate it block by block.
LITERAL_DIRECTIVES = frozenset({
    "code", "code-block", "sourcecode", "code-cell", "literalinclude", "raw", "eval-rst",
    "bibliography", "footbibliography", "solution-start", "solution-end", "mermaid",
    "graphviz", "csv-table", "glue:figure", "glue:any", "glue:math", "glue:text", "glue",
    "toctree", "tableofcontents", "include", "image",
})
MATH_DIRECTIVES = frozenset({"math"})
# Tokens whose inline content becomes one message (a paragraph, a title, a table cell, a term).
_INLINE_PARENTS = frozenset({"paragraph_open", "heading_open", "th_open", "td_open", "dt_open"})
_OPTION_LINE = re.compile(r"^\s*:[\w-]+:")
# The branch the publishing workflow pushes a language's notebooks to; that edition's Colab
# button opens them (colab.research.google.com/github/<org>/<repo>/blob/<branch>/<docname>.ipynb).
COLAB_BRANCH = "colab-{lang}"


def colab_branch(lang: str) -> str:
    """The branch holding the ``lang`` notebooks that its edition's Colab button opens."""
    return COLAB_BRANCH.format(lang=lang)


@dataclass
class Stats:
    """What :func:`translate_notebook` did to one notebook."""

    translated: int = 0
    untranslated: list[str] = field(default_factory=list)  # messages left in English

    @property
    def blocks(self) -> int:
        return self.translated + len(self.untranslated)

    @property
    def share(self) -> float:
        return self.translated / self.blocks if self.blocks else 1.0


@dataclass
class _Edit:
    start: int  # offsets into the cell's source
    end: int
    msgid: str
    kind: str  # "inline", "math", "argument"


# ----------------------------------------------------------------------------- catalogues
def myst_extensions(config_path: str | Path = ROOT / "_config.yml") -> list[str]:
    """The MyST extensions the book enables (``parse: myst_enable_extensions``)."""
    import yaml

    path = Path(config_path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no _config.yml; cannot read parse.myst_enable_extensions")
    config = yaml.safe_load(path.read_text()) or {}
    return list((config.get("parse") or {}).get("myst_enable_extensions") or [])


def markdown_parser(extensions: list[str] | None = None):
    """MyST's markdown-it parser with the book's extensions, as MyST-NB builds it."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    if extensions is None:
        extensions = myst_extensions()
    return create_md_parser(MdParserConfig(enable_extensions=set(extensions)), RendererHTML)


def catalogue_path(locale_dir: str | Path, lang: str, docname: str) -> Path:
    """Where Sphinx (``gettext_compact = False``) looks for ``docname``'s catalogue."""
    return Path(locale_dir) / lang / "LC_MESSAGES" / f"{docname}.po"


def load_catalogue(path: str | Path) -> dict[str, str]:
    """msgid -> msgstr of the entries a build would use: translated, not fuzzy, not obsolete."""
    import polib

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no catalogue for this notebook (run the catalogue refresh, "
            "e.g. `sphinx-intl update`, or check --locale, --lang and --srcdir)")
    try:
        po = polib.pofile(str(path))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable .po file ({exc})") from None
    return {e.msgid: e.msgstr for e in po
            if e.msgstr and not e.obsolete and "fuzzy" not in e.flags and not e.msgid_plural}


# ----------------------------------------------------------------------------- blocks
def _line_offsets(source: str) -> list[int]:
    offsets, pos = [], 0
    for line in source.split("\n"):
        offsets.append(pos)
        pos += len(line) + 1
    offsets.append(pos)  # one past the end
    return offsets


def _locate(source: str, offsets: list[int], parts: list[str], first: int, last: int,
            cursor: int) -> tuple[int, int] | None:
    """The span of ``parts`` (consecutive pieces of a block, each on its own line or later on
    the same one) within lines ``first`` to ``last`` of ``source``, from offset ``cursor``."""
    start = end = None
    line = first
    pos = max(cursor, offsets[min(first, len(offsets) - 1)])
    n_lines = len(offsets) - 1
    for part in parts:
        part = part.strip()
        if not part:
            continue
        while line < min(last, n_lines):
            line_end = offsets[line + 1] - 1
            hit = source.find(part, max(pos, offsets[line]), line_end)
            if hit >= 0:
                break
            line += 1
        else:
            return None
        if start is None:
            start = hit
        end = pos = hit + len(part)
    return (start, end) if start is not None else None


def _directive(info: str) -> tuple[str, str] | None:
    """``{name} argument`` of a fence's info string, or None for a plain code fence."""
    m = re.match(r"\s*\{([^}\s]+)\}\s*(.*)$", info)
    return (m.group(1), m.group(2).strip()) if m else None


def _option_lines(body: str) -> int:
    """How many lines at the start of a directive body are options (``:key:`` or ``---`` YAML)."""
    lines = body.split("\n")
    if lines and lines[0].strip() == "---":
        for i, line in enumerate(lines[1:], start=1):
            if line.strip() == "---":
                return i + 1
        return 0
    n = 0
    while n < len(lines) and _OPTION_LINE.match(lines[n]):
        n += 1
    return n


def _edits(md, text: str, source: str, offsets: list[int], line0: int) -> list[_Edit]:
    """The translatable blocks of ``text``, which sits at line ``line0`` of ``source``."""
    edits: list[_Edit] = []
    tokens = md.parse(text)
    cursor = offsets[min(line0, len(offsets) - 1)]
    for i, tok in enumerate(tokens):
        if tok.type == "inline" and i and tokens[i - 1].type in _INLINE_PARENTS and tok.map:
            msgid = tok.content.replace("\n", " ").strip()
            span = _locate(source, offsets, tok.content.split("\n"),
                           line0 + tok.map[0], line0 + tok.map[1], cursor)
            if msgid and span:
                edits.append(_Edit(*span, msgid, "inline"))
                cursor = span[1]
        elif tok.type == "math_block" and tok.map:
            span = _locate(source, offsets, tok.content.split("\n"),
                           line0 + tok.map[0], line0 + tok.map[1], cursor)
            if tok.content.strip() and span:
                edits.append(_Edit(*span, tok.content, "math"))
                cursor = span[1]
        elif tok.type in ("fence", "colon_fence") and tok.map:
            directive = _directive(tok.info)
            if directive is None or directive[0] in LITERAL_DIRECTIVES:
                continue
            name, argument = directive
            first = line0 + tok.map[0]
            if argument:
                span = _locate(source, offsets, [argument], first, first + 1, cursor)
                if span:
                    edits.append(_Edit(*span, argument, "argument"))
            n_opt = _option_lines(tok.content)
            body = "\n".join(tok.content.split("\n")[n_opt:])
            if name in MATH_DIRECTIVES:
                span = _locate(source, offsets, body.split("\n"), first + 1 + n_opt,
                               line0 + tok.map[1], cursor)
                if body.strip() and span:
                    edits.append(_Edit(*span, body, "math"))
            else:
                edits.extend(_edits(md, body, source, offsets, first + 1 + n_opt))
            cursor = offsets[min(line0 + tok.map[1], len(offsets) - 1)]
    return edits


def _math_msgids(content: str) -> list[str]:
    """The msgids Sphinx may have written for a display-math block (its rawsource as is)."""
    return [content, f"\n{content.strip()}\n", content.strip()]


def translate_markdown(source: str, messages: dict[str, str], md=None,
                       stats: Stats | None = None) -> str:
    """``source`` (a markdown cell) with each block whose message has a translation replaced."""
    md = md or markdown_parser()
    stats = stats if stats is not None else Stats()
    offsets = _line_offsets(source)
    edits = _edits(md, source, source, offsets, 0)
    out = source
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        if edit.kind == "math":
            msgstr = next((messages[m] for m in _math_msgids(edit.msgid) if m in messages), None)
            if msgstr is not None:  # keep the block's own line breaks around the formula
                out = out[:edit.start] + msgstr.strip("\n") + out[edit.end:]
            continue  # formulas are not prose: never counted as untranslated
        msgstr = messages.get(edit.msgid)
        if edit.kind == "argument":  # a directive title: only when the catalogue has it
            if msgstr:
                out = out[:edit.start] + msgstr.replace("\n", " ") + out[edit.end:]
            continue
        if msgstr is None:
            stats.untranslated.append(edit.msgid)
            continue
        line_start = source.rfind("\n", 0, edit.start) + 1
        text = msgstr.replace("\n", " ").strip()
        if source[line_start:edit.start].lstrip().startswith("|"):  # a table cell
            text = re.sub(r"(?<!\\)\|", r"\\|", text)
        out = out[:edit.start] + text + out[edit.end:]
        stats.translated += 1
    stats.untranslated.reverse()  # in reading order
    return out


def translate_notebook(nb, messages: dict[str, str], md=None) -> tuple[object, Stats]:
    """A copy of ``nb`` with its markdown cells translated; code and raw cells untouched."""
    md = md or markdown_parser()
    out = copy.deepcopy(nb)
    stats = Stats()
    for cell in out.cells:
        if cell.cell_type == "markdown":
            cell.source = translate_markdown(cell.source, messages, md, stats)
    return out, stats


def docname(path: str | Path, srcdir: str | Path = ROOT) -> str:
    """``book/01_concepts`` for ``<srcdir>/book/01_concepts.ipynb`` (Sphinx's docname)."""
    path, srcdir = Path(path).resolve(), Path(srcdir).resolve()
    try:
        return path.relative_to(srcdir).with_suffix("").as_posix()
    except ValueError:
        raise ValueError(f"{path}: not under the book's source folder {srcdir} "
                         "(set --srcdir)") from None


def write_translations(notebooks: list[str | Path], locale_dir: str | Path, lang: str,
                       out_dir: str | Path, srcdir: str | Path = ROOT,
                       extensions: list[str] | None = None) -> dict[str, Stats]:
    """Write ``<out_dir>/<docname>.ipynb`` for each notebook; returns each one's :class:`Stats`."""
    import nbformat

    md = markdown_parser(extensions)
    results = {}
    for path in notebooks:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such notebook")
        name = docname(path, srcdir)
        messages = load_catalogue(catalogue_path(locale_dir, lang, name))
        nb = nbformat.read(path, as_version=4)
        translated, stats = translate_notebook(nb, messages, md)
        target = Path(out_dir) / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(translated, target)
        results[name] = stats
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m medlab.i18n_notebooks",
        description="Write translated copies of notebooks from the book's .po catalogues.")
    parser.add_argument("notebooks", nargs="+", help="the chapter notebooks (book/*.ipynb)")
    parser.add_argument("--locale", required=True, help="the locale folder (locale)")
    parser.add_argument("--lang", required=True, help="the language (zh_CN)")
    parser.add_argument("--out", required=True, help="folder for <docname>.ipynb copies")
    parser.add_argument("--srcdir", default=str(ROOT),
                        help="the book's source folder, docnames are relative to it "
                             "(default: the repository root)")
    parser.add_argument("--config", default=str(ROOT / "_config.yml"),
                        help="_config.yml, for the MyST extensions")
    parser.add_argument("--list-untranslated", action="store_true",
                        help="print each block left in English")
    args = parser.parse_args(argv)
    try:
        results = write_translations(args.notebooks, args.locale, args.lang, args.out,
                                     args.srcdir, myst_extensions(args.config))
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    total = Stats()
    for name, stats in results.items():
        print(f"{name}: {stats.translated}/{stats.blocks} blocks translated ({stats.share:.0%})")
        if args.list_untranslated:
            for msgid in stats.untranslated:
                print(f"    untranslated: {msgid[:100]}")
        total.translated += stats.translated
        total.untranslated += stats.untranslated
    print(f"all: {total.translated}/{total.blocks} blocks translated ({total.share:.0%}) "
          f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
