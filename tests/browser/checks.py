"""What the browser test checks on every page (``test_browser.py``), as functions of a
loaded Playwright page, so that ``test_checks_bite.py`` can show each check failing on
a page with a deliberate fault.

``check_page`` returns a list of problems, each starting with the name of the check:

* ``longtask``: a main-thread task of more than ``LONGTASK_LIMIT_MS`` while the page
  loads (the test takes the best of up to three loads: other processes on a shared
  machine can only lengthen a task);
* ``lazy``: MathJax typesets everything at load though the page has more maths than
  fit on a screen (``ui/lazy`` is not working);
* ``print``: after ``beforeprint``, a formula is left untypeset, an exercise solution
  or a dropdown stays closed; after ``afterprint``, the page is not as it was;
* ``math``: a maths element not typeset, a MathJax TeX error, MathJax loaded other than
  once;
* ``width``: a display equation or a code block wider than its column (1280 px), or
  a display equation that runs under its equation number;
* ``empty-code``: a code box with no text;
* ``tex``: TeX in the visible text outside maths and code, or in the page title;
* ``image``: an image that fails to load, has no alt text (a file path or a hash is
  not alt text), or is not in a figure with a caption; a chapter with no figure;
* ``favicon``: no ``<link rel="icon">``, or it does not load;
* ``network``: a same-site request answered 4xx/5xx or failed; a request to another
  host (blocked); a console error or page error.
"""

from __future__ import annotations

import re
from typing import Any

from .longtasks import SETTLE_JS

LONGTASK_LIMIT_MS = 400

# Text a reader should never see: TeX that MathJax did not turn into maths.
RAW_TEX = re.compile(
    r"\\[A-Za-z]+|\\[()\[\]{}]|\$\$|\$[^$\s][^$\n]{0,80}\$"
)

# Visible text of the page, without code, scripts and typeset maths.
VISIBLE_TEXT_JS = """() => {
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll(
    'pre, code, script, style, noscript, mjx-container, mjx-assistive-mml, .highlight, '
    + 'template, [hidden], .d-none, #pst-search-dialog'
  ).forEach(e => e.remove());
  return clone.innerText + '\\n' + document.title;
}"""

LAZY_JS = """() => ({
  maths: document.querySelectorAll('.math').length,
  lazy: document.querySelectorAll('mjx-lazy').length,
})"""

# Fire beforeprint and look, in the same task (printing lays the page out right after).
PRINT_JS = """() => {
  window.dispatchEvent(new Event('beforeprint'));
  const closed = Array.from(document.querySelectorAll('details:not([open])'))
    .filter(d => !d.matches('details.hide'));
  return {
    lazy: document.querySelectorAll('mjx-lazy').length,
    hidden: document.querySelectorAll('.toggle-hidden').length,
    closed: closed.length,
  };
}"""

AFTER_PRINT_JS = """() => {
  window.dispatchEvent(new Event('afterprint'));
  return {hidden: document.querySelectorAll('.toggle-hidden').length,
          open: document.querySelectorAll('details[open]').length};
}"""

BEFORE_PRINT_STATE_JS = """() => ({
  hidden: document.querySelectorAll('.toggle-hidden').length,
  open: document.querySelectorAll('details[open]').length})"""

