"""Figures for the book, built from hw4lib objects (never drawn by hand).

Import a chapter's submodule explicitly, e.g. ``from hw4lib.plotting import mlp``.
This package imports matplotlib; the rest of hw4lib does not.
"""

from __future__ import annotations

from typing import Any

import matplotlib.style

#: One look for every figure in the book: set once, used by every submodule.
STYLE: dict[str, Any] = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.figsize": (6.4, 4.0),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (call once at the top of a notebook)."""
    matplotlib.style.use(STYLE)


__all__ = ["STYLE", "use_book_style"]
