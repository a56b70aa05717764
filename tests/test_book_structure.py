"""The book's shape: two parts, homework chapters within their length, labels that resolve.

Read from ``_toc.yml``, the committed notebooks and the sources of ``hw4lib`` (no kernel).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
PARTS = {part["caption"]: [e["file"] for e in part["chapters"]] for part in TOC["parts"]}
#: A homework chapter answers its question in about 3 000 words (STYLE.md, "Proportion").
MAX_HOMEWORK_WORDS = 3000
LABEL_DEFINITION = re.compile(
    r"^\(([A-Za-z0-9-]+)\)=\s*$"  # (label)= before a heading
    r"|^:label: ([A-Za-z0-9-]+)\s*$"  # a directive's :label:
    r"|^\$\$ \(([A-Za-z0-9-]+)\)\s*$"  # $$ (label) after a display equation
    r"|^:name: ([A-Za-z0-9-]+)\s*$"  # an admonition's or figure's :name:
    r"|\bname: (fig-[A-Za-z0-9-]+)",  # a figure's name in cell metadata
    re.M)
CITED_IN_CODE = re.compile(r"\b((?:ch[0-9]|app)-(?:eq|prop|thm|lem|rem|ex)-[A-Za-z0-9-]+)")


def _notebook(entry: str) -> dict:
    return json.loads((ROOT / f"{entry}.ipynb").read_text(encoding="utf-8"))


def _markdown_words(entry: str) -> int:
    cells = _notebook(entry)["cells"]
    return sum(len("".join(c["source"]).split()) for c in cells if c["cell_type"] == "markdown")


def _defined_labels() -> set[str]:
    labels: set[str] = set()
    for path in [*ROOT.glob("chapters/*.ipynb")]:
        nb = json.loads(path.read_text(encoding="utf-8"))
        text = "\n".join("".join(c["source"]) for c in nb["cells"])
        text += "\n" + json.dumps([c.get("metadata", {}) for c in nb["cells"]], indent=0)
        for match in LABEL_DEFINITION.finditer(text):
            labels.update(g for g in match.groups() if g)
    return labels


def test_two_parts_and_an_appendix() -> None:
    assert list(PARTS)[:3] == ["The three questions", "Beyond the homework", "Appendix"]
    assert len(PARTS["The three questions"]) == 3
    assert len(PARTS["Beyond the homework"]) >= 3


@pytest.mark.parametrize("entry", PARTS["The three questions"])
def test_homework_chapter_is_short(entry: str) -> None:
    """At most 3 000 words of markdown prose, audit and exercises included."""
    words = _markdown_words(entry)
    assert words <= MAX_HOMEWORK_WORDS, f"{entry}: {words} words of prose"


@pytest.mark.parametrize("entry", PARTS["The three questions"])
def test_homework_chapter_links_to_beyond(entry: str) -> None:
    """Each homework chapter ends with links to the chapters that take it further."""
    text = "".join("".join(c["source"]) for c in _notebook(entry)["cells"])
    beyond = {_label_of(e) for e in PARTS["Beyond the homework"]}
    assert "**Beyond the homework.**" in text
    assert any(f"{{ref}}`{label}`" in text for label in beyond), entry


def _label_of(entry: str) -> str:
    first = "".join(_notebook(entry)["cells"][0]["source"])
    match = re.match(r"\((ch[0-9]+)\)=", first)
    assert match, f"{entry} must open with its chapter label"
    return match.group(1)


def test_every_label_cited_by_hw4lib_is_defined() -> None:
    """Docstrings cite equation labels; each must exist in some chapter."""
    defined = _defined_labels()
    cited = {m for p in (ROOT / "hw4lib").rglob("*.py") for m in CITED_IN_CODE.findall(p.read_text())}
    assert cited, "hw4lib cites no equation labels"
    assert not cited - defined, f"labels cited in hw4lib but defined nowhere: {sorted(cited - defined)}"


#: Cells are short (STYLE.md: 30 lines at most), so the formula sits right above its code.
MAX_CELL_LINES = 30


@pytest.mark.parametrize("path", sorted(ROOT.glob("chapters/*.ipynb")), ids=lambda p: p.name)
def test_code_cells_are_short(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    long = [(i, n) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
            and (n := len("".join(c["source"]).splitlines())) > MAX_CELL_LINES]
    assert not long, f"{path.name}: code cells (index, lines) over {MAX_CELL_LINES} lines: {long}"
