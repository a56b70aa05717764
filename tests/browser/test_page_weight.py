"""What MathJax costs each page of the book, in bytes transferred (issue 23, item 7).

Each page of ``_toc.yml`` is loaded cold (a fresh context, an empty cache) until MathJax
has typeset what is in view, and the bytes of every MathJax file it fetched are summed
(headers and body, as ``benchmarks/bench_pages.py`` counts them): the scripts under
``_static/mathjax/`` and the book's ``mathjax_lazy.js``, the CHTML fonts apart.

* A page with no maths (References, the build status) fetches no MathJax file at all.
* A page with maths fetches at most ``MATHJAX_JS_BUDGET`` bytes of MathJax script: the
  components that typeset the book (``_ext/offline_mathjax.py``), not a combined file
  with every TeX extension and the contextual menu (``tex-chtml-full.js`` alone is
  1.33 MB). A component or TeX extension added on purpose may raise the budget.
"""

from __future__ import annotations

from typing import Any

import pytest

from .checks import settle
from .conftest import ROOT, SITE
from .sources import toc_files

MATHJAX_JS_BUDGET = 800_000

TOC_PAGES = [p.relative_to(ROOT).with_suffix(".html").as_posix() for p in toc_files()]


def is_mathjax_script(url: str) -> bool:
    path = url.split("?")[0]
    return path.endswith(".js") and ("/_static/mathjax/" in path
                                     or path.rsplit("/", 1)[-1].startswith("mathjax_"))


def is_mathjax_file(url: str) -> bool:
    return "/_static/mathjax/" in url or url.split("?")[0].rsplit("/", 1)[-1].startswith("mathjax_")


def mathjax_bytes(browser: Any, url: str) -> tuple[int, dict[str, int]]:
    """The number of maths elements of the page, and the bytes of each MathJax file
    it fetched."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requests: list[Any] = []
    try:
        page = context.new_page()
        page.on("requestfinished", lambda request: requests.append(request))
        page.goto(url, wait_until="load")
        settle(page)
        page.wait_for_load_state("networkidle")
        maths = page.evaluate("document.querySelectorAll('.math').length")
        files = {}
        for request in requests:
            if is_mathjax_file(request.url):
                sizes = request.sizes()
                files[request.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]
    finally:
        context.close()
    return maths, files


def test_mathjax_file_names() -> None:
    assert is_mathjax_script("http://h/_static/mathjax/input/tex.js?v=1")
    assert is_mathjax_script("http://h/_static/mathjax_lazy.js?v=2")
    assert not is_mathjax_script("http://h/_static/mathjax/output/chtml/fonts/woff-v2/a.woff")
    assert is_mathjax_file("http://h/_static/mathjax/output/chtml/fonts/woff-v2/a.woff")
    assert not is_mathjax_file("http://h/_static/scripts/fontawesome.js")


@pytest.mark.parametrize("page_path", TOC_PAGES)
def test_mathjax_weight(browser: Any, site_url: str, page_path: str) -> None:
    assert (SITE / page_path).is_file(), f"{page_path} is not built"
    maths, files = mathjax_bytes(browser, f"{site_url}/{page_path}")
    if not maths:
        assert not files, f"{page_path} has no maths but fetches MathJax: {sorted(files)}"
        return
    scripts = {url: n for url, n in files.items() if is_mathjax_script(url)}
    total = sum(scripts.values())
    listing = "\n  ".join(f"{n:>9,} {url}" for url, n in sorted(scripts.items()))
    assert total <= MATHJAX_JS_BUDGET, \
        f"{page_path}: {total:,} bytes of MathJax script > {MATHJAX_JS_BUDGET:,}:\n  {listing}"
