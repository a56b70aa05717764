"""The reader furniture of issue 11, on the built site.

Appendices lettered A (heading, sidebar, equation numbers, references from other
chapters); the page TOC lists H3 subsections; a References page in the sidebar with
a link for every DOI, arXiv number and URL of ``references.bib``; a favicon at the
site's root; a last-updated date in every footer; the build-status page lists every
notebook as executed without error and the versions of the key packages; search
summaries and result titles show formulas as text, not TeX; a link to an equation
further down the page lands on it although MathJax typesets lazily; a page printed by
Chromium shows every formula typeset and every exercise solution, and no "Show code
cell source" bar; a system set to dark opens the site dark unless the reader chose.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from .checks import caption_problems, settle
from .conftest import ROOT, SITE

TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
CHAPTER_DOCS = [e["file"] for part in TOC["parts"] if part.get("caption") != "Back matter"
                for e in part["chapters"]]
APPENDICES = [e["file"] for part in TOC["parts"] if part.get("caption") == "Appendix"
              for e in part["chapters"]]
HTML_PAGES = sorted(p for p in SITE.rglob("*.html") if not p.relative_to(SITE).parts[0].startswith("_"))


def _html(doc: str) -> str:
    return (SITE / f"{doc}.html").read_text(encoding="utf-8")


def test_appendices_are_lettered() -> None:
    assert APPENDICES, "_toc.yml has no part captioned Appendix"
    for k, doc in enumerate(APPENDICES):
        letter = chr(ord("A") + k)
        html = _html(doc)
        assert f'<h1><span class="section-number">{letter}. </span>' in html, doc
        numbers = re.findall(r'<span class="eqno">\(([^)]*)\)', html)
        assert numbers and all(n.startswith(f"{letter}.") for n in numbers), (doc, numbers[:5])
        title = re.search(r"<h1>.*?</span>(.*?)<a", html).group(1).strip()
        for page in ("intro", *CHAPTER_DOCS):  # the sidebar of every page
            assert f"{letter}. {title}" in _html(page), f"{page}: sidebar lacks '{letter}. {title}'"
    # references from the chapters to appendix equations use the letter too
    for doc in CHAPTER_DOCS:
        for href, text in re.findall(r'<a class="reference internal" href="([^"#]*)#equation-[^"]*">'
                                     r'<span class="std std-ref">\(([^)]*)\)', _html(doc)):
            target = (Path(doc).parent / href).as_posix().removesuffix(".html") if href else doc
            target = re.sub(r"(^|/)[^/]+/\.\./", r"\1", target)
            if target in APPENDICES:
                assert not text[0].isdigit(), f"{doc}: ({text}) refers to an appendix"


@pytest.mark.parametrize("doc", [d for d in CHAPTER_DOCS if "<h3>" in _html(d)])
def test_page_toc_lists_h3(doc: str, browser: Any, site_url: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{site_url}/{doc}.html", wait_until="load")
        missing = page.evaluate("""() => {
          const toc = document.querySelector('.bd-sidebar-secondary nav, #pst-page-toc-nav');
          const visible = new Set(Array.from(toc.querySelectorAll('a[href^="#"]'))
            .filter(a => a.offsetParent !== null).map(a => a.getAttribute('href')));
          return Array.from(document.querySelectorAll('article section > h3'))
            .map(h => '#' + h.parentElement.id).filter(id => !visible.has(id));
        }""")
    finally:
        page.close()
    assert not missing, f"{doc}: H3 subsections not shown in the page TOC: {missing}"


def test_references_page() -> None:
    from pybtex.database import parse_file

    html = _html("references")
    bib = parse_file(str(ROOT / "references.bib"))
    assert 'href="references.html"' in _html("intro"), "References not in the sidebar"
    entries = re.findall(r'<div class="citation" id="[^"]*" role="doc-biblioentry">', html)
    assert len(entries) == len(bib.entries), f"{len(entries)} entries, {len(bib.entries)} in the bib"
    for key, entry in bib.entries.items():
        f = {k.lower(): v for k, v in entry.fields.items()}
        if "doi" in f:
            assert f'href="https://doi.org/{f["doi"]}"' in html, f"{key}: DOI not linked"
        if "eprint" in f:
            assert f'href="https://arxiv.org/abs/{f["eprint"]}"' in html, f"{key}: arXiv not linked"
        if "url" in f:
            assert f'href="{f["url"]}"' in html, f"{key}: URL not linked"


def test_favicon_everywhere(site_url: str) -> None:
    with urllib.request.urlopen(f"{site_url}/favicon.ico") as r:
        assert r.status == 200 and r.read(4) == b"\x00\x00\x01\x00"  # an ICO file
    for path in HTML_PAGES:
        text = path.read_text(encoding="utf-8")
        if 'http-equiv="refresh"' in text.lower():
            continue
        assert '<link rel="icon" href="' in text, f"{path.name} has no favicon link"


def test_last_updated_in_every_footer() -> None:
    for path in HTML_PAGES:
        text = path.read_text(encoding="utf-8")
        if 'http-equiv="refresh"' in text.lower():
            continue
        assert re.search(r"Last updated on \d{1,2} \w+ \d{4}\.", text), path.name


def test_build_status_page() -> None:
    import importlib.metadata

    html = _html("build_status")
    for doc in CHAPTER_DOCS:
        row = re.search(rf'<td><p><a class="xref doc[^"]*" href="{re.escape(doc)}.html".*?</tr>', html, re.S)
        assert row, f"{doc} not in the execution table"
        assert "✅" in row.group(0), f"{doc}: not executed without error"
    for dist in ("numpy", "sympy", "jupyter-book", "myst-nb"):
        assert f"<code class=\"docutils literal notranslate\"><span class=\"pre\">" \
               f"{importlib.metadata.version(dist)}</span></code>" in html, dist


SEARCH_JS = """async () => {
  for (let i = 0; i < 100; i++) {
    const items = document.querySelectorAll('#search-results ul.search li');
    const done = items.length && Array.from(items).every(li => li.querySelector('p.context'));
    if (done) break;
    await new Promise(r => setTimeout(r, 100));
  }
  return Array.from(document.querySelectorAll('#search-results ul.search li')).map(li => ({
    title: li.querySelector('a').textContent,
    context: (li.querySelector('p.context') || {}).textContent || ''}));
}"""


@pytest.mark.parametrize("query", ["posterior variance", "sigma"])
def test_search_shows_text_not_tex(query: str, browser: Any, site_url: str) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{site_url}/search.html?q={query}", wait_until="load")
        results = page.evaluate(SEARCH_JS)
        samples = page.evaluate("""() => [
          bookTexToText('\\\\(\\\\sigma^2 \\\\le \\\\lambda_1\\\\)'),
          bookTexToText('\\\\[\\\\bar W = \\\\frac{\\\\partial \\\\ell}{\\\\partial W}\\\\]'),
          bookTexToText('\\\\(\\\\E[z^2 \\\\mid x] = \\\\mathbb{R}^{D \\\\times D}\\\\)')]""")
    finally:
        page.close()
    assert results, f"no search results for {query!r}"
    tex = re.compile(r"\\[A-Za-z]+|\\[()\[\]]|\$")
    for r in results:
        assert r["context"].strip(), f"empty summary for {r['title']}"
        assert not tex.search(r["title"] + r["context"]), f"TeX in a search result: {r}"
    assert samples == ["σ² ≤ λ₁", "W̄ = (∂ ℓ)/(∂ W)", "𝔼[z² | x] = ℝ^(D × D)"], samples


def test_equation_link_further_down_lands_on_it(browser: Any, site_url: str) -> None:
    """MathJax typesets as formulas come into view, so the page grows above a link's
    target after the jump; the browser's scroll anchoring must keep the target in view."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        # chapter 4 links to equations of its sorting section, far below
        page.goto(f"{site_url}/chapters/04_relu_arithmetic.html", wait_until="load")
        settle(page)
        href = page.evaluate("""() => {
          let best = null;
          for (const a of document.querySelectorAll('article a.reference.internal[href^="#equation-"]')) {
            const t = document.getElementById(decodeURIComponent(a.hash.slice(1)));
            const d = t && t.getBoundingClientRect().top - a.getBoundingClientRect().top;
            if (t && (!best || d > best.d)) best = {d, href: a.getAttribute('href'),
                                                  y: a.getBoundingClientRect().top + scrollY};
          }
          window.scrollTo(0, best.y - 300);
          return best.d > 3000 ? best.href : null;
        }""")
        assert href, "no {eq} link to an equation more than 3000 px further down"
        settle(page)
        page.click(f'article a.reference.internal[href="{href}"] >> nth=0')
        settle(page)
        page.wait_for_timeout(500)
        top = page.evaluate(f"document.getElementById(decodeURIComponent('{href[1:]}'))"
                            ".getBoundingClientRect().top")
    finally:
        page.close()
    assert 0 <= top < 300, f"after the jump to {href} the equation is at y = {top:.0f} px"


