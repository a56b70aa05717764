"""The whole-book PDF, read back with poppler (``make test-pdf`` builds it first).

``pdftotext`` gives its text: every chapter title in order, equation numbers per
chapter, (3.4), as many as the chapter labels; theorem-like blocks and exercises
numbered as on the site (Theorem 1.1), every solution printed, citations resolved,
nothing unresolved ("??", "[?]"). ``pdfimages`` counts its pictures: one per figure
the notebooks draw. The LaTeX log must be free of undefined references and of
missing glyphs.

Page by page: no page is blank (no text but its running head and page number, and no
picture); each page's running head (the foot line beside the page number) names its
own part of the book: "Introduction" on the landing page's pages, "Chapter 1. ..." or
a section of chapter 1 ("1.2. ...") on chapter 1's, never "CONTENTS" outside the
contents. No internal label (``ch1-eq-box-net``) is printed, in code or output, but
those ``tests/browser/known_offenders.json`` lists for ``book.pdf``. ``make pdf``,
``make test`` (HAVE_TEX) and ``.ci/run`` (``make texlive-missing``) look for each TeX
tool, not for any one of them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.browser.sources import label_pattern  # noqa: E402

PDF = Path(os.environ.get("BOOK_PDF", ROOT / "_build" / "latex" / "book.pdf"))
LOG = PDF.with_suffix(".log")
TOOLS = ("pdftotext", "pdfimages")


def _chapters() -> list[Path]:
    """The notebooks of _toc.yml in order (the Markdown pages of the back matter,
    References and build status, are left out of the PDF: _ext/book_furniture.py)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [
        ROOT / f"{entry['file']}.ipynb" for part in toc["parts"] for entry in part["chapters"]
        if (ROOT / f"{entry['file']}.ipynb").is_file()
    ]


