"""Each check of ``checks.check_page`` fails on a page with a deliberate fault.

The landing page is served with faults spliced into its HTML (Playwright's routing,
nothing on disk changes): a display equation and a code line far wider than the
column, an equation that runs under its number, TeX in a paragraph and in a link, an
empty code box, an image whose alt text is its file path and an image outside any
figure, a stylesheet that answers 404, a script that blocks the main thread for 600 ms
while the page loads, a closed dropdown that ``beforeprint`` can no longer open, no
favicon, an inline formula wider than the column, footer titles that may not wrap, an
internal label in an output and in a code block, a visible set-up cell and a caption
in light grey. Every check must report it. Chapter 1 with ``ui/lazy`` taken out of its
configuration fails the lazy check; a known offender that a page no longer has is
reported. MathJax on a page with no maths, or a TeX extension fetched on demand, fails
the maths check; the TeX inventory fails with the TeX input reduced to its base package,
and on a macro that no component defines.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from . import test_browser
from .checks import Problem, check_page, math_problems, settle
from .conftest import SITE
from .tex_inventory import Formula, inventory, typeset
from .test_tex_inventory import maths_page
from .longtasks import LONGTASK_INIT_JS
from .sources import defined_labels

IMAGE = next((SITE / "_images").glob("*.png")).name
LABEL = sorted(label for label in defined_labels() if "-" in label)[0]
STALE = f"{LABEL.split('-')[0]}-renamed-since"  # a label prefix, no such label

FAULTS = f"""
<link rel="stylesheet" href="_static/no-such-file.css">
<script>const t0 = performance.now(); while (performance.now() - t0 < 600) {{}}</script>
<div class="math notranslate nohighlight">\\[{' + '.join(f'x_{{{i}}}^{{2}}' for i in range(60))}\\]</div>
<div class="math notranslate nohighlight" id="equation-fault"><span class="eqno">(9.9)</span>\\[{' + '.join(f'x_{{{i}}}^{{2}}' for i in range(14))} + a\\]</div>
<div class="highlight"><pre>{'wide = 1  # ' + 'x' * 150}</pre></div>
<div class="highlight"><pre>   </pre></div>
<p>The noise \\sigma^2 and $x$ are left as TeX; <a href="#">\\lambda_1 here</a>.</p>
<figure><img src="_images/{IMAGE}" alt="_images/{IMAGE}"><figcaption><p>A caption.</p></figcaption></figure>
<img src="_images/{IMAGE}" alt="A figure without a caption">
<p>A long inline formula: <span class="math notranslate nohighlight">\\({' + '.join(f'y_{{{i}}}' for i in range(70))}\\)</span>.</p>
<div class="cell"><div class="cell_input"><div class="highlight"><pre>%config InlineBackend.figure_format = "retina"
import numpy as np</pre></div></div>
<div class="cell_output"><div class="output"><pre>eq. ({LABEL}) holds</pre></div></div></div>
<div class="highlight"><pre>x = 1  # eq. ({STALE})</pre></div>
<figure><img src="_images/{IMAGE}" alt="A figure with a faint caption"><figcaption><p style="color: #aaa">A faint caption.</p></figcaption></figure>
<style>.prev-next-area a p.prev-next-title {{ white-space: nowrap; }}</style>
<details class="sd-dropdown" id="stuck"><summary>Stuck</summary><p>Hidden.</p></details>
<script>
  // A dropdown that printing can no longer open (as if book_furniture.js were gone).
  const stuck = document.getElementById('stuck');
  new MutationObserver(() => {{ if (stuck.open) stuck.open = false; }})
    .observe(stuck, {{attributes: true}});
  window.addEventListener('beforeprint', () => {{ stuck.open = false; }});
