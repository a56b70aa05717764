"""Remove what changes on every run from executed notebooks, in place.

``make notebooks`` runs this after ``jupyter nbconvert --execute``: it deletes each cell's
``metadata.execution`` (the kernel's timestamps, which differ on every run) so that the diff
of a re-executed notebook shows only what changed. It then checks what
``tests/test_notebook_hygiene.py`` checks about execution: every code cell was run, in order,
in one fresh kernel (execution counts 1, 2, ..., N).

Usage: python tools/clean_notebooks.py chapters/*.ipynb
"""

from __future__ import annotations

import sys

import nbformat


def clean(path: str) -> list[str]:
    """Strip ``metadata.execution`` from every cell of ``path``; return problems found."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    out = nbformat.writes(nb) + "\n"
    if out != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(out)
    counts = [c.get("execution_count") for c in nb.cells if c.cell_type == "code"]
    if counts != list(range(1, len(counts) + 1)):
        return [f"{path}: execution counts are {counts}, not 1..{len(counts)}"]
    return []


def main(paths: list[str]) -> int:
    problems = [p for path in paths for p in clean(path)]
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
