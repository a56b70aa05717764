"""Page weight and first-screen typesetting of the built site, in Chromium (issue 23).

Each page is loaded in a fresh browser context (an empty cache) at 1280 x 900 from a
local server (``http.server`` on 127.0.0.1: no compression, no network latency), and
two things are measured:

* **bytes transferred**: the sum over every request the page makes until it has
  settled (MathJax has typeset what is in view, the network is idle) of the response's
  headers and body (``Request.sizes()``), split into JavaScript, CSS, fonts and the
  rest (HTML, images, JSON); and, for comparison, what a host that gzips text
  (``.html``, ``.js``, ``.css``, ``.json``, ``.svg``) would send: each such body
  gzipped at level 6. Target: at most 1 MB (uncompressed) for the References page;
* **first-screen typeset**: on a page with maths, the time from the start of the
  navigation until every formula on the first screen is typeset (an ``mjx-container``
  that is not a lazy placeholder). Target: at most 0.6 s on the chapters, the median
  of ``--runs`` loads (3).

    .venv/bin/python benchmarks/bench_pages.py                       # _build/html
    .venv/bin/python benchmarks/bench_pages.py --before OLD_SITE_DIR  # before/after
    .venv/bin/python benchmarks/bench_pages.py --markdown ...         # a Markdown table

The pages are those of ``_toc.yml``. With ``--before``, each page is also loaded from
an older build (a copy of ``_build/html`` made before a change), alternating with the
current one load by load, so that both see the same load on a shared machine. Exits 1
when a target is missed. Times are wall-clock: on a busy machine they grow with the
load; compare before and after from the same run.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import math
import statistics
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SITE  # noqa: E402
from tests.browser.longtasks import SETTLE_JS  # noqa: E402

REFERENCES = "references.html"
REFERENCES_TARGET_BYTES = 1_000_000
TYPESET_TARGET_S = 0.6
COMPRESSIBLE = (".html", ".js", ".css", ".json", ".svg", ".txt")
KINDS = ("js", "css", "fonts", "other")

# Before any script of the page: note when every formula of the first screen is typeset.
# Which formulas are on the first screen is asked of an IntersectionObserver once the
# document is parsed (no forced layout: polling getBoundingClientRect at every frame
# while the page loads would lay it out again and again, and time itself); then each
# frame looks only at those elements (querySelector, no layout).
FIRST_SCREEN_JS = """
document.addEventListener('DOMContentLoaded', () => {
  const maths = document.querySelectorAll('.math');
  if (!maths.length) return;
  let first = null;
  const io = new IntersectionObserver(entries => {
    first = entries.filter(e => e.isIntersecting).map(e => e.target);
    io.disconnect();
  });
  maths.forEach(m => io.observe(m));
  const typeset = m => m.querySelector('mjx-container') && !m.querySelector('mjx-lazy');
  const poll = () => {
    if (first && first.length && first.every(typeset)) {
      window.__firstScreenTypeset = performance.now();
      return;
    }
    requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
});
"""


def toc_pages(root: Path = ROOT) -> list[str]:
    """The site's page of every document in ``_toc.yml``, in its order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]] + [e["file"] for part in toc.get("parts", [])
                            for e in part.get("chapters", [])]
    return [f"{doc}.html" for doc in docs]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):  # the context closed mid-response
            pass


