"""Longest main-thread task while each page of the built site loads, in Chromium.

For the README's benchmark table (issue 11): every page of ``_build/html`` is
opened RUNS times in a fresh context at 1280 x 900, at normal speed and with
the CPU slowed fourfold (Chrome DevTools' ``Emulation.setCPUThrottlingRate``,
about a mid-range phone). A ``PerformanceObserver`` for ``longtask`` entries
(registered before any script of the page runs) records every task of 50 ms or
more until MathJax has typeset what is in view and the page is idle. Printed:
the median over the runs of the longest task, and of the time until then.

    .venv/bin/python tools/measure_longtasks.py [--runs 3] [--rates 1,4] [PAGE ...]
    .venv/bin/python tools/measure_longtasks.py --before OLD_SITE_DIR   # before/after

With ``--before``, each page is also loaded from an older build (e.g. a copy of
``_build/html`` made before a change), alternating with the current one run by run,
so that both see the same load on a shared machine.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import statistics
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SITE  # noqa: E402
from tests.browser.longtasks import LONGTASK_INIT_JS, SETTLE_JS  # noqa: E402


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def measure(browser, url: str, rate: float) -> tuple[float, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.add_init_script(LONGTASK_INIT_JS)
        if rate != 1:
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
        page.goto(url, wait_until="load", timeout=120_000)
        result = page.evaluate(SETTLE_JS)
        return result["longest"], result["settled"]
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rates", default="1,4")
    parser.add_argument("--before", type=Path, help="an older build of the site to compare")
    args = parser.parse_args()
    pages = args.pages or sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if not p.relative_to(SITE).parts[0].startswith("_")
        and p.name not in ("index.html", "genindex.html", "search.html")
    )
    rates = [float(r) for r in args.rates.split(",")]
    sites = [SITE] if args.before is None else [args.before, SITE]
    servers, bases = [], []
    for site in sites:
        handler = functools.partial(_Quiet, directory=str(site))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        bases.append(f"http://127.0.0.1:{server.server_address[1]}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if args.before is None:
            print("| page | " + " | ".join(
                f"longest task, CPU/{r:g} (ms) | settled (ms)" for r in rates) + " |")
        else:
            print("| page | " + " | ".join(
                f"longest task, CPU/{r:g}: before → after (ms)" for r in rates) + " |")
        for page in pages:
            cells = []
            for rate in rates:
                runs: list[list[tuple[float, float]]] = [[] for _ in sites]
                for _ in range(args.runs):
                    for k, base in enumerate(bases):  # alternate: the same load for both
                        if (Path(sites[k]) / page).is_file():
                            runs[k].append(measure(browser, f"{base}/{page}", rate))
                med = [statistics.median(r[0] for r in rs) if rs else float("nan")
                       for rs in runs]
                if args.before is None:
                    cells.append(f"{med[0]:.0f}")
                    cells.append(f"{statistics.median(r[1] for r in runs[0]):.0f}")
                else:
                    cells.append(f"{med[0]:.0f} → {med[1]:.0f}")
            print(f"| {page} | " + " | ".join(cells) + " |", flush=True)
        browser.close()
    for server in servers:
        server.shutdown()


if __name__ == "__main__":
    main()
