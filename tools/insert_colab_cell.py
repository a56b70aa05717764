"""Insert (or update) the Colab install cell as the first cell of every chapter notebook.

The cell is ``_ext/colab_cell.py``'s; it names the repository the site's buttons use
(``BOOK_REPOSITORY_URL``, else ``git remote get-url origin``; ``--url`` overrides both)
and the branch ``repository.branch`` of ``_config.yml``. Running it again changes nothing;
after the repository moves, running it rewrites the cell. Outputs are left as they are;
in an executed notebook the execution counts move up by one (the Colab cell is count 1
and prints nothing), so it still reads as one run top to bottom. The JSON is written as
nbformat writes it (indent 1, sorted keys).

    BOOK_REPOSITORY_URL=https://github.com/OWNER/REPO .venv/bin/python tools/insert_colab_cell.py
    .venv/bin/python tools/insert_colab_cell.py --check   # exit 1 if a notebook lacks it
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

import book_repository  # noqa: E402
import colab_cell  # noqa: E402


def chapters() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    # The notebooks (the back matter's Markdown pages, References and build status, have
    # no code to run).
    return [ROOT / f"{e['file']}.ipynb" for part in toc["parts"] for e in part["chapters"]
            if (ROOT / f"{e['file']}.ipynb").is_file()]


def dumps(nb: dict[str, Any]) -> str:
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def with_cell(nb: dict[str, Any], url: str, branch: str) -> dict[str, Any]:
    cells = [colab_cell.cell(url, branch)]
    cells += [c for c in nb["cells"] if not colab_cell.is_colab_cell(c)]
    code = [c for c in cells if c["cell_type"] == "code"]
    if len(code) > 1 and all(c.get("execution_count") is not None for c in code[1:]):
        # An executed notebook stays one run top to bottom in a fresh kernel (the hygiene
        # test): the Colab cell ran first, as count 1, and printed nothing; the rest follow.
        for count, c in enumerate(code, start=1):
            c["execution_count"] = count
            for out in c.get("outputs", []):
                if out.get("output_type") == "execute_result":
                    out["execution_count"] = count
    return {**nb, "cells": cells}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="repository URL (default: BOOK_REPOSITORY_URL or git origin)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a notebook's first cell is not current")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: the chapters of _toc.yml")
    args = parser.parse_args(argv)

    url = book_repository.normalize(args.url) if args.url else book_repository.repository_url()
    if url is None:
        print("no repository configured: set BOOK_REPOSITORY_URL=https://github.com/OWNER/REPO, "
              "add a git remote `origin`, or pass --url", file=sys.stderr)
        return 2
    branch = book_repository.repository_branch()
    stale = []
    for path in args.notebooks or chapters():
        text = path.read_text(encoding="utf-8")
        new = dumps(with_cell(json.loads(text), url, branch))
        if new == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(new, encoding="utf-8")
    verb = "lack the current Colab cell" if args.check else "updated"
    for path in stale:
        print(f"{verb}: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"Colab cell installs {colab_cell.requirement(url, branch)!r}; "
          f"{len(stale)} notebook(s) {verb}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