@contextmanager
def serve(site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def kind(url: str, resource_type: str) -> str:
    path = url.split("?")[0]
    if resource_type == "script" or path.endswith(".js"):
        return "js"
    if resource_type == "stylesheet" or path.endswith(".css"):
        return "css"
    if resource_type == "font" or path.endswith((".woff", ".woff2", ".ttf")):
        return "fonts"
    return "other"


def load(browser: Any, url: str) -> dict[str, float]:
    """One cold load: bytes by kind, their gzipped total, the number of requests and
    the first-screen typeset time (s; NaN without maths on the first screen)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requests: list[Any] = []
    try:
        page = context.new_page()
        page.add_init_script(FIRST_SCREEN_JS)
        page.on("requestfinished", lambda r: requests.append(r))
        page.goto(url, wait_until="load")
        page.evaluate(SETTLE_JS)
        page.wait_for_load_state("networkidle")
        typeset = page.evaluate("window.__firstScreenTypeset ?? null")
        sizes = dict.fromkeys((*KINDS, "gzip"), 0.0)
        for request in requests:
            s = request.sizes()
            body, headers = s["responseBodySize"], s["responseHeadersSize"]
            sizes[kind(request.url, request.resource_type)] += body + headers
            if request.url.split("?")[0].endswith(COMPRESSIBLE) and body:
                body = len(gzip.compress(request.response().body(), 6))
            sizes["gzip"] += body + headers
    finally:
        context.close()
    sizes["total"] = sum(sizes[k] for k in KINDS)
    sizes["requests"] = len(requests)
    sizes["typeset"] = typeset / 1000 if typeset is not None else math.nan
    return sizes


def _median(runs: list[dict[str, float]], key: str) -> float:
    values = [r[key] for r in runs if not math.isnan(r[key])]
    return statistics.median(values) if values else math.nan


def _seconds(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def report(results: dict[tuple[str, str], list[dict[str, float]]], pages: list[str],
           sites: list[str], runs: int, markdown: bool) -> bool:
    """Print the table; True when the targets are met by the last site."""
    ok = True
    head = ["page", "site", "requests", "total KB", "JS KB", "CSS KB", "fonts KB",
            "other KB", "gzipped KB", "first screen s", "each load (s)"]
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|")
    else:
        print(f"{'page':40} {'site':6} {'req':>4} {'total KB':>9} {'JS':>6} {'CSS':>5} "
              f"{'fonts':>5} {'other':>5} {'gzip':>5} {'typeset s':>9}  (median of {runs}; "
              f"typeset: each load)")
    for page in pages:
        for name in sites:
            r = results[(name, page)]
            med = {k: _median(r, k) for k in r[0]}
            each = " ".join(_seconds(x["typeset"]) for x in r)
            kb = {k: f"{med[k] / 1000:.0f}" for k in (*KINDS, "gzip", "total")}
            if markdown:
                print(f"| {page} | {name} | {med['requests']:.0f} | {kb['total']} | {kb['js']} | "
                      f"{kb['css']} | {kb['fonts']} | {kb['other']} | {kb['gzip']} | "
                      f"{_seconds(med['typeset'])} | {each} |")
            else:
                print(f"{page:40} {name:6} {med['requests']:4.0f} {kb['total']:>9} {kb['js']:>6} "
                      f"{kb['css']:>5} {kb['fonts']:>5} {kb['other']:>5} {kb['gzip']:>5} "
                      f"{_seconds(med['typeset']):>9}  ({each})")
            if name != sites[-1]:
                continue
            if page == REFERENCES:
                ok &= med["total"] <= REFERENCES_TARGET_BYTES
            if page.startswith("chapters/") and not math.isnan(med["typeset"]):
                ok &= med["typeset"] <= TYPESET_TARGET_S
    print(f"\ntargets: {REFERENCES} <= {REFERENCES_TARGET_BYTES / 1e6:.0f} MB, chapters' first "
          f"screen typeset <= {TYPESET_TARGET_S} s: {'met' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="pages of the site (default: _toc.yml's)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--site", type=Path, default=SITE)
    parser.add_argument("--before", type=Path, help="an older build, measured alternately")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    pages = args.pages or toc_pages()
    dirs = {"after": args.site} if args.before is None else {"before": args.before,
                                                             "after": args.site}
    for name, site in dirs.items():
        if not (site / "intro.html").is_file():
            sys.exit(f"no built site at {site} ({name}): run `make book` first")
        missing = [p for p in pages if not (site / p).is_file()]
        if missing:
            sys.exit(f"{site} ({name}) has no {', '.join(missing)}")
    from playwright.sync_api import sync_playwright

    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    with sync_playwright() as pw, serve(args.site) as after_url, \
            serve(args.before or args.site) as before_url:
        urls = {"after": after_url, "before": before_url}
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(args.runs):
                for page in pages:
                    for name in dirs:
                        results.setdefault((name, page), []).append(
                            load(browser, f"{urls[name]}/{page}"))
        finally:
            browser.close()
    return 0 if report(results, pages, list(dirs), args.runs, args.markdown) else 1


if __name__ == "__main__":
    raise SystemExit(main())
