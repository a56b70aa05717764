"""The Colab install cell (``_ext/colab_cell.py``) and ``tools/insert_colab_cell.py``.

The cell must do nothing outside Colab, install ``hw4lib`` from the configured
repository inside it, and be the first cell of every chapter. Until the cells are
inserted (``tools/insert_colab_cell.py``) the per-chapter test is skipped; once any
chapter has one, every chapter must.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
sys.path.insert(0, str(ROOT / "tools"))

import book_repository  # noqa: E402
import colab_cell  # noqa: E402
import insert_colab_cell  # noqa: E402

URL = "https://github.com/example-org/hw4-book"
BRANCH = book_repository.repository_branch()


def _run_cell(source: str, monkeypatch: pytest.MonkeyPatch, *, colab: bool) -> list[Any]:
    """Execute the cell's source; return the subprocess.run calls it made (none really run)."""
    calls: list[Any] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append((a, k)))
    if colab:
        google = types.ModuleType("google")
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    namespace: dict[str, Any] = {}
    exec(compile(source, "<colab cell>", "exec"), namespace)  # noqa: S102
    assert set(namespace) <= {"__builtins__", "sys", "importlib", "subprocess", "REPO", "HW4LIB"}
    if not colab:
        assert set(namespace) == {"__builtins__", "sys"}, "the cell defined names outside Colab"
    return calls


def _named_url(source: str) -> str:
    found = re.search(r'^    REPO = "(\S+)"$', source, re.M)
    assert found, "the cell names no repository"
    return found.group(1)


def test_noop_outside_colab(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run_cell(colab_cell.source(URL, BRANCH), monkeypatch, colab=False) == []


def test_installs_from_the_repository_in_colab(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _run_cell(colab_cell.source(URL, BRANCH), monkeypatch, colab=True)
    assert len(calls) == 1
    (cmd,), kwargs = calls[0]
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"] and kwargs == {"check": True}
    req = Requirement(cmd[-1])
    assert req.name == "hw4lib" and req.url == f"git+{URL}@{BRANCH}"


def test_long_repository_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="79"):
        colab_cell.source("https://github.com/" + "x" * 60 + "/repo", BRANCH)


def test_cell_shape() -> None:
    cell = colab_cell.cell(URL, BRANCH)
    assert cell["metadata"]["tags"] == ["remove-input"]
    assert cell["outputs"] == [] and cell["execution_count"] is None
    assert colab_cell.is_colab_cell(cell)
    assert all(len(line.rstrip("\n")) <= 79 for line in cell["source"])


def _copy_chapters(tmp_path: Path) -> list[Path]:
    copies = []
    for path in insert_colab_cell.chapters():
        copies.append(tmp_path / path.name)
        shutil.copy2(path, copies[-1])
    return copies


def _uncounted(cell: dict[str, Any]) -> dict[str, Any]:
    """A cell without its execution counts."""
    outputs = [{k: v for k, v in o.items() if k != "execution_count"}
               for o in cell.get("outputs", [])]
    return {**{k: v for k, v in cell.items() if k != "execution_count"}, "outputs": outputs}


def test_insert_is_idempotent_and_touches_nothing_else(tmp_path: Path) -> None:
    copies = _copy_chapters(tmp_path)
    before = {p: json.loads(p.read_text(encoding="utf-8")) for p in copies}
    args = ["--url", URL, *map(str, copies)]
    assert insert_colab_cell.main(args) == 0
    first = {p: p.read_text(encoding="utf-8") for p in copies}
    assert insert_colab_cell.main(args) == 0
    assert {p: p.read_text(encoding="utf-8") for p in copies} == first
    assert insert_colab_cell.main(["--check", *args]) == 0
    for path, old in before.items():
        new = json.loads(first[path])
        assert colab_cell.is_colab_cell(new["cells"][0])
        rest = [c for c in old["cells"] if not colab_cell.is_colab_cell(c)]
        assert list(map(_uncounted, new["cells"][1:])) == list(map(_uncounted, rest))
        code = [c for c in new["cells"] if c["cell_type"] == "code"]
        assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
        assert {k: v for k, v in new.items() if k != "cells"} == {
            k: v for k, v in old.items() if k != "cells"}


def test_insert_follows_a_new_repository(tmp_path: Path) -> None:
    copies = _copy_chapters(tmp_path)[:1]
    insert_colab_cell.main(["--url", URL, *map(str, copies)])
    other = "https://github.com/someone-else/fork"
    assert insert_colab_cell.main(["--check", "--url", other, *map(str, copies)]) == 1
    insert_colab_cell.main(["--url", other, *map(str, copies)])
    cells = json.loads(copies[0].read_text(encoding="utf-8"))["cells"]
    assert sum(map(colab_cell.is_colab_cell, cells)) == 1
    assert _named_url("".join(cells[0]["source"])) == other


def _first_cells() -> dict[str, dict[str, Any]]:
    return {
        p.name: json.loads(p.read_text(encoding="utf-8"))["cells"][0]
        for p in insert_colab_cell.chapters()
    }


@pytest.mark.parametrize("chapter", [p.name for p in insert_colab_cell.chapters()])
def test_chapter_starts_with_the_colab_cell(chapter: str, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _first_cells()
    if not any(colab_cell.is_colab_cell(c) for c in first.values()):
        pytest.skip("colab cell not inserted yet: run tools/insert_colab_cell.py (README)")
    cell = first[chapter]
    assert colab_cell.is_colab_cell(cell), f"{chapter}: the first cell is not the Colab cell"
    assert "remove-input" in cell["metadata"].get("tags", [])
    assert cell.get("outputs") == []
    source = "".join(cell["source"])
    configured = book_repository.repository_url()  # before _run_cell patches subprocess.run
    assert _run_cell(source, monkeypatch, colab=False) == []
    named = _named_url(source)
    if configured is not None:  # e.g. BOOK_REPOSITORY_URL in CI, or a GitHub origin
        assert named == configured, f"{chapter} installs from {named}, the site uses {configured}"
    else:  # no repository configured here: the cell must at least name a real one
        assert book_repository.normalize(named) == named
    assert source == colab_cell.source(named, BRANCH), f"{chapter}: stale cell, rerun the tool"
