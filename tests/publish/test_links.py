"""The site built both ways: with a repository and a PDF, and with neither.

``make test-links`` builds the book twice (in ``_build/links/``, the execution cache
copied from ``_build/``) and then runs the browser test on both sites:

* ``with``: ``BOOK_REPOSITORY_URL=https://github.com/example-org/hw4-book`` and a PDF in
  ``_build/latex``. Every chapter has Binder and Colab buttons and the repository button,
  all pointing at that repository and at files that exist in it; the landing page and the
  download menus link the PDF, which is in the site.
* ``without``: ``BOOK_REPOSITORY_URL=""`` and no PDF. No page links Binder, Colab, GitHub
  or a PDF, and no stand-in repository is named anywhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(os.environ.get("BOOK_LINKS_OUT", ROOT / "_build" / "links"))
REPO = "https://github.com/example-org/hw4-book"
STAND_INS = ("hw4-book/csc2515-hw4-book", "executablebooks/jupyter-book")
FAKE_PDF = b"%PDF-1.4\n% a stand-in for _build/latex/book.pdf\n%%EOF\n"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def _hrefs(page: Path) -> list[str]:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.hrefs


def _chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    # The notebooks (the back matter's Markdown pages have no launch buttons).
    return [e["file"] for part in toc["parts"] for e in part["chapters"]
            if (ROOT / f"{e['file']}.ipynb").is_file()]


def _build(name: str, repository: str, pdf: bool) -> Path:
    out = OUT / name
    shutil.rmtree(out, ignore_errors=True)
    cache = ROOT / "_build" / ".jupyter_cache"
    if cache.is_dir():  # executed notebooks are reused: the build takes seconds
        shutil.copytree(cache, out / "_build" / ".jupyter_cache")
    if pdf:
        (out / "_build" / "latex").mkdir(parents=True)
        (out / "_build" / "latex" / "book.pdf").write_bytes(FAKE_PDF)
    env = {**os.environ, "BOOK_REPOSITORY_URL": repository}
    jb = Path(sys.executable).with_name("jupyter-book")
    done = subprocess.run(
        [str(jb), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going", "-q"],
        env=env, capture_output=True, text=True,
    )
    assert done.returncode == 0, f"build {name} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return out / "_build" / "html"


@pytest.fixture(scope="module")
def with_both() -> Path:
    return _build("with", REPO, pdf=True)


@pytest.fixture(scope="module")
def with_neither() -> Path:
    return _build("without", "", pdf=False)


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if not p.relative_to(site).parts[0].startswith("_"))


def test_launch_and_repository_buttons_point_at_the_repository(with_both: Path) -> None:
    branch = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["branch"]
    owner_repo = urlsplit(REPO).path.strip("/")
    for chapter in _chapters():
        hrefs = set(_hrefs(with_both / f"{chapter}.html"))
        notebook = f"{chapter}.ipynb"
        assert (ROOT / notebook).is_file()
        expected = {
            f"https://mybinder.org/v2/gh/{owner_repo}/{branch}?urlpath=lab/tree/{notebook}",
            f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{notebook}",
            REPO,
        }
        assert expected <= hrefs, f"{chapter}: missing {sorted(expected - hrefs)}"
    # What the Binder button builds, and what Colab's first cell installs from.
    assert (ROOT / "binder" / "requirements.txt").is_file()


def test_pdf_linked_and_present(with_both: Path) -> None:
    assert (with_both / "book.pdf").read_bytes() == FAKE_PDF
    for page in [with_both / "intro.html"] + [with_both / f"{c}.html" for c in _chapters()]:
        base = "http://site/" + page.relative_to(with_both).as_posix()
        pdf_links = [h for h in _hrefs(page) if h.endswith("book.pdf")]
        assert pdf_links, f"{page.name} does not link the PDF"
        for href in pdf_links:
            target = urlsplit(urljoin(base, href)).path.lstrip("/")
            assert (with_both / target).is_file(), f"{page.name}: {href} is a dead link"


def test_no_repository_no_pdf_no_links(with_neither: Path) -> None:
    assert not (with_neither / "book.pdf").exists()
    for page in _pages(with_neither):
        hrefs = _hrefs(page)
        text = page.read_text(encoding="utf-8")
        bad = [h for h in hrefs if re.search(r"mybinder\.org|colab\.research|github\.com|book\.pdf", h)]
        assert not bad, f"{page.name} links {bad}"
        assert not any(s in text for s in STAND_INS), f"{page.name} names a stand-in repository"
    assert "print it" not in (with_neither / "intro.html").read_text(encoding="utf-8").lower()


def test_no_stand_in_repository_with_one_either(with_both: Path) -> None:
    for page in _pages(with_both):
        text = page.read_text(encoding="utf-8")
        assert not any(s in text for s in STAND_INS), f"{page.name} names a stand-in repository"
