"""Screenshots of each chapter at 1280 px (desktop) and 390 px (phone): its first
screen, its answer box (the admonition titled "The answer") and its widest display
equations, into ``_build/screenshots/`` (``make screenshots``; the site must be built).

    .venv/bin/python tools/screenshots.py [--widths 1280,390] [--equations 3]

Files: ``<chapter>__<width>__top.png``, ``__answer.png``, ``__eq1.png`` ... (widest
first); a summary of the widest equations (scroll width / column width) is printed.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.checks import settle  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, SITE  # noqa: E402

WIDEST_JS = """(n) => {
  window.dispatchEvent(new Event('beforeprint'));  // typeset every formula
  const eqs = Array.from(document.querySelectorAll('mjx-container[display="true"]'))
    .filter(e => e.offsetParent !== null)
    .map((e, i) => { e.dataset.shot = String(i);
      const m = e.closest('.math'); const no = m && m.querySelector('.eqno');
      return {i, width: e.scrollWidth, column: e.parentElement.clientWidth,
              label: no ? no.textContent.replace('#', '').trim() : ''}; })
    .sort((a, b) => b.width / b.column - a.width / a.column);
  return eqs.slice(0, n);
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="1280,390")
    parser.add_argument("--equations", type=int, default=3)
    args = parser.parse_args()
    chapters = sorted(p.relative_to(SITE).as_posix() for p in (SITE / "chapters").glob("*.html"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(_Quiet, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width in (int(w) for w in args.widths.split(",")):
            for chapter in chapters:
                stem = f"{Path(chapter).stem}__{width}"
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(f"{base}/{chapter}", wait_until="load")
                settle(page)
                page.screenshot(path=str(SCREENSHOTS / f"{stem}__top.png"))
                answer = page.locator("div.admonition.tip", has=page.locator(
                    "p.admonition-title", has_text="The answer"))
                if answer.count():
                    answer.first.scroll_into_view_if_needed()
                    settle(page)
                    answer.first.screenshot(path=str(SCREENSHOTS / f"{stem}__answer.png"))
                else:
                    print(f"{chapter}: no answer box")
                for k, eq in enumerate(page.evaluate(WIDEST_JS, args.equations), start=1):
                    box = page.locator(f'mjx-container[data-shot="{eq["i"]}"]').locator("xpath=..")
                    box.scroll_into_view_if_needed()
                    box.screenshot(path=str(SCREENSHOTS / f"{stem}__eq{k}.png"))
                    print(f"{chapter} at {width} px: equation {eq['label'] or '(unnumbered)'} "
                          f"{eq['width']} px in a {eq['column']} px column")
                page.close()
        browser.close()
    server.shutdown()
    print(f"screenshots in {SCREENSHOTS}")


if __name__ == "__main__":
    main()