</script>
"""


def test_every_check_bites(browser: Any, site_url: str) -> None:
    host = urlsplit(site_url).netloc
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    network: list[str] = []

    def faulty(route: Any) -> None:
        html = route.fetch().text()
        html = html.replace('<link rel="icon"', '<link rel="x-no-icon"')
        marker = '<article class="bd-article">'
        assert marker in html
        route.fulfill(body=html.replace(marker, marker + FAULTS, 1),
                      content_type="text/html; charset=utf-8")

    context.route("**/intro.html", faulty)
    page = context.new_page()
    page.add_init_script(LONGTASK_INIT_JS)
    page.on("response", lambda r: network.append(f"network: HTTP {r.status} for {r.url}")
            if r.status >= 400 and urlsplit(r.url).netloc == host else None)
    try:
        page.goto(f"{site_url}/intro.html", wait_until="load")
        problems = check_page(page, "intro.html", settle(page), chapter=True) + network
    finally:
        context.close()
    text = "\n".join(map(str, problems))
    print(text)  # pytest -s shows what each check says
    expected = {
        "longtask: a ": "a 600 ms task",
        "width: display equation": "a wide display equation",
        "runs under its number": "an equation under its number",
        "width: code block": "a wide code block",
        "empty-code:": "an empty code box",
        "tex: raw TeX in the text": "TeX in the text",
        "\\\\sigma": "\\sigma in a paragraph",
        "\\\\lambda": "\\lambda in a link",
        "image: no alt text": "a file path as alt text",
        "image: not a captioned figure": "an image outside a figure",
        "print: after beforeprint": "a dropdown printing cannot open",
        "favicon: no <link": "no favicon link",
        "network: HTTP 404": "a stylesheet that answers 404",
        "inline-math: at 1280 px": "an inline formula wider than the desktop column",
        "inline-math: at 390 px": "an inline formula wider than the phone column",
        "footer: at 390 px": "a footer title that cannot wrap",
        f"label: {LABEL!r}": "a label in an output",
        f"label: {STALE!r}": "a label prefix in a code block",
        "setup-cell: a visible set-up cell": "a visible set-up cell",
        "caption: contrast": "a light grey caption",
    }
    missed = [what for key, what in expected.items() if key.replace("\\\\", "\\") not in text]
    assert not missed, f"checks that did not fire: {missed}\nproblems found:\n{text}"


def test_lazy_check_bites(browser: Any, site_url: str) -> None:
    """Chapter 1 with ui/lazy taken out of its MathJax configuration: every formula
    is typeset at load, and the lazy check says so."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def eager(route: Any) -> None:
        html = route.fetch().text()
        lazy = ', "ui/lazy"], "dependencies": {"a11y/assistive-mml": ["ui/lazy"]}'
        assert lazy in html
        route.fulfill(body=html.replace(lazy, "]"), content_type="text/html; charset=utf-8")

    context.route("**/chapters/01_minmax_mlp.html", eager)
    page = context.new_page()
    page.add_init_script(LONGTASK_INIT_JS)
    try:
        page.goto(f"{site_url}/chapters/01_minmax_mlp.html", wait_until="load")
        problems = check_page(page, "chapters/01_minmax_mlp.html", settle(page), chapter=True)
    finally:
        context.close()
    assert any(p.startswith("lazy: all ") for p in problems), problems


def test_a_fixed_known_offender_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry of known_offenders.json whose offender the page no longer shows fails,
    so that the list only shrinks; a listed offender that is still there passes."""
    monkeypatch.setattr(test_browser, "KNOWN_OFFENDERS", {
        "label": {"intro.html": ["still-there", "fixed-since"]}})
    still = Problem("label", "'still-there' shown", key="still-there")
    other = Problem("label", "'other' shown", key="other")
    left = test_browser.without_known_offenders("intro.html", [still, other])
    assert left[0] is other and len(left) == 2, left
    assert "'fixed-since' is gone from intro.html" in left[1], left


def test_math_check_bites_on_mathjax_where_no_maths() -> None:
    """``math_problems`` on what ``MATH_JS`` returns: a page with no maths that loads a
    MathJax file or defines ``window.MathJax``; a page with maths whose typesetting
    fetched a TeX extension or a file twice; a clean page of each kind passes."""
    none = {"maths": 0, "untypeset": 0, "containers": 0, "errors": [], "scripts": [],
            "files": [], "hasConfig": False, "hasMathJax": False}
    lazy_js = "http://h/_static/mathjax_lazy.js"
    assert not math_problems(none)
    assert math_problems({**none, "files": [lazy_js]})[0].startswith(
        "math: a page with no maths loads MathJax")
    assert math_problems({**none, "hasConfig": True})
    loader = "http://h/_static/mathjax/startup.js"
    some = {**none, "maths": 3, "containers": 3, "scripts": [loader], "hasConfig": True,
            "hasMathJax": True, "files": [loader, "http://h/_static/mathjax/core.js"]}
    assert not math_problems(some)
    ext = "http://h/_static/mathjax/input/tex/extensions/boldsymbol.js"
    assert "fetched on demand" in " ".join(math_problems({**some, "files": [*some["files"], ext]}))
    assert "fetched twice" in " ".join(math_problems({**some, "files": [*some["files"], loader]}))


def test_tex_inventory_bites(browser: Any, site_url: str) -> None:
    """With the TeX input reduced to its base package (no ams, no configmacros: no
    \\operatorname, no pmatrix, no \\R), and on a macro that nothing defines, the
    inventory reports TeX errors and names the macros."""
    def base_only(config: dict[str, Any]) -> None:
        config["tex"]["packages"] = ["base"]

    formulas = [f for f in inventory(SITE, test_browser.PAGES)
                if {"\\operatorname", "\\R", "\\begin{pmatrix}"} & set(f.covers)]
    formulas.append(Formula("span", "\\(\\nosuchmacro x\\)", "(test)", ("\\nosuchmacro",)))
    text = "\n".join(typeset(browser, site_url, SITE, formulas, maths_page(), base_only))
    for token in ("\\operatorname", "\\R", "\\begin{pmatrix}", "\\nosuchmacro"):
        assert "TeX error" in text and token in text, f"{token} not reported:\n{text}"
