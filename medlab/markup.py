"""The book's exercise markup in notebooks: solution fences, hidden claim cells, cell tags.

Shared by :mod:`medlab.teach` (student copies, exercise checks) and :mod:`medlab.grading`
(otter-grader assignments), and by :mod:`medlab.colab` (the set-up cell's tag), so that none of
them imports another's private names. See DEVELOPERS.md for the markup itself.
"""

from __future__ import annotations

import ast
import re

SETUP_TAG = "medlab-setup"  # the first code cell of every chapter (python -m medlab.colab sync)
HIDDEN_TAGS = frozenset({"remove-cell", "remove-input"})

_FENCE = r"(?P<fence>`{3,}|:{3,})"
SOLUTION_BLOCK = re.compile(
    r"^[ \t]*" + _FENCE + r"[ \t]*\{solution\}.*?^[ \t]*(?P=fence)[ \t]*$\n?",
    re.MULTILINE | re.DOTALL)
SOLUTION_START = re.compile(r"^[ \t]*(`{3,}|:{3,})[ \t]*\{solution-start\}", re.MULTILINE)
SOLUTION_END = re.compile(r"^[ \t]*(`{3,}|:{3,})[ \t]*\{solution-end\}", re.MULTILINE)


def cell_tags(cell) -> set[str]:
    """The tags of a notebook cell (an empty set when it has none)."""
    return set(cell.get("metadata", {}).get("tags", []))


def solution_label(marker_source: str) -> str:
    """The exercise label a ``{solution-start}`` marker names (``""`` when none)."""
    m = re.search(r"\{solution-start\}[ \t]*(\S*)", marker_source)
    return m.group(1) if m else ""


def has_assert(source: str) -> bool:
    """True when the code holds an ``assert`` statement (IPython magics are ignored)."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return re.search(r"^\s*assert\b", source, re.MULTILINE) is not None
    return any(isinstance(node, ast.Assert) for node in ast.walk(tree))


def is_hidden_check(cell) -> bool:
    """A hidden assert cell: a code cell tagged remove-cell/remove-input that asserts."""
    return (cell.cell_type == "code" and bool(cell_tags(cell) & HIDDEN_TAGS)
            and has_assert(cell.source))
