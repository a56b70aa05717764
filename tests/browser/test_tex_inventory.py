"""Every TeX macro and environment that the book's pages use typesets with the site's
MathJax components and configuration, with no TeX error and no extension fetched on
demand (``tex_inventory.py``): a formula for each, on one page, in one load."""

from __future__ import annotations

from typing import Any

from .conftest import SITE
from .tex_inventory import inventory, typeset
from .test_browser import PAGES


def maths_page() -> str:
    """The first page (in ``PAGES``' order) that loads MathJax."""
    return next(p for p in PAGES if "window.MathJax" in (SITE / p).read_text(encoding="utf-8"))


def test_every_tex_macro_and_environment_typesets(browser: Any, site_url: str) -> None:
    formulas = inventory(SITE, PAGES)
    covered = {t for f in formulas for t in f.covers}
    # Not vacuous: the book's own macros (_config.yml), AMS environments, SymPy's output.
    for token in ("\\R", "\\relu", "\\T", "\\frac", "\\operatorname", "\\begin{aligned}"):
        assert token in covered, f"{token} is used nowhere: {sorted(covered)}"
    problems = typeset(browser, site_url, SITE, formulas, maths_page())
    assert not problems, f"{len(covered)} macros and environments in {len(formulas)} " \
        "formulas:\n  " + "\n  ".join(problems)
