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
  once or a MathJax file fetched twice, a TeX extension fetched on demand (printing
  would typeset asynchronously), MathJax on a page with no maths (no script, no file,
  no ``window.MathJax``); a console message from MathJax (``test_browser.py``);
* ``width``: a display equation or a code block wider than its column (1280 px), or
  a display equation that runs under its equation number;
* ``empty-code``: a code box with no text;
* ``tex``: TeX in the visible text outside maths and code, or in the page title;
* ``image``: an image that fails to load, has no alt text (a file path or a hash is
  not alt text), or is not in a figure with a caption; a chapter with no figure;
* ``favicon``: no ``<link rel="icon">``, or it does not load;
* ``network``: a same-site request answered 4xx/5xx or failed; a request to another
  host (blocked); a console error or page error;
* ``inline-math``: at 1280 px and at 390 px (a phone), an inline formula whose right
  edge passes its column (its nearest block ancestor) with no scrolling box around it:
  the reader cannot see its end. Exercise solutions and dropdowns are open, as a reader
  opens them (the page is in its ``beforeprint`` state);
* ``footer``: at 390 px, a previous/next link in the page footer whose text or icon is
  clipped (by the link's own box, a box around it or the window) or cut by an ellipsis;
* ``label``: an internal label (``ch1-eq-box-net``: ``sources.label_pattern``) in a
  visible code block or in a cell's output;
* ``setup-cell``: a visible code cell that only sets the session up
  (``sources.is_setup_cell``): it must be tagged ``remove-input`` or ``hide-input``;
* ``caption``: figure-caption text whose contrast with its background is below 4.5:1
  (WCAG 2 AA for body text), the permalink shown on hover included.

Offenders of the last checks but one (``inline-math``, ``label``, ``setup-cell``) are
content: ``Problem.key`` names each on its page, so that ``known_offenders.json`` can
list the known ones while the chapters are rewritten.
"""

from __future__ import annotations

import re
from typing import Any

from .longtasks import SETTLE_JS
from .sources import is_setup_cell, label_pattern

LONGTASK_LIMIT_MS = 400
PHONE = {"width": 390, "height": 844}
MIN_CONTRAST = 4.5  # WCAG 2, level AA, text below 18 pt


class Problem(str):
    """A problem as its text (``"check: what"``), with the check's name and a key that
    names the offender on its page (the formula's TeX, the label, the cell's first line)
    for the checks whose known offenders ``known_offenders.json`` may list."""

    check: str
    key: str

    def __new__(cls, check: str, text: str, key: str = "") -> Problem:
        self = super().__new__(cls, f"{check}: {text}")
        self.check, self.key = check, key
        return self

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
    // MathJax's own script tag (its loader, or a combined file), and every MathJax file
    // fetched: the components its loader adds, fonts, the book's mathjax_lazy.js.
    scripts: Array.from(document.scripts)
      .filter(s => /\\/mathjax\\/(startup|tex-[\\w-]+)\\.js(\\?|$)/.test(s.src)).map(s => s.src),
    files: performance.getEntriesByType('resource').map(r => r.name)
      .filter(n => /\\/_static\\/mathjax[\\/_]/.test(n)),
    hasConfig: 'MathJax' in window,
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


# Inline formulas that pass the right edge of their column where nothing scrolls.
INLINE_MATH_JS = """() => {
  const doc = window.MathJax && MathJax.startup && MathJax.startup.document;
  const texOf = new Map();
  for (const item of (doc && doc.math) || []) {
    if (item.typesetRoot) texOf.set(item.typesetRoot, item.math);
  }
  const out = [];
  for (const m of document.querySelectorAll('article mjx-container:not([display="true"])')) {
    if (m.offsetParent === null) continue;
    let column = null, scrolls = false;
    for (let el = m.parentElement; el && !el.matches('article'); el = el.parentElement) {
      const cs = getComputedStyle(el);
      if (/auto|scroll/.test(cs.overflowX)) { scrolls = true; break; }
      if (!column && !cs.display.startsWith('inline')) column = el;
    }
    if (scrolls || !column) continue;
    const cs = getComputedStyle(column), box = column.getBoundingClientRect();
    const right = box.right - parseFloat(cs.paddingRight) - parseFloat(cs.borderRightWidth);
    const over = m.getBoundingClientRect().right - right;
    if (over > 1) {
      const sec = m.closest('section[id]');
      out.push({tex: (texOf.get(m) || m.textContent).replace(/\\s+/g, ' ').trim(),
                over: Math.round(over), column: Math.round(right - box.left),
                where: sec ? '#' + sec.id : '(top)'});
    }
  }
  return out;
}"""

# Previous/next links of the page footer: text or icon cut off.
FOOTER_JS = """() => {
  const out = [];
  const links = Array.from(document.querySelectorAll('.prev-next-area a'))
    .filter(a => a.offsetParent !== null);
  for (const a of links) {
    let left = 0, right = document.documentElement.clientWidth;
    for (let el = a; el && el !== document.documentElement; el = el.parentElement) {
      if (getComputedStyle(el).overflowX !== 'visible') {
        const r = el.getBoundingClientRect();
        left = Math.max(left, r.left); right = Math.min(right, r.right);
      }
    }
    const rects = [];
    const walk = document.createTreeWalker(a, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (!n.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      rects.push(...range.getClientRects());
    }
    a.querySelectorAll('svg, i').forEach(icon => rects.push(icon.getBoundingClientRect()));
    let cut = 0;
    for (const r of rects) cut = Math.max(cut, r.right - right, left - r.left);
    for (const el of a.querySelectorAll('*')) {
      if (getComputedStyle(el).textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1) {
        cut = Math.max(cut, el.scrollWidth - el.clientWidth);
      }
    }
    if (cut > 1) out.push({text: a.textContent.replace(/\\s+/g, ' ').trim(), cut: Math.round(cut)});
  }
  return {links: links.length, clipped: out};
}"""

# What a reader sees of code and outputs: visible code blocks (cell inputs, code in the
# text), the rendered text of visible cell outputs, and each visible code cell's source.
CODE_AND_OUTPUT_JS = """() => {
  const visible = el => el.offsetParent !== null;
  const where = el => { const s = el.closest('section[id]'); return s ? '#' + s.id : '(top)'; };
  const texts = [];
  for (const el of document.querySelectorAll('article .cell_output')) {
    if (visible(el)) texts.push({kind: 'output', where: where(el), text: el.innerText});
  }
  for (const el of document.querySelectorAll('article pre, article code')) {
    if (visible(el) && !el.closest('.cell_output') && !el.parentElement.closest('pre, code')) {
      texts.push({kind: 'code', where: where(el), text: el.textContent});
    }
  }
  // A hidden cell's source is shown once its toggle is opened (as here, in the
  // beforeprint state); hide-input and remove-input cells are what the check asks for.
  const cells = Array.from(document.querySelectorAll('article .cell .cell_input pre'))
    .filter(pre => visible(pre) && !pre.closest('.tag_hide-input, .tag_remove-input'))
    .map(pre => ({where: where(pre), source: pre.textContent}));
  return {texts, cells};
}"""

# The contrast of every piece of text in a figure caption with the background under it.
CAPTION_CONTRAST_JS = """() => {
  const rgba = c => {
    const m = c.match(/^rgba?\\(([^)]*)\\)$/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, below) => top.slice(0, 3).map((v, i) => v * top[3] + below[i] * (1 - top[3]))
    .concat([1]);
  const background = el => {
    const layers = [];
    for (; el; el = el.parentElement) {
      const c = rgba(getComputedStyle(el).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    return layers.reverse().reduce((acc, layer) => over(layer, acc), [255, 255, 255, 1]);
  };
  const luminance = c => {
    const lin = c.slice(0, 3).map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  };
  const out = [];
  for (const cap of document.querySelectorAll('article figcaption')) {
    if (cap.offsetParent === null) continue;
    let worst = null;
    for (const el of [cap, ...cap.querySelectorAll('*')]) {
      if (el.closest('mjx-assistive-mml')) continue;
      const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())
        || el.matches('mjx-container');
      const cs = getComputedStyle(el);
      // The permalink "#", hidden until the figure is hovered, counts.
      const shown = cs.visibility === 'visible' || el.matches('a.headerlink');
      if (!own || !shown || !el.getClientRects().length) continue;
      const fg = rgba(cs.color);
      if (!fg) { out.push({text: el.textContent.slice(0, 40), ratio: 0, color: cs.color}); continue; }
      const bg = background(el), col = over(fg, bg);
      const [hi, lo] = [luminance(col), luminance(bg)].sort((x, y) => y - x);
      const ratio = (hi + 0.05) / (lo + 0.05);
      if (!worst || ratio < worst.ratio) worst = {ratio, color: cs.color, background: 'rgb(' + bg.slice(0, 3).map(Math.round).join(', ') + ')'};
    }
    if (worst) out.push({text: cap.textContent.replace(/\\s+/g, ' ').trim().slice(0, 50), ...worst});
  }
  return out;
}"""


def inline_math_problems(page: Any, width: int) -> list[Problem]:
    def short(tex: str) -> str:
        return tex if len(tex) <= 90 else tex[:87] + "..."

    return [Problem("inline-math", f"at {width} px, ${short(m['tex'])}$ ({m['where']}) passes its "
                    f"{m['column']} px column by {m['over']} px", key=m["tex"])
            for m in page.evaluate(INLINE_MATH_JS)]


def caption_problems(page: Any) -> list[Problem]:
    return [Problem("caption", f"contrast {c['ratio']:.2f}:1 (below {MIN_CONTRAST}:1) of "
                    f"{c['color']} on {c.get('background')} in {c['text']!r}")
            for c in page.evaluate(CAPTION_CONTRAST_JS) if c["ratio"] < MIN_CONTRAST]


def code_and_output_problems(page: Any) -> list[Problem]:
    seen = page.evaluate(CODE_AND_OUTPUT_JS)
    pattern = label_pattern()
    places: dict[str, list[str]] = {}
    for t in seen["texts"]:
        for label in pattern.findall(t["text"]):
            places.setdefault(label, []).append(f"{t['kind']} in {t['where']}")
    problems = [Problem("label", f"{label!r} shown in {len(where)} place(s): "
                        f"{', '.join(sorted(set(where))[:3])}", key=label)
                for label, where in sorted(places.items())]
    for cell in seen["cells"]:
        if is_setup_cell(cell["source"]):
            first = cell["source"].strip().splitlines()[0]
            problems.append(Problem("setup-cell", f"a visible set-up cell in {cell['where']} "
                                    f"({first!r} ...): tag it remove-input or hide-input",
                                    key=first))
    return problems


def math_problems(math: dict[str, Any]) -> list[str]:
    """What ``MATH_JS`` found (after printing has typeset everything) that is wrong."""
    problems = []
    if math["maths"]:
        if not math["hasMathJax"]:
            problems.append("math: the page has maths but MathJax did not start")
        if len(math["scripts"]) != 1:
            problems.append(f"math: MathJax loaded {len(math['scripts'])} times")
        twice = sorted({f for f in math["files"] if math["files"].count(f) > 1})
        if twice:
            problems.append(f"math: MathJax files fetched twice: {twice}")
        # Every TeX extension the book needs is loaded up front (offline_mathjax.py):
        # one fetched on demand (autoload) makes printing's typesetting asynchronous.
        fetched = [f for f in math["files"] if "/input/tex/extensions/" in f]
        if fetched:
            problems.append(f"math: TeX extensions fetched on demand: {fetched} (list them "
                            "in _config.yml, mathjax3_config.loader.load)")
        if math["untypeset"]:
            problems.append(f"math: {math['untypeset']} of {math['maths']} maths elements not typeset")
        if math["containers"] < math["maths"]:
            problems.append("math: fewer MathJax containers than maths elements")
    elif math["files"] or math["scripts"] or math["hasConfig"]:
        problems.append("math: a page with no maths loads MathJax: "
                        f"{sorted(set(math['files'] + math['scripts'])) or 'window.MathJax'}")
    if math["errors"]:
        problems.append(f"math: MathJax TeX errors: {math['errors']}")
    return problems


def settle(page: Any) -> float:
    """Wait until the page has loaded and MathJax has typeset what is in view;
    return the longest main-thread task (ms) seen so far."""
    return float(page.evaluate(SETTLE_JS)["longest"])


def check_page(page: Any, page_path: str, longest: float, *, chapter: bool) -> list[str]:
    """Every check on a page that has loaded and settled (``settle``); the page is left
    at its own viewport size and as it was before ``beforeprint``."""
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
    # Solutions and dropdowns open, every formula typeset: what a reader can see, at the
    # desktop width and then on a phone (the same page, its window narrowed).
    problems += inline_math_problems(page, page.viewport_size["width"])
    desktop = page.viewport_size
    page.set_viewport_size(PHONE)
    problems += inline_math_problems(page, PHONE["width"])
    footer = page.evaluate(FOOTER_JS)
    page.set_viewport_size(desktop)
    for link in footer["clipped"]:
        problems.append(Problem("footer", f"at {PHONE['width']} px the link "
                                f"{link['text']!r} is cut by {link['cut']} px"))
    after = page.evaluate(AFTER_PRINT_JS)
    if after != before:
        problems.append(f"print: after afterprint the page is {after}, not {before} as before")
    problems += math_problems(math)
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
    problems += code_and_output_problems(page)
    problems += caption_problems(page)
    favicon = page.evaluate(FAVICON_JS)
    if favicon:
        problems.append(f"favicon: {favicon}")
    return problems
