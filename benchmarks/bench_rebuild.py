"""How long a rebuild of the book takes when nothing changed (target: under 5 s).

The reference is a full build measured in the same run: the book's sources are
copied to a temporary directory and built twice with
``jupyter-book build -W -n --keep-going``; the first build executes every
notebook, the second must be served from the execution cache
(``execute_notebooks: cache``). Prints both times and their ratio.

Usage: ``python benchmarks/bench_rebuild.py`` (``make bench`` runs it).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["_config.yml", "_toc.yml", "intro.md", "references.md", "build_status.md",
           "references.bib", "chapters", "_ext"]
TARGET_SECONDS = 5.0


def build(src: Path) -> float:
    jb = Path(sys.executable).with_name("jupyter-book")
    start = time.perf_counter()
    done = subprocess.run(
        [str(jb), "build", str(src), "-W", "-n", "--keep-going", "--quiet"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"the build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "book"
        src.mkdir()
        for name in SOURCES:
            path = ROOT / name
            if path.is_dir():
                shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(path, src / name)
        (src / "node_modules").symlink_to(ROOT / "node_modules")
        full = build(src)
        rebuild = build(src)
    print(f"full build (executes notebooks): {full:7.2f} s")
    print(f"rebuild, nothing changed:        {rebuild:7.2f} s  (target < {TARGET_SECONDS:.0f} s)")
    print(f"ratio rebuild / full build:      {rebuild / full:7.3f}")
    return 0 if rebuild < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
