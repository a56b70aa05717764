"""Open every page of the built book in Chromium, offline, and check what a reader sees.

A page fails when: MathJax did not typeset every maths element (or reported a
TeX error), raw TeX stays visible in the text, MathJax is loaded more or less
than once, a console error or page error occurs, an image fails to load, a
same-site resource answers with an error, or a request to any other host was
attempted (such requests are blocked). A full-page screenshot of each page is
saved under ``_build/screenshots/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .conftest import SCREENSHOTS, SITE

PAGES = sorted(
    p.relative_to(SITE).as_posix()
    for p in SITE.rglob("*.html")
    if not p.relative_to(SITE).parts[0].startswith("_")
)

REDIRECT = re.compile(r'http-equiv="refresh"[^>]*url=([^"\s>]+)', re.IGNORECASE)

# Text a reader should never see: TeX that MathJax did not turn into maths.
RAW_TEX = re.compile(
    r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\end\{|\\frac|\\mathbb|\\operatorname|\\top\b"
    r"|\$[^$\s][^$\n]{0,80}\$"
)

# Visible text of the page, without code, scripts and typeset maths.
VISIBLE_TEXT_JS = """() => {
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll(
    'pre, code, script, style, noscript, mjx-container, mjx-assistive-mml, .highlight, '
    + 'template, [hidden], .d-none, #pst-search-dialog'
  ).forEach(e => e.remove());
  return clone.innerText;
}"""

MATH_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const maths = Array.from(document.querySelectorAll('.math'));
  return {
    maths: maths.length,
    untypeset: maths.filter(e => !e.querySelector('mjx-container')).length,
    containers: document.querySelectorAll('mjx-container').length,
    errors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent),
    scripts: Array.from(document.scripts).filter(s => /mathjax/i.test(s.src)).map(s => s.src),
    hasMathJax: !!window.MathJax && !!window.MathJax.version,
  };
}"""

IMAGES_JS = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(img => { img.loading = 'eager'; });
  const results = await Promise.all(imgs.map(img =>
    img.decode().then(() => null, () => img.currentSrc || img.src)));
  return {count: imgs.length,
          broken: results.filter(r => r !== null)
                  .concat(imgs.filter(i => i.complete && i.naturalWidth === 0)
                              .map(i => i.currentSrc || i.src))};
}"""


def test_site_has_every_chapter() -> None:
    expected = {
        "intro.html",
        "chapters/01_minmax_mlp.html",
        "chapters/02_residual_backprop.html",
        "chapters/03_ppca_em.html",
        "chapters/appendix_linear_gaussian.html",
    }
    assert expected <= set(PAGES), f"missing pages: {sorted(expected - set(PAGES))}"


@pytest.mark.parametrize("page_path", PAGES)
def test_page_offline(page_path: str, browser: Any, site_url: str) -> None:
    host = urlsplit(site_url).netloc
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    foreign: list[str] = []
    problems: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.netloc == host:
            r.continue_()
        else:
            foreign.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status} for {r.url}")
        if r.status >= 400 and urlsplit(r.url).netloc == host
        else None,
    )
    page.on(
        "requestfailed",
        lambda r: problems.append(f"request failed: {r.url} ({r.failure})")
        if urlsplit(r.url).netloc == host
        else None,
    )
    try:
        page.goto(f"{site_url}/{page_path}", wait_until="load")
        redirect = REDIRECT.search((SITE / page_path).read_text(encoding="utf-8"))
        if redirect:  # e.g. index.html -> intro.html: check the page it lands on
            target = redirect.group(1).strip("'")
            page.wait_for_url(f"**/{target}")
            page.wait_for_load_state("load")
        math = page.evaluate(MATH_JS)
        images = page.evaluate(IMAGES_JS)
        page.wait_for_load_state("networkidle")
        text = page.evaluate(VISIBLE_TEXT_JS)
        shot = SCREENSHOTS / (page_path.removesuffix(".html").replace("/", "__") + ".png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
    finally:
        context.close()

    assert not foreign, f"{page_path} requested other hosts: {foreign}"
    assert not problems, f"{page_path}: {problems}"
    assert not images["broken"], f"{page_path}: images failed to load: {images['broken']}"
    if page_path.startswith("chapters/"):  # every chapter shows figures made by its code
        assert images["count"] > 0, f"{page_path} shows no figure"
    if math["maths"]:
        assert math["hasMathJax"], f"{page_path} has maths but MathJax did not start"
        assert len(math["scripts"]) == 1, f"{page_path} loads MathJax {len(math['scripts'])} times"
        assert math["untypeset"] == 0, (
            f"{page_path}: {math['untypeset']} of {math['maths']} maths elements not typeset"
        )
        assert math["containers"] >= math["maths"]
    assert not math["errors"], f"{page_path}: MathJax TeX errors: {math['errors']}"
    leftover = sorted(set(RAW_TEX.findall(text)))
    assert not leftover, f"{page_path} shows raw TeX: {leftover[:10]}"
    assert shot.stat().st_size > 0