def test_printed_page_shows_solutions_and_maths(browser: Any, site_url: str, tmp_path: Path) -> None:
    """Chromium's own printing (``page.pdf``) of a page: every formula typeset (no
    TeX in the printed text), every exercise solution printed, and no "Show code cell
    source" bar of a hidden cell (its code is not printed either)."""
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")
    doc = APPENDICES[0]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{site_url}/{doc}.html", wait_until="load")
        settle(page)
        # each solution: its title and a run of four words of its (hidden) content
        solutions = page.evaluate(r"""() => Array.from(document.querySelectorAll('.solution'))
          .map(sol => {
            const walk = document.createTreeWalker(sol, NodeFilter.SHOW_TEXT);
            let words = '';
            for (let n = walk.nextNode(); n && !words; n = walk.nextNode()) {
              if (n.parentElement.closest('.admonition-title, mjx-container, .math')) continue;
              const m = n.textContent.match(/[A-Za-z]{2,}(?:\s+[A-Za-z]{2,}){3}/);
              if (m) words = m[0].replace(/\s+/g, ' ');
            }
            return [sol.querySelector('.admonition-title').textContent.trim(), words];
          })""")
        lazy_before = page.evaluate("document.querySelectorAll('mjx-lazy').length")
        hidden_cells = page.evaluate("document.querySelectorAll('details.hide').length")
        page.pdf(path=str(tmp_path / "page.pdf"))
    finally:
        page.close()
    text = subprocess.run(["pdftotext", str(tmp_path / "page.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert lazy_before > 0, "every formula was typeset at load: nothing left for printing to do"
    assert not re.search(r"\\[()\[\]]|\\[A-Za-z]{2,}", text), "TeX in the printed page"
    assert hidden_cells > 0, f"{doc} has no hidden cell: nothing to check"
    assert "Show code cell" not in text, "a hidden cell's \"Show code cell\" bar is printed"
    assert solutions
    body = re.sub(r"\s+", " ", text)
    for title, words in solutions:
        assert title in body, f"{title!r} not printed"
        assert words and words in body, f"{title!r} printed without its content ({words!r})"


def test_dark_mode_follows_the_system_unless_the_reader_chose(browser: Any, site_url: str) -> None:
    """With the system set to dark (``prefers-color-scheme``) a chapter opens dark, its
    figure captions still at WCAG AA contrast; a mode the reader picked with the
    theme's switch (which the theme keeps in ``localStorage``) wins over the system's."""
    doc = APPENDICES[0]
    context = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{site_url}/{doc}.html", wait_until="load")
        settle(page)
        system = page.evaluate("document.documentElement.dataset.theme")
        captions = caption_problems(page)
        page.evaluate("localStorage.setItem('mode', 'light')")
        page.reload(wait_until="load")
        chosen = page.evaluate("document.documentElement.dataset.theme")
    finally:
        context.close()
    assert system == "dark", f"a dark system opens {doc} in {system!r} mode"
    assert not captions, "\n".join(captions)
    assert chosen == "light", f"the reader chose light, the page is {chosen!r}"
