"""The first cell of every chapter notebook: on Colab, install ``hw4lib`` from the book's repository.

Colab opens a chapter straight from GitHub (the site's Colab button), with NumPy, SciPy,
SymPy, scikit-learn and Matplotlib already installed, but not ``hw4lib``. This cell
installs it from the repository and branch that the site's buttons point at
(``book_repository.repository_url()``: ``BOOK_REPOSITORY_URL`` or ``git remote get-url
origin``; the branch is ``repository.branch`` of ``_config.yml``), and only when
``"google.colab" in sys.modules``. Everywhere else (Binder, a local kernel, the book's
build, nbval) it does nothing and prints nothing; tagged ``remove-input``, it does not
show on the site either.

``tools/insert_colab_cell.py`` writes it as the first cell of each chapter, or rewrites
it there when the repository changes; ``tests/test_colab_cell.py`` checks it.

Why no package: Colab has no setting that installs a package when it opens a notebook, and
Jupyter Book 1's launch buttons add no install cell; the cell must be in the notebook.
"""

from __future__ import annotations

from typing import Any

MARKER = "# Colab only: install hw4lib from the book's repository (elsewhere a no-op)."
TAGS = ["remove-input"]
CELL_ID = "colab-install-hw4lib"

TEMPLATE = '''\
{marker}
import sys

if "google.colab" in sys.modules:
    import importlib
    import subprocess

    REPO = "{url}"
    HW4LIB = f"hw4lib @ git+{{REPO}}@{branch}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", HW4LIB],
                   check=True)
    importlib.invalidate_caches()'''
MAX_LINE = 79  # tests/test_notebook_hygiene.py: code lines fit the page


def requirement(url: str, branch: str) -> str:
    """The pip requirement the cell installs: ``hw4lib`` from ``url`` at ``branch``."""
    return f"hw4lib @ git+{url}@{branch}"


def source(url: str, branch: str) -> str:
    """The cell's source for the repository ``url`` (``https://github.com/OWNER/REPO``)."""
    text = TEMPLATE.format(marker=MARKER, url=url, branch=branch)
    wide = [line for line in text.splitlines() if len(line) > MAX_LINE]
    if wide:
        raise ValueError(f"repository URL too long for a {MAX_LINE}-column cell: {wide[0]!r}")
    return text


def cell(url: str, branch: str) -> dict[str, Any]:
    """The notebook cell (nbformat 4.5), unexecuted: it has no output outside Colab."""
    text = source(url, branch)
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": CELL_ID,
        "metadata": {"tags": list(TAGS)},
        "outputs": [],
        "source": text.splitlines(keepends=True),
    }


def is_colab_cell(nb_cell: dict[str, Any]) -> bool:
    src = nb_cell.get("source", "")
    text = "".join(src) if isinstance(src, list) else src
    return nb_cell.get("cell_type") == "code" and text.startswith(MARKER)
