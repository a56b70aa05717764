"""Every TeX macro and environment of the book, typeset by the site's MathJax.

The formulas are those of the built pages, as MathJax gets them: the text of each
``.math`` element that Sphinx wrote from the sources' Markdown and the notebooks'
outputs (SymPy's ``text/latex`` included). Each macro (``\\name``, ``\\,``, the macros
of ``_config.yml`` included) and each environment (``\\begin{name}``) is covered by the
first formula that uses it. ``typeset`` serves those formulas as one page of the site,
with MathJax's ``<script>`` tags and configuration copied from a page of the site
(the same components, macros and options), every formula typeset in the startup pass
(``lazyAlwaysTypeset``), and reports each formula that MathJax did not typeset or
typeset as a TeX error (``mjx-merror``), each TeX extension fetched on demand, and
each console message of MathJax's. A problem names the macros its formula stands for.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup

TOKEN = re.compile(r"\\(?:begin\{([^{}]+)\}|([A-Za-z]+)|(.))", re.S)
CONFIG = re.compile(r"<script>window\.MathJax = (\{.*?\})</script>", re.S)
SCRIPT = re.compile(r'<script[^>]*src="([^"]*mathjax[^"]*)"[^>]*></script>')
PAGE_NAME = "__tex_inventory__.html"


@dataclass(frozen=True)
class Formula:
    tag: str  # "span" (inline) or "div" (display)
    tex: str  # what MathJax reads, delimiters included
    page: str
    covers: tuple[str, ...]  # the macros and environments it stands for


def tokens(tex: str) -> set[str]:
    """``\\name``, ``\\,`` and ``\\begin{name}`` in a formula."""
    return {f"\\begin{{{env}}}" if env else f"\\{name or char}"
            for env, name, char in TOKEN.findall(tex)}


def inventory(site: Path, pages: Iterable[str]) -> list[Formula]:
    """For every macro and environment of the pages, the first formula that uses it."""
    covered: set[str] = set()
    chosen = []
    for page in pages:
        soup = BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")
        for element in soup.select(".math"):
            tex = element.get_text()
            new = tokens(tex) - covered
            if new:
                covered |= new
                chosen.append(Formula("div" if element.name == "div" else "span", tex, page,
                                      tuple(sorted(new))))
    return chosen


def mathjax_head(site: Path, page: str) -> tuple[dict[str, Any], list[str]]:
    """The MathJax configuration and the ``src`` of its scripts (the loader and
    ``mathjax_lazy.js``) on a page of the site, relative to that page."""
    text = (site / page).read_text(encoding="utf-8")
    config = CONFIG.search(text)
    if config is None:
        raise ValueError(f"page {page!r} has no MathJax configuration")
    return json.loads(config.group(1)), [html.unescape(s) for s in SCRIPT.findall(text)]


TYPESET_JS = """async () => {
  const t0 = performance.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (performance.now() - t0 > 30000) return null;
    await new Promise(r => setTimeout(r, 20));
  }
  await MathJax.startup.promise;
  return {
    formulas: Array.from(document.querySelectorAll('#inventory > .math')).map(e => ({
      typeset: !!e.querySelector('mjx-container') && !e.querySelector('mjx-lazy'),
      errors: Array.from(e.querySelectorAll('mjx-merror')).map(m => m.getAttribute('data-mjx-error') || m.textContent),
    })),
    extensions: performance.getEntriesByType('resource').map(r => r.name)
      .filter(n => n.includes('/input/tex/extensions/')),
  };
}"""


def typeset(browser: Any, site_url: str, site: Path, formulas: list[Formula], like: str,
            edit: Callable[[dict[str, Any]], None] | None = None) -> list[str]:
    """Typeset ``formulas`` on a page served beside ``like`` (a page of the site with
    maths) with its MathJax; ``edit`` may change the configuration first (to show that
    a check bites). The problems found, each naming the macros of its formula."""
    config, scripts = mathjax_head(site, like)
    config.setdefault("options", {})["lazyAlwaysTypeset"] = ".math"
    if edit is not None:
        edit(config)
    body = "\n".join(f'<{f.tag} class="math notranslate nohighlight">{html.escape(f.tex)}</{f.tag}>'
                     for f in formulas)
    page_html = ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
                 f"<script>window.MathJax = {json.dumps(config)}</script>"
                 + "".join(f'<script src="{html.escape(s)}"'
                           f'{" defer" if "/mathjax/" in s else ""}></script>' for s in scripts)
                 + f"</head><body><div id='inventory'>{body}</div></body></html>")
    folder = like.rpartition("/")[0]
    url = f"{site_url}/{folder + '/' if folder else ''}{PAGE_NAME}"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    messages: list[str] = []
    try:
        context.route(f"**/{PAGE_NAME}", lambda route: route.fulfill(
            body=page_html, content_type="text/html; charset=utf-8"))
        page = context.new_page()
        page.on("console", lambda m: messages.append(f"console {m.type}: {m.text}")
                if m.type == "error" or m.text.startswith("MathJax") else None)
        page.on("pageerror", lambda e: messages.append(f"page error: {e}"))
        page.goto(url, wait_until="load")
        result = page.evaluate(TYPESET_JS)
    finally:
        context.close()
    if result is None:
        return [f"MathJax did not start (scripts {scripts}): {messages}"]
    problems = list(messages)
    if len(result["formulas"]) != len(formulas):
        problems.append(f"{len(result['formulas'])} formulas on the page, {len(formulas)} sent")
    for formula, seen in zip(formulas, result["formulas"]):
        where = f"{' '.join(formula.covers)} ({formula.page}: {formula.tex.strip()[:80]!r})"
        if seen["errors"]:
            problems.append(f"TeX error {seen['errors']} in {where}")
        elif not seen["typeset"]:
            problems.append(f"not typeset: {where}")
    if result["extensions"]:
        problems.append(f"TeX extensions fetched on demand: {result['extensions']}")
    return problems
