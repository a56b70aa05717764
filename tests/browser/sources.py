"""What the book's sources define, for the checks of what readers see.

* ``defined_labels``: every label the sources define: ``(label)=`` targets, ``:label:``
  and ``:name:`` options of directives, and ``$$ ... $$ (label)`` equations, read from
  the Markdown pages of ``_toc.yml`` and the Markdown cells of its notebooks.
* ``label_pattern``: a regex for an internal label as a reader should never see it
  (the site prints an equation's number, (1.8), never its label). It matches any
  defined label that contains a hyphen, and any word that starts with a *label prefix*
  followed by a hyphen (``ch1-eq-old``, a label since renamed, included): a prefix is
  the part before the first hyphen shared by at least two defined labels (``ch1``,
  ``app``), so a prefix the sources introduce is covered as soon as it is used.
* ``is_setup_cell``: the rule for a set-up cell (which must be hidden).
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

_LABEL_DEFINITIONS = [
    re.compile(r"^\(([^()\s]+)\)=\s*$", re.M),  # (label)=
    re.compile(r"^\s*:(?:label|name):\s*(\S+)\s*$", re.M),  # directive options
    re.compile(r"\$\$[ \t]*\(([^()\s]+)\)[ \t]*$", re.M),  # $$ ... $$ (label)
]


def toc_files(root: Path = ROOT) -> list[Path]:
    """The source file of every document of ``_toc.yml``, in its order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]
    for part in toc.get("parts", []):
        names += [entry["file"] for entry in part.get("chapters", [])]
    files = []
    for name in names:
        for suffix in (".md", ".ipynb"):
            if (root / f"{name}{suffix}").is_file():
                files.append(root / f"{name}{suffix}")
    return files


def _labels_of(path: Path) -> set[str]:
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        figures = [c["metadata"].get("mystnb", {}).get("figure", {}) for c in cells]
        labels = {figure["name"] for figure in figures if "name" in figure}
    else:
        text, labels = path.read_text(encoding="utf-8"), set()
    for pattern in _LABEL_DEFINITIONS:
        labels.update(pattern.findall(text))
    return labels


@functools.cache
def defined_labels(root: Path = ROOT) -> frozenset[str]:
    return frozenset().union(*(_labels_of(path) for path in toc_files(root)))


@functools.cache
def label_pattern(root: Path = ROOT) -> re.Pattern[str]:
    labels = defined_labels(root)
    hyphenated = sorted((label for label in labels if "-" in label), key=len, reverse=True)
    if not hyphenated:
        raise ValueError(f"no hyphenated label defined in the sources under {root}")
    counts = Counter(label.split("-", 1)[0] for label in hyphenated)
    prefixes = sorted(prefix for prefix, n in counts.items() if n >= 2)
    alternatives = [re.escape(label) for label in hyphenated]
    alternatives += [re.escape(prefix) + r"-[A-Za-z0-9][\w-]*" for prefix in prefixes]
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])")


# Calls that set the session up rather than compute: SymPy's printing, the book's
# figure style, numpy's print options, the inline backend's format, warning filters,
# Matplotlib's style and rcParams.
SETUP_CALLS = frozenset({
    "init_printing", "use_book_style", "set_printoptions", "set_matplotlib_formats",
    "simplefilter", "filterwarnings", "use", "update",
})


SETUP_MAGICS = frozenset({"config", "matplotlib", "load_ext", "autoreload", "precision"})
SETUP_MAGIC = re.compile(r"^\s*%{1,2}(\w+)")


def _is_setup_statement(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass)):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in {"use", "update"}:  # plt.style.use(...), rcParams.update(...)
            return isinstance(func, ast.Attribute) and ast.unparse(func.value).endswith(
                ("style", "rcParams"))
        return name in SETUP_CALLS
    if isinstance(node, ast.Assign):  # plt.rcParams["figure.dpi"] = 100
        return all(isinstance(t, ast.Subscript) and ast.unparse(t.value).endswith("rcParams")
                   for t in node.targets)
    return False


def is_setup_cell(source: str) -> bool:
    """A set-up cell: a code cell whose every statement is an IPython line magic
    (``%config``, ``%matplotlib``, ``%load_ext``, ``%autoreload``, ``%precision``), an ``import``, or one of the set-up
    calls (``sp.init_printing``, ``use_book_style``, ``np.set_printoptions``,
    ``set_matplotlib_formats``, ``warnings.simplefilter``/``filterwarnings``,
    ``plt.style.use``, ``rcParams`` updates) standing on its own. Comments and blank
    lines do not count; a cell with no statement at all is not a set-up cell."""
    lines = []
    for line in source.splitlines():
        magic = SETUP_MAGIC.match(line)
        if magic:
            line = "pass" if magic.group(1) in SETUP_MAGICS else "not_setup()"
        lines.append(line)
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return False
    return bool(tree.body) and all(_is_setup_statement(node) for node in tree.body)
