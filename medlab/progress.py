"""Progress bars that work in Jupyter, on Colab and on the rendered page.

In an interactive notebook the bar is a widget (``tqdm.auto``). When the book is built or
tested, ``MEDLAB_PROGRESS=text`` (set by the Makefile) gives a plain text bar on standard
output, whose final state is what the rendered page shows.
"""

from __future__ import annotations

import os
import sys


def progress(iterable=None, **kwargs):
    """``tqdm`` over ``iterable``, as a widget or as text (see the module docstring)."""
    if os.environ.get("MEDLAB_PROGRESS", "").lower() == "text":
        from tqdm.std import tqdm

        kwargs.setdefault("file", sys.stdout)
        kwargs.setdefault("ncols", 90)
        kwargs.setdefault("ascii", True)
        kwargs.setdefault("mininterval", 5.0)
        return tqdm(iterable, **kwargs)
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)
