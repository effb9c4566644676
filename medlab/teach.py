"""For instructors and students: exercise checks (and, later, student copies).

A chapter's checks live in ``medlab/checks/chNN.py``; each is a function registered with
:func:`exercise_check` that returns ``None`` for a right answer or one sentence saying what is
wrong, without revealing the answer. A student calls ``medlab.teach.check("ch01-f1", answer)``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

_CHECKS: dict[str, Callable] = {}


def exercise_check(name: str):
    """Register ``fn(answer) -> str | None`` as the check of exercise ``name``."""
    if not name or "-" not in name:
        raise ValueError(f"exercise_check: name must look like 'ch01-f1', got {name!r}")

    def register(fn):
        _CHECKS[name] = fn
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


def check(name: str, answer) -> bool:
    """Check a student's answer to exercise ``name``; prints one line and returns True/False."""
    fn = _load(name)
    try:
        problem = fn(answer)
    except Exception as exc:  # a malformed answer is a wrong answer, said plainly
        problem = f"the answer could not be checked ({type(exc).__name__}: {exc})"
    if problem:
        print(f"✗ {name}: {problem}")
        return False
    print(f"✓ {name}: correct.")
    return True