def _numbers() -> list[str]:
    """Chapter numbers as printed: 1, 2, ... then A, B, ... for the part "Appendix"."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    numbers: list[str] = []
    n = letters = 0
    for part in toc["parts"]:
        for entry in part["chapters"]:
            if not (ROOT / f"{entry['file']}.ipynb").is_file():
                continue
            if part.get("caption") == "Appendix":
                numbers.append(chr(ord("A") + letters))
                letters += 1
            else:
                n += 1
                numbers.append(str(n))
    return numbers


def _markdown(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def _figures(path: Path) -> int:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(
        "image/png" in out.get("data", {})
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
        and not {"remove-output", "remove-cell"} & set(cell["metadata"].get("tags", []))
        for out in cell.get("outputs", [])
    )


@pytest.fixture(scope="module")
def text() -> str:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{missing} not found: apt-get install poppler-utils (.ci/run does it)")
    if not PDF.is_file():
        pytest.fail(f"no PDF at {PDF}: run `make pdf` first")
    out = subprocess.run(["pdftotext", "-layout", str(PDF), "-"], capture_output=True,
                         text=True, check=True).stdout
    return re.sub(r"\s+", " ", out)


def test_every_chapter_title_in_order(text: str) -> None:
    titles = [re.search(r"^# (.+)$", _markdown(p), re.M).group(1) for p in _chapters()]
    body = text[text.index("CONTENTS"):]
    positions = [body.find(title) for title in titles]
    assert -1 not in positions, f"missing chapter titles: {[t for t, i in zip(titles, positions) if i < 0]}"
    assert positions == sorted(positions), f"chapters out of order: {titles}"
    for caption in ("The three questions", "Appendix"):
        assert caption in text


def test_equations_numbered_per_chapter(text: str) -> None:
    numbers = set(re.findall(r"\(([\dA-Z]+\.\d+)\)", text))
    for k, path in zip(_numbers(), _chapters()):
        labels = re.findall(r"^\$\$[ \t]*\(([\w-]+)\)[ \t]*$", _markdown(path), re.M)
        expected = {f"{k}.{i}" for i in range(1, len(labels) + 1)}
        assert expected <= numbers, f"{path.name}: missing {sorted(expected - numbers)}"
    assert "3.4" in numbers


def test_blocks_numbered_as_on_the_site(text: str) -> None:
    for name in ("Theorem 4.1", "Lemma 4.1", "Proposition 4.1", "Proposition 3.1", "Exercise A.2"):
        assert name in text, name
    deep = re.findall(r"(?:Theorem|Lemma|Proposition|Exercise) [\dA-Z]+\.\d+\.\d+", text)
    assert not deep, f"section-level numbers, unlike the site: {deep[:5]}"


def test_every_solution_printed(text: str) -> None:
    for k, path in zip(_numbers(), _chapters()):
        n = len(re.findall(r"^```\{exercise\}", _markdown(path), re.M))
        for i in range(1, n + 1):
            assert f"Exercise {k}.{i}" in text
            assert f"Solution to Exercise {k}.{i}" in text, f"solution {k}.{i} not printed"


def test_citations_and_references_resolved(text: str) -> None:
    assert "??" not in text, "unresolved reference: " + text[max(0, text.find("??") - 80):][:120]
    assert "[?]" not in text, "unresolved citation"
    assert "[CSC]" in text and "Bibliography" in text
    log = LOG.read_text(encoding="utf-8", errors="replace")
    assert "There were undefined references" not in log
    assert not re.search(r"(?:Reference|Citation) `[^']*' on page \d+ undefined", log)
    missing = [line for line in log.splitlines() if line.startswith("Missing character")]
    assert not missing, f"glyphs missing from the fonts: {missing[:3]}"


def test_tables(text: str) -> None:
    assert "Symbol Meaning In code" in text  # the landing page's notation table
    assert "identity region" in text  # a table printed by chapter 1's code


def test_every_figure_is_in_the_pdf() -> None:
    listing = subprocess.run(["pdfimages", "-list", str(PDF)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    images = [line for line in listing if line.split()[2] == "image"]
    expected = sum(_figures(p) for p in _chapters())
    assert expected > 0
    assert len(images) == expected, f"{len(images)} images in the PDF, {expected} figures drawn"


# ------------------------------------------------------------------ page by page
TITLE = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["title"]
PAGE_NUMBER = r"(?:\d+|[ivxlc]+)"
# The foot line: the page number, and on the outer side the running head.
FOOT = re.compile(rf"^(?:({PAGE_NUMBER})\s+(.*)|(.*?)\s+({PAGE_NUMBER})|({PAGE_NUMBER}))$")
INTRO_HEAD = "Introduction"  # _ext/book_pdf.py


def _page(text: str) -> tuple[list[str], str, str]:
    """(body lines, running head, page number) of a page of ``pdftotext -layout``."""
    lines = [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]
    if lines and lines[0] == TITLE:  # the header: the book's title
        lines = lines[1:]
    head = number = ""
    if lines:
        foot = FOOT.match(lines[-1])
        if foot:
            number = foot.group(1) or foot.group(4) or foot.group(5)
            head = (foot.group(2) or foot.group(3) or "").strip()
            lines = lines[:-1]
    return lines, head, number


@pytest.fixture(scope="module")
def pages(text: str) -> list[tuple[list[str], str, str]]:
    out = subprocess.run(["pdftotext", "-layout", str(PDF), "-"], capture_output=True,
                         text=True, check=True).stdout
    return [_page(page) for page in out.split("\f")[:-1]]  # each page ends with a form feed


def test_no_blank_page(pages: list[tuple[list[str], str, str]]) -> None:
    listing = subprocess.run(["pdfimages", "-list", str(PDF)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    with_images = {int(line.split()[0]) for line in listing}
    blank = [(k, head) for k, (body, head, _) in enumerate(pages, start=1)
             if not body and k not in with_images]
    assert not blank, f"blank pages (page, running head): {blank}"


def test_running_heads_name_their_own_part(pages: list[tuple[list[str], str, str]]) -> None:
    numbers = iter(_numbers())
    where, expected = "the contents", re.compile(r"(CONTENTS)?")
    wrong = []
    for k, (body, head, number) in enumerate(pages, start=1):
        first = body[0] if body else ""
        if k == 1:
            continue  # the title page
        if re.fullmatch(r"\d+", number) and where == "the contents":
            where, expected = "the introduction", re.compile(re.escape(INTRO_HEAD))
        if first in ("CHAPTER", "APPENDIX"):
            n = next(numbers)
            where = f"chapter {n}"
            expected = re.compile(rf"((Chapter|Appendix) {n}\. .+|{n}(\.\d+)+\.? .+)?")
        elif re.fullmatch(r"Part [IVX]+", first):
            where, expected = "a part's title page", re.compile("")
        elif first == "BIBLIOGRAPHY":
            where, expected = "the bibliography", re.compile(r"(?i:bibliography)?")
        if not expected.fullmatch(head):
            wrong.append(f"page {k} ({number}) of {where}: {head!r}")
    assert not wrong, "running heads of another part of the book:\n" + "\n".join(wrong)


def test_no_internal_label_printed(text: str) -> None:
    known = json.loads((ROOT / "tests" / "browser" / "known_offenders.json")
                       .read_text(encoding="utf-8")).get("label", {}).get(PDF.name, [])
    printed = set(label_pattern().findall(text))
    assert not printed - set(known), f"internal labels printed: {sorted(printed - set(known))}"
    fixed = set(known) - printed
    assert not fixed, f"labels no longer printed: remove them from known_offenders.json: {fixed}"


# ------------------------------------------------------------------ looking for TeX
TEX_TOOLS = ("xelatex", "latexmk", "pdftotext", "pdfimages")


def _make(tmp_path: Path, present: tuple[str, ...], *args: str) -> subprocess.CompletedProcess[str]:
    """``make`` in the book's root with only ``present`` of the TeX tools on PATH (fake
    ones), ``$(BIN)`` a directory whose ``jupyter-book`` only leaves a mark, and the
    environment's stamps taken as up to date: nothing is built or installed."""
    path, venv = tmp_path / "path", tmp_path / "venv"
    for d in (path, venv):
        d.mkdir(exist_ok=True)
    for tool in ("cat", "cksum", "cut"):  # the Makefile's $(shell ...) uses them
        if not (path / tool).exists():
            (path / tool).symlink_to(shutil.which(tool))
    for tool in (*present, "jupyter-book"):
        fake = (venv if tool == "jupyter-book" else path) / tool
        fake.write_text(f"#!/bin/sh\necho ran >> {tmp_path / 'ran'}\n" if tool == "jupyter-book"
                        else "#!/bin/sh\nexit 0\n")
        fake.chmod(0o755)
    stamps = [f"{name}={tmp_path / name}" for name in ("STAMP", "MATHJAX")]
    for name in ("STAMP", "MATHJAX"):
        (tmp_path / name).touch()
    return subprocess.run([shutil.which("make"), "-s", "--no-print-directory", "-C", str(ROOT),
                           f"BIN={venv}", *stamps, *args], capture_output=True, text=True,
                          env={"PATH": str(path), "HOME": str(tmp_path)})


