"""The committed notebooks are clean: what a reader sees and what a diff shows.

Read straight from the committed ``chapters/*.ipynb`` files (no kernel is started):

* no cell carries ``metadata.execution`` (kernel timestamps: they change on every run and
  would fill every diff; ``make notebooks`` strips them with nbstripout);
* the notebook was executed top to bottom in one fresh kernel: execution counts 1, ..., N;
* every markdown cell closes each code fence it opens (an unclosed fence shows an empty code
  box on the page; MyST parses every cell on its own, so a fence cannot continue in the next);
* no line of a code cell is wider than 79 characters, what the page shows without a scroll bar.

Each failure names the notebook and the cell: ``cell i`` counts all cells from 0 (as
``nbformat`` does); for code cells, nbval's ``Cell k`` (code cells only, from 0) is given too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"
NOTEBOOKS = sorted(CHAPTERS.glob("*.ipynb"))
MAX_CODE_LINE = 79
# An opening or closing fence: three or more backticks, tildes or colons (MyST colon_fence).
FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})(.*)$")


def _cells(path: Path) -> list[tuple[str, Any]]:
    """(name, cell) for every cell, named for failure messages."""
    nb = nbformat.read(path, as_version=4)
    named, n_code = [], 0
    for i, cell in enumerate(nb.cells):
        where = f"{path.relative_to(CHAPTERS.parent)} cell {i} ({cell.cell_type}"
        if cell.cell_type == "code":
            where += f", nbval Cell {n_code}"
            n_code += 1
        named.append((where + ")", cell))
    return named


def unclosed_fence(text: str) -> tuple[int, str] | None:
    """The line number and text of a fence that ``text`` opens and never closes, if any.

    CommonMark's rule: a fence is closed by a line of the same character, at least as long,
    with nothing after it. A backtick fence's info string cannot contain a backtick.
    """
    opened: tuple[str, int, int, str] | None = None  # (char, length, line number, line)
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if match is None:
            continue
        run, rest = match.groups()
        if opened is None:
            if run[0] == "`" and "`" in rest:
                continue  # inline code such as ```x```, not a fence
            opened = (run[0], len(run), number, line)
        elif run[0] == opened[0] and len(run) >= opened[1] and not rest.strip():
            opened = None
    return None if opened is None else (opened[2], opened[3])


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 4, f"expected the chapters in {CHAPTERS}, found {NOTEBOOKS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_execution_timestamps(path: Path) -> None:
    stamped = [where for where, cell in _cells(path) if "execution" in cell.metadata]
    assert not stamped, (
        "metadata.execution (kernel timestamps) in " + ", ".join(stamped)
        + "; run `make notebooks` (nbstripout) on the notebook"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_in_order_in_one_fresh_kernel(path: Path) -> None:
    code = [(where, cell) for where, cell in _cells(path) if cell.cell_type == "code"]
    wrong = [f"{where}: execution count {cell.execution_count}, expected {k}"
             for k, (where, cell) in enumerate(code, start=1) if cell.execution_count != k]
    wrong += [f"{where}: an output has execution count {out.execution_count}, "
              f"the cell {cell.execution_count}"
              for where, cell in code for out in cell.outputs
              if out.output_type == "execute_result"
              and out.execution_count != cell.execution_count]
    assert not wrong, "not executed top to bottom in a fresh kernel (`make notebooks`):\n" + (
        "\n".join(wrong))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_code_fences_are_closed(path: Path) -> None:
    unclosed = []
    for where, cell in _cells(path):
        if cell.cell_type == "markdown" and (found := unclosed_fence(cell.source)):
            unclosed.append(f"{where}, line {found[0]}: {found[1]!r} is never closed")
    assert not unclosed, "\n".join(unclosed)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_fit_the_page(path: Path) -> None:
    wide = [f"{where}, line {n}: {len(line)} characters: {line!r}"
            for where, cell in _cells(path) if cell.cell_type == "code"
            for n, line in enumerate(cell.source.splitlines(), start=1)
            if len(line) > MAX_CODE_LINE]
    assert not wide, f"code lines wider than {MAX_CODE_LINE} characters:\n" + "\n".join(wide)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("```{note}\nx\n```", None),
        ("````{exercise}\n```python\nx\n```\n````", None),  # nested by length
        (":::{note}\n```\ncode\n```\n:::", None),
        ("text ```inline``` text", None),
        ("```{solution-start} a\n```\n\nA check:\n```", (5, "```")),  # the bug of issue 9
        ("````\nx\n```", (1, "````")),  # a shorter run does not close
        ("```\nx\n``` not a close", (1, "```")),
        ("~~~\n```\n~~~", None),
    ],
)
def test_unclosed_fence_finder(text: str, expected: tuple[int, str] | None) -> None:
    assert unclosed_fence(text) == expected