MATH_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const maths = Array.from(document.querySelectorAll('.math'));
  return {
    maths: maths.length,
    untypeset: maths.filter(e => !e.querySelector('mjx-container')
                                 || e.querySelector('mjx-lazy')).length,
    containers: document.querySelectorAll('mjx-container').length,
    errors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent),
    scripts: Array.from(document.scripts).filter(s => /mathjax\\/tex/i.test(s.src)).map(s => s.src),
    hasMathJax: !!window.MathJax && !!window.MathJax.version,
  };
}"""

# Display equations and code blocks wider than their column.
WIDTH_JS = """() => {
  const out = [];
  const label = el => {
    const m = el.closest('.math');
    const no = m && m.querySelector('.eqno');
    if (no) return 'equation ' + no.textContent.replace(/#/g, '').trim();
    const sec = el.closest('section[id]');
    const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
    return (sec ? '#' + sec.id + ': ' : '') + JSON.stringify(text);
  };
  for (const el of document.querySelectorAll('mjx-container[display="true"]')) {
    const column = el.parentElement.clientWidth;
    if (el.offsetParent !== null && el.scrollWidth > column + 1) {
      out.push({kind: 'display equation', what: label(el), width: el.scrollWidth, column});
      continue;
    }
    // Fits, but runs under its equation number (the number floats over the column).
    const box = el.closest('.math');
    const no = box && box.querySelector('.eqno');
    const math = el.querySelector('mjx-math');
    if (no && math && el.offsetParent !== null) {
      const a = math.getBoundingClientRect(), b = no.getBoundingClientRect();
      const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      if (overlap > 1 && a.top < b.bottom && b.top < a.bottom) {
        out.push({kind: 'display equation', what: label(el) + ' runs under its number by '
                  + Math.round(overlap) + ' px:', width: Math.round(a.width), column});
      }
    }
  }
  for (const el of document.querySelectorAll('div.highlight pre')) {
    const column = el.parentElement.clientWidth;
    if (el.offsetParent !== null && el.scrollWidth > column + 1) {
      out.push({kind: 'code block', what: label(el), width: el.scrollWidth, column});
    }
  }
  return out;
}"""

EMPTY_CODE_JS = """() => Array.from(document.querySelectorAll('div.highlight pre'))
  .filter(p => !p.textContent.trim())
  .map(p => { const s = p.closest('section[id]'); return s ? '#' + s.id : '(top)'; })"""

IMAGES_JS = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(img => { img.loading = 'eager'; });
  const results = await Promise.all(imgs.map(img =>
    img.decode().then(() => null, () => img.currentSrc || img.src)));
  // The page's own images: the article, not the header's launch-button logos.
  const content = imgs.filter(i => i.closest('article'));
  const name = i => (i.getAttribute('src') || '').split('/').pop();
  const badAlt = i => {
    const alt = (i.getAttribute('alt') || '').trim();
    return !alt || /^\\S*[\\/]\\S*$/.test(alt) || /\\.(png|jpe?g|svg|gif)$/i.test(alt)
      || /^[0-9a-f]{16,}$/i.test(alt)
      || alt === name(i);
  };
  const noCaption = i => {
    const fig = i.closest('figure');
    const cap = fig && fig.querySelector('figcaption');
    return !cap || !cap.textContent.trim();
  };
  return {count: content.length,
          broken: results.filter(r => r !== null)
                  .concat(imgs.filter(i => i.complete && i.naturalWidth === 0)
                              .map(i => i.currentSrc || i.src)),
          noAlt: content.filter(badAlt).map(i => name(i) + ' (alt: ' + JSON.stringify(i.getAttribute('alt')) + ')'),
          noCaption: content.filter(noCaption).map(name)};
}"""

FAVICON_JS = """async () => {
  const link = document.querySelector('link[rel~="icon"]');
  if (!link) return 'no <link rel="icon">';
  const r = await fetch(link.href);
  return r.ok ? null : `${link.href} answers ${r.status}`;
}"""


def settle(page: Any) -> float:
    """Wait until the page has loaded and MathJax has typeset what is in view;
    return the longest main-thread task (ms) seen so far."""
    return float(page.evaluate(SETTLE_JS)["longest"])


def check_page(page: Any, page_path: str, longest: float, *, chapter: bool) -> list[str]:
    """Every check on a page that has loaded and settled (``settle``)."""
    problems: list[str] = []
    if longest > LONGTASK_LIMIT_MS:
        problems.append(f"longtask: a {longest:.0f} ms main-thread task while loading "
                        f"(limit {LONGTASK_LIMIT_MS} ms)")
    lazy = page.evaluate(LAZY_JS)
    if lazy["maths"] > 150 and lazy["lazy"] == 0:
        problems.append(f"lazy: all {lazy['maths']} formulas typeset at load (ui/lazy is off)")
    before = page.evaluate(BEFORE_PRINT_STATE_JS)
    printed = page.evaluate(PRINT_JS)
    if printed["lazy"] or printed["hidden"] or printed["closed"]:
        problems.append(f"print: after beforeprint, {printed['lazy']} formulas untypeset, "
                        f"{printed['hidden']} solutions hidden, {printed['closed']} dropdowns closed")
    math = page.evaluate(MATH_JS)
    widths = page.evaluate(WIDTH_JS)
    after = page.evaluate(AFTER_PRINT_JS)
    if after != before:
        problems.append(f"print: after afterprint the page is {after}, not {before} as before")
    if math["maths"]:
        if not math["hasMathJax"]:
            problems.append("math: the page has maths but MathJax did not start")
        if len(math["scripts"]) != 1:
            problems.append(f"math: MathJax loaded {len(math['scripts'])} times")
        if math["untypeset"]:
            problems.append(f"math: {math['untypeset']} of {math['maths']} maths elements not typeset")
        if math["containers"] < math["maths"]:
            problems.append("math: fewer MathJax containers than maths elements")
    if math["errors"]:
        problems.append(f"math: MathJax TeX errors: {math['errors']}")
    for w in widths:
        problems.append(f"width: {w['kind']} {w['what']} is {w['width']} px wide in a "
                        f"{w['column']} px column")
    for where in page.evaluate(EMPTY_CODE_JS):
        problems.append(f"empty-code: an empty code box in {where}")
    images = page.evaluate(IMAGES_JS)
    if images["broken"]:
        problems.append(f"image: failed to load: {images['broken']}")
    for name in images["noAlt"]:
        problems.append(f"image: no alt text: {name}")
    for name in images["noCaption"]:
        problems.append(f"image: not a captioned figure: {name}")
    if chapter and images["count"] == 0:
        problems.append("image: the chapter shows no figure")
    text = page.evaluate(VISIBLE_TEXT_JS)
    leftover = sorted(set(RAW_TEX.findall(text)))
    if leftover:
        problems.append(f"tex: raw TeX in the text: {leftover[:10]}")
    favicon = page.evaluate(FAVICON_JS)
    if favicon:
        problems.append(f"favicon: {favicon}")
    return problems