@pytest.mark.parametrize("absent", TEX_TOOLS)
def test_make_looks_for_each_tex_tool(absent: str, tmp_path: Path) -> None:
    """With one of the tools missing, ``make test`` skips the PDF (HAVE_TEX is empty),
    ``make texlive-missing`` (what ``.ci/run`` installs for) names it, and ``make pdf``
    stops before building when xelatex or latexmk is the one missing."""
    present = tuple(t for t in TEX_TOOLS if t != absent)
    have = _make(tmp_path, present, "--eval", "print-have-tex: ; @echo [$(HAVE_TEX)]",
                 "print-have-tex")
    assert have.stdout.strip() == "[]", (have.stdout, have.stderr)
    missing = _make(tmp_path, present, "texlive-missing")
    assert missing.returncode == 0 and missing.stdout.split() == [absent], (missing.stdout,
                                                                          missing.stderr)
    if absent in ("xelatex", "latexmk"):
        pdf = _make(tmp_path, present, "pdf")
        assert pdf.returncode != 0 and absent in pdf.stdout + pdf.stderr, (pdf.stdout, pdf.stderr)
        assert not (tmp_path / "ran").exists(), "make pdf ran the LaTeX build without " + absent
    everything = _make(tmp_path, TEX_TOOLS, "texlive-missing")
    assert everything.stdout.strip() == "", everything.stdout
